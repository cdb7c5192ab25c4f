//go:build unix

package fileid

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

func devIno(fi fs.FileInfo) (dev, ino uint64) {
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Dev), uint64(s.Ino) //nolint:unconvert // field types differ between systems
	}
	return 0, 0
}

// openRegular opens with O_NONBLOCK, so a FIFO without a writer or a
// device that waits for carrier cannot hold the open; fstat on the
// descriptor decides; a regular file is then switched back to blocking
// mode, which for a regular file changes nothing but keeps the runtime's
// poller out of it.
func openRegular(path string, noFollow bool) (*os.File, fs.FileInfo, error) {
	fd, _, err := openRegularFd(path, noFollow)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, nil, &fs.PathError{Op: "fcntl", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// openRegularFd is openRegular's open and check, on a bare descriptor
// (still in O_NONBLOCK mode) with its fstat.
func openRegularFd(path string, noFollow bool) (int, *unix.Stat_t, error) {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	if noFollow {
		flags |= unix.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flags, 0)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		if noFollow && errors.Is(err, unix.ELOOP) {
			return -1, nil, notRegular(path, fs.ModeSymlink)
		}
		return -1, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, nil, notRegular(path, modeType(uint32(st.Mode))) //nolint:unconvert // uint16 on darwin
	}
	return fd, &st, nil
}

// readRegular is ReadRegular on the bare descriptor: open, fstat, reads to
// the end, close. Through an *os.File the same read took nine system
// calls (the switch back to blocking mode, the runtime's checks, a second
// fstat), and the exporter reads a dozen /proc and /sys files a scrape.
// O_NONBLOCK stays set: it does not apply to regular files; should a file
// system answer EAGAIN all the same, the mode is switched off and the
// read tried again.
func readRegular(path string, noFollow bool, limit int64) ([]byte, error) {
	fd, st, err := openRegularFd(path, noFollow)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readOpen(fd, st, path, limit, false)
}

// readOpen reads the open regular file fd to its end, from its current
// offset, or with pread from offset 0 (a kept file).
func readOpen(fd int, st *unix.Stat_t, path string, limit int64, fromStart bool) ([]byte, error) {
	if limit > 0 && st.Size > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes, limit %d)", path, ErrTooLarge, st.Size, limit)
	}
	if st.Size+1 > maxPooledRead { // a large file: read into its own buffer
		return readInto(fd, path, make([]byte, 0, st.Size+1), limit, fromStart)
	}
	// /proc files have no size, sysfs ones say 4096 whatever they hold: the
	// bytes are read into a pooled buffer and copied out at their size, so
	// the small reads of a scrape leave only their bytes as garbage.
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf, err := readInto(fd, path, (*bp)[:0], limit, fromStart)
	if err != nil {
		return nil, err
	}
	if cap(buf) <= maxPooledRead {
		*bp = buf[:0] // keep a grown buffer in the pool
	}
	return bytes.Clone(buf), nil
}

// readInto appends what is left of fd to buf, growing it, up to limit+1
// bytes (limit > 0): more is ErrTooLarge. fromStart reads with pread, buf
// holding what was read from offset 0.
func readInto(fd int, path string, buf []byte, limit int64, fromStart bool) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := cap(buf)
		if limit > 0 && int64(end) > limit+1 {
			end = int(limit + 1) // nothing past limit+1 bytes is read
		}
		var n int
		var err error
		if fromStart {
			n, err = unix.Pread(fd, buf[len(buf):end], int64(len(buf)))
		} else {
			n, err = unix.Read(fd, buf[len(buf):end])
		}
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			if err := unix.SetNonblock(fd, false); err != nil {
				return nil, &fs.PathError{Op: "fcntl", Path: path, Err: err}
			}
			continue
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		buf = buf[:len(buf)+n]
		if limit > 0 && int64(len(buf)) > limit {
			return nil, fmt.Errorf("%s: %w (over %d bytes)", path, ErrTooLarge, limit)
		}
		if n == 0 {
			return buf, nil
		}
	}
}

// readBufs are readRegular's buffers; one that grew past maxPooledRead
// (a large file) is not kept.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

const maxPooledRead = 256 << 10

// modeType turns st_mode's type bits into an fs.FileMode type.
func modeType(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}

// OpenDir opens a folder for listing. O_DIRECTORY makes the open fail
// with ENOTDIR on anything else before it could block (a FIFO).
func OpenDir(path string) (*os.File, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// OpenRegularFd is OpenRegular on a bare descriptor, left in non-blocking
// mode and out of the runtime's poller: for a caller that polls the file
// itself (poll(2) on a mountinfo). The caller closes it (unix.Close).
func OpenRegularFd(path string) (int, error) {
	fd, _, err := openRegularFd(path, false)
	return fd, err
}

// ReadFd reads fd from its start to its end, at most limit bytes (limit
// > 0; more is an error wrapping ErrTooLarge); path names it in errors.
func ReadFd(fd int, path string, limit int64) ([]byte, error) {
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		return nil, &fs.PathError{Op: "seek", Path: path, Err: err}
	}
	return readInto(fd, path, make([]byte, 0, 16<<10), limit, false)
}
