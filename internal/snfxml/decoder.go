package snfxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxSnapshotBytes bounds one <stats> element when the caller sets
// no limit: a minute report is a few KiB, an hour report with a long rule
// histogram some hundred KiB.
const DefaultMaxSnapshotBytes = 4 << 20

// readChunk is how much the Decoder reads at a time.
const readChunk = 64 << 10

var (
	startTag = []byte("<stats")
	endTag   = []byte("</stats")
)

// SnapshotError is a bad snapshot: where it starts and what is wrong. The
// Decoder has skipped it; the next call to Next goes on after it.
type SnapshotError struct {
	Offset int64 // of "<stats", from the start of the input
	Err    error
}

func (e *SnapshotError) Error() string {
	return fmt.Sprintf("snapshot at byte %d: %v", e.Offset, e.Err)
}

func (e *SnapshotError) Unwrap() error { return e.Err }

// Decoder yields the <stats> snapshots of a stream one by one: a file
// holding one snapshot, or many appended ones (with or without an XML
// declaration, comments or whitespace between them). It frames each
// element by its start and end tags, so a bad snapshot is skipped and the
// ones after it are still read, and a snapshot larger than the limit is
// refused without being held in memory.
type Decoder struct {
	r   io.Reader
	max int

	buf      []byte // buf[pos:] is the unread input; buf[pos] is at input offset base
	pos      int
	base     int64
	eof      bool
	readErr  error
	consumed int64 // input offset after the last complete (or skipped) snapshot
	skipping bool  // inside an oversized snapshot: discard up to the next start tag
	pending  bool  // the input ended inside a snapshot
}

// NewDecoder reads snapshots from r; maxSnapshot <= 0 means
// DefaultMaxSnapshotBytes.
func NewDecoder(r io.Reader, maxSnapshot int) *Decoder {
	return NewDecoderAt(r, maxSnapshot, 0)
}

// NewDecoderAt is NewDecoder for input that starts at offset of a file:
// offsets in errors and Offset are the file's.
func NewDecoderAt(r io.Reader, maxSnapshot int, offset int64) *Decoder {
	if maxSnapshot <= 0 {
		maxSnapshot = DefaultMaxSnapshotBytes
	}
	return &Decoder{r: r, max: maxSnapshot, base: offset, consumed: offset}
}

// Offset is the input offset just after the last snapshot Next has
// returned or skipped: where to resume reading an appended file. A
// partial snapshot at the end of the input is not consumed.
func (d *Decoder) Offset() int64 { return d.consumed }

// Pending reports whether the input, at io.EOF, ended inside a snapshot
// (one being written): it is read again once complete, from Offset.
func (d *Decoder) Pending() bool { return d.pending }

// Next returns the next snapshot. At the end of the input it returns
// io.EOF. A bad snapshot yields a *SnapshotError, after which Next may be
// called again; a read error is returned as is and ends the stream.
func (d *Decoder) Next() (*Snapshot, error) {
	for {
		if d.skipping && !d.skipToStart() {
			if d.eof {
				return nil, d.endOfInput()
			}
			if err := d.fill(); err != nil {
				return nil, err
			}
			continue
		}
		found, err := d.findStart()
		if err != nil {
			return nil, err
		}
		if found {
			// The end must lie within the limit: looking no further makes
			// the outcome the same however the input arrives.
			b := d.unread()
			if end := findEnd(b[:min(len(b), d.max)]); end >= 0 {
				return d.take(end)
			}
			if len(b) >= d.max {
				return nil, d.refuse(len(startTag), fmt.Errorf("%w of %d bytes", ErrTooLarge, d.max))
			}
		}
		if d.eof {
			d.pending = found
			return nil, d.endOfInput()
		}
		if err := d.fill(); err != nil {
			return nil, err
		}
	}
}

// findStart drops the input before the next "<stats" start tag and
// reports whether one is at the front now. The gap is checked for markup
// declarations first: a DOCTYPE before the snapshots is refused like one
// inside them.
func (d *Decoder) findStart() (bool, error) {
	b := d.unread()
	i := indexStartTag(b)
	gapEnd := i
	if i < 0 {
		// keep a tail that may begin a start tag or a declaration
		gapEnd = max(0, len(b)-len("<![CDATA["))
	}
	if p := declarationBefore(b, gapEnd); p >= 0 {
		d.discard(p)
		return false, d.refuse(2, ErrDTD)
	}
	d.discard(gapEnd)
	return i >= 0, nil
}

// refuse reports what starts at the front of the unread input as bad,
// consumes its first n bytes and skips on to the next start tag.
func (d *Decoder) refuse(n int, err error) error {
	off := d.base
	d.discard(n)
	d.consumed = d.base
	d.skipping = true
	return &SnapshotError{Offset: off, Err: err}
}

// skipToStart discards input up to the next start tag; false when more
// input is needed to find one.
func (d *Decoder) skipToStart() bool {
	b := d.unread()
	if i := indexStartTag(b); i >= 0 {
		d.discard(i)
		d.consumed = d.base
		d.skipping = false
		return true
	}
	d.discard(max(0, len(b)-len(startTag)))
	return false
}

// declarationBefore returns where a markup declaration ("<!" not opening
// a comment or CDATA) starts before limit in b, or -1; b beyond limit is
// lookahead.
func declarationBefore(b []byte, limit int) int {
	for off := 0; off < limit; {
		i := bytes.Index(b[off:], []byte("<!"))
		if i < 0 || off+i >= limit {
			return -1
		}
		rest := b[off+i+2:]
		if !hasPrefixOrIsPrefix(rest, "--") && !hasPrefixOrIsPrefix(rest, "[CDATA[") {
			return off + i
		}
		off += i + 2
	}
	return -1
}

// hasPrefixOrIsPrefix: b starts with p, or b is too short to tell.
func hasPrefixOrIsPrefix(b []byte, p string) bool {
	n := min(len(b), len(p))
	return string(b[:n]) == p[:n]
}

// indexStartTag finds "<stats" followed by white space, "/" or ">" (not
// "<statsfoo").
func indexStartTag(b []byte) int {
	for off := 0; ; {
		i := bytes.Index(b[off:], startTag)
		if i < 0 {
			return -1
		}
		i += off
		if j := i + len(startTag); j < len(b) && isTagBoundary(b[j]) {
			return i
		} else if j >= len(b) {
			return -1 // cannot tell yet
		}
		off = i + 1
	}
}

func isTagBoundary(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/'
}

// findEnd returns the index just past the snapshot at the front of b:
// after "</stats>" (white space allowed before ">"), or after "/>" of an
// empty element; -1 when not in b.
func findEnd(b []byte) int {
	if gt := bytes.IndexByte(b, '>'); gt > 0 && b[gt-1] == '/' {
		return gt + 1 // <stats .../>
	}
	for off := 0; ; {
		i := bytes.Index(b[off:], endTag)
		if i < 0 {
			return -1
		}
		j := off + i + len(endTag)
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return -1
		}
		if b[j] == '>' {
			return j + 1
		}
		off = j
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// take parses the first end bytes of the unread input as one snapshot
// and consumes them.
func (d *Decoder) take(end int) (*Snapshot, error) {
	off := d.base
	elem := d.unread()[:end]
	d.discard(end)
	d.consumed = d.base
	s, err := parseElement(elem)
	if err != nil {
		return nil, &SnapshotError{Offset: off, Err: err}
	}
	return s, nil
}

// endOfInput is what Next returns once the input is exhausted.
func (d *Decoder) endOfInput() error {
	if d.readErr != nil {
		return d.readErr
	}
	return io.EOF
}

// unread is the buffered input not yet consumed.
func (d *Decoder) unread() []byte { return d.buf[d.pos:] }

// fill reads the next chunk; at end of input it sets eof. The unread
// input is first moved to the front, so the buffer holds at most one
// snapshot (bounded by the limit) plus one chunk.
func (d *Decoder) fill() error {
	if d.pos > 0 {
		d.buf = d.buf[:copy(d.buf, d.buf[d.pos:])]
		d.pos = 0
	}
	if cap(d.buf)-len(d.buf) < readChunk {
		grown := make([]byte, len(d.buf), 2*cap(d.buf)+readChunk)
		copy(grown, d.buf)
		d.buf = grown
	}
	n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
	d.buf = d.buf[:len(d.buf)+n]
	switch {
	case errors.Is(err, io.EOF):
		d.eof = true
	case err != nil:
		d.eof, d.readErr = true, err
		return err
	}
	return nil
}

// discard drops the first n unread bytes.
func (d *Decoder) discard(n int) {
	d.base += int64(n)
	d.pos += n
}

// Parse reads a document holding exactly one snapshot (a status file
// written with append='no'). A document ending inside the snapshot is
// ErrTruncated.
func Parse(data []byte) (*Snapshot, error) {
	d := NewDecoder(bytes.NewReader(data), DefaultMaxSnapshotBytes)
	s, err := d.Next()
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, io.EOF) && d.Pending():
		return nil, ErrTruncated
	case errors.Is(err, io.EOF):
		return nil, ErrNoStats
	}
	return nil, err
}
