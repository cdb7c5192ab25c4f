package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// unreadableRootEnv marks the re-executed test binary that runs as nobody.
const unreadableRootEnv = "HB_LOGS_TEST_UNREADABLE_ROOT"

// TestLogsUnreadableLogNotServedAsZero: as on a gateway where clamd made
// its log clamav:clamav 0640, an unreadable log's counters are left out, and
// so is every series it feeds with a readable log (mail.log's clamd preset
// also makes heartbeat_viruses_found_total{source="clamd"}, which must not
// be served as mail.log's 0); the collector fails and logs the error once
// per change; the readable log is served. Root reads files of any mode, so
// as root the test re-runs itself as user nobody.
func TestLogsUnreadableLogNotServedAsZero(t *testing.T) {
	root := os.Getenv(unreadableRootEnv)
	if root == "" {
		root = t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "var/log/clamav"), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "var/log/mail.log"), []byte(mailLogLines), 0o644); err != nil {
			t.Fatal(err)
		}
		if os.Getuid() == 0 {
			for _, d := range []string{root, filepath.Dir(root), filepath.Join(root, "var"), filepath.Join(root, "var/log")} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(filepath.Join(root, "var/log/clamav"), 0o777); err != nil {
				t.Fatal(err)
			}
			testenv.RerunAsNobody(t, "TestLogsUnreadableLogNotServedAsZero", unreadableRootEnv+"="+root)
			t.Log("ran as user nobody, since root reads files of any mode")
			return
		}
	}
	clamLog := filepath.Join(root, "var/log/clamav/clamav.log")
	const found = "Mon Nov 30 10:00:00 2026 -> /var/lib/amavis/tmp/p1: Eicar-Signature FOUND\n"
	if err := os.WriteFile(clamLog, []byte(found), 0); err != nil { // unreadable from the start
		t.Fatal(err)
	}
	cfg, err := config.Parse("t.yml", []byte(`logs:
  - path: /var/log/mail.log
    presets: [amavis, clamd, errors]
    start_at: beginning
    poll_interval: 100ms
  - path: /var/log/clamav/clamav.log
    presets: [clamd]
    start_at: beginning
    poll_interval: 100ms
`))
	if err != nil {
		t.Fatal(err)
	}
	logs := &tfLog{}
	c, err := newLogsCollector(Deps{Logger: log.NewLogfmtLogger(logs), Config: cfg, Paths: Paths{Root: root}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.(Closer).Close)
	a := &adapter{c: c}
	clamd := `heartbeat_viruses_found_total{source="clamd"}`
	clamLines := `heartbeat_log_lines_total{log="/var/log/clamav/clamav.log"}`

	// Unreadable before anything was read: nothing of it, mail.log served.
	wantUnreadable(t, a, clamd, clamLines)
	if err := os.Chmod(clamLog, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return sample(t, a, clamd) == "1" }, "the readable clamav.log counted")

	// Rotated, the new file unreadable (clamd chowns it at start): left out
	// again, not served at what was read before.
	if err := os.Rename(clamLog, clamLog+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clamLog, []byte(found), 0); err != nil {
		t.Fatal(err)
	}
	wantUnreadable(t, a, clamd, clamLines)
	if err := os.Chmod(clamLog, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return sample(t, a, clamd) == "2" }, "the new clamav.log counted")
	if n := strings.Count(logs.String(), `msg="log unreadable"`); n != 2 {
		t.Errorf("logged %d times for two spells of one error, want 2:\n%s", n, logs.String())
	}
}

// wantUnreadable waits until a scrape fails, then checks what it serves:
// none of the unreadable log's series, mail.log's.
func wantUnreadable(t *testing.T, a *adapter, absent ...string) {
	t.Helper()
	var text string
	waitFor(t, func() bool {
		var err error
		text, err = collectText(t, a)
		return err != nil && strings.Contains(err.Error(), "permission denied")
	}, "a failed scrape")
	for _, s := range absent {
		if strings.Contains(text, s+" ") {
			t.Errorf("an unreadable log's series is served: %s\n%s", s, text)
		}
	}
	if !strings.Contains(text, `heartbeat_log_lines_total{log="/var/log/mail.log"} 5`) ||
		!strings.Contains(text, `heartbeat_viruses_found_total{source="amavis"} 1`) {
		t.Errorf("the readable log is not served:\n%s", text)
	}
}

// sample is one series' value as text, "" when absent or the scrape failed.
func sample(t *testing.T, a *adapter, series string) string {
	t.Helper()
	text, err := collectText(t, a)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}
