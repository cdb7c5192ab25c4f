package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

const amavisClean = `heartbeat_messages_total{source="amavis",verdict="clean"}`

// TestLogsSurviveRestartWithRotation runs the binary twice on the same
// --state.dir: lines written while it is stopped, across a rotation, are
// counted by the second run, and none twice.
func TestLogsSurviveRestartWithRotation(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	logPath := filepath.Join(root, "var/log/mail.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "heartbeat.yml")
	writeFile(t, cfg, "logs:\n  - path: /var/log/mail.log\n    presets: [amavis]\n    poll_interval: 100ms\n")
	line := func(i int) string {
		return fmt.Sprintf("Nov 23 10:00:%02d gw amavis[%d]: (%05d-01) Passed CLEAN {RelayedInbound}, <a@example.org> -> <b@example.com>, 100 ms\n", i%60, 1000+i, i)
	}
	appendLines := func(path string, from, to int) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i := from; i < to; i++ {
			if _, err := f.WriteString(line(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := func() *process {
		return startExporter(t, demoTree+"/proc", demoTree+"/sys", root, "--config.file="+cfg, "--state.dir="+state)
	}
	counted := func(p *process) int { return p.sample(t, amavisClean) }

	appendLines(logPath, 0, 5) // before the first start: start_at end skips them
	first := start()
	appendLines(logPath, 5, 25)
	waitFor(t, func() bool { return counted(first) == 20 }, "the first run to count 20 lines")
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	appendLines(logPath, 25, 40) // while down, into the file about to rotate
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(logPath, 40, 52) // while down, into the new file
	second := start()
	appendLines(logPath, 52, 60)
	waitFor(t, func() bool { return counted(second) >= 35 }, "the second run to count 35 lines")
	if n := counted(second); 20+n != 55 {
		t.Fatalf("counted 20 + %d lines, 55 were written after the first start", n)
	}
	if strings.Contains(second.stderr.String(), "level=warn") {
		t.Errorf("warnings:\n%s", second.stderr)
	}
}

// TestJournalSurvivesRestart follows a journal folder (written by
// systemd-journal-remote, as journald would) through journalctl: only the
// matching entries count, and entries written while the exporter is
// stopped are counted by the next run, from the saved cursor, none twice.
func TestJournalSurvivesRestart(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	dir := filepath.Join(root, "var/log/journal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	j := testenv.NewJournal(t, dir)
	cfg := filepath.Join(t.TempDir(), "heartbeat.yml")
	writeFile(t, cfg, "logs:\n  - journal:\n      directory: /var/log/journal\n      matches: [SYSLOG_IDENTIFIER=amavis]\n"+
		"    presets: [amavis]\n    start_at: beginning\n    poll_interval: 100ms\n")
	clean := func(n int) []string {
		msgs := make([]string, n)
		for i := range msgs {
			msgs[i] = fmt.Sprintf("(%05d-01) Passed CLEAN {RelayedInbound}, <a@example.org> -> <b@example.com>, 100 ms", i)
		}
		return msgs
	}
	start := func() *process {
		return startExporter(t, demoTree+"/proc", demoTree+"/sys", root, "--config.file="+cfg, "--state.dir="+state)
	}
	lines := `heartbeat_log_lines_total{log="journal:/var/log/journal SYSLOG_IDENTIFIER=amavis"}`

	j.Write(t, "amavis", clean(3)...)
	j.Write(t, "postfix/smtpd", "connect from x[192.0.2.1]") // not matched
	first := start()
	waitFor(t, func() bool { return first.sample(t, amavisClean) == 3 }, "3 entries from the start")
	j.Write(t, "amavis", clean(2)...)
	waitFor(t, func() bool { return first.sample(t, amavisClean) == 5 }, "2 entries followed")
	if n := first.sample(t, lines); n != 5 {
		t.Errorf("%d lines counted, want 5 (the postfix entry is not matched)", n)
	}
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	j.Write(t, "amavis", clean(4)...) // while down
	second := start()
	waitFor(t, func() bool { return second.sample(t, amavisClean) >= 4 }, "the 4 entries written while down")
	time.Sleep(300 * time.Millisecond) // three polls: nothing more may come
	if n := second.sample(t, amavisClean); n != 4 {
		t.Fatalf("the second run counted %d, want 4: 5 + %d of 9 written", n, n)
	}
	if strings.Contains(second.stderr.String(), "level=error") {
		t.Errorf("errors:\n%s", second.stderr)
	}
}
