package logrules

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// count runs lines through the named presets and returns the counts by
// series, "counter{a=b,...}".
func count(t *testing.T, presetNames []string, lines ...string) map[string]uint64 {
	t.Helper()
	var rules []Rule
	for _, n := range presetNames {
		r, err := Preset(n)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r...)
	}
	return countRules(t, rules, lines...)
}

// countRules is count for the given rules.
func countRules(t *testing.T, rules []Rule, lines ...string) map[string]uint64 {
	t.Helper()
	e, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	var d Delta
	for _, l := range lines {
		e.Match([]byte(l), &d)
	}
	out := map[string]uint64{}
	for id, s := range e.Series() {
		var v uint64
		if id < len(d.Counts) {
			v = d.Counts[id]
		}
		out[s.String()] = v
	}
	return out
}

func (s Series) String() string {
	var parts []string
	for _, l := range s.Labels {
		parts = append(parts, l.Name+"="+l.Value)
	}
	return s.Counter + "{" + strings.Join(parts, ",") + "}"
}

func expect(t *testing.T, got map[string]uint64, want map[string]uint64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, named := want[k]; !named && v != 0 {
			t.Errorf("unexpected %s = %d", k, v)
		}
	}
}

// Lines shaped after amavisd-new's log_templ (amavisd-new README and the
// issue's example), e.g. "Passed CLEAN {RelayedInbound}, [ip]:port [ip]
// <from> -> <rcpt>, Queue-ID: ..., Hits: 1.249, size: 3310, ..., 478 ms".
func TestAmavisPreset(t *testing.T) {
	got := count(t, []string{"amavis"},
		`Nov 23 10:00:01 gw amavis[2812]: (02812-01) Passed CLEAN {RelayedInbound}, [192.0.2.10]:40312 [192.0.2.10] <alice@example.org> -> <bob@example.com>, Queue-ID: 4Xk2Lq1zN0z9sQ, Message-ID: <a1@example.org>, mail_id: Qe3VKo2v3Yl1, Hits: 1.249, size: 3310, queued_as: 4Xk2Lr0Y8bz9sR, 478 ms`,
		`Nov 23 10:00:02 gw amavis[2813]: (02813-04) Blocked SPAM {DiscardedInbound,Quarantined}, [198.51.100.7]:51234 [198.51.100.7] <x@spam.example> -> <bob@example.com>, quarantine: spam-Ab3dE, Hits: 18.331, size: 9120, 1203 ms`,
		`Nov 23 10:00:03 gw amavis[2814]: (02814-02) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, [203.0.113.5]:33211 <v@bad.example> -> <bob@example.com>, quarantine: virus-Zx81, size: 1534, 311 ms`,
		`Nov 23 10:00:04 gw amavis[2815]: (02815-01) Blocked BANNED (multipart/mixed | application/octet-stream,.exe,invoice.exe) {DiscardedInbound,Quarantined}, <b@x.example> -> <bob@example.com>, 90 ms`,
		`Nov 23 10:00:05 gw amavis[2816]: (02816-01) Passed BAD-HEADER-0 {RelayedInbound,Quarantined}, <c@x.example> -> <bob@example.com>, Hits: 2.1, 220 ms`,
		`Nov 23 10:00:06 gw amavis[2817]: (02817-01) Passed SPAMMY {RelayedTaggedInbound}, <d@x.example> -> <bob@example.com>, Hits: 6.3, 400 ms`,
		`Nov 23 10:00:07 gw amavis[2818]: (02818-01-2) Blocked SPAMMY {DiscardedInbound}, <d@x.example> -> <bob@example.com>, Hits: 6.8, 410 ms`,
		`Nov 23 10:00:08 gw amavis[2819]: (02819-01) Passed UNCHECKED-ENCRYPTED {RelayedInbound}, <e@x.example> -> <bob@example.com>, 80 ms`,
		`Nov 23 10:00:09 gw amavis[2820]: (02820-01) Blocked MTA-BLOCKED {TempFailedInbound}, <f@x.example> -> <bob@example.com>, 80 ms`,
		`Nov 23 10:00:10 gw amavis[2821]: (02821-01) Blocked OVERSIZED {DiscardedInbound}, <g@x.example> -> <bob@example.com>, 80 ms`,
		`Nov 23 10:00:11 gw amavis[2822]: (02822-01) Blocked TEMPFAIL {TempFailedInbound}, <h@x.example> -> <bob@example.com>, 80 ms`,
		`Nov 23 10:00:12 gw amavis[2823]: (02823-01) Passed OTHER {RelayedInbound}, <i@x.example> -> <bob@example.com>, 80 ms`,
		// not verdicts:
		`Nov 23 10:00:13 gw amavis[2823]: (02823-01) Checking: zKzk2 [192.0.2.1] <i@x.example> -> <bob@example.com>`,
		`Nov 23 10:00:14 gw postfix/smtp[999]: 4Xk: to=<bob@example.com>, relay=127.0.0.1[127.0.0.1]:10024, status=sent (250 2.0.0 from MTA: Passed CLEAN)`,
	)
	expect(t, got, map[string]uint64{
		"heartbeat_messages_total{source=amavis,verdict=clean}":       1,
		"heartbeat_messages_total{source=amavis,verdict=spam}":        1,
		"heartbeat_messages_total{source=amavis,verdict=virus}":       1,
		"heartbeat_messages_total{source=amavis,verdict=banned}":      1,
		"heartbeat_messages_total{source=amavis,verdict=bad_header}":  1,
		"heartbeat_messages_total{source=amavis,verdict=spammy}":      2,
		"heartbeat_messages_total{source=amavis,verdict=unchecked}":   1,
		"heartbeat_messages_total{source=amavis,verdict=mta_blocked}": 1,
		"heartbeat_messages_total{source=amavis,verdict=oversized}":   1,
		"heartbeat_messages_total{source=amavis,verdict=tempfail}":    1,
		"heartbeat_messages_total{source=amavis,verdict=other}":       1,
		"heartbeat_viruses_found_total{source=amavis}":                1,
	})
}

// Postfix lines as in postfix's own documentation (DEBUG_README,
// OVERVIEW "qmgr ... from=<...>, size=..., nrcpt=... (queue active)") and
// the postfix_exporter's test fixtures (kumina/postfix_exporter).
func TestPostfixPreset(t *testing.T) {
	got := count(t, []string{"postfix"},
		`Nov 23 10:01:00 gw postfix/smtpd[1201]: connect from mail.example.org[192.0.2.10]`,
		`Nov 23 10:01:01 gw postfix/qmgr[880]: 4Xk2Lq1zN0z9sQ: from=<alice@example.org>, size=3310, nrcpt=1 (queue active)`,
		`Nov 23 10:01:02 gw postfix/smtp[1310]: 4Xk2Lq1zN0z9sQ: to=<bob@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.6, delays=0.1/0/0/0.5, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok)`,
		`Nov 23 10:01:03 gw postfix/lmtp[1311]: 4Xk2Lr0Y8bz9sR: to=<bob@example.com>, relay=mail.example.com[private/dovecot-lmtp], delay=0.1, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.com> Saved)`,
		`Nov 23 10:01:04 gw postfix/smtp[1312]: 5Ab: to=<carol@remote.example>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to remote.example[198.51.100.1]:25: Connection timed out)`,
		`Nov 23 10:01:05 gw postfix/smtp[1313]: 6Cd: to=<nobody@remote.example>, relay=mx.remote.example[198.51.100.2]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 5.1.1 User unknown (in reply to RCPT TO command))`,
		`Nov 23 10:01:06 gw postfix/smtpd[1201]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <x@example.com>: Relay access denied; from=<s@spam.example> to=<x@example.com> proto=ESMTP helo=<spam>`,
		`Nov 23 10:01:07 gw postfix/local[1314]: 7Ef: to=<root@gw.example.com>, orig_to=<root>, relay=local, delay=0.01, dsn=2.0.0, status=sent (delivered to mailbox)`,
		`Nov 23 10:01:08 gw postfix/qmgr[880]: 4Xk2Lq1zN0z9sQ: removed`,
	)
	expect(t, got, map[string]uint64{
		"heartbeat_mta_messages_total{source=postfix,status=received}":  1,
		"heartbeat_mta_messages_total{source=postfix,status=delivered}": 3,
		"heartbeat_mta_messages_total{source=postfix,status=deferred}":  1,
		"heartbeat_mta_messages_total{source=postfix,status=bounced}":   1,
		"heartbeat_mta_messages_total{source=postfix,status=rejected}":  1,
	})
}

// clamd lines: syslog form "clamd[PID]: path: Name FOUND" and LogFile form
// "date -> path: Name(md5:size) FOUND" (ClamAV docs, clamd.conf LogFile;
// Cisco-Talos/clamav issues quote both). spamd: SpamAssassin wiki
// "SpamdSyslogFormat" and Tail::Stat::Plugin::spamd. freshclam:
// Cisco-Talos/clamav issues #667 ("daily.cvd updated (version: ...)"),
// #1303 and kylefarris/clamscan#49 ("Database update process failed").
func TestClamdSpamdFreshclamPresets(t *testing.T) {
	got := count(t, []string{"clamd", "spamd", "freshclam"},
		`Nov 23 10:02:00 gw clamd[640]: /var/lib/amavis/tmp/amavis-20261123T100200-02814-x/parts/p002: Eicar-Signature FOUND`,
		`Mon Nov 23 10:02:01 2026 -> /var/lib/amavis/tmp/amavis-20261123T100201-02815-y/parts/p003: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND`,
		`Mon Nov 23 10:02:02 2026 -> ERROR: Can't open/parse the config file /etc/clamav/clamd.conf`,
		`Mon Nov 23 10:02:03 2026 -> SelfCheck: Database status OK.`,
		`Nov 23 10:02:04 gw spamd[900]: spamd: identified spam (21.6/5.0) for amavis:110 in 3.1 seconds, 1098 bytes.`,
		`Nov 23 10:02:05 gw spamd[901]: spamd: clean message (-1.1/5.0) for amavis:110 in 0.4 seconds, 1800 bytes.`,
		`Nov 23 10:02:06 gw spamd[901]: spamd: result: . -1 - ALL_TRUSTED scantime=0.4,size=1800`,
		`Mon Nov 23 10:03:00 2026 -> daily.cld updated (version: 27831, sigs: 2077164, f-level: 90, builder: raynman)`,
		`Mon Nov 23 10:03:01 2026 -> Database updated (8707140 signatures) from database.clamav.net (IP: 104.16.218.84)`,
		`Mon Nov 23 10:03:02 2026 -> daily.cld database is up-to-date (version: 27831, sigs: 2077164, f-level: 90, builder: raynman)`,
		`Mon Nov 23 11:03:00 2026 -> ERROR: Database update process failed: Forbidden; Blocked by CDN`,
		`Mon Nov 23 11:03:00 2026 -> WARNING: Incremental update failed, trying to download daily.cvd`,
	)
	expect(t, got, map[string]uint64{
		"heartbeat_viruses_found_total{source=clamd}":                     2,
		"heartbeat_log_rule_matches_total{rule=clamd_error}":              2,
		"heartbeat_messages_total{source=spamd,verdict=spam}":             1,
		"heartbeat_messages_total{source=spamd,verdict=clean}":            1,
		"heartbeat_module_updates_total{result=success,source=freshclam}": 2,
		"heartbeat_module_updates_total{result=failure,source=freshclam}": 1,
	})
}

func TestErrorsPreset(t *testing.T) {
	got := count(t, []string{"errors"},
		`Nov 23 10:04:00 gw postfix/smtpd[1]: fatal: open database /etc/postfix/x.db: No such file`,
		`Nov 23 10:04:01 gw amavis[2]: (00002-01) ERROR: sql connect failed`,
		`Nov 23 10:04:02 gw kernel: Kernel PANIC`,
		`Nov 23 10:04:03 gw app: Critical: disk`,
		`Nov 23 10:04:04 gw postfix/smtpd[1]: warning: hostname x does not resolve`,
		`Nov 23 10:04:05 gw app: errors=0 terror errored`,
	)
	expect(t, got, map[string]uint64{"heartbeat_log_errors_total{}": 4})
}

// postfix's error delivery agent reports mail it fails on purpose: a
// delivery result (counted by the postfix preset), not an error of the
// gateway; its own fatal lines are. Checked on the hand-written matcher
// and on the regex path (the same rule without it).
func TestErrorsPresetSkipsErrorAgentReports(t *testing.T) {
	lines := []string{
		`Nov 30 10:00:01 gw postfix/error[2201]: 4Xk2Lq1zN0z9sQ: to=<nobody@example.com>, relay=none, delay=0.05, delays=0.04/0/0/0, dsn=5.0.0, status=bounced (User unknown in virtual alias table)`,
		`Nov 30 10:00:02 gw postfix/error[2202]: 4Xk2Lr0Y8bz9sR: to=<a@remote.example>, orig_to=<b@example.com>, relay=none, delay=3600, delays=3600/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.remote.example[198.51.100.2]:25: Connection refused)`,
		`Nov 30 10:00:03 gw postfix-out/error[2203]: 5Ab: to=<c@remote.example>, relay=none, dsn=5.0.0, status=bounced (error: message too old)`,
		`Nov 30 10:00:04 gw postfix/error[2204]: fatal: open /etc/postfix/main.cf: Permission denied`,
		`Nov 30 10:00:05 gw postfix/smtp[2205]: 6Cd: to=<d@remote.example>, relay=none, status=deferred (error agent)`,
	}
	got := count(t, []string{"errors", "postfix"}, lines...)
	expect(t, got, map[string]uint64{
		"heartbeat_log_errors_total{}":                                 2,
		"heartbeat_mta_messages_total{source=postfix,status=bounced}":  2,
		"heartbeat_mta_messages_total{source=postfix,status=deferred}": 2,
	})
	rules, _ := Preset("errors")
	rules[0].match = nil // the regex path
	expect(t, countRules(t, rules, lines...), map[string]uint64{"heartbeat_log_errors_total{}": 2})
}

func TestCaptureLabelsStayBounded(t *testing.T) {
	e, err := Compile([]Rule{
		{Name: "capped", Counter: "x_total", Regex: `user=(\w+)`, LabelFrom: []LabelFrom{{Label: "user", Group: "1", MaxValues: 3}}},
		{Name: "listed", Counter: "y_total", Regex: `code=(?P<code>\d+)`, LabelFrom: []LabelFrom{{Label: "code", Group: "code", Values: []string{"200", "500"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var d Delta
	for i := 0; i < 100; i++ {
		e.Match([]byte(fmt.Sprintf("user=u%d code=%d", i, 200+i)), &d)
	}
	if n := len(e.Series()); n != 4+3 { // u0..u2, other; 200, 500, other
		t.Fatalf("%d series: %v", n, e.Series())
	}
}

func TestCompileRefusesUnknownGroup(t *testing.T) {
	if _, err := Compile([]Rule{{Name: "r", Counter: "x_total", Regex: `(a)`, LabelFrom: []LabelFrom{{Label: "l", Group: "2"}}}}); err == nil {
		t.Fatal("group 2 of a one-group regex accepted")
	}
	if _, err := Preset("nope"); err == nil {
		t.Fatal("unknown preset accepted")
	}
}

func TestRequiredLiterals(t *testing.T) {
	for expr, want := range map[string]string{
		`/qmgr\[\d+\]: \w+: from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)`: "[ (queue active)]",
		`(?:Passed|Blocked) (CLEAN|SPAM)`:                                       "[Passed Blocked]",
		`(?i)error`:                                                             "[]",
		`a?b?`:                                                                  "[]",
		`x(?:foo|)`:                                                             "[x]",
	} {
		var got []string
		for _, l := range requiredLiterals(expr) {
			got = append(got, string(l))
		}
		if s := fmt.Sprint(got); s != want && !(want == "[]" && got == nil) {
			t.Errorf("%s: %s, want %s", expr, s, want)
		}
	}
}

// FuzzEngine: no panic, the prefilter never hides a regex match, the line
// scan agrees with a byte-by-byte one, the fast matchers agree with their
// regexes, and series stay bounded.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(`amavis[1]: (01-1) Blocked INFECTED (X) error`), `user=(\w+)`)
	f.Add([]byte("spamd[2]: spamd: clean message (1/5) FATAL_x panic"), `(a|b)c`)
	f.Add([]byte("\xffCRITICAL\x00"), `[`)
	f.Add([]byte("postfix/smtp[1]: A: to=<a>, x=1, status=sentx, y, status=bounced"), `(x)`)
	f.Add([]byte("/qmgr[1]: A: from=<>, size=1, nrcpt=2 (queue active)"), `(q)`)
	f.Add([]byte("x postfix-2.a/smtpd[3]: NOQUEUE: reject: RCPT from x[1.2.3.4]: 554"), `(r)`)
	f.Add([]byte("ab.postfix-x/lmtp[4]: B_1: to=<a@b>, orig_to=<c>, status=deferred (x)"), `(l)`)
	f.Add([]byte("Nov 23 gw amavisd[2812]: (02812-01-2) Passed BAD-HEADER-0 {x}"), `(a)`)
	f.Add([]byte("gw clamd[811]: /var/tmp/p003: Win.Test.EICAR_HDB-1 FOUND"), `(F)OUND`)
	f.Add([]byte("Sun Nov 23 10:00:01 2026 -> ERROR: Database update process failed: x"), `(E)RROR`)
	f.Add([]byte("x -> daily.cld updated (version: 27100, sigs: 1) Database updated (12 signatures)"), `( )updated`)
	f.Add([]byte("spamd[5001]: spamd: identified spam (12.3/5.0) spamd[5]: clean message ("), `(s)pamd`)
	errorsRE := regexp.MustCompile(ErrorsRegex)
	all := []Rule{}
	for _, n := range PresetNames() {
		r, _ := Preset(n)
		all = append(all, r...)
	}
	f.Fuzz(func(t *testing.T, line []byte, expr string) {
		if got, want := containsErrorWord(line), errorsRE.Match(line); got != want {
			t.Fatalf("fast errors matcher %v, regex %v on %q", got, want, line)
		}
		padded := append(bytes.Repeat([]byte("ab "), 25), line...) // long enough for the vector search
		if got, want := containsErrorWord(padded), errorsRE.Match(padded); got != want {
			t.Fatalf("fast errors matcher %v, regex %v on %q", got, want, padded)
		}
		if d := scanDisagrees(line); d != "" {
			t.Fatalf("%q: %s", line, d)
		}
		if r := fastDisagrees(line); r != "" {
			t.Fatalf("%s: fast matcher and regex disagree on %q", r, line)
		}
		if got, want := indexRare(line, []byte(expr), -1), bytes.Index(line, []byte(expr)); got != want {
			t.Fatalf("indexRare(%q, %q) = %d, bytes.Index %d", line, expr, got, want)
		}
		rules := append(append([]Rule(nil), all...), Rule{Name: "own", Counter: "own_total", Regex: expr,
			LabelFrom: []LabelFrom{{Label: "v", Group: "1", MaxValues: 2}}})
		e, err := Compile(rules)
		if err != nil {
			return // a regex without group 1 or a bad one
		}
		var d Delta
		e.Match(line, &d)
		e.Match(append(line, 'z'), &d)
		if re, err := regexp.Compile(expr); err == nil && re.Match(line) {
			if c := e.rules[len(e.rules)-1]; !c.candidate(line) {
				t.Fatalf("prefilter %v rejects a line %q matches", c.need, line)
			}
		}
		if n := len(e.Series()); n > 100 {
			t.Fatalf("%d series", n)
		}
	})
}
