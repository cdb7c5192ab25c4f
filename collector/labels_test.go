package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// Label values from outside that are not valid UTF-8, or huge, cost their
// own series only: before labelvalue.Clean each of these made its
// collector panic at every scrape and lose its whole output.

func TestLogsCaptureNotUTF8(t *testing.T) {
	lt := newLogsTest(t, "beginning")
	cfg, err := config.Parse("t.yml", []byte(`logs:
  - path: /var/log/mail.log
    presets: [amavis, postfix]
    start_at: beginning
    poll_interval: 100ms
    rules:
      - name: hit
        regex: 'HIT (?P<who>\S+)'
        counter: hits_total
        label_from: [{label: who, group: who}]
`))
	if err != nil {
		t.Fatal(err)
	}
	lt.cfg = cfg
	lt.write(t, mailLogLines+"HIT \xff\xfeevil\nHIT "+strings.Repeat("x", 1<<20)+"\n")
	text, _ := scrapeExposition(t, "logs", lt.start(t).c)
	for _, want := range []string{
		`heartbeat_scrape_collector_success{collector="logs"} 1`,
		`hits_total{log="/var/log/mail.log",who="` + "\uFFFD" + `evil"} 1`,
		`heartbeat_messages_total{source="amavis",verdict="virus"} 1`,
		`heartbeat_log_lines_total{log="/var/log/mail.log"} 7`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "hits_total{") && len(line) > 300 {
			t.Errorf("a %d-byte series line: the label value is not capped", len(line))
		}
	}
}

func TestTextfileNameNotUTF8(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "tf")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tfWrite(t, filepath.Join(dir, "good.prom"), "good_metric 1\n")
	tfWrite(t, filepath.Join(dir, "\xff\xfe.prom"), "odd_metric 2\n")
	c, _ := newTextfileTest(t, root, []string{"/tf"}, 0, nil)
	text, mfs := tfScrape(t, c)
	checkValid(t, text, mfs)
	for _, want := range []string{
		`heartbeat_scrape_collector_success{collector="textfile"} 1`,
		"good_metric 1", "odd_metric 2",
		`heartbeat_textfile_mtime_seconds{file="/tf/` + "\uFFFD" + `.prom"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestQuarantineCategoryNotUTF8(t *testing.T) {
	root := qtTree(t, map[string]int{
		"q/virus-abc":     10,
		"q/\xff\xfe-evil": 20,
	}, time.Unix(1700000000, 0))
	c := newQuarantineTest(t, root, `quarantine:
  - name: q
    path: /q
    classify: '^(?P<category>[^-]+)-'
    interval: 1h
`)
	waitScanned(t, c)
	text, _ := scrapeExposition(t, "quarantine", c)
	for _, want := range []string{
		`heartbeat_scrape_collector_success{collector="quarantine"} 1`,
		`heartbeat_quarantine_messages{category="virus",quarantine="q"} 1`,
		`heartbeat_quarantine_messages{category="` + "\uFFFD" + `",quarantine="q"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}
