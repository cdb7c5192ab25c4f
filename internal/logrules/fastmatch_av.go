package logrules

import "bytes"

// Hand-written matchers for the clamd, spamd and freshclam presets, under
// the same contract as fastmatch.go's: each is its rule's regex spelt out,
// checked against it by FuzzEngine and TestFastMatchersAgree. These rules
// match few lines of a mail log, so each first rejects a line on one cheap
// test (a suffix, a tag, a rare byte) and only then looks closer.

// afterSpamd: the word run before the tag's '[' ends in the program name
// (the regex's literal "spamd\[" need not start a word).
func afterSpamd(b []byte) bool { return hasSuffix(b, "spamd") }

// clamdHead reports whether the clamd rules' head "(?:clamd\[\d+\]:| ->) "
// ends right before end, with nothing but seg's bytes; seg ends at end.
// The head is "clamd[digits]: " or " -> " (it holds no '\n').
func clamdHeadIn(seg []byte) bool {
	if bytes.Contains(seg, arrowLit) {
		return true
	}
	for i := 0; ; {
		j := bytes.Index(seg[i:], clamdLit)
		if j < 0 {
			return false
		}
		c := cursor{b: seg, i: i + j + len(clamdLit), ok: true}
		c.run(&digitByte, 1)
		if c.lit("]: ") {
			return true
		}
		i += j + 1
	}
}

var (
	arrowLit = []byte(" -> ")
	clamdLit = []byte("clamd[")
)

// clamdFound is the clamd_found rule: (?:clamd\[\d+\]:| ->) .+: \S+ FOUND$.
// The line ends in " FOUND"; before it, \S+ after ": " can only be the
// whole run of non-space bytes there (the ' ' before it is no \S), and
// .+ is at least one byte, none a '\n', between the head and that ": ".
func clamdFound(line []byte) bool {
	if !hasSuffix(line, " FOUND") {
		return false
	}
	end := len(line) - len(" FOUND")
	r := end
	for r > 0 && !isSpaceRE(line[r-1]) {
		r--
	}
	if r == end || r < 2 || string(line[r-2:r]) != ": " {
		return false
	}
	dotsEnd := r - 2 // .+ ends here and starts right after the head
	from := bytes.LastIndexByte(line[:dotsEnd], '\n') + 1
	if dotsEnd-1 < from {
		return false
	}
	return clamdHeadIn(line[from : dotsEnd-1])
}

// isSpaceRE is RE2's \s: [\t\n\f\r ] (no \v).
func isSpaceRE(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r' }

var errorCapsLit = newLiteral([]byte("ERROR: "))

// clamdError is the clamd_error rule: (?:clamd\[\d+\]:| ->) ERROR: . Each
// "ERROR: " is tried with the head ending right before it.
func clamdError(line []byte) bool {
	return anyAt(line, errorCapsLit, func(p int) bool { return clamdHeadBefore(line, p) })
}

// anyAt calls try with each index of lit in line, in order, until it
// returns true.
func anyAt(line []byte, lit literal, try func(p int) bool) bool {
	for i := 0; ; {
		j := lit.in(line[i:])
		if j < 0 {
			return false
		}
		if try(i + j) {
			return true
		}
		i += j + 1
	}
}

// clamdHeadBefore: " -> " or "clamd[digits]: " ends at p.
func clamdHeadBefore(line []byte, p int) bool {
	before := line[:p]
	if hasSuffix(before, " -> ") {
		return true
	}
	if !hasSuffix(before, "]: ") {
		return false
	}
	k := p - len("]: ")
	d := k
	for d > 0 && isDigit(line[d-1]) {
		d--
	}
	return d < k && hasSuffix(line[:d], "clamd[")
}

// spamdResult is the spamd_result rule; it returns the captured verdict:
// spamd\[\d+\]: (?:spamd: )?(identified spam|clean message) \(. The
// optional "spamd: " starts with a byte neither verdict starts with, so
// trying it first and then without it is the regex's own order.
func spamdResult(line []byte) (verdict string, ok bool) {
	ok = eachTag(line, spamdTags, afterSpamd, func(c cursor) bool {
		c.lit("[")
		c.run(&digitByte, 1)
		if !c.lit("]: ") {
			return false
		}
		if d := c; d.lit("spamd: ") {
			c = d
		}
		v, _ := c.oneOf("identified spam", "clean message")
		if c.lit(" (") {
			verdict = v
			return true
		}
		return false
	})
	return verdict, ok
}

var updatedLit = newLiteral([]byte(" updated ("))

// freshclamSuccess is the freshclam_success rule:
// (?:\.c[lv]d updated \(version: |Database updated \(\d+ signatures\)).
// Both branches hold " updated (": each occurrence is tried with both.
func freshclamSuccess(line []byte) bool {
	return anyAt(line, updatedLit, func(p int) bool {
		before, c := line[:p], cursor{b: line, i: p + len(updatedLit.b), ok: true}
		if (hasSuffix(before, ".cld") || hasSuffix(before, ".cvd")) && c.hasPrefix("version: ") {
			return true
		}
		return hasSuffix(before, "Database") && c.run(&digitByte, 1) && c.lit(" signatures)")
	})
}

var failedLit = newLiteral([]byte("Database update process failed"))

// freshclamFailure is the freshclam_failure rule, a plain literal.
func freshclamFailure(line []byte) bool { return failedLit.in(line) >= 0 }
