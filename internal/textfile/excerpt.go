package textfile

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Excerpt limits: a parse error quotes what it found in the file, and a
// file may be anything a link or a mistake led to (a secret, a binary).
// The log gets at most excerptBytes of each quoted piece, escaped, and at
// most maxErrorBytes in all.
const (
	excerptBytes  = 32
	maxErrorBytes = 256
)

// shortError returns err with every quoted piece of file content cut to a
// short escaped excerpt, and the whole message bounded.
func shortError(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(shortMessage(err.Error()))
}

func shortMessage(msg string) string {
	var b strings.Builder
	for len(msg) > 0 {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			b.WriteString(msg)
			break
		}
		b.WriteString(msg[:i])
		msg = msg[i:]
		quoted, err := strconv.QuotedPrefix(msg)
		if err != nil { // an unbalanced quote: the rest is escaped as it is
			b.WriteString(excerpt(msg[1:]))
			break
		}
		s, _ := strconv.Unquote(quoted)
		b.WriteString(excerpt(s))
		msg = msg[len(quoted):]
	}
	out := b.String()
	if len(out) > maxErrorBytes {
		cut := maxErrorBytes
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "..."
	}
	return out
}

// excerpt quotes at most excerptBytes of s, escaped (strconv.Quote), with
// how much was left out.
func excerpt(s string) string {
	if len(s) <= excerptBytes {
		return strconv.Quote(s)
	}
	cut := excerptBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
