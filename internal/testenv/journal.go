package testenv

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Journal is a folder of systemd journal files written by Debian's
// systemd-journal-remote from export-format entries, as journald would
// write them, for tests that read it with journalctl.
type Journal struct {
	Dir    string
	remote string
	seq    int
}

// NewJournal returns an empty journal folder, or skips (fails under CI)
// when journalctl or systemd-journal-remote is missing.
func NewJournal(t testing.TB, dir string) *Journal {
	t.Helper()
	RequireTool(t, "journalctl", "systemd")
	remote := RequireToolIn(t, "systemd-journal-remote", "systemd-journal-remote", "/lib/systemd", "/usr/lib/systemd")
	return &Journal{Dir: dir, remote: remote}
}

// Write appends one entry per message (one line each), logged by ident
// with PID 2800 + the entry's number, on host gw, a second apart.
func (j *Journal) Write(t testing.TB, ident string, msgs ...string) {
	t.Helper()
	var export bytes.Buffer
	for _, m := range msgs {
		j.seq++
		fmt.Fprintf(&export, "__REALTIME_TIMESTAMP=%d\nMESSAGE=%s\nSYSLOG_IDENTIFIER=%s\n_PID=%d\n_HOSTNAME=gw\n"+
			"_BOOT_ID=0123456789abcdef0123456789abcdef\n_MACHINE_ID=0123456789abcdef0123456789abcdef\n\n",
			time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(time.Duration(j.seq)*time.Second).UnixMicro(), m, ident, 2800+j.seq)
	}
	cmd := exec.Command(j.remote, "--output="+filepath.Join(j.Dir, "remote.journal"), "-")
	cmd.Stdin = &export
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}
