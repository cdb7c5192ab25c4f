//go:build linux && (amd64 || arm64 || riscv64)

package walk

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The names given to these calls must be followed by a NUL byte in
// memory, as getdents64 leaves them and walker.at makes them: passing that
// pointer straight to the kernel spares unix.Fstatat's and unix.Openat's
// copy of the name, an allocation per call (and so the garbage
// collections that ran during a scan of a million files).

// fstatat stats name relative to the folder fd, not following a link.
func fstatat(fd int, name []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// openat opens name relative to the folder fd.
func openat(fd int, name []byte, flags int) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(fd), uintptr(unsafe.Pointer(&name[0])), uintptr(flags), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
