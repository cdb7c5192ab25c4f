// Package labelvalue makes any string read from outside (a log line's
// capture, a file name, a field of a status file) fit to be a Prometheus
// label value: valid UTF-8 and bounded in length. One bad byte or one
// huge value then costs its own series, never the collector's whole
// output (client_golang refuses, and a Must* constructor panics on, a
// label value that is not valid UTF-8).
package labelvalue

import (
	"fmt"
	"hash/fnv"
	"strings"
	"unicode/utf8"
)

// MaxBytes is the longest label value served, in bytes. Longer values
// are cut (see Clean). 256 bytes hold any version string, category or
// file name a gateway produces, and bound a scrape of N series to about
// N x 256 bytes of label values whatever the sources say.
const MaxBytes = 256

// Replacement stands for each run of invalid bytes (U+FFFD).
const Replacement = "\uFFFD"

// hashSuffix is "~" and 8 hex digits of the FNV-1a hash of the whole value:
// two long values sharing their first bytes stay two series.
const hashSuffixLen = 9

// Clean returns s as a valid label value: each run of bytes that is not
// valid UTF-8 is replaced by one U+FFFD, and a value longer than MaxBytes is cut at a rune
// boundary and ends in "~" plus 8 hex digits of a hash of the whole
// (cleaned) value. A valid value of MaxBytes or less is returned as is,
// without allocating.
func Clean(s string) string {
	if len(s) <= MaxBytes && utf8.ValidString(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, Replacement)
	}
	if len(s) <= MaxBytes {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	cut := MaxBytes - hashSuffixLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s~%08x", s[:cut], h.Sum32())
}

// CleanAll returns labels with every value cleaned: labels itself when
// all are fit already, else a copy (the caller's slice is never changed).
func CleanAll(labels []string) []string {
	for i, v := range labels {
		if c := Clean(v); c != v {
			out := append([]string(nil), labels...)
			out[i] = c
			for j := i + 1; j < len(out); j++ {
				out[j] = Clean(out[j])
			}
			return out
		}
	}
	return labels
}
