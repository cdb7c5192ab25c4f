package logrules

import (
	"encoding/binary"
	"math/bits"
)

// ErrorsRegex is the generic "errors in the log" rule: one of the words
// error, fatal, panic or critical, in any case, as a whole word (so
// "errors", "error-free" are not counted... except that "-" ends a word:
// "error-free" is). Warnings are left out on purpose: mail logs are full
// of them ("postfix/smtpd: warning: hostname does not resolve").
const ErrorsRegex = `(?i)\b(?:error|fatal|panic|critical)\b`

// ErrorAgentStatusRegex takes out of the errors rule the delivery reports
// of postfix's "error" delivery agent ("postfix/error[PID]: QID: to=<...>,
// ..., status=bounced"): it fails mail on purpose (an unknown recipient, a
// suspended destination), which is a delivery result counted by the
// postfix preset, not an error of the gateway; its own "fatal:" lines
// still count. Same shape as the postfix preset's delivery rule.
const ErrorAgentStatusRegex = `postfix[\w.-]*/error\[\d+\]: \w+: to=<[^>]*>, (?:[^,]*, )*?status=`

var errorWords = [...]string{"error", "fatal", "panic", "critical"}

// nextErrorWord returns the index, at or after from (a line start), of
// the first error word of b as ErrorsRegex finds them (a whole run of
// word bytes, [0-9A-Za-z_], equal to one of the words in any case), or
// -1. The errors rule is the one preset with no literal to search for, so
// this runs over every byte of the log: instead of walking byte by byte
// and branching at each word, each 8 bytes are classified at once (SWAR:
// the high bit of each byte lane of a uint64 says yes or no) and the loop
// branches only at the rare places worth a look, letters c, e, f or p in
// either case after a byte that is not a letter. Those places include a
// few that are no word start (after a digit or '_'): errorWordAt checks
// each exactly. Word bytes never include '\n', so a word found lies
// inside one line. FuzzEngine checks this against ErrorsRegex.
func nextErrorWord(b []byte, from int) int {
	if haveErrorPairs && len(b)-from >= 64 {
		p, rest := nextErrorPair(b, from)
		if p >= 0 || rest < 0 {
			return p
		}
		from = rest
	}
	var carry uint64 // the previous chunk's last byte is a letter: 0x80 (none at a line start; a wrong 0 only adds places)
	for i := from; i < len(b); i += 8 {
		x := chunk(b, i)
		// the ranges are inRange's, spelt out: this loop is too big to
		// inline a helper. lower folds upper-case letters onto lower-case
		// ones (and other bytes onto bytes that are no letter).
		ascii := ^x & lanesHi
		lower := x&lanes7 | lanes1*0x20 // below 0x80: adding up to 0x80 carries into no other lane
		letter := (lower + lanes1*(0x80-'a')) &^ (lower + lanes1*(0x7f-'z')) & ascii
		first := ((lower+lanes1*(0x80-'e'))&^(lower+lanes1*(0x7f-'f')) |
			(lower+lanes1*(0x80-'p'))&^(lower+lanes1*(0x7f-'p')) |
			(lower+lanes1*(0x80-'c'))&^(lower+lanes1*(0x7f-'c'))) & ascii
		prev := letter<<8 | carry
		carry = letter >> 56
		for places := first &^ prev & lanesHi; places != 0; places &= places - 1 {
			if p := i + bits.TrailingZeros64(places)>>3; p < len(b) && errorWordAt(b, p) {
				return p
			}
		}
	}
	return -1
}

// nextErrorPair is nextErrorWord by errorPairs, 32 bytes at a time. It
// returns the word's index, or -1 and where the search stopped for the
// SWAR loop to finish (rest; -1 when nothing is left).
func nextErrorPair(b []byte, from int) (p, rest int) {
	if from == 0 {
		if errorWordAt(b, 0) {
			return 0, -1
		}
		from = 1
	}
	for {
		off, mask := errorPairs(b, from)
		if mask == 0 {
			return -1, off
		}
		for ; mask != 0; mask &= mask - 1 {
			if p := off + bits.TrailingZeros64(mask); errorWordAt(b, p) {
				return p, -1
			}
		}
		from = off + 32
	}
}

// chunk returns b[i:i+8] as a little-endian uint64, zero bytes (no
// letters) past the end of b.
func chunk(b []byte, i int) uint64 {
	if len(b)-i >= 8 {
		return binary.LittleEndian.Uint64(b[i:])
	}
	var x uint64
	for k := len(b) - 1; k >= i; k-- {
		x = x<<8 | uint64(b[k])
	}
	return x
}

// errorWordAt says whether an error word, as a whole word, starts at p.
func errorWordAt(b []byte, p int) bool {
	if p > 0 && wordByte[b[p-1]] || errorFirst[b[p]] == 0 {
		return false
	}
	word := errorWords[errorFirst[b[p]]-1]
	end := p + len(word)
	return end <= len(b) && equalFoldASCII(b[p:end], word) && (end == len(b) || !wordByte[b[end]])
}

// SWAR constants: one per byte lane.
const (
	lanes1  = 0x0101010101010101
	lanes7  = 0x7f7f7f7f7f7f7f7f
	lanesHi = 0x8080808080808080
)

// containsErrorWord is the errors rule's regex on its own.
func containsErrorWord(line []byte) bool { return nextErrorWord(line, 0) >= 0 }

// wordByte is isWordByte as a table.
var wordByte = func() (t [256]bool) {
	for b := range 256 {
		t[b] = isWordByte(byte(b))
	}
	return t
}()

// errorFirst maps a byte to 1 + the index in errorWords of the word it
// starts, in either case, or 0: one table load per byte of the line
// instead of a case-fold and a switch.
var errorFirst = func() (t [256]uint8) {
	for i, w := range errorWords {
		t[w[0]] = uint8(i + 1)
		t[w[0]-'a'+'A'] = uint8(i + 1)
	}
	return t
}()

func isWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_'
}

// equalFoldASCII compares b with the lower-case ASCII word w.
func equalFoldASCII(b []byte, w string) bool {
	for i := 0; i < len(w); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
