//go:build unix

package tail

import (
	"io/fs"
	"syscall"
)

func fileIdentity(fi fs.FileInfo) identity {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return identity{dev: uint64(st.Dev), ino: uint64(st.Ino)} //nolint:unconvert // Dev is int32 on some unixes
	}
	return identity{}
}

// isDeleted says whether no name links to the file any more.
func isDeleted(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
