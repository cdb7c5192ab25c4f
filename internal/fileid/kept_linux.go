package fileid

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Kept is a small file read at every scrape (/proc/loadavg, a sysfs
// attribute) that is kept open between reads when the kernel generates
// it: each read is then a pread from offset 0, which procfs and sysfs
// answer with fresh content, instead of an open, an fstat, the reads and
// a close. A scrape reads half a dozen such files, and on a virtual
// machine each system call is dear.
//
// A file on any other file system (a fixture tree under --path.procfs,
// lxcfs's FUSE files over /proc) is opened at each read, as ReadRegular
// does, so that a file replaced by another is seen. A kept file that
// fails a read is closed and opened once more (a sysfs attribute whose
// module was reloaded).
type Kept struct {
	path  string
	limit int64

	mu     sync.Mutex
	fd     int  // a kept descriptor on procfs or sysfs; -1 when none
	closed bool // Close was called: read, but keep nothing open
}

// Keep returns path's Kept, read at most limit bytes at a time (limit >
// 0; more is an error wrapping ErrTooLarge). Nothing is opened yet.
func Keep(path string, limit int64) *Kept { return &Kept{path: path, limit: limit, fd: -1} }

// Path is the file's path.
func (k *Kept) Path() string { return k.path }

// Read returns the file's content, as ReadRegular would.
func (k *Kept) Read() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fd >= 0 {
		var st unix.Stat_t // a generated file's size says nothing: only the limit counts
		if b, err := readOpen(k.fd, &st, k.path, k.limit, true); err == nil {
			return b, nil
		}
		k.closeLocked()
	}
	fd, st, err := openRegularFd(k.path, false)
	if err != nil {
		return nil, err
	}
	b, err := readOpen(fd, st, k.path, k.limit, true)
	if err == nil && !k.closed && generated(fd) && notLink(k.path) {
		k.fd = fd
	} else {
		_ = unix.Close(fd)
	}
	return b, err
}

// Close closes a kept descriptor; a later Read opens the file again.
func (k *Kept) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	k.closeLocked()
}

func (k *Kept) closeLocked() {
	if k.fd >= 0 {
		_ = unix.Close(k.fd)
		k.fd = -1
	}
}

// generated tells whether fd is on procfs or sysfs, whose files are made
// by the kernel at each read and never replaced by another file.
func generated(fd int) bool {
	var s unix.Statfs_t
	if unix.Fstatfs(fd, &s) != nil {
		return false
	}
	return s.Type == unix.PROC_SUPER_MAGIC || s.Type == unix.SYSFS_MAGIC
}

// notLink tells whether path's last element is not a symbolic link (one in
// a fixture tree pointing into /proc may be pointed elsewhere later).
func notLink(path string) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT != unix.S_IFLNK
}
