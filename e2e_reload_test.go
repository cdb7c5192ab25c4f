package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// The binary on a copy of the demo tree, with the host's /proc and one
// real watched process that has restarted once: a SIGHUP with the same
// config, then one with a changed config that keeps every source, and no
// counter goes down or disappears, services' restarts and CPU included
// (restarts_total went 1 -> 0 at each SIGHUP, issue 13 item 3).
func TestSIGHUPKeepsEveryCounter(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(demoTree)); err != nil {
		t.Fatal(err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	child := filepath.Join(dir, "hb-e2e-child")
	raw, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, child, string(raw))
	if err := os.Chmod(child, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(child, "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	demoCfg, err := os.ReadFile(filepath.Join(demoTree, "heartbeat.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "heartbeat.yml")
	writeConfig := func(poll string) {
		text := strings.Replace(string(demoCfg), "  poll_interval: 5s\n  watch:\n",
			"  poll_interval: "+poll+"\n  watch:\n    - {name: e2e_child, exe: "+child+"}\n", 1)
		if text == string(demoCfg) {
			t.Fatal("the demo config's services section changed shape")
		}
		writeFile(t, cfg, text)
	}
	writeConfig("50ms")
	first := run()
	p := startExporter(t, "/proc", "/sys", filepath.Join(dir, "root"), "--config.file="+cfg)
	restarts := `heartbeat_service_restarts_total{service="e2e_child"}`
	waitFor(t, func() bool { return p.sample(t, `heartbeat_service_up{service="e2e_child"}`) == 1 }, "the child seen up")
	_ = first.Process.Kill()
	_ = first.Wait()
	waitFor(t, func() bool { return p.sample(t, `heartbeat_service_up{service="e2e_child"}`) == 0 }, "the child seen down")
	run()
	waitFor(t, func() bool { return p.sample(t, restarts) == 1 }, "the restart counted")
	testenv.AppendFile(t, filepath.Join(dir, "root/var/log/mail.log"),
		"Nov 23 10:00:05 gw postfix/smtpd[1201]: fatal: open database /etc/postfix/x.db: No such file or directory\n")

	before := counterSamples(p.metrics(t))
	if len(before) < 20 {
		t.Fatalf("only %d counters served", len(before))
	}
	for i, poll := range []string{"50ms", "70ms"} { // same config, then a changed one
		writeConfig(poll)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			return strings.Count(p.stderr.String(), "configuration reloaded on SIGHUP") == i+1
		}, "the reload")
		after := counterSamples(p.metrics(t))
		for k, v := range before {
			w, ok := after[k]
			switch {
			case !ok:
				t.Errorf("SIGHUP %d (poll %s): %s gone", i+1, poll, k)
			case w < v:
				t.Errorf("SIGHUP %d (poll %s): %s went down from %v to %v", i+1, poll, k, v, w)
			}
		}
		if got := p.sample(t, restarts); got != 1 {
			t.Errorf("SIGHUP %d: %s = %d, want 1", i+1, restarts, got)
		}
		before = after
	}
}
