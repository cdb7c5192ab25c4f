//go:build linux && (amd64 || arm64 || riscv64)

package walk

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat stats name relative to the folder fd. name must be followed
// by a NUL byte in memory, as getdents64 leaves it: passing that pointer
// straight to the kernel spares unix.Fstatat's copy of the name, the one
// allocation a walk made per file (and so the garbage collections that
// ran during a scan of a million files).
func fstatat(fd int, name []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
