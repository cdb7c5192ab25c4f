// Package cvd reads the header of ClamAV signature databases (.cvd, .cld
// and .cud files) without reading the databases themselves.
//
// The header is the first 512 bytes of the file: printable ASCII padded
// with spaces, colon-separated, as libclamav's cl_cvdparse reads it and
// sigtool writes it:
//
//	ClamAV-VDB:<build time>:<version>:<signatures>:<functionality level>:<MD5>:<digital signature>:<builder>:<build time in seconds>
//
// The human build time looks like "07 Mar 2017 08-02 -0500" (hours and
// minutes joined by a dash, since a colon would split the field). The last
// field is missing in databases built before ClamAV 0.91.
package cvd

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// HeaderSize is the fixed size of a database header, in bytes.
const HeaderSize = 512

// Magic starts every database header.
const Magic = "ClamAV-VDB:"

// TimeLayout is the Go layout of the human build time field.
const TimeLayout = "02 Jan 2006 15-04 -0700"

// Header is a parsed database header.
type Header struct {
	// BuildTimeText is the human build time as written.
	BuildTimeText string
	// BuildTime is the build time in seconds when the header has it, the
	// human build time otherwise (minute precision).
	BuildTime          time.Time
	Version            uint64
	Signatures         uint64
	FunctionalityLevel uint64
	MD5                string
	DigitalSignature   string
	Builder            string
}

// ErrTruncated is returned for a file shorter than a header.
var ErrTruncated = errors.New("truncated header")

// Parse reads a header from its 512 bytes.
func Parse(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes, want %d", ErrTruncated, len(b), HeaderSize)
	}
	b = b[:HeaderSize]
	if !strings.HasPrefix(string(b), Magic) {
		return Header{}, fmt.Errorf("not a ClamAV database: header does not start with %q", Magic)
	}
	// cl_cvdhead cuts the padding (spaces, newlines) off the end; a NUL
	// ends the string in C, so it ends the header here too.
	text := string(b)
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimRight(text, " \r\n")
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 || c > 0x7e {
			return Header{}, fmt.Errorf("header byte %d is 0x%02x, not printable ASCII", i, c)
		}
	}
	return parseFields(strings.Split(text, ":"))
}

func parseFields(f []string) (Header, error) {
	if len(f) < 8 {
		return Header{}, fmt.Errorf("header has %d colon-separated fields, want 8 or 9", len(f))
	}
	var h Header
	var err error
	h.BuildTimeText = strings.TrimSpace(f[1])
	if h.Version, err = number("version", f[2]); err != nil {
		return Header{}, err
	}
	if h.Signatures, err = number("signatures", f[3]); err != nil {
		return Header{}, err
	}
	if h.FunctionalityLevel, err = number("functionality level", f[4]); err != nil {
		return Header{}, err
	}
	h.MD5, h.DigitalSignature, h.Builder = f[5], f[6], f[7]
	if len(f) > 8 && strings.TrimSpace(f[8]) != "" {
		secs, err := number("build time in seconds", f[8])
		if err != nil {
			return Header{}, err
		}
		if secs > 1<<40 {
			return Header{}, fmt.Errorf("build time in seconds %d is out of range", secs)
		}
		h.BuildTime = time.Unix(int64(secs), 0).UTC()
		return h, nil
	}
	t, err := time.Parse(TimeLayout, h.BuildTimeText)
	if err != nil {
		return Header{}, fmt.Errorf("build time %q: want the form %q", h.BuildTimeText, "07 Mar 2017 08-02 -0500")
	}
	h.BuildTime = t
	return h, nil
}

func number(name, s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", name, s)
	}
	return n, nil
}

// ReadFile reads the header of the database at path: the first 512 bytes,
// never more, however big the database.
func ReadFile(path string) (Header, error) {
	f, _, err := fileid.OpenRegular(path) // a FIFO named *.cvd must not hang the scrape
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	buf := make([]byte, HeaderSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Header{}, err
	}
	return Parse(buf[:n])
}

// IsDatabase tells whether a file name has one of the extensions whose
// files carry a header: .cvd (signed), .cld (freshclam's incrementally
// updated copy), .cud (unsigned, built with sigtool --unsigned).
func IsDatabase(name string) bool {
	for _, ext := range []string{".cvd", ".cld", ".cud"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
