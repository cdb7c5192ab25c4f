package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

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
	clean := regexp.MustCompile(`(?m)^heartbeat_messages_total\{source="amavis",verdict="clean"\} (\S+)$`)
	counted := func(p *process) int {
		m := clean.FindStringSubmatch(p.metrics(t))
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

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
