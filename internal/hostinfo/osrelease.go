// Package hostinfo parses the small host facts the system collector reports:
// os-release, CPU lists, AppArmor profiles, virtualization hints and the
// node identity. It works on bytes and strings only, so every parser can be
// tested and fuzzed without a host; reading the files is the caller's job.
package hostinfo

import (
	"bufio"
	"bytes"
	"strings"
	"unicode/utf8"
)

// maxLine bounds one os-release line; longer lines are skipped.
const maxLine = 64 * 1024

// ParseOSRelease parses an os-release(5) file: KEY=VALUE lines with shell
// quoting (single quotes, double quotes with backslash escapes, backslash
// escapes outside quotes), '#' comments and blank lines. Malformed lines are
// skipped; a later assignment of a key wins. Values are valid UTF-8.
func ParseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		if !ok || !isShellName(key) {
			continue
		}
		out[key] = strings.ToValidUTF8(unquote(value), "\uFFFD")
	}
	// A line longer than maxLine stops the scanner: keep what was read.
	return out
}

// isShellName reports whether s is a shell variable name.
func isShellName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// unquote evaluates one shell word the way a POSIX shell would for the
// subset os-release allows. Unquoted whitespace ends the word (what follows,
// such as a trailing comment, is ignored); an unterminated quote keeps what
// was read.
func unquote(s string) string {
	var b strings.Builder
	const (
		plain = iota
		single
		double
	)
	state := plain
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case single:
			if c == '\'' {
				state = plain
			} else {
				b.WriteByte(c)
			}
		case double:
			switch {
			case c == '"':
				state = plain
			case c == '\\' && i+1 < len(s) && strings.IndexByte("$\"\\`", s[i+1]) >= 0:
				i++
				b.WriteByte(s[i])
			default:
				b.WriteByte(c)
			}
		default:
			switch {
			case c == '\'':
				state = single
			case c == '"':
				state = double
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == '\\':
				// A trailing backslash escapes nothing.
			case c == ' ' || c == '\t':
				return b.String()
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// CleanLabel makes a string read from the host fit a label value: valid
// UTF-8, no surrounding white space, at most 256 bytes.
func CleanLabel(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	const max = 256
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
