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

// run consumes one or more (min 1) or zero or more (min 0) bytes in class.
func (c *cursor) run(class func(byte) bool, min int) bool {
	j := c.i
	for j < len(c.b) && class(c.b[j]) {
		j++
	}
	c.ok = c.ok && j-c.i >= min
	c.i = j
	return c.ok
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

func isDigit(b byte) bool            { return b >= '0' && b <= '9' }
func notByte(x byte) func(byte) bool { return func(b byte) bool { return b != x } }
func isTagByte(b byte) bool          { return isWordByte(b) || b == '.' || b == '-' }

// eachFrom calls try at every occurrence of lit in line, in order, until
// try returns true. The cursor is passed by value so that it stays on the
// stack (a pointer handed to a func value escapes: one allocation a line).
func eachFrom(line, lit []byte, try func(cursor) bool) bool {
	for off := 0; ; {
		k := bytes.Index(line[off:], lit)
		if k < 0 {
			return false
		}
		if try(cursor{b: line, i: off + k + len(lit), ok: true}) {
			return true
		}
		off += k + 1
	}
}

// The leading literals of the matchers, converted once.
var (
	amavisLit  = []byte("amavis")
	postfixLit = []byte("postfix")
	qmgrLit    = []byte("/qmgr[")
)

var amavisCategories = []string{"CLEAN", "SPAMMY", "SPAM", "INFECTED", "BANNED", "BAD-HEADER",
	"UNCHECKED", "MTA-BLOCKED", "OVERSIZED", "OTHER", "TEMPFAIL"}

// amavisHead is amavisLine after its leading "amavis".
func amavisHead(c *cursor) bool {
	if c.i < len(c.b) && c.b[c.i] == 'd' {
		c.i++ // d? is greedy, and only '[' may follow either way
	}
	c.lit("[")
	c.run(isDigit, 1)
	c.lit("]: (")
	c.run(func(b byte) bool { return isWordByte(b) || b == '-' }, 1)
	c.lit(") ")
	c.oneOf("Passed ", "Blocked ")
	return c.ok
}

// amavisVerdict is the amavis_verdict rule; it returns the captured category.
func amavisVerdict(line []byte) (verdict string, ok bool) {
	ok = eachFrom(line, amavisLit, func(c cursor) bool {
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

// amavisVirus is the amavis_virus rule.
func amavisVirus(line []byte) bool {
	return eachFrom(line, amavisLit, func(c cursor) bool {
		return amavisHead(&c) && c.lit("INFECTED") && c.wordEnd()
	})
}

// postfixDelivery is the postfix_delivery rule; it returns the captured status.
func postfixDelivery(line []byte) (status string, ok bool) {
	ok = eachFrom(line, postfixLit, func(c cursor) bool {
		c.run(isTagByte, 0)
		c.lit("/")
		c.oneOf("smtp", "lmtp", "local", "virtual", "pipe", "error", "retry")
		c.lit("[")
		c.run(isDigit, 1)
		c.lit("]: ")
		c.run(isWordByte, 1)
		c.lit(": to=<")
		c.run(notByte('>'), 0)
		c.lit(">, ")
		for c.ok {
			d := c
			if s, _ := d.oneOf("status=sent", "status=deferred", "status=bounced"); d.wordEnd() {
				status = s[len("status="):]
				return true
			}
			c.run(notByte(','), 0) // the lazy "(?:[^,]*, )" once more
			c.lit(", ")
		}
		return false
	})
	return status, ok
}

// postfixReceived is the postfix_received rule.
func postfixReceived(line []byte) bool {
	return eachFrom(line, qmgrLit, func(c cursor) bool {
		c.run(isDigit, 1)
		c.lit("]: ")
		c.run(isWordByte, 1)
		c.lit(": from=<")
		c.run(notByte('>'), 0)
		c.lit(">, size=")
		c.run(isDigit, 1)
		c.lit(", nrcpt=")
		c.run(isDigit, 1)
		return c.lit(" (queue active)")
	})
}
