package statfs

import (
	"errors"
	"io/fs"
	"syscall"
)

// stRdonly is ST_RDONLY in statfs(2)'s f_flags: mounted read-only.
const stRdonly = 0x1

// statfs is the real statfs(2). It retries on EINTR, which an
// interruptible NFS mount returns when the runtime signals the thread.
func statfs(path string) (Stats, error) {
	var s syscall.Statfs_t
	var err error
	for {
		err = syscall.Statfs(path, &s)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return Stats{}, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	// f_frsize is the unit of the block counts; f_bsize only the preferred
	// I/O size. They agree on most file systems; trust f_frsize when set.
	unit := uint64(s.Frsize)
	if unit == 0 {
		unit = uint64(s.Bsize)
	}
	return Stats{
		SizeBytes:  s.Blocks * unit,
		FreeBytes:  s.Bfree * unit,
		AvailBytes: s.Bavail * unit,
		Files:      s.Files,
		FilesFree:  s.Ffree,
		ReadOnly:   s.Flags&stRdonly != 0,
	}, nil
}
