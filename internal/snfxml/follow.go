package snfxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// headSize is how much of a file's beginning is kept to recognise a file
// rewritten in place (append='no'): its first snapshot's basetime changes.
const headSize = 256

// maxErrorsPerRead bounds how many bad snapshots one read names.
const maxErrorsPerRead = 3

// Follower reads status files incrementally: for each path it remembers
// the file's identity (device, inode), size, mtime, the offset after the
// last complete snapshot and the file's first bytes. An unchanged file
// costs one stat; an appended one is read from the offset; a file that
// shrank, was replaced or was rewritten is read again from the start
// (deduplicating snapshots read twice is the caller's job: Snapshot.ID).
type Follower struct {
	maxSnapshot int
	files       map[string]*followed
}

type followed struct {
	id      fileid.ID // a rotated or replaced file gets a new inode even under the same name
	offset  int64
	head    []byte
	pending bool  // the last read ended inside a snapshot
	stopped bool  // the last read was stopped before the end: go on even if unchanged
	err     error // the last read's problem, kept while the file is unchanged
}

// ReadStats says what one Read did.
type ReadStats struct {
	BytesRead int64 // bytes read past the head check
	Snapshots int   // complete snapshots handed over
	Bad       int   // snapshots refused
}

// NewFollower follows files whose snapshots are at most maxSnapshot bytes
// (<= 0: DefaultMaxSnapshotBytes).
func NewFollower(maxSnapshot int) *Follower {
	return &Follower{maxSnapshot: maxSnapshot, files: map[string]*followed{}}
}

// Read hands each snapshot completed in the file since the last call to
// fn; when fn returns false, reading stops there and the next Read goes
// on after that snapshot (a scrape out of time). A missing file is (zero stats, nil error): the caller lists files
// by glob and one may be rotated away in between. The error names the
// file: unreadable, bad snapshots (the good ones are still handed over),
// or a partial snapshot at the end that did not change since the last
// read. An unchanged file returns the problem of its last read again.
func (f *Follower) Read(path string, fn func(*Snapshot) bool) (ReadStats, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		delete(f.files, path)
		return ReadStats{}, nil
	}
	if err != nil {
		return ReadStats{}, err
	}
	id := fileid.Of(st)
	prev := f.files[path]
	if prev != nil && !prev.stopped && prev.id == id {
		if prev.pending && prev.err == nil {
			prev.err = fmt.Errorf("%s: %w at byte %d (unchanged since the last read)", path, ErrTruncated, prev.offset)
		}
		return ReadStats{}, prev.err
	}
	cur := &followed{id: id}
	stats, err := f.readFile(path, prev, cur, fn)
	cur.err = err
	f.files[path] = cur
	return stats, err
}

// SkipToEnd starts following the file at its current end without reading
// it: what it holds already is history (an old rotated file found when the
// exporter starts). Later reads see only what is appended.
func (f *Follower) SkipToEnd(path string) error {
	file, st, err := fileid.OpenRegular(path)
	if err != nil {
		return err
	}
	defer file.Close()
	f.files[path] = &followed{id: fileid.Of(st), offset: st.Size(), head: readHead(file, st.Size())}
	return nil
}

// Retain forgets the files not in keep (rotated away, or no longer
// matched), so the state does not grow with the rotated files.
func (f *Follower) Retain(keep map[string]bool) {
	for p := range f.files {
		if !keep[p] {
			delete(f.files, p)
		}
	}
}

// Files is how many files the Follower holds state for.
func (f *Follower) Files() int { return len(f.files) }

func (f *Follower) readFile(path string, prev, cur *followed, fn func(*Snapshot) bool) (ReadStats, error) {
	file, _, err := fileid.OpenRegular(path) // a FIFO matching the glob must not hang the scrape
	if err != nil {
		return ReadStats{}, err
	}
	defer file.Close()
	if prev != nil && prev.id.Dev == cur.id.Dev && prev.id.Ino == cur.id.Ino && prev.offset <= cur.id.Size && sameHead(file, prev.head) {
		cur.offset = prev.offset
	}
	if _, err := file.Seek(cur.offset, io.SeekStart); err != nil {
		return ReadStats{}, fmt.Errorf("%s: %w", path, err)
	}
	counted := &countingReader{r: io.LimitReader(file, cur.id.Size-cur.offset)}
	d := NewDecoderAt(counted, f.maxSnapshot, cur.offset)
	stats, errs, stopped := decodeInto(d, fn)
	stats.BytesRead = counted.n
	cur.offset, cur.pending, cur.stopped = d.Offset(), d.Pending(), stopped
	cur.head = readHead(file, cur.id.Size)
	if len(errs) > 0 {
		return stats, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return stats, nil
}

// decodeInto runs a decoder to its end, or until fn returns false
// (stopped), handing snapshots to fn and collecting (a few of) the bad
// ones' errors.
func decodeInto(d *Decoder, fn func(*Snapshot) bool) (stats ReadStats, errs []error, stopped bool) {
	for {
		s, err := d.Next()
		var se *SnapshotError
		switch {
		case err == nil:
			stats.Snapshots++
			if !fn(s) {
				return stats, errs, true
			}
			continue
		case errors.As(err, &se):
			stats.Bad++
			if len(errs) < maxErrorsPerRead {
				errs = append(errs, err)
			}
			continue
		case !errors.Is(err, io.EOF):
			errs = append(errs, err)
		}
		return stats, errs, false
	}
}

// sameHead reports whether the file still begins with head (an empty
// head matches anything).
func sameHead(file *os.File, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	buf := make([]byte, len(head))
	n, err := file.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return bytes.Equal(buf[:n], head[:min(n, len(head))]) && n == len(head)
}

// readHead returns the file's first bytes (up to headSize, within size).
func readHead(file *os.File, size int64) []byte {
	buf := make([]byte, min(int64(headSize), size))
	n, _ := file.ReadAt(buf, 0)
	return buf[:n]
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
