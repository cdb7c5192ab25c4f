package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// TestStateDirFullCountsOnce: the state folder's file system fills up,
// 5,000 lines are appended, the exporter is killed (-9), space is freed and
// it starts again: the two runs together count the 6,000 lines written
// exactly once. Before, the first run published the 5,000 lines whose
// position it could not save and the second counted them again (11,000).
func TestStateDirFullCountsOnce(t *testing.T) {
	testenv.RequireRoot(t, "mounts a small tmpfs as the state folder and fills it")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", state).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", state).Run() })

	root := filepath.Join(dir, "root")
	mailLog := filepath.Join(root, "var/log/mail.log")
	cfg := filepath.Join(dir, "heartbeat.yml")
	writeFile(t, cfg, "logs:\n  - path: /var/log/mail.log\n    presets: [errors]\n    start_at: beginning\n    poll_interval: 100ms\n")
	appendLines := func(from, n int) {
		t.Helper()
		var b bytes.Buffer
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "Nov 30 12:00:00 gw postfix/smtpd[1]: line %d error\n", i)
		}
		f, err := os.OpenFile(mailLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(mailLog), 0o755); err != nil {
		t.Fatal(err)
	}
	start := func() *process {
		return startExporter(t, demoTree+"/proc", demoTree+"/sys", root, "--config.file="+cfg, "--state.dir="+state)
	}
	lines := `heartbeat_log_lines_total{log="/var/log/mail.log"}`
	errs := `heartbeat_log_errors_total{log="/var/log/mail.log"}`

	appendLines(0, 1000)
	first := start()
	waitFor(t, func() bool { return first.sample(t, lines) == 1000 }, "the first 1,000 lines")

	filler := filepath.Join(state, "filler")
	fillUp(t, filler)
	appendLines(1000, 5000)
	waitFor(t, func() bool {
		return first.sample(t, `heartbeat_log_lines_held_back{log="/var/log/mail.log"}`) == 5000 &&
			first.sample(t, `heartbeat_log_state_save_failures_total{log="/var/log/mail.log"}`) > 0
	}, "the 5,000 lines to be held back")
	if n := first.sample(t, lines); n != 1000 {
		t.Errorf("lines published while their position cannot be saved: %d, want 1000", n)
	}
	if !strings.Contains(first.stderr.String(), "cannot save log positions") {
		t.Error("no error logged for the failed save")
	}
	firstErrors := first.sample(t, errs)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	second := start()
	waitFor(t, func() bool { return second.sample(t, lines) == 5000 }, "the second run to count the 5,000 lines")
	if total := firstErrors + second.sample(t, errs); total != 6000 {
		t.Errorf("error lines counted by the two runs: %d, want 6000", total)
	}
}

// fillUp writes path until its file system is full.
func fillUp(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}
