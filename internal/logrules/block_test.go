package logrules

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// allPresetRules is every preset's rules.
func allPresetRules() []Rule {
	var all []Rule
	for _, n := range PresetNames() {
		r, _ := Preset(n)
		all = append(all, r...)
	}
	return all
}

// byKey is d's non-zero counts by series.
func byKey(e *Engine, d *Delta) map[string]uint64 {
	out := map[string]uint64{}
	for id, s := range e.Series() {
		if id < len(d.Counts) && d.Counts[id] > 0 {
			out[s.String()] = d.Counts[id]
		}
	}
	return out
}

// blockDisagrees compares MatchBlock on block with the plainest reading of
// the rules: each line of it matched against each rule's regex alone (no
// anchor, no hand-written matcher). It returns "" when they agree.
func blockDisagrees(rules []Rule, block []byte) (string, error) {
	e, err := Compile(rules)
	if err != nil {
		return "", err
	}
	var d Delta
	e.MatchBlock(block, &d)
	plain := make([]Rule, len(rules))
	for i, r := range rules {
		r.match, r.find, r.next = nil, nil, nil
		plain[i] = r
	}
	ref, err := Compile(plain)
	if err != nil {
		return "", err
	}
	var rd Delta
	lines := bytes.Split(block, []byte("\n"))
	if len(block) == 0 || block[len(block)-1] == '\n' {
		lines = lines[:len(lines)-1] // the '\n' ends the last line, it starts none
	}
	for _, l := range lines {
		for _, c := range ref.rules {
			ref.matchRegex(c, l, &rd)
		}
	}
	got, want := byKey(e, &d), byKey(ref, &rd)
	if !maps.Equal(got, want) {
		return fmt.Sprintf("MatchBlock %v, line by line %v", got, want), nil
	}
	return "", nil
}

// Every preset counts the demo log the same read as one block, in blocks
// cut at line ends anywhere, and line by line through its regexes.
func TestMatchBlockAgreesOnDemo(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo/root/var/log/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	rules := append(allPresetRules(), Rule{Name: "own", Counter: "own_total", Regex: `relay=(\w+)`,
		LabelFrom: []LabelFrom{{Label: "relay", Group: "1"}}}, Rule{Name: "any", Counter: "any_total", Regex: `^$|\d{3} `})
	if d, err := blockDisagrees(rules, demo); err != nil || d != "" {
		t.Fatalf("whole log: %s %v", d, err)
	}
	e, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	var whole, cut Delta
	e.MatchBlock(demo, &whole)
	for rest := demo; len(rest) > 0; {
		n := bytes.IndexByte(rest[min(len(rest)-1, len(rest)/3):], '\n') + min(len(rest)-1, len(rest)/3) + 1
		if n <= 0 {
			n = len(rest)
		}
		e.MatchBlock(rest[:n], &cut)
		rest = rest[n:]
	}
	if !slices.Equal(whole.Counts, cut.Counts) {
		t.Errorf("one block %v, cut in blocks %v", whole.Counts, cut.Counts)
	}
}

// Blocks built to put a rule's literal on one line and the rest of its
// match on another, literals twice on a line, empty lines, no final '\n'.
func TestMatchBlockLineEdges(t *testing.T) {
	rules := append(allPresetRules(), Rule{Name: "own", Counter: "own_total", Regex: `^x?$`})
	for _, b := range []string{
		"", "\n", "\n\n", "x", "x\n", "amavis[1]: (a) Passed\nCLEAN\n", "amavis[1]: (a) Passed CLEAN amavis[2]: (b) Blocked SPAM\n",
		"clamd[1]: a: b FOUND\nclamd[1]: a: b FOUND", " FOUND\nclamd[1]: a: b FOUND\n", "error\nfatal\n\nERROR: clamd[1]: ERROR: x",
		"postfix/error[1]: A: to=<a>, status=bounced error\npostfix/smtp[1]: A: to=<a>, status=sent\n",
		"spamd[1]: clean message (\nspamd[1]: clean message\n(", "Database update process failed\nDatabase update process failed",
	} {
		if d, err := blockDisagrees(rules, []byte(b)); err != nil || d != "" {
			t.Errorf("%q: %s %v", b, d, err)
		}
	}
}

// FuzzMatchBlock: MatchBlock over a block of lines counts what matching
// each line with each rule's regex counts, for the presets and one
// operator rule.
func FuzzMatchBlock(f *testing.F) {
	f.Add([]byte("amavis[1]: (01-1) Blocked INFECTED (X) error\nspamd[2]: spamd: clean message (1/5)\n"), `(\w+)=`)
	f.Add([]byte("gw clamd[811]: /var/tmp/p003: Win.Test.EICAR_HDB-1 FOUND\n -> ERROR: x\n\nfatal"), `^(a|)$`)
	f.Add([]byte("postfix/qmgr[1]: A: from=<>, size=1, nrcpt=2 (queue active)\npostfix/smtpd[3]: NOQUEUE: reject: R"), `(re)ject|q`)
	f.Add([]byte("postfix/smtp[1]: A: to=<a>,\n status=sent\nx postfix-2.a/lmtp[4]: B: to=<a>, status=deferred (x)\n"), `(sent|x)\b`)
	all := allPresetRules()
	f.Fuzz(func(t *testing.T, block []byte, expr string) {
		rules := append(append([]Rule(nil), all...), Rule{Name: "own", Counter: "own_total", Regex: expr,
			LabelFrom: []LabelFrom{{Label: "v", Group: "1", MaxValues: 1000}}})
		d, err := blockDisagrees(rules, block)
		if err != nil {
			d, _ = blockDisagrees(all, block) // expr is no valid rule: the presets alone
		}
		if d != "" {
			t.Fatalf("%q with %q: %s", block, expr, d)
		}
	})
}

// A block big enough to be matched in two halves at once counts what
// matching it line by line counts; an engine with a capture capped by
// first come is matched in order, on one goroutine.
func TestMatchBlockHalves(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo/root/var/log/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat(demo, 2*parallelMin/len(demo)+1)
	e, err := Compile(allPresetRules())
	if err != nil {
		t.Fatal(err)
	}
	if !e.orderFree {
		t.Fatal("the presets' counts depend on the order of lines")
	}
	var halves, lines Delta
	e.MatchBlock(big, &halves)
	for _, l := range bytes.Split(bytes.TrimSuffix(big, []byte("\n")), []byte("\n")) {
		e.Match(l, &lines)
	}
	if got, want := byKey(e, &halves), byKey(e, &lines); !maps.Equal(got, want) {
		t.Errorf("in halves %v, line by line %v", got, want)
	}
	capped, err := Compile([]Rule{{Name: "own", Counter: "own_total", Regex: `relay=(\w+)`, LabelFrom: []LabelFrom{{Label: "relay", Group: "1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if capped.orderFree {
		t.Error("a capture capped by first come is matched in halves")
	}
}

// A block of empty lines (one line a byte) is counted, and the memory its
// line table took is not kept.
func TestMatchBlockEmptyLines(t *testing.T) {
	e, err := Compile([]Rule{{Name: "empty", Counter: "empty_total", Regex: `^$`}})
	if err != nil {
		t.Fatal(err)
	}
	var d Delta
	e.MatchBlock(bytes.Repeat([]byte("\n"), 4*maxKeptLines), &d)
	if got := byKey(e, &d)["empty_total{}"]; got != 4*maxKeptLines {
		t.Errorf("%d empty lines counted, want %d", got, 4*maxKeptLines)
	}
	if cap(d.ends) > maxKeptLines || cap(d.marks) > maxKeptLines {
		t.Errorf("kept %d line ends and %d marks", cap(d.ends), cap(d.marks))
	}
}

// BenchmarkMatchBlock is the default mail.log preset set (amavis, postfix,
// clamd, spamd, errors) on the demo log repeated into 256 KiB blocks, the
// tailer's read size, on one goroutine (-cpu 1) or in halves.
func BenchmarkMatchBlock(b *testing.B) {
	demo, err := os.ReadFile("../../examples/demo/root/var/log/mail.log")
	if err != nil {
		b.Fatal(err)
	}
	block := bytes.Repeat(demo, 256<<10/len(demo))
	var rules []Rule
	for _, n := range []string{"amavis", "postfix", "clamd", "spamd", "errors"} {
		r, _ := Preset(n)
		rules = append(rules, r...)
	}
	e, err := Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(block)))
	var d Delta
	for b.Loop() {
		e.MatchBlock(block, &d)
	}
}

// appendIndexes finds every '\n' (or '[') whatever the line lengths,
// where the 32-byte steps fall and how much room its slice starts with.
func TestAppendIndexes(t *testing.T) {
	var blocks [][]byte
	for n := 0; n < 200; n++ {
		b := make([]byte, n)
		for i := range b {
			if (i*i+n)%7 == 0 || i%31 == 30 {
				b[i] = '\n'
			} else {
				b[i] = 'a'
			}
		}
		blocks = append(blocks, b, bytes.Repeat([]byte("\n"), n))
	}
	for _, b := range blocks {
		for _, c := range []byte{'\n', 'a', '['} {
			want := appendIndexesGeneric(b, c, nil)
			for _, room := range []int{0, 1, 31, 33, 1000} {
				if got := appendIndexes(b, c, make([]int, 0, room)); !slices.Equal(got, want) {
					t.Fatalf("%q, %q with room %d: %v, want %v", b, c, room, got, want)
				}
			}
		}
	}
}

// MatchBlock says how many lines the block held, in halves or not.
func TestMatchBlockCountsLines(t *testing.T) {
	e, err := Compile(allPresetRules())
	if err != nil {
		t.Fatal(err)
	}
	var d Delta
	for _, b := range []string{"x", "x\n", "\n", "a\nb", "a\n\nb\n"} {
		if got, want := e.MatchBlock([]byte(b), &d), len(strings.Split(strings.TrimSuffix(b, "\n"), "\n")); got != want {
			t.Errorf("%q: %d lines, want %d", b, got, want)
		}
	}
	big := bytes.Repeat([]byte("a line\n"), 2*parallelMin/7)
	if got := e.MatchBlock(big, &d); got != 2*parallelMin/7 {
		t.Errorf("a block in halves: %d lines, want %d", got, 2*parallelMin/7)
	}
}
