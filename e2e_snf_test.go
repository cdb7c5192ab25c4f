package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSNFCountsOnceAcrossReloadAndRestart runs the binary on an appended
// SNF status file: a reload with a changed SNF config, then a restart on
// the same --state.dir with snapshots written while it was down. Every
// snapshot counts exactly once over the three collectors' lives.
func TestSNFCountsOnceAcrossReloadAndRestart(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	status := filepath.Join(root, "var/spool/snfilter/n1.status.minute.log.xml")
	if err := os.MkdirAll(filepath.Dir(status), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "heartbeat.yml")
	config := func(top int) {
		writeFile(t, cfg, fmt.Sprintf("snf:\n  - path: /var/spool/snfilter/*.status.minute.log.xml\n    rule_histogram_top: %d\n", top))
	}
	// snapshot i reports i messages
	appendSnaps := func(from, to int) {
		f, err := os.OpenFile(status, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i := from; i < to; i++ {
			fmt.Fprintf(f, "<stats nodeid='n1' basetime='20261123%06d' elapsed='60000' class='minute'>\n"+
				"<counters><m c='%d'/><s c='0'/><h c='%d'/></counters></stats>\n", 100000+i*100, i, i)
		}
	}
	messages := func(p *process) int { return p.sample(t, `heartbeat_snf_events_total{event="messages",node="n1"}`) }
	start := func() *process {
		return startExporter(t, demoTree+"/proc", demoTree+"/sys", root, "--config.file="+cfg, "--state.dir="+state, "--web.enable-lifecycle")
	}

	config(0)
	appendSnaps(1, 4) // 1+2+3
	first := start()
	if n := messages(first); n != 6 {
		t.Fatalf("first scrape: %d messages, want 6", n)
	}
	config(5) // a changed config: the counters go on, nothing counted again
	if code := postReload(t, first.addr); code != http.StatusOK {
		t.Fatalf("reload answered %d", code)
	}
	appendSnaps(4, 5)
	if n := messages(first); n != 10 {
		t.Fatalf("after the reload: %d messages, want 10 (6 before it, and the snapshot of 4 written since)", n)
	}
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	appendSnaps(5, 7) // while down: 5+6
	second := start()
	if n := messages(second); n != 11 {
		t.Fatalf("after the restart: %d messages, want 11 (the two snapshots written while down)", n)
	}
}
