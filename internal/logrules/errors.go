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

// lineScan is what one pass over a line finds for the presets' matchers,
// so that the line is walked once however many of them run: whether it
// holds an error word, and where each syslog-style "tag[" is.
type lineScan struct {
	errorWord bool
	// tags holds the index of every '[' directly after a word byte, in
	// order: each preset matcher's literal ("amavis[", "/qmgr[",
	// "/smtp[" ...) ends in such a '[', so the matchers try these few
	// places instead of searching the line for their literals.
	tags []int
	// tagBits is the union of tagBit of the byte before each tag.
	tagBits uint64
	// errorCaps holds the index of every "ERROR: " at a word start (the
	// clamd_error rule's literal; the scan stops at each word start with
	// an error word's first letter anyway).
	errorCaps []int
	// amavis caches the amavis_verdict matcher's answer for the line, for
	// the amavis_virus matcher (amavisUnknown until asked).
	amavis uint8
}

// scan fills s for line. With \b on both sides, an error word is a whole
// run of word bytes ([0-9A-Za-z_]) equal to one of the words, so only
// the starts of word runs with a right first letter need a look, and
// the '[' right after a word byte. Walking the line byte by byte and
// branching at each word's start and end cost a mispredicted branch every
// few bytes; instead each 8 bytes are classified at once (SWAR: the high
// bit of each byte of a uint64 says yes or no) and the loop branches only
// on the rare places of interest. FuzzEngine checks the result against
// ErrorsRegex and against a plain byte-by-byte scan.
func (s *lineScan) scan(line []byte) {
	s.errorWord = false
	s.tags = s.tags[:0]
	s.tagBits = 0
	s.errorCaps = s.errorCaps[:0]
	s.amavis = amavisUnknown
	var carry uint64 // the previous chunk's last byte is a word byte: 0x80
	for i := 0; i < len(line); i += 8 {
		x := chunk(line, i)
		// classify each byte, as the high bit of its lane (the ranges are
		// inRange's, spelt out: this loop is too big to inline a helper)
		ascii := ^x & lanesHi
		y := x & lanes7 // below 0x80: adding up to 0x80 carries into no other lane
		lower := y | lanes1*0x20
		letter := (lower + lanes1*(0x80-'a')) &^ (lower + lanes1*(0x7f-'z'))
		digit := (y + lanes1*(0x80-'0')) &^ (y + lanes1*(0x7f-'9'))
		under := (y + lanes1*(0x80-'_')) &^ (y + lanes1*(0x7f-'_'))
		word := (letter | digit | under) & ascii
		// c, e, f or p in either case: what an error word starts with
		first := (lower+lanes1*(0x80-'e'))&^(lower+lanes1*(0x7f-'f')) |
			(lower+lanes1*(0x80-'p'))&^(lower+lanes1*(0x7f-'p')) |
			(lower+lanes1*(0x80-'c'))&^(lower+lanes1*(0x7f-'c'))
		bracket := (y + lanes1*(0x80-'[')) &^ (y + lanes1*(0x7f-'[')) & ascii
		prev := word<<8 | carry // is the byte before each a word byte
		carry = word >> 56
		for places := (word&^prev&first | bracket&prev) & lanesHi; places != 0; places &= places - 1 {
			s.at(line, i+bits.TrailingZeros64(places)>>3)
		}
	}
}

// chunk returns line[i:i+8] as a little-endian uint64, zero bytes (neither
// word bytes nor '[') past the end of the line.
func chunk(line []byte, i int) uint64 {
	if len(line)-i >= 8 {
		return binary.LittleEndian.Uint64(line[i:])
	}
	if len(line) >= 8 { // the line's last 8 bytes, the ones before i shifted out
		return binary.LittleEndian.Uint64(line[len(line)-8:]) >> (8 * (8 - (len(line) - i)))
	}
	var x uint64
	for k := len(line) - 1; k >= i; k-- {
		x = x<<8 | uint64(line[k])
	}
	return x
}

// at looks at a '[' after a word byte or at a word start with the first
// letter of an error word.
func (s *lineScan) at(line []byte, p int) {
	if line[p] == '[' {
		s.tags = append(s.tags, p)
		s.tagBits |= tagBit(line[p-1])
		return
	}
	if line[p] == 'E' && len(line)-p >= len("ERROR: ") && string(line[p:p+len("ERROR: ")]) == "ERROR: " {
		s.errorCaps = append(s.errorCaps, p)
	}
	if s.errorWord {
		return
	}
	word := errorWords[errorFirst[line[p]]-1]
	end := p + len(word)
	s.errorWord = end <= len(line) && equalFoldASCII(line[p:end], word) &&
		(end == len(line) || !wordByte[line[end]])
}

// SWAR constants: one per byte lane.
const (
	lanes1  = 0x0101010101010101
	lanes7  = 0x7f7f7f7f7f7f7f7f
	lanesHi = 0x8080808080808080
)

// containsErrorWord is the errors rule on its own.
func containsErrorWord(line []byte) bool {
	var s lineScan
	s.scan(line)
	return s.errorWord
}

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
