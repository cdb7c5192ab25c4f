package logrules

// ErrorsRegex is the generic "errors in the log" rule: one of the words
// error, fatal, panic or critical, in any case, as a whole word (so
// "errors", "error-free" are not counted... except that "-" ends a word:
// "error-free" is). Warnings are left out on purpose: mail logs are full
// of them ("postfix/smtpd: warning: hostname does not resolve").
// Known false positive: postfix's "error" delivery agent logs as
// "postfix/error[PID]: ... status=deferred", which counts.
const ErrorsRegex = `(?i)\b(?:error|fatal|panic|critical)\b`

var errorWords = [...]string{"error", "fatal", "panic", "critical"}

// containsErrorWord is ErrorsRegex without the regex machinery. With \b
// on both sides, a match is a whole run of word bytes ([0-9A-Za-z_]) equal
// to one of the words, so the scan goes run by run: skip non-word bytes,
// measure the run, and compare only runs of the right length that start
// with a right letter (one table load per byte, no look-behind).
func containsErrorWord(line []byte) bool {
	for i := 0; i < len(line); {
		for i < len(line) && !wordByte[line[i]] {
			i++
		}
		start := i
		for i < len(line) && wordByte[line[i]] {
			i++
		}
		if start == len(line) {
			return false
		}
		if w := errorFirst[line[start]]; w != 0 {
			word := errorWords[w-1]
			if i-start == len(word) && equalFoldASCII(line[start:i], word) {
				return true
			}
		}
	}
	return false
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
