package mounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// Reader is ReadFirst for a caller that reads the table again and again
// (each scrape): the table rarely changes, so a read identical to the
// previous one returns the previous parse instead of parsing it again.
//
// A table on procfs is not even read again while it is unchanged: the
// kernel wakes poll(2) with POLLPRI on a mountinfo file, opened before
// it was read, after any mount or unmount in its namespace (proc(5)).
// Reading it costs a tenth of a millisecond on a VM, and each scrape read
// it twice (filesystem and inventory). Files elsewhere (fixtures, a copy)
// are read at every call.
//
// The returned slice is shared: read it, do not modify it. Safe for
// concurrent use; Close releases the watched file.
type Reader struct {
	mu    sync.Mutex
	name  string
	data  []byte
	ms    []Mount
	err   error
	watch int  // descriptor of name on procfs, polled for changes
	open  bool // watch is open
	// closed: Close was called; a read after it (a scrape still running
	// on a collector a reload replaced) keeps no descriptor open.
	closed bool
}

// tableReads counts the tables read, for tests.
var tableReads atomic.Uint64

// procSuperMagic is statfs(2)'s f_type of procfs.
const procSuperMagic = 0x9fa0

// ReadFirst is the package's ReadFirst, with the cache.
func (r *Reader) ReadFirst(files ...string) ([]Mount, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, name := range files {
		if r.open && name == r.name {
			if !r.changed() {
				return r.ms, name, r.err
			}
			data, err := r.readWatched()
			if err == nil {
				return r.parse(name, data)
			}
			r.closeWatch() // read it again by name below
		}
		data, err := r.readByName(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				errs = append(errs, err)
				continue
			}
			return nil, name, err
		}
		return r.parse(name, data)
	}
	return nil, "", fmt.Errorf("no mount table: %w", errors.Join(errs...))
}

// Close releases the watched file. The Reader stays usable, reading the
// table at every call from then on.
func (r *Reader) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeWatch()
	r.closed = true
}

// readByName reads name; on procfs it keeps the descriptor it read
// through, to poll it, in place of the one watched before.
func (r *Reader) readByName(name string) ([]byte, error) {
	fd, err := fileid.OpenRegularFd(name) // a FIFO, a device, a folder: refused
	if err != nil {
		return nil, err
	}
	data, err := readAll(fd, name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	r.closeWatch() // the table is read from name from now on
	var st unix.Statfs_t
	if r.closed || unix.Fstatfs(fd, &st) != nil || st.Type != procSuperMagic {
		unix.Close(fd)
		return data, nil
	}
	r.watch, r.open, r.name = fd, true, name
	return data, nil
}

// changed polls the watched descriptor without waiting: POLLPRI or
// POLLERR means the mount table changed since the last poll (or since it
// was opened, which came before its first read).
func (r *Reader) changed() bool {
	fds := []unix.PollFd{{Fd: int32(r.watch), Events: unix.POLLPRI}}
	n, err := unix.Poll(fds, 0)
	if err != nil {
		return true
	}
	return n > 0 && fds[0].Revents&(unix.POLLPRI|unix.POLLERR|unix.POLLNVAL) != 0
}

// readWatched reads the watched file again from its start.
func (r *Reader) readWatched() ([]byte, error) {
	return readAll(r.watch, r.name)
}

func (r *Reader) closeWatch() {
	if r.open {
		unix.Close(r.watch)
	}
	r.watch, r.open = -1, false
}

// maxTable bounds a mount table (a link to a file that never ends):
// 64 MiB is some 300,000 mounts.
const maxTable = 64 << 20

// readAll reads the table at fd from its start.
func readAll(fd int, name string) ([]byte, error) {
	tableReads.Add(1)
	return fileid.ReadFd(fd, name, maxTable)
}

// parse returns the previous parse when data is the previous read.
func (r *Reader) parse(name string, data []byte) ([]Mount, string, error) {
	if r.data != nil && name == r.name && bytes.Equal(data, r.data) {
		return r.ms, name, r.err
	}
	ms, err := Parse(bytes.NewReader(data))
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	r.name, r.data, r.ms, r.err = name, data, ms, err
	return ms, name, err
}
