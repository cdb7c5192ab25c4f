// Package tail follows one log file by polling, across rotations, and
// splits it into lines. It knows nothing about Prometheus.
//
// A Follower remembers the file it reads by identity (device, inode and a
// fingerprint of its first bytes) and the committed offset: the position
// after the last complete line handed out. It copes with:
//   - rename-and-create rotation: the old file is read to its end through
//     the open descriptor, then the new file from 0;
//   - copytruncate and truncation in place: a size below the offset, or a
//     changed fingerprint, restarts at 0;
//   - deletion and re-creation, and a file that does not exist yet;
//   - a partial last line: held (at most MaxLineBytes) until its newline;
//   - a line longer than MaxLineBytes: its first MaxLineBytes are handed out
//     flagged truncated once its newline arrives; the rest is skipped, never
//     held in memory.
package tail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
)

// FingerprintBytes is how much of a file's head identifies it.
const FingerprintBytes = 1024

// Defaults for Options.
const (
	DefaultMaxLineBytes = 64 * 1024
	DefaultChunkBytes   = 256 * 1024
)

// Options tune a Follower.
type Options struct {
	MaxLineBytes int  // longer lines are truncated (default 64 KiB)
	ChunkBytes   int  // read size (default 256 KiB)
	StartAtEnd   bool // with no saved state, a file present at the first poll starts at its end
	// MaxBytesPerPoll bounds one Poll's work so a huge backlog does not
	// delay saving the position for long; 0 means 64 MiB.
	MaxBytesPerPoll int64
}

// State is what a restart needs to resume exactly where it stopped.
type State struct {
	Path           string `json:"path"`
	Dev            uint64 `json:"dev"`
	Inode          uint64 `json:"inode"`
	Fingerprint    string `json:"fingerprint"`     // hex sha256 of the first FingerprintLen bytes
	FingerprintLen int    `json:"fingerprint_len"` // up to FingerprintBytes
	Offset         int64  `json:"offset"`          // after the last complete line handed out
	// Cursor, for a journal source (Path then names the source, not a
	// file): the journal cursor of the last entry counted.
	Cursor string `json:"cursor,omitempty"`
}

// LineFunc receives each complete line without its newline; truncated says
// the line was longer than MaxLineBytes and only its head is given. The
// slice is only valid during the call.
type LineFunc func(line []byte, truncated bool)

// Follower follows one path. It is not safe for concurrent use.
type Follower struct {
	path  string
	opts  Options
	saved *State // consulted at the first successful open only
	first bool   // no open attempted yet

	file      *os.File
	id        identity
	fp        fingerprint
	committed int64 // offset after the last complete line
	readPos   int64 // offset of the next read

	buf      []byte // pending partial line at buf[:pending], then room for a chunk
	pending  int
	long     []byte // head of an over-long line while its rest is skipped
	skipping bool
}

type identity struct{ dev, ino uint64 }

type fingerprint struct {
	sum string
	n   int
}

// New makes a Follower of path; saved is the state of a previous run (nil
// when there is none).
func New(path string, opts Options, saved *State) *Follower {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = DefaultChunkBytes
	}
	if opts.MaxBytesPerPoll <= 0 {
		opts.MaxBytesPerPoll = 64 << 20
	}
	if saved != nil && saved.Path != path {
		saved = nil
	}
	return &Follower{path: path, opts: opts, saved: saved, first: true,
		buf: make([]byte, opts.MaxLineBytes+opts.ChunkBytes)}
}

// State is the position to save: only complete lines handed out so far
// are behind it. ok is false while no file has been opened.
func (f *Follower) State() (st State, ok bool) {
	if f.file == nil {
		if f.saved != nil {
			return *f.saved, true
		}
		return State{}, false
	}
	return State{Path: f.path, Dev: f.id.dev, Inode: f.id.ino,
		Fingerprint: f.fp.sum, FingerprintLen: f.fp.n, Offset: f.committed}, true
}

// IsOpen says whether a file is open (false while the path is absent).
func (f *Follower) IsOpen() bool { return f.file != nil }

// Close releases the open file.
func (f *Follower) Close() {
	if f.file != nil {
		_ = f.file.Close()
		f.file = nil
	}
}

// Poll reads what is available now (up to MaxBytesPerPoll) and hands out
// each complete line. It returns the bytes read. An absent file is not an
// error: it is waited for.
func (f *Follower) Poll(fn LineFunc) (int64, error) {
	if f.file == nil {
		if err := f.open(); err != nil || f.file == nil {
			return 0, err
		}
	} else if err := f.checkTruncated(); err != nil {
		return 0, err
	}
	var total int64
	for total < f.opts.MaxBytesPerPoll {
		n, err := f.readChunk(fn)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if n > 0 {
			continue
		}
		switched, err := f.checkRotation(fn)
		if err != nil || !switched {
			return total, err
		}
	}
	return total, nil
}

// open opens the path for the first time or after a rotation. At the very
// first open, a saved state decides where to start.
func (f *Follower) open() error {
	first := f.first
	f.first = false
	if first && f.saved != nil {
		if ok, err := f.resume(*f.saved); ok || err != nil {
			return err
		}
	}
	file, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		if first && f.saved == nil {
			f.opts.StartAtEnd = false // it did not exist at start: all of it is new
		}
		return nil
	}
	if err != nil {
		return err
	}
	start := int64(0)
	if first && f.saved == nil && f.opts.StartAtEnd {
		start = f.lastLineStart(file)
	}
	return f.adopt(file, start)
}

// lastLineStart is where "the end" of a file is for start_at end: after
// its last newline, so that a line being written is counted whole once
// complete (the file's size if no newline is within MaxLineBytes).
func (f *Follower) lastLineStart(file *os.File) int64 {
	fi, err := file.Stat()
	if err != nil {
		return 0
	}
	size := fi.Size()
	window := min(size, int64(f.opts.MaxLineBytes))
	tail := make([]byte, window)
	n, _ := file.ReadAt(tail, size-window)
	if i := bytes.LastIndexByte(tail[:n], '\n'); i >= 0 {
		return size - window + int64(i) + 1
	}
	return size
}

// resume reopens the saved file: at path if it is still there, else under
// a rotated name; ok is false when it is nowhere (start the path from 0).
// A rotated file is recognised by its identity, or, when copytruncate made
// it a copy with a new inode, by the fingerprint of its head alone (only
// when that fingerprint covers enough bytes to be unique).
func (f *Follower) resume(st State) (bool, error) {
	for i, name := range append([]string{f.path}, RotatedNames(f.path)...) {
		file, err := os.Open(name)
		if err != nil {
			continue
		}
		if f.sameFile(file, st, i > 0) {
			return true, f.adopt(file, st.Offset)
		}
		_ = file.Close()
	}
	return false, nil
}

// minCopyFingerprint is the head length below which a copy is not
// trusted to be the saved file.
const minCopyFingerprint = 256

func (f *Follower) sameFile(file *os.File, st State, copyOK bool) bool {
	fi, err := file.Stat()
	if err != nil || fi.Size() < st.Offset {
		return false
	}
	id := fileIdentity(fi)
	sameInode := id.dev == st.Dev && id.ino == st.Inode
	if !sameInode && !(copyOK && st.FingerprintLen >= minCopyFingerprint) {
		return false
	}
	fp, err := fingerprintOf(file, st.FingerprintLen)
	return err == nil && fp.sum == st.Fingerprint
}

func (f *Follower) adopt(file *os.File, start int64) error {
	fi, err := file.Stat()
	if err != nil {
		_ = file.Close()
		return err
	}
	fp, err := fingerprintOf(file, FingerprintBytes)
	if err != nil {
		_ = file.Close()
		return err
	}
	f.file, f.id, f.fp = file, fileIdentity(fi), fp
	f.committed, f.readPos = start, start
	f.pending, f.skipping = 0, false
	return nil
}

// readChunk reads once and hands out the complete lines in what is held.
func (f *Follower) readChunk(fn LineFunc) (int, error) {
	n, err := f.file.ReadAt(f.buf[f.pending:f.pending+f.opts.ChunkBytes], f.readPos)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	if n == 0 {
		return 0, nil
	}
	f.readPos += int64(n)
	f.split(f.buf[:f.pending+n], fn)
	return n, nil
}

// split hands out the complete lines of data (which starts at a line
// start, or inside a skipped over-long line) and keeps the rest.
func (f *Follower) split(data []byte, fn LineFunc) {
	base := f.readPos - int64(len(data)) // file offset of data[0]
	start := 0
	for {
		i := bytes.IndexByte(data[start:], '\n')
		if i < 0 {
			break
		}
		line := data[start : start+i]
		switch {
		case f.skipping:
			fn(f.long, true)
			f.skipping = false
		case len(line) > f.opts.MaxLineBytes:
			fn(line[:f.opts.MaxLineBytes], true)
		default:
			fn(line, false)
		}
		start += i + 1
		f.committed = base + int64(start)
	}
	rest := data[start:]
	switch {
	case f.skipping:
		f.pending = 0
	case len(rest) > f.opts.MaxLineBytes:
		if f.long == nil {
			f.long = make([]byte, 0, f.opts.MaxLineBytes)
		}
		f.long = append(f.long[:0], rest[:f.opts.MaxLineBytes]...)
		f.skipping = true
		f.pending = 0
	default:
		f.pending = copy(f.buf, rest)
	}
}

// flushPartial hands out an unterminated last line: the file it was in has
// been rotated away, so nothing more will be appended to it.
func (f *Follower) flushPartial(fn LineFunc) {
	switch {
	case f.skipping:
		fn(f.long, true)
	case f.pending > 0:
		fn(f.buf[:f.pending], false)
	}
	f.pending, f.skipping = 0, false
	f.committed = f.readPos
}

// checkRotation runs at the end of the open file. It switches to a new file
// at the path (true), or restarts a truncated file at 0 (true), or says
// nothing changed (false).
func (f *Follower) checkRotation(fn LineFunc) (bool, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		// Renamed, nothing new yet: keep the old file, the daemon may still
		// write to it. Deleted and read to its end: let it go, or its disk
		// space would stay taken until the path comes back.
		if own, err := f.file.Stat(); err == nil && isDeleted(own) {
			f.flushPartial(fn)
			last, _ := f.State()
			f.saved = &last // what State reports until the path comes back
			f.Close()
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fileIdentity(fi) != f.id {
		f.flushPartial(fn)
		f.Close()
		f.first = false
		if err := f.open(); err != nil || f.file == nil {
			return false, err
		}
		return true, nil
	}
	restarted, err := f.truncated()
	if err != nil || !restarted {
		return false, err
	}
	return true, f.restart()
}

// checkTruncated restarts at 0 a file cut short or rewritten in place
// since the last poll; checked before reading, so that a copytruncate
// followed by more writes than the old offset is not read from the middle.
func (f *Follower) checkTruncated() error {
	if cut, err := f.truncated(); err != nil || !cut {
		return err
	}
	return f.restart()
}

func (f *Follower) truncated() (bool, error) {
	own, err := f.file.Stat()
	if err != nil {
		return false, err
	}
	return own.Size() < f.readPos || f.headChanged(own.Size()), nil
}

// headChanged says whether the first bytes differ from the fingerprint
// (a copytruncate followed by new writes past the old offset); it extends
// a short fingerprint as the file grows.
func (f *Follower) headChanged(size int64) bool {
	if f.fp.n == 0 {
		return false
	}
	fp, err := fingerprintOf(f.file, f.fp.n)
	if err != nil || fp.sum != f.fp.sum {
		return err == nil
	}
	if f.fp.n < FingerprintBytes && size > int64(f.fp.n) {
		if longer, err := fingerprintOf(f.file, FingerprintBytes); err == nil {
			f.fp = longer
		}
	}
	return false
}

func (f *Follower) restart() error {
	fp, err := fingerprintOf(f.file, FingerprintBytes)
	if err != nil {
		return err
	}
	f.fp = fp
	f.committed, f.readPos = 0, 0
	f.pending, f.skipping = 0, false
	return nil
}

// fingerprintOf hashes the first up to limit bytes of file.
func fingerprintOf(file *os.File, limit int) (fingerprint, error) {
	head := make([]byte, limit)
	n, err := file.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fingerprint{}, err
	}
	sum := sha256.Sum256(head[:n])
	return fingerprint{sum: hex.EncodeToString(sum[:]), n: n}, nil
}
