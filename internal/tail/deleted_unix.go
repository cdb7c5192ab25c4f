//go:build unix

package tail

import (
	"io/fs"
	"syscall"
)

// isDeleted says whether no name links to the file any more.
func isDeleted(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
