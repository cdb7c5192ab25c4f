// Package mounts reads the kernel's mount table in the /proc/PID/mountinfo
// format and finds the mount holding a path. It knows nothing about
// Prometheus.
//
// The format (proc(5)), one mount per line:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2) (3)   (4)   (5)     (6)      (7)   (8) (9)    (10)       (11)
//
// mount id, parent id, major:minor, root, mount point, mount options, zero
// or more optional fields ended by a lone "-", file system type, source,
// super block options. The kernel writes space, tab, newline and backslash
// in paths as three-digit octal escapes (\040, \011, \012, \134).
package mounts

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo. Paths are unescaped.
type Mount struct {
	ID, ParentID int
	Major, Minor uint32
	Root         string   // the directory of the file system mounted here
	Mountpoint   string   // where it is mounted, relative to the reader's root
	Options      []string // per-mount options (field 6)
	Optional     []string // optional fields such as shared:1
	FSType       string
	Source       string   // device or "none", "tmpfs"...
	SuperOptions []string // per-super-block options (field 11)
}

// ReadOnly says whether the mount or its super block is mounted "ro".
func (m Mount) ReadOnly() bool {
	return slices.Contains(m.Options, "ro") || slices.Contains(m.SuperOptions, "ro")
}

// maxLine bounds one mountinfo line; real lines are far shorter.
const maxLine = 1 << 20

// Parse reads a mountinfo table. A malformed line is left out and
// reported in the error (one per line, joined); the well-formed lines are
// still returned, so a caller can use what it got and still flag the
// source as broken.
func Parse(r io.Reader) ([]Mount, error) {
	var (
		out  []Mount
		errs []error
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func parseLine(line string) (Mount, error) {
	var m Mount
	// The kernel separates fields by exactly one space; splitting on it
	// (not on runs of blanks) keeps an empty source field in its place.
	f := strings.Split(line, " ")
	// Six fixed fields, the separator, and at least the file system type.
	if len(f) < 8 {
		return m, fmt.Errorf("%d fields, want at least 8", len(f))
	}
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return m, fmt.Errorf("mount id %q: not a number", f[0])
	}
	if m.ParentID, err = strconv.Atoi(f[1]); err != nil {
		return m, fmt.Errorf("parent id %q: not a number", f[1])
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return m, fmt.Errorf("device %q: want major:minor", f[2])
	}
	ma, err1 := strconv.ParseUint(maj, 10, 32)
	mi, err2 := strconv.ParseUint(min, 10, 32)
	if err1 != nil || err2 != nil {
		return m, fmt.Errorf("device %q: want major:minor", f[2])
	}
	m.Major, m.Minor = uint32(ma), uint32(mi)
	m.Root = Unescape(f[3])
	m.Mountpoint = Unescape(f[4])
	if !strings.HasPrefix(m.Mountpoint, "/") {
		return m, fmt.Errorf("mount point %q is not absolute", m.Mountpoint)
	}
	m.Options = splitOptions(f[5])
	sep := slices.Index(f[6:], "-")
	if sep < 0 {
		return m, errors.New(`no "-" separator after the optional fields`)
	}
	sep += 6
	m.Optional = f[6:sep]
	rest := f[sep+1:]
	if len(rest) == 0 || rest[0] == "" {
		return m, errors.New("no file system type after the separator")
	}
	m.FSType = Unescape(rest[0])
	if len(rest) > 1 {
		m.Source = Unescape(rest[1])
	}
	if len(rest) > 2 {
		m.SuperOptions = splitOptions(rest[2])
	}
	return m, nil
}

func splitOptions(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Unescape undoes the kernel's octal escapes (\040 for a space). A
// backslash not followed by three octal digits of a byte value is kept.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] <= '3' && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// ReadFirst parses the first of the given mountinfo files that can be
// opened, and says which one it read. It falls back to the next file when
// one is missing or not readable (/proc/1/mountinfo to a process that may
// not look at PID 1); when none can be opened the error says why.
func ReadFirst(files ...string) ([]Mount, string, error) {
	return (&Reader{}).ReadFirst(files...)
}

// Lookup returns the mount holding p, an absolute path: the mount whose
// mount point is the longest whole-component prefix of p (/var/lib is on
// /var, never on /var/li). The match is lexical: symbolic links in p are
// not followed. When a mount point is mounted over, the last line wins, as
// the later mount hides the earlier one.
func Lookup(ms []Mount, p string) (Mount, bool) {
	p = path.Clean(p)
	best, bestLen := -1, -1
	for i, m := range ms {
		mp := path.Clean(m.Mountpoint)
		if !contains(mp, p) {
			continue
		}
		if len(mp) >= bestLen {
			best, bestLen = i, len(mp)
		}
	}
	if best < 0 {
		return Mount{}, false
	}
	return ms[best], true
}

// contains says whether the clean path p is mp or below it.
func contains(mp, p string) bool {
	switch {
	case !strings.HasPrefix(mp, "/"):
		return false
	case mp == "/":
		return strings.HasPrefix(p, "/")
	case p == mp:
		return true
	}
	return strings.HasPrefix(p, mp) && p[len(mp)] == '/'
}
