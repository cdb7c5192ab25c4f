//go:build unix

package textfile

import (
	"io/fs"
	"syscall"
)

// fileKey identifies a file's content for the cache: the same inode on
// the same device, with the same size and modification time, is taken to
// hold the same bytes. A writer that renames a new file into place always
// changes the inode.
type fileKey struct {
	dev, ino uint64
	size     int64
	mtime    int64 // nanoseconds
}

func keyOf(st fs.FileInfo) fileKey {
	k := fileKey{size: st.Size(), mtime: st.ModTime().UnixNano()}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		k.dev, k.ino = uint64(s.Dev), uint64(s.Ino) // field types differ between systems
	}
	return k
}
