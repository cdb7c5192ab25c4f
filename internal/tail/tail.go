// Package tail follows one log file by polling, across rotations, and
// splits it into lines. It knows nothing about Prometheus.
//
// A Follower remembers the file it reads by identity (device, inode and a
// fingerprint of its first bytes) and the committed offset: the position
// after the last complete line handed out. It copes with:
//   - rename-and-create rotation: the new file is read from 0, and the old
//     one, through its open descriptor, for as long as it keeps changing:
//     until it has stayed unchanged for Options.RotateGrace (the daemon
//     writes there until it is told to reopen its log, or restarted);
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
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// FingerprintBytes is how much of a file's head identifies it.
const FingerprintBytes = 1024

// Defaults for Options.
const (
	DefaultMaxLineBytes = 64 * 1024
	DefaultChunkBytes   = 1024 * 1024
)

// Options tune a Follower.
type Options struct {
	MaxLineBytes int  // longer lines are truncated (default 64 KiB)
	ChunkBytes   int  // largest read (default 1 MiB; see firstChunkBytes)
	StartAtEnd   bool // with no saved state, a file present at the first poll starts at its end
	// MaxBytesPerPoll bounds one Poll's work so a huge backlog does not
	// delay saving the position for long; 0 means 64 MiB.
	MaxBytesPerPoll int64
	// RotateGrace is how long a file renamed away from the path is still
	// read after it last changed (0: DefaultRotateGrace; negative: read to
	// its end once, at the rotation).
	RotateGrace time.Duration
}

// DefaultRotateGrace: logrotate renames the file, creates the new one and
// only then signals the daemon, which writes to the renamed file until it
// reopens (seconds later; never, where nothing signals it). Five minutes
// covers that gap many times over, and a daemon never signalled as long as
// it logs at least every five minutes; a renamed file costs one descriptor
// and one fstat a poll meanwhile.
const DefaultRotateGrace = 5 * time.Minute

// maxRotated bounds the renamed files read at once (rotations faster than
// the grace period): beyond it the oldest is let go.
const maxRotated = 8

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
	// Rotated are the files renamed away from Path that are still read
	// (within their grace period), with their positions: after a restart
	// they are found again under a rotated name by their identity.
	Rotated []State `json:"rotated,omitempty"`
}

// LineFunc receives each complete line without its newline; truncated says
// the line was longer than MaxLineBytes and only its head is given. The
// slice is only valid during the call.
type LineFunc func(line []byte, truncated bool)

// BlockFunc receives complete lines several at a time, so that a reader
// can search them at once: block is one or more lines, each ending in
// '\n', or the unterminated last line of a file that will grow no more
// (alone, without '\n'). When truncated is set, block is the head of one
// line longer than MaxLineBytes, alone and without '\n'. The slice is only
// valid during the call.
type BlockFunc func(block []byte, truncated bool)

// lines makes fn a BlockFunc.
func (fn LineFunc) lines(block []byte, truncated bool) {
	if truncated {
		fn(block, true)
		return
	}
	for len(block) > 0 {
		i := bytes.IndexByte(block, '\n')
		if i < 0 {
			fn(block, false)
			return
		}
		fn(block[:i], false)
		block = block[i+1:]
	}
}

// Follower follows one path. It is not safe for concurrent use.
type Follower struct {
	path  string
	opts  Options
	saved *State // consulted at the first successful open only
	first bool   // no open attempted yet
	now   func() time.Time

	cur     *stream   // the file at path; nil while the path is absent
	rotated []*stream // files renamed away, read until quiet for RotateGrace
	spare   []byte    // a released stream's buffer, for the next one
}

// stream is one open file and the position reached in it.
type stream struct {
	file      *os.File
	id        fileid.ID // at the open; only Dev and Ino are compared (sameInode)
	fp        fingerprint
	committed int64     // offset after the last complete line
	readPos   int64     // offset of the next read
	changed   time.Time // last read that found bytes (renamed files)

	buf      []byte // pending partial line at buf[:pending], then room for a chunk
	pending  int
	long     []byte // head of an over-long line while its rest is skipped
	skipping bool
}

// sameInode says whether a and b are the same file, by device and inode
// alone: a followed file's size and mtime change as it grows.
func sameInode(a, b fileid.ID) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

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
	if opts.RotateGrace == 0 {
		opts.RotateGrace = DefaultRotateGrace
	}
	if saved != nil && saved.Path != path {
		saved = nil
	}
	return &Follower{path: path, opts: opts, saved: saved, first: true, now: time.Now}
}

// State is the position to save: only complete lines handed out so far
// are behind it, in the file at the path and in the renamed files still
// read. ok is false while no file has been opened.
func (f *Follower) State() (st State, ok bool) {
	switch {
	case f.cur != nil:
		st, ok = f.cur.state(f.path), true
	case f.saved != nil:
		st, ok = *f.saved, true
		st.Rotated = nil
	}
	if len(f.rotated) > 0 {
		st.Path, ok = f.path, true
		for _, r := range f.rotated {
			st.Rotated = append(st.Rotated, r.state(f.path))
		}
	}
	return st, ok
}

func (s *stream) state(path string) State {
	return State{Path: path, Dev: s.id.Dev, Inode: s.id.Ino,
		Fingerprint: s.fp.sum, FingerprintLen: s.fp.n, Offset: s.committed}
}

// IsOpen says whether a file is open: the one at the path, or a renamed
// one still read.
func (f *Follower) IsOpen() bool { return f.cur != nil || len(f.rotated) > 0 }

// Close releases the open files.
func (f *Follower) Close() {
	if f.cur != nil {
		_ = f.cur.file.Close()
		f.cur = nil
	}
	for _, r := range f.rotated {
		_ = r.file.Close()
	}
	f.rotated = nil
}

// Poll reads what is available now (up to MaxBytesPerPoll) and hands out
// each complete line: first what was appended to renamed files, then the
// file at the path. It returns the bytes read. An absent file is not an
// error: it is waited for.
func (f *Follower) Poll(fn LineFunc) (int64, error) { return f.PollBlocks(fn.lines) }

// PollBlocks is Poll handing out lines in blocks.
func (f *Follower) PollBlocks(fn BlockFunc) (int64, error) {
	if f.first {
		f.resumeRotated()
	}
	total, err := f.pollRotated(fn)
	if err != nil {
		return total, err
	}
	n, err := f.pollCurrent(fn, f.opts.MaxBytesPerPoll-total)
	return total + n, err
}

func (f *Follower) pollCurrent(fn BlockFunc, budget int64) (int64, error) {
	if f.cur == nil {
		if err := f.open(); err != nil || f.cur == nil {
			return 0, err
		}
	} else if err := f.checkTruncated(); err != nil {
		return 0, err
	}
	var total int64
	for total < budget {
		n, err := f.cur.readChunk(fn, f.opts)
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

// pollRotated reads what was appended to the renamed files, and lets go of
// those unchanged for RotateGrace, deleted, or cut short.
func (f *Follower) pollRotated(fn BlockFunc) (int64, error) {
	var total int64
	now := f.now()
	kept := f.rotated[:0]
	var errs []error
	for _, r := range f.rotated {
		n, done, err := f.drain(r, fn, f.opts.MaxBytesPerPoll-total)
		total += n
		if n > 0 {
			r.changed = now
		}
		if err != nil {
			errs = append(errs, err)
		}
		if done || err != nil || now.Sub(r.changed) >= f.opts.RotateGrace {
			f.release(r, fn)
			continue
		}
		kept = append(kept, r)
	}
	clear(f.rotated[len(kept):])
	f.rotated = kept
	return total, errors.Join(errs...)
}

// drain reads a renamed file up to budget; done says it will not change
// any more (no name links to it, or it was cut short).
func (f *Follower) drain(r *stream, fn BlockFunc, budget int64) (total int64, done bool, err error) {
	for total < budget {
		n, err := r.readChunk(fn, f.opts)
		total += int64(n)
		if err != nil || n == 0 {
			if err != nil {
				return total, true, err
			}
			break
		}
	}
	fi, err := r.file.Stat()
	if err != nil {
		return total, true, err
	}
	return total, total < budget && (isDeleted(fi) || fi.Size() < r.readPos), nil
}

// release hands out a stream's unterminated last line (nothing more will
// be appended to it) and closes it.
func (f *Follower) release(r *stream, fn BlockFunc) {
	r.flushPartial(fn)
	_ = r.file.Close()
	f.spare = r.buf
}

// retire moves the file at the path to the renamed files still read.
func (f *Follower) retire() {
	f.cur.changed = f.now()
	f.rotated = append(f.rotated, f.cur)
	f.cur = nil
	if len(f.rotated) > maxRotated {
		oldest := f.rotated[0]
		f.rotated = f.rotated[1:]
		f.release(oldest, func([]byte, bool) {}) // its partial line is lost either way
	}
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
	// Never blocks (a FIFO at the path), and refuses what is not a
	// regular file (/dev/zero would be read for ever): the error is
	// reported and the open is tried again at the next poll.
	file, _, err := fileid.OpenRegular(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		if first && f.saved == nil {
			f.opts.StartAtEnd = false // it did not exist at start: all of it is new
		}
		return nil
	}
	if err != nil {
		return err
	}
	if f.reclaim(file) {
		return nil
	}
	start := int64(0)
	if first && f.saved == nil && f.opts.StartAtEnd {
		start = f.lastLineStart(file)
	}
	return f.adopt(file, start)
}

// reclaim takes back a renamed file that is at the path again (renamed
// back), where it was, instead of reading it again from 0.
func (f *Follower) reclaim(file *os.File) bool {
	fi, err := file.Stat()
	if err != nil {
		return false
	}
	id := fileid.Of(fi)
	for i, r := range f.rotated {
		if sameInode(r.id, id) {
			_ = file.Close()
			f.cur = r
			f.rotated = append(f.rotated[:i], f.rotated[i+1:]...)
			return true
		}
	}
	return false
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
	file, ok := f.find(st, true)
	if !ok {
		return false, nil
	}
	return true, f.adopt(file, st.Offset)
}

// resumeRotated reopens, at the first poll, the renamed files a previous
// run was still reading, where it stopped; one that is gone is let go.
func (f *Follower) resumeRotated() {
	if f.saved == nil {
		return
	}
	for _, st := range f.saved.Rotated {
		file, ok := f.find(st, false)
		if !ok {
			continue
		}
		s, err := f.newStream(file, st.Offset)
		if err != nil {
			continue
		}
		s.changed = f.now()
		f.rotated = append(f.rotated, s)
	}
}

// find opens the file a state describes, at the path (when atPath) or under
// a rotated name, unless it is one already open.
func (f *Follower) find(st State, atPath bool) (*os.File, bool) {
	names := RotatedNames(f.path)
	if atPath {
		names = append([]string{f.path}, names...)
	}
	for _, name := range names {
		file, _, err := fileid.OpenRegular(name)
		if err != nil {
			continue
		}
		if f.sameFile(file, st, name != f.path) && !f.isOpen(file) {
			return file, true
		}
		_ = file.Close()
	}
	return nil, false
}

// isOpen says whether file is one of the files already followed.
func (f *Follower) isOpen(file *os.File) bool {
	fi, err := file.Stat()
	if err != nil {
		return false
	}
	id := fileid.Of(fi)
	if f.cur != nil && sameInode(f.cur.id, id) {
		return true
	}
	for _, r := range f.rotated {
		if sameInode(r.id, id) {
			return true
		}
	}
	return false
}

// minCopyFingerprint is the head length below which a copy is not
// trusted to be the saved file.
const minCopyFingerprint = 256

func (f *Follower) sameFile(file *os.File, st State, copyOK bool) bool {
	fi, err := file.Stat()
	if err != nil || fi.Size() < st.Offset {
		return false
	}
	saved := fileid.ID{Dev: st.Dev, Ino: st.Inode}
	if !sameInode(fileid.Of(fi), saved) && !(copyOK && st.FingerprintLen >= minCopyFingerprint) {
		return false
	}
	fp, err := fingerprintOf(file, st.FingerprintLen)
	return err == nil && fp.sum == st.Fingerprint
}

func (f *Follower) adopt(file *os.File, start int64) error {
	s, err := f.newStream(file, start)
	if err != nil {
		return err
	}
	f.cur = s
	return nil
}

// newStream reads file from start; it closes file on error.
func (f *Follower) newStream(file *os.File, start int64) (*stream, error) {
	fi, err := file.Stat()
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	fp, err := fingerprintOf(file, FingerprintBytes)
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	buf := f.spare
	f.spare = nil
	if buf == nil {
		buf = make([]byte, f.opts.MaxLineBytes+min(firstChunkBytes, f.opts.ChunkBytes))
	}
	return &stream{file: file, id: fileid.Of(fi), fp: fp, committed: start, readPos: start, buf: buf}, nil
}

// firstChunkBytes is a stream's first read size. A read that fills its
// chunk (a backlog) makes the next one read up to ChunkBytes: a log read
// as it grows keeps a small buffer, a backlog is read in large pieces
// (fewer reads, and blocks the rules engine can split between CPUs).
const firstChunkBytes = 128 * 1024

// readChunk reads once and hands out the complete lines in what is held.
func (s *stream) readChunk(fn BlockFunc, opts Options) (int, error) {
	chunk := len(s.buf) - opts.MaxLineBytes
	n, err := s.file.ReadAt(s.buf[s.pending:s.pending+chunk], s.readPos)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	if n == 0 {
		return 0, nil
	}
	s.readPos += int64(n)
	s.split(s.buf[:s.pending+n], fn, opts.MaxLineBytes)
	if n == chunk && chunk < opts.ChunkBytes {
		grown := make([]byte, opts.MaxLineBytes+min(2*chunk, opts.ChunkBytes))
		copy(grown, s.buf[:s.pending])
		s.buf = grown
	}
	return n, nil
}

// split hands out the complete lines of data (which starts at a line
// start, or inside a skipped over-long line) and keeps the rest. Runs of
// lines of normal length go out as one block; each over-long line's head
// goes out alone. Lines are not looked for one by one: the last line end
// within maxLine+1 bytes of a line start says every line before it is
// short enough (one search per maxLine bytes); a window without any is
// the start of an over-long line.
func (s *stream) split(data []byte, fn BlockFunc, maxLine int) {
	base := s.readPos - int64(len(data)) // file offset of data[0]
	start, run := 0, 0                   // next line; first line not handed out
	if s.skipping {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.pending = 0
			return
		}
		fn(s.long, true)
		s.skipping = false
		start, run = i+1, i+1
	}
	for {
		end := min(len(data), start+maxLine+1)
		if k := bytes.LastIndexByte(data[start:end], '\n'); k >= 0 {
			start += k + 1
			continue
		}
		if end-start <= maxLine {
			break // the unfinished last line
		}
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			break // an over-long line whose end is not read yet
		}
		if run < start {
			fn(data[run:start], false)
		}
		fn(data[start:start+maxLine], true)
		start = end + i + 1
		run = start
	}
	if run < start {
		fn(data[run:start], false)
	}
	if start > 0 { // past a line end: inside a skipped line the position stays at its start
		s.committed = base + int64(start)
	}
	rest := data[start:]
	switch {
	case len(rest) > maxLine:
		if s.long == nil {
			s.long = make([]byte, 0, maxLine)
		}
		s.long = append(s.long[:0], rest[:maxLine]...)
		s.skipping = true
		s.pending = 0
	default:
		s.pending = copy(s.buf, rest)
	}
}

// flushPartial hands out an unterminated last line: the file it was in
// will not be appended to any more.
func (s *stream) flushPartial(fn BlockFunc) {
	switch {
	case s.skipping:
		fn(s.long, true)
	case s.pending > 0:
		fn(s.buf[:s.pending], false)
	}
	s.pending, s.skipping = 0, false
	s.committed = s.readPos
}

// checkRotation runs at the end of the file at the path. It switches to a
// new file there (true; the old one is read on as a renamed file), or
// restarts a truncated file at 0 (true), or says nothing changed (false).
func (f *Follower) checkRotation(fn BlockFunc) (bool, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		// Renamed, nothing new yet: keep the old file, the daemon may still
		// write to it. Deleted and read to its end: let it go, or its disk
		// space would stay taken until the path comes back.
		if own, err := f.cur.file.Stat(); err == nil && isDeleted(own) {
			f.release(f.cur, fn)
			last := f.cur.state(f.path)
			f.saved = &last // what State reports until the path comes back
			f.cur = nil
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		// Something else took the name for now (a link to a device, a
		// FIFO): keep the file read so far, the daemon may still write to
		// it, and look again at the next poll.
		return false, fmt.Errorf("%w; the file read so far is kept, and the path checked again at the next poll", fileid.NotRegular(f.path, fi.Mode()))
	}
	if !sameInode(fileid.Of(fi), f.cur.id) {
		f.retire()
		f.first = false
		if err := f.open(); err != nil || f.cur == nil {
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
	own, err := f.cur.file.Stat()
	if err != nil {
		return false, err
	}
	return own.Size() < f.cur.readPos || f.cur.headChanged(own.Size()), nil
}

// headChanged says whether the first bytes differ from the fingerprint
// (a copytruncate followed by new writes past the old offset); it extends
// a short fingerprint as the file grows.
func (s *stream) headChanged(size int64) bool {
	if s.fp.n == 0 {
		return false
	}
	fp, err := fingerprintOf(s.file, s.fp.n)
	if err != nil || fp.sum != s.fp.sum {
		return err == nil
	}
	if s.fp.n < FingerprintBytes && size > int64(s.fp.n) {
		if longer, err := fingerprintOf(s.file, FingerprintBytes); err == nil {
			s.fp = longer
		}
	}
	return false
}

func (f *Follower) restart() error {
	s := f.cur
	fp, err := fingerprintOf(s.file, FingerprintBytes)
	if err != nil {
		return err
	}
	s.fp = fp
	s.committed, s.readPos = 0, 0
	s.pending, s.skipping = 0, false
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
