package logrules

import "bytes"

// Hand-written matchers for the presets' hottest rules: on a mail log most
// counted lines are theirs, and Go's backtracking regexp costs several
// times a direct walk. Each one is its rule's regex spelt out: every step
// of those regexes is deterministic (a class run stops at a byte outside
// it, alternatives differ in their first byte or are tried in the regex's
// order), so trying each occurrence of the leading literal in turn finds
// the regex's leftmost match and the same capture. The regex stays the
// specification: FuzzEngine and TestFastMatchersAgree check each matcher
// against it.

// cursor walks a line; every method returns false and leaves the walk
// failed when the expected text is not there.
type cursor struct {
	b  []byte
	i  int
	ok bool
}

// hasPrefix is bytes.HasPrefix for a string, without converting it: the
// comparison of string(bytes) with a string allocates nothing.
func (c *cursor) hasPrefix(s string) bool {
	return len(c.b)-c.i >= len(s) && string(c.b[c.i:c.i+len(s)]) == s
}

func (c *cursor) lit(s string) bool {
	c.ok = c.ok && c.hasPrefix(s)
	if c.ok {
		c.i += len(s)
	}
	return c.ok
}

// run consumes one or more (min 1) or zero or more (min 0) bytes in
// class (a table: a func value called per byte costs several times more).
func (c *cursor) run(class *[256]bool, min int) bool {
	j := c.i
	for j < len(c.b) && class[c.b[j]] {
		j++
	}
	c.ok = c.ok && j-c.i >= min
	c.i = j
	return c.ok
}

// upTo consumes every byte up to the next x (or the line's end): [^x]*.
func (c *cursor) upTo(x byte) bool {
	if k := bytes.IndexByte(c.b[c.i:], x); k >= 0 {
		c.i += k
	} else {
		c.i = len(c.b)
	}
	return c.ok
}

// Byte classes for run.
var (
	digitByte    = byteClass(isDigit)
	amavisIDByte = byteClass(func(b byte) bool { return isWordByte(b) || b == '-' })
)

func byteClass(in func(byte) bool) (t [256]bool) {
	for b := range 256 {
		t[b] = in(byte(b))
	}
	return t
}

// oneOf consumes the first of words (in the regex's order) present here.
func (c *cursor) oneOf(words ...string) (string, bool) {
	for _, w := range words {
		if c.ok && c.hasPrefix(w) {
			c.i += len(w)
			return w, true
		}
	}
	c.ok = false
	return "", false
}

// wordEnd is RE2's \b after a word byte: the line ends or a non-word byte follows.
func (c *cursor) wordEnd() bool {
	return c.ok && (c.i == len(c.b) || !isWordByte(c.b[c.i]))
}

func isDigit(b byte) bool   { return b >= '0' && b <= '9' }
func isTagByte(b byte) bool { return isWordByte(b) || b == '.' || b == '-' }

// eachTag calls try, in order, with a cursor on each '[' of line that
// follows a word byte and a text accepted by before (which sees the line
// up to that '['), until try returns true. Every preset literal ends in
// such a '[' and the rest of each regex is anchored to it, so this tries
// the same places as searching the line for the literal, in the same
// (leftmost first) order; a syslog line has one or two '['. want is
// tagBits of the words before accepts: a tag after any other last byte
// is skipped unseen. The cursor is passed by value so that it stays on
// the stack (a pointer handed to a func value escapes).
func eachTag(line []byte, want uint64, before func([]byte) bool, try func(cursor) bool) bool {
	for i := 1; i < len(line); {
		j := bytes.IndexByte(line[i:], '[')
		if j < 0 {
			return false
		}
		p := i + j
		if want&tagBit(line[p-1]) != 0 && wordByte[line[p-1]] && before(line[:p]) && try(cursor{b: line, i: p, ok: true}) {
			return true
		}
		i = p + 1
	}
	return false
}

// tagBit sorts tags by the word byte before their '[' into 64 classes
// (collisions only cost a closer look).
func tagBit(last byte) uint64 { return 1 << (last & 63) }

// tagBits is the union of the tagBits of the words' last bytes.
func tagBits(words ...string) (m uint64) {
	for _, w := range words {
		m |= tagBit(w[len(w)-1])
	}
	return m
}

var (
	amavisTags = tagBits("amavis", "amavisd")
	qmgrTags   = tagBits("qmgr")
	smtpdTags  = tagBits("smtpd")
	agentTags  = tagBits("smtp", "lmtp", "local", "virtual", "pipe", "error", "retry")
	spamdTags  = tagBits("spamd")
)

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
}

// afterAmavis: "amavis[" or "amavisd[" (the regex's amavisd?\[).
func afterAmavis(b []byte) bool { return hasSuffix(b, "amavis") || hasSuffix(b, "amavisd") }
func afterQmgr(b []byte) bool   { return hasSuffix(b, "/qmgr") }
func afterSmtpd(b []byte) bool  { return hasSuffix(b, "/smtpd") }

var postfixLit = []byte("postfix")

// afterPostfixAgent: postfix[\w.-]*/(?:smtp|lmtp|local|virtual|pipe|error|retry)
// right before the '['. The agent is the whole word run before it (each
// alternative is word bytes and '/' is not), and "postfix" must lie in
// the run of tag bytes that ends at the '/' ([\w.-]* cannot cross
// anything else), anywhere in it.
func afterPostfixAgent(b []byte) bool {
	k := len(b)
	for k > 0 && wordByte[b[k-1]] {
		k--
	}
	switch string(b[k:]) {
	case "smtp", "lmtp", "local", "virtual", "pipe", "error", "retry":
	default:
		return false
	}
	if k == 0 || b[k-1] != '/' {
		return false
	}
	slash := k - 1
	for k = slash; k > 0 && isTagByte(b[k-1]); k-- {
	}
	return bytes.Contains(b[k:slash], postfixLit)
}

var amavisCategories = []string{"CLEAN", "SPAMMY", "SPAM", "INFECTED", "BANNED", "BAD-HEADER",
	"UNCHECKED", "MTA-BLOCKED", "OVERSIZED", "OTHER", "TEMPFAIL"}

// amavisHead is amavisLine from its '[' on.
func amavisHead(c *cursor) bool {
	c.lit("[")
	c.run(&digitByte, 1)
	c.lit("]: (")
	c.run(&amavisIDByte, 1)
	c.lit(") ")
	c.oneOf("Passed ", "Blocked ")
	return c.ok
}

// amavisVerdict is the amavis_verdict rule; it returns the captured
// category.
func amavisVerdict(line []byte) (verdict string, ok bool) {
	ok = eachTag(line, amavisTags, afterAmavis, func(c cursor) bool {
		if !amavisHead(&c) {
			return false
		}
		for _, w := range amavisCategories { // each alternative with its \b, in order
			d := c
			if d.lit(w) && d.wordEnd() {
				verdict = w
				return true
			}
		}
		return false
	})
	return verdict, ok
}

// amavisVirus is the amavis_virus rule: the verdict rule's regex with
// INFECTED alone.
func amavisVirus(line []byte) bool {
	return eachTag(line, amavisTags, afterAmavis, func(c cursor) bool {
		return amavisHead(&c) && c.lit("INFECTED") && c.wordEnd()
	})
}

// postfixDelivery is the postfix_delivery rule; it returns the captured status.
func postfixDelivery(line []byte) (status string, ok bool) {
	ok = eachTag(line, agentTags, afterPostfixAgent, func(c cursor) bool {
		return deliveryFields(c, func(c cursor) bool {
			if s, _ := c.oneOf("status=sent", "status=deferred", "status=bounced"); c.wordEnd() {
				status = s[len("status="):]
				return true
			}
			return false
		})
	})
	return status, ok
}

// deliveryFields walks a delivery agent's line from its '[': "[PID]: QID:
// to=<...>, ", then field after field (the lazy "(?:[^,]*, )*?"), until
// at, given the cursor at a field's start, says it is the one wanted.
func deliveryFields(c cursor, at func(cursor) bool) bool {
	c.lit("[")
	c.run(&digitByte, 1)
	c.lit("]: ")
	c.run(&wordByte, 1)
	c.lit(": to=<")
	c.upTo('>')
	c.lit(">, ")
	for c.ok {
		if at(c) {
			return true
		}
		c.upTo(',')
		c.lit(", ")
	}
	return false
}

// postfixReceived is the postfix_received rule.
func postfixReceived(line []byte) bool {
	return eachTag(line, qmgrTags, afterQmgr, func(c cursor) bool {
		c.lit("[")
		c.run(&digitByte, 1)
		c.lit("]: ")
		c.run(&wordByte, 1)
		c.lit(": from=<")
		c.upTo('>')
		c.lit(">, size=")
		c.run(&digitByte, 1)
		c.lit(", nrcpt=")
		c.run(&digitByte, 1)
		return c.lit(" (queue active)")
	})
}

// postfixRejected is the postfix_rejected rule.
func postfixRejected(line []byte) bool {
	return eachTag(line, smtpdTags, afterSmtpd, func(c cursor) bool {
		c.lit("[")
		c.run(&digitByte, 1)
		return c.lit("]: NOQUEUE: reject: ")
	})
}

// errorWord is the errors rule: an error word, on a line that is not a
// delivery report of postfix's error agent.
func errorWord(line []byte) bool { return containsErrorWord(line) && !errorAgentStatus(line) }

var errorAgentTags = tagBits("error")

// afterPostfixErrorAgent: postfix[\w.-]*/error right before the '['.
func afterPostfixErrorAgent(b []byte) bool { return hasSuffix(b, "/error") && afterPostfixAgent(b) }

// errorAgentStatus is ErrorAgentStatusRegex.
func errorAgentStatus(line []byte) bool {
	return eachTag(line, errorAgentTags, afterPostfixErrorAgent, func(c cursor) bool {
		return deliveryFields(c, func(c cursor) bool { return c.hasPrefix("status=") })
	})
}
