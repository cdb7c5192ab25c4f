//go:build !(linux && (amd64 || arm64 || riscv64))

package walk

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat stats name relative to the folder fd (see fstatat_raw.go; here
// unix.Fstatat copies the name).
func fstatat(fd int, name []byte, st *unix.Stat_t) error {
	return unix.Fstatat(fd, unsafe.String(&name[0], len(name)), st, unix.AT_SYMLINK_NOFOLLOW)
}

// openat opens name relative to the folder fd.
func openat(fd int, name []byte, flags int) (int, error) {
	return unix.Openat(fd, unsafe.String(&name[0], len(name)), flags, 0)
}
