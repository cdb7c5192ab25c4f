package logrules

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fastDisagrees reports, for every preset rule with a hand-written matcher,
// whether it disagrees with the rule's regex on line ("" when all agree).
func fastDisagrees(line []byte) string {
	for _, name := range PresetNames() {
		rules, _ := Preset(name)
		for _, r := range rules {
			if r.match == nil && r.find == nil {
				continue
			}
			m := presetRegex(r.Regex).FindSubmatch(line)
			if r.unless != "" && presetRegex(r.unless).Match(line) {
				m = nil
			}
			if r.match != nil && r.match(line) != (m != nil) {
				return r.Name
			}
			if r.find != nil {
				v, ok := r.find(line)
				if ok != (m != nil) || ok && v != string(m[1]) {
					return r.Name
				}
			}
		}
	}
	return ""
}

// The fast matchers agree with their regexes on the demo log's lines, on
// every prefix of them, and on lines built to hit each backtracking corner.
func TestFastMatchersAgree(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo/root/var/log/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(demo), "\n")
	lines = append(lines,
		"amavisd[1]: (a-1) Passed SPAMMYX, amavis[2]: (b) Blocked SPAM",
		"amavis[1]: (x) Passed CLEANER amavis[3]: (y) Blocked INFECTED",
		"amavisd[: amavisdd[1]: (x) Passed CLEAN amavisd[2]: (z-9) Passed BAD-HEADER-x",
		"amavis[1]: () Passed CLEAN",
		"postfix/smtp[1]: A: to=<a>, x=1, status=sentx, y, status=bounced (z)",
		"postfix/smtp[1]: A: to=<a>, x,y, status=sent postfix-2.x/lmtp[2]: B: to=<>, status=deferred",
		"postfix/smtpd[1]: A: to=<a>, status=sent",
		"postfix/error[1]: A_1: to=<a>>, status=bounced",
		"postfix/error[1]: A_1: to=<a>, status=bounced", "postfix/error[1]: fatal: x", "xpostfix/error[1]: A: to=<>, b, c, status=",
		"postfix/error[1]: A: to=<a>, relay=none, x, y error, status=deferred", "error: postfix-out/error[22]: Q: to=<a>, status",
		"postfix/xerror[1]: A: to=<a>, status=bounced error", "postfix/smtp/error[1]: A: to=<a>, status=x",
		"/qmgr[1]: A: from=<>, size=1, nrcpt=2 (queue active) /qmgr[",
		"/qmgr[1]: A: from=<a>, size=, nrcpt=2 (queue active)",
		"clamd[1]: /a: b: X FOUND", "clamd[1]: : X FOUND", "clamd[1]:  : X FOUND", " -> x: \tX FOUND", " -> \n: X FOUND",
		"x -> a -> : Y FOUND", "clamd[]: a: b FOUND", "xclamd[12]: a\nb: c FOUND", "clamd[1]: a: b FOUND ",
		"clamd[1]: ERROR: x", "xclamd[1]: ERROR: ", "clamd[x]: ERROR: clamd[2]: ERROR: ", " ->ERROR: -> ERROR: ", "]: ERROR: ",
		"spamd[1]: spamd: clean message (", "spamd[1]: identified spam (", "spamd[1]: spamd: spamd: clean message (",
		"spamd[1]: spamd: identified spam x spamd[2]: clean message (1", "xspamd[12]: clean messages (",
		"main.cvd updated (version: 1", "daily.cld updated (version 1 Database updated (12 signatures)",
		"Database updated ( signatures) .clx updated (version: ", "Database update process failed",
	)
	for _, l := range lines {
		for n := 0; n <= len(l); n++ {
			if r := fastDisagrees([]byte(l[:n])); r != "" {
				t.Fatalf("%s: fast matcher and regex disagree on %q", r, l[:n])
			}
		}
	}
}

var presetRegexes sync.Map // regex text -> *regexp.Regexp, for the fuzz loop

func presetRegex(expr string) *regexp.Regexp {
	if re, ok := presetRegexes.Load(expr); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(expr)
	presetRegexes.Store(expr, re)
	return re
}

// errorWordByteByByte is nextErrorWord written the plain way: the
// reference the SWAR scan is checked against.
func errorWordByteByByte(b []byte) int {
	for i := 0; i < len(b); {
		for i < len(b) && !isWordByte(b[i]) {
			i++
		}
		start := i
		for i < len(b) && isWordByte(b[i]) {
			i++
		}
		for _, w := range errorWords {
			if i-start == len(w) && equalFoldASCII(b[start:i], w) {
				return start
			}
		}
	}
	return -1
}

// scanDisagrees says how nextErrorWord differs from errorWordByteByByte
// on b, from each line start.
func scanDisagrees(b []byte) string {
	for from := 0; from <= len(b); from++ {
		if from > 0 && b[from-1] != '\n' {
			continue
		}
		got, want := nextErrorWord(b, from), errorWordByteByByte(b[from:])
		if want >= 0 {
			want += from
		}
		if got != want {
			return fmt.Sprintf("from %d: nextErrorWord %d, byte by byte %d", from, got, want)
		}
	}
	return ""
}

func TestNextErrorWord(t *testing.T) {
	lines := []string{"", "a[", "[", "x[y[[z_[", "error", "ERROR[1]", "xerror", "errors", "error_", "(error)",
		"Critical", "criticall", "pAnIc!", "\xe5rror", "\xc3error", "fatal\xff", "e", "errorerror fatal",
		"12345678[", "1234567[", "123456789error", "1234567_error", "ERROR: x", "xERROR: ", "_ERROR: ", "ERROR:",
		"1234567 ERROR: ERROR: ", "postfix/smtp[1]: A: ...error", "amavis[2]: (x) Passed CLEAN",
		"a\nerror", "x\nxerror\nfatal", "dfatal defatal efatal ffatal Fatal", "error\n", "\n\npanic"}
	for _, l := range lines {
		for n := 0; n <= len(l); n++ {
			if d := scanDisagrees([]byte(l[:n])); d != "" {
				t.Errorf("%q: %s", l[:n], d)
			}
		}
	}
}

// demoLines is the demo mail log: real-shaped postfix, amavis, spamd and
// clamd lines, about half of them counted by the presets.
func demoLines(tb testing.TB) [][]byte {
	demo, err := os.ReadFile("../../examples/demo/root/var/log/mail.log")
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(demo), []byte("\n"))
}

// benchLines is demoLines, with the benchmark's bytes per op set.
func benchLines(b *testing.B) [][]byte {
	lines := demoLines(b)
	var n int
	for _, l := range lines {
		n += len(l) + 1
	}
	b.SetBytes(int64(n))
	return lines
}

// fastPresets compiles bench/logsbench's rule set: the presets with
// hand-written matchers.
func fastPresets(tb testing.TB) *Engine {
	var rules []Rule
	for _, p := range []string{"amavis", "postfix", "errors"} {
		r, _ := Preset(p)
		rules = append(rules, r...)
	}
	e, err := Compile(rules)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func BenchmarkNextErrorWord(b *testing.B) {
	lines := benchLines(b)
	for b.Loop() {
		for _, l := range lines {
			nextErrorWord(l, 0)
		}
	}
}

// BenchmarkPresets is bench/logsbench's rule set without the file reading.
func BenchmarkPresets(b *testing.B) {
	lines := benchLines(b)
	e := fastPresets(b)
	var d Delta
	for b.Loop() {
		for _, l := range lines {
			e.Match(l, &d)
		}
	}
}

// FuzzFastMatchers is FuzzEngine's check of the error word scan and the fast
// matchers alone: no regex compiled per input, so many more lines a second.
func FuzzFastMatchers(f *testing.F) {
	for _, l := range []string{
		"Nov 23 gw amavis[2812]: (02812-01) Passed CLEAN {RelayedInbound}, error",
		"postfix/smtp[1310]: 4Xk: to=<b@c>, relay=x[1.2.3.4]:25, status=sent (250)",
		"postfix/qmgr[880]: 4Xk: from=<a@b>, size=3310, nrcpt=1 (queue active)",
		"postfix/smtpd[1203]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554",
		"gw clamd[811]: /var/tmp/p003: Win.Test.EICAR_HDB-1 FOUND",
		"Sun Nov 23 10:00:01 2026 -> ERROR: Database update process failed: x",
		"x -> daily.cld updated (version: 27100, sigs: 1) Database updated (12 signatures)",
		"spamd[5001]: spamd: identified spam (12.3/5.0) spamd[5]: clean message (",
		"postfix/error[2201]: 4Xk: to=<n@example.com>, relay=none, dsn=5.0.0, status=bounced (error)",
	} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if d := scanDisagrees(line); d != "" {
			t.Fatalf("%q: %s", line, d)
		}
		if r := fastDisagrees(line); r != "" {
			t.Fatalf("%s: fast matcher and regex disagree on %q", r, line)
		}
	})
}

// Once warm, counting a line with the presets that have hand-written
// matchers allocates nothing (a log is millions of lines; the regex rules
// allocate their submatch slice).
func TestPresetMatchAllocatesNothing(t *testing.T) {
	lines, e := demoLines(t), fastPresets(t)
	var d Delta
	if n := testing.AllocsPerRun(20, func() {
		for _, l := range lines {
			e.Match(l, &d)
		}
	}); n != 0 {
		t.Errorf("%v allocations per pass over the demo log", n)
	}
}

// nextErrorWord agrees with the plain reading on blocks long enough for the
// vector search: error words of every case at every offset around its
// 32-byte steps, after letters, digits, '_', non-ASCII bytes and line
// starts, and the demo log.
func TestNextErrorWordLong(t *testing.T) {
	var blocks [][]byte
	for _, w := range []string{"error", "ERROR", "eRrOr", "fatal", "FaTaL", "panic", "PANIC", "critical", "CRITICAL", "Critical",
		"errors", "xerror", "9error", "_panic", "\xe5rror", "\xc5error", "éfatal", "fatal_", "fatal9", "er", "pa", "cr", "fa"} {
		for _, before := range []string{"", " ", "a", "Z", "1", "_", "\n", "\xff", "[", "`", "{", "@"} {
			for off := 0; off < 70; off++ {
				b := append(bytes.Repeat([]byte("pass err cra Fa. "), 6)[:off], before...)
				b = append(append(b, w...), bytes.Repeat([]byte(" x"), 40)...)
				blocks = append(blocks, b)
			}
		}
	}
	demo, err := os.ReadFile("../../examples/demo/root/var/log/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	blocks = append(blocks, demo)
	for _, b := range blocks {
		if d := scanDisagrees(b); d != "" {
			t.Fatalf("%q: %s", b, d)
		}
	}
}
