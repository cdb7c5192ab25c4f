package main

// What the daemons logged, counted by the test itself from their own
// lines (not through the exporter's presets), and the exporter's served
// counters to compare with.

import (
	"bufio"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// logStream returns a log's lines across its rotations, oldest first:
// base.N.gz ... base.2.gz, base.1, base.
func logStream(t *testing.T, base string) []string {
	t.Helper()
	rotated, _ := filepath.Glob(base + ".[0-9]*")
	num := func(p string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, base+"."), ".gz"))
		return n
	}
	sort.Slice(rotated, func(i, j int) bool { return num(rotated[i]) > num(rotated[j]) })
	var lines []string
	for _, p := range append(rotated, base) {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(p, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	return lines
}

// mark is how many lines each log had at one moment.
type mark struct{ mail, clamd int }

func currentMark(t *testing.T) mark {
	return mark{len(logStream(t, mailLog)), len(logStream(t, clamdLog))}
}

// amavisd-new's content categories and the verdict label they are
// served with (amavisd-new's README.customize).
var amavisVerdictLabel = map[string]string{
	"CLEAN": "clean", "SPAM": "spam", "SPAMMY": "spammy", "INFECTED": "virus",
	"BANNED": "banned", "BAD-HEADER": "bad_header", "UNCHECKED": "unchecked",
	"MTA-BLOCKED": "mta_blocked", "OVERSIZED": "oversized", "OTHER": "other",
	"TEMPFAIL": "tempfail",
}

var (
	amavisResult  = regexp.MustCompile(`amavis\[\d+\]: \([\w-]+\) (?:Passed|Blocked) ([A-Z-]+) `)
	spamdResult   = regexp.MustCompile(`spamd\[\d+\]: spamd: (identified spam|clean message) \(`)
	qmgrActive    = regexp.MustCompile(`postfix/qmgr\[\d+\]: [0-9A-F]+: from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)$`)
	postfixStatus = regexp.MustCompile(`postfix/(?:smtp|lmtp|local|virtual|pipe|error|retry|discard)\[\d+\]: [0-9A-F]+: to=<[^>]*>, .*\bstatus=(sent|deferred|bounced) `)
	postfixReject = regexp.MustCompile(`postfix/smtpd\[\d+\]: NOQUEUE: reject: `)
	clamdFound    = regexp.MustCompile(` -> .+: \S+ FOUND$`)
)

// counts maps a served series (name{labels}, labels sorted) to its value.
type counts map[string]float64

// tally counts what the daemons logged in the given line ranges of
// mail.log and clamav.log, as the exporter's counters should.
func tally(t *testing.T, from, to mark) counts {
	mail := logStream(t, mailLog)
	clam := logStream(t, clamdLog)
	if to.mail < 0 {
		to = mark{len(mail), len(clam)}
	}
	c := counts{}
	c[`heartbeat_log_lines_total{log="`+mailLog+`"}`] = float64(to.mail - from.mail)
	c[`heartbeat_log_lines_total{log="`+clamdLog+`"}`] = float64(to.clamd - from.clamd)
	status := map[string]string{"sent": "delivered", "deferred": "deferred", "bounced": "bounced"}
	for _, line := range mail[from.mail:to.mail] {
		if m := amavisResult.FindStringSubmatch(line); m != nil {
			c[`heartbeat_messages_total{source="amavis",verdict="`+amavisVerdictLabel[m[1]]+`"}`]++
			if m[1] == "INFECTED" {
				c[`heartbeat_viruses_found_total{source="amavis"}`]++
			}
		}
		if m := spamdResult.FindStringSubmatch(line); m != nil {
			c[`heartbeat_messages_total{source="spamd",verdict="`+map[string]string{"identified spam": "spam", "clean message": "clean"}[m[1]]+`"}`]++
		}
		if qmgrActive.MatchString(line) {
			c[`heartbeat_mta_messages_total{source="postfix",status="received"}`]++
		}
		if m := postfixStatus.FindStringSubmatch(line); m != nil {
			c[`heartbeat_mta_messages_total{source="postfix",status="`+status[m[1]]+`"}`]++
		}
		if postfixReject.MatchString(line) {
			c[`heartbeat_mta_messages_total{source="postfix",status="rejected"}`]++
		}
	}
	for _, line := range clam[from.clamd:to.clamd] {
		if clamdFound.MatchString(line) {
			c[`heartbeat_viruses_found_total{source="clamd"}`]++
		}
	}
	return c
}

// countedFamilies are the counters tally predicts.
var countedFamilies = []string{"heartbeat_messages_total{", "heartbeat_mta_messages_total{",
	"heartbeat_viruses_found_total{", "heartbeat_log_lines_total{"}

// served returns the exposition's samples of the counted families.
func served(metrics string) counts {
	c := counts{}
	for _, line := range strings.Split(metrics, "\n") {
		for _, f := range countedFamilies {
			if strings.HasPrefix(line, f) {
				i := strings.LastIndexByte(line, ' ')
				v, err := strconv.ParseFloat(line[i+1:], 64)
				if err == nil {
					c[line[:i]] = v
				}
			}
		}
	}
	return c
}

// countDiff lists the series where served and want disagree; a series
// missing on one side counts as 0 there, except that a wanted non-zero
// count must be served.
func countDiff(got, want counts) []string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var diff []string
	for k := range keys {
		g, ok := got[k]
		if w := want[k]; g != w || (!ok && w != 0) {
			served := strconv.FormatFloat(g, 'f', -1, 64)
			if !ok {
				served = "absent"
			}
			diff = append(diff, k+": served "+served+", logged "+strconv.FormatFloat(w, 'f', -1, 64))
		}
	}
	sort.Strings(diff)
	return diff
}

// counterSamples returns every sample of every counter family (by its
// # TYPE line) in an exposition.
func counterSamples(metrics string) counts {
	isCounter := map[string]bool{}
	c := counts{}
	for _, line := range strings.Split(metrics, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && f[3] == "counter" {
			isCounter[f[2]] = true
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		if !isCounter[name] {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			c[line[:i]] = v
		}
	}
	return c
}

// quarantineFolder counts amavisd-new's quarantine as the exporter
// should: files by the category their name starts with, and their bytes.
func quarantineFolder(t *testing.T) (msgs, bytes counts) {
	category := map[string]string{"virus": "virus", "spam": "spam", "banned": "banned", "badh": "bad_header",
		"clean": "clean", "archive": "archive", "unchecked": "unchecked"}
	msgs, bytes = counts{}, counts{}
	err := filepath.WalkDir(amavisQDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		prefix, _, _ := strings.Cut(d.Name(), "-")
		cat, ok := category[prefix]
		if !ok {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		key := `{category="` + cat + `",quarantine="amavis"}`
		msgs["heartbeat_quarantine_messages"+key]++
		bytes["heartbeat_quarantine_bytes"+key] += float64(fi.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs, bytes
}
