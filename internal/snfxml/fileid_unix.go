//go:build unix

package snfxml

import (
	"io/fs"
	"syscall"
)

// fileID is the file's device and inode: a rotated or replaced file gets
// a new inode even under the same name.
func fileID(st fs.FileInfo) (dev, ino uint64) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Dev), uint64(s.Ino) // field types differ between systems
	}
	return 0, 0
}
