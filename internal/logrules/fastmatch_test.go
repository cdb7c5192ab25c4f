package logrules

import (
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
		"/qmgr[1]: A: from=<>, size=1, nrcpt=2 (queue active) /qmgr[",
		"/qmgr[1]: A: from=<a>, size=, nrcpt=2 (queue active)",
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
