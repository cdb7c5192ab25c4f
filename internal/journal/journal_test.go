package journal

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// journalDir wraps testenv.Journal for entries logged by amavis.
type journalDir struct {
	t   *testing.T
	dir string
	j   *testenv.Journal
}

func newJournalDir(t *testing.T) *journalDir {
	dir := t.TempDir()
	return &journalDir{t: t, dir: dir, j: testenv.NewJournal(t, dir)}
}

func (j *journalDir) write(msgs ...string) { j.t.Helper(); j.j.Write(j.t, "amavis", msgs...) }

// collect polls f until it has handed over want lines (or 5 s passed).
func collect(t *testing.T, f *Follower, want int) []string {
	t.Helper()
	var lines []string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := f.Poll(func(l []byte, _ bool) { lines = append(lines, string(l)) }); err != nil {
			t.Fatal(err)
		}
		if len(lines) >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // and nothing more comes
	if _, err := f.Poll(func(l []byte, _ bool) { lines = append(lines, string(l)) }); err != nil {
		t.Fatal(err)
	}
	if len(lines) != want {
		t.Fatalf("%d lines, want %d: %q", len(lines), want, lines)
	}
	return lines
}

func TestFollowResumeAndStartAtEnd(t *testing.T) {
	j := newJournalDir(t)
	j.write("one", "two", "three")

	f := New(Options{Directory: j.dir}, "")
	lines := collect(t, f, 3)
	if !strings.HasSuffix(lines[0], " gw amavis[2801]: one") || !strings.HasSuffix(lines[1], "amavis[2802]: two") {
		t.Errorf("lines: %q", lines)
	}
	j.write("four") // followed while running
	if got := collect(t, f, 1); !strings.HasSuffix(got[0], ": four") {
		t.Errorf("followed: %q", got)
	}
	saved := f.Cursor()
	f.Close()

	j.write("five", "six") // while stopped
	g := New(Options{Directory: j.dir, StartAtEnd: true}, saved)
	defer g.Close()
	if got := collect(t, g, 2); !strings.HasSuffix(got[0], ": five") || !strings.HasSuffix(got[1], ": six") {
		t.Errorf("after the cursor: %q", got)
	}

	h := New(Options{Directory: j.dir, StartAtEnd: true}, "") // no cursor: from the end
	defer h.Close()
	// "The end" is where journalctl finds it once started, which a loaded
	// machine may delay past a first write: write until one arrives, then
	// check that nothing from before the start came with it.
	got := followFromEnd(t, j, h)
	for _, l := range got {
		if !strings.Contains(l, ": seven-") {
			t.Errorf("from the end, an entry from before the start: %q", got)
		}
	}
}

// followFromEnd writes "seven-N" entries until h hands one over.
func followFromEnd(t *testing.T, j *journalDir, h *Follower) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; len(got) == 0 && time.Now().Before(deadline); i++ {
		j.write(fmt.Sprintf("seven-%d", i))
		for end := time.Now().Add(500 * time.Millisecond); len(got) == 0 && time.Now().Before(end); {
			if _, err := h.Poll(func(l []byte, _ bool) { got = append(got, string(l)) }); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(got) == 0 {
		t.Fatal("from the end: no entry written after the start was followed")
	}
	return got
}

func TestMatchesAndTruncation(t *testing.T) {
	j := newJournalDir(t)
	j.write("short", strings.Repeat("x", 3000))
	f := New(Options{Directory: j.dir, Matches: []string{"_PID=2802"}, MaxLineBytes: 1024}, "")
	defer f.Close()
	var truncated int
	var lines []string
	deadline := time.Now().Add(5 * time.Second)
	for len(lines) == 0 && time.Now().Before(deadline) {
		if _, err := f.Poll(func(l []byte, tr bool) {
			lines = append(lines, string(l))
			if tr {
				truncated++
			}
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(lines) != 1 || truncated != 1 || len(lines[0]) != 1024 {
		t.Fatalf("%d lines (%d truncated), first %d bytes", len(lines), truncated, len(lines[0]))
	}
}

// A journalctl that fails is an error naming what it said, and is started
// again at the next Poll.
func TestJournalctlFailure(t *testing.T) {
	script := filepath.Join(t.TempDir(), "journalctl")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho no journal here >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := New(Options{Journalctl: script, RetryAfter: 50 * time.Millisecond}, "")
	defer f.Close()
	var errs []error
	for i := 0; i < 500 && len(errs) < 2; i++ {
		if _, err := f.Poll(func([]byte, bool) {}); err != nil {
			errs = append(errs, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(errs) < 2 { // the second error is the second run's
		t.Fatalf("errors %v, want one per run, two runs", errs)
	}
	if !strings.Contains(errs[0].Error(), "no journal here") || !strings.Contains(errs[0].Error(), "exit status 3") {
		t.Errorf("err = %v", errs[0])
	}
}

func TestParseEntry(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"__CURSOR":"c","__REALTIME_TIMESTAMP":"0","MESSAGE":"hi","SYSLOG_IDENTIFIER":"postfix/smtp","_PID":"7","_HOSTNAME":"gw"}`,
			"gw postfix/smtp[7]: hi"},
		{`{"__CURSOR":"c","MESSAGE":[104,105,255],"_COMM":"amavisd","SYSLOG_PID":"9","_PID":"8"}`, "amavisd[9]: hi\xff"},
		{`{"__CURSOR":"c","MESSAGE":["first","second"],"SYSLOG_IDENTIFIER":"x"}`, "x: first"},
		{`{"__CURSOR":"c","MESSAGE":null}`, ""},
		{`{"__CURSOR":"c","MESSAGE":"two\nlines\r"}`, "two lines "},
	} {
		e, err := ParseEntry([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got := string(e.AppendLine(nil))
		if _, after, ok := strings.Cut(got, " 00:00:00 "); ok { // the epoch, in any zone
			got = after
		}
		if !strings.HasSuffix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := ParseEntry([]byte(`{"MESSAGE":"x"}`)); err != ErrNoCursor {
		t.Errorf("no cursor: %v", err)
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(`{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1763892000000000","MESSAGE":"m","SYSLOG_IDENTIFIER":"amavis","_PID":"1"}`))
	f.Add([]byte(`{"__CURSOR":"c","MESSAGE":[1,2,300,-1],"_COMM":["a","b"]}`))
	f.Add([]byte(`{"__CURSOR":"c","MESSAGE":[[1],{"x":1}],"__REALTIME_TIMESTAMP":"-99999999999999999"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := ParseEntry(in)
		if err != nil {
			return
		}
		if e.Cursor == "" {
			t.Fatal("entry without a cursor")
		}
		line := e.AppendLine(nil)
		if bytes.ContainsAny(line, "\n\r") {
			t.Fatalf("line %q has a line break", line)
		}
	})
}

// BenchmarkEntryToLine is the per-entry work on top of journalctl's:
// decoding its JSON and building the line.
func BenchmarkEntryToLine(b *testing.B) {
	raw := []byte(`{"__CURSOR":"s=7807f44a7d944f229123f0ba263b2a1f;i=1;b=0123456789abcdef0123456789abcdef;m=0;t=644401c150800;x=3de4e315031469ae",` +
		`"__REALTIME_TIMESTAMP":"1763892000000000","__MONOTONIC_TIMESTAMP":"0","_BOOT_ID":"0123456789abcdef0123456789abcdef",` +
		`"SYSLOG_IDENTIFIER":"amavis","_PID":"2812","_HOSTNAME":"gw",` +
		`"MESSAGE":"(02812-01) Passed CLEAN {RelayedInbound}, [192.0.2.10]:40312 [192.0.2.10] <alice@example.org> -> <bob@example.com>, Queue-ID: 4Xk2Lq1zN0z9sQ, Hits: 1.249, size: 3310, 478 ms"}`)
	b.SetBytes(int64(len(raw)))
	var line []byte
	for b.Loop() {
		e, err := ParseEntry(raw)
		if err != nil {
			b.Fatal(err)
		}
		line = e.AppendLine(line[:0])
	}
}

// journalctl dies with the exporter even when the exporter cannot close it
// (SIGKILL): the test runs itself as the "exporter", with a stand-in
// journalctl that records its PID and sleeps.
func TestJournalctlDiesWithExporter(t *testing.T) {
	if script := os.Getenv("JOURNAL_TEST_SCRIPT"); script != "" {
		f := New(Options{Journalctl: script}, "")
		if _, err := f.Poll(func([]byte, bool) {}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // killed before
		return
	}
	dir := t.TempDir()
	pidFile, script := filepath.Join(dir, "pid"), filepath.Join(dir, "journalctl")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalctlDiesWithExporter$")
	cmd.Env = append(os.Environ(), "JOURNAL_TEST_SCRIPT="+script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for i := 0; i < 500 && pid == 0; i++ {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		_ = cmd.Process.Kill()
		t.Fatal("the stand-in journalctl did not start")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for i := 0; i < 500; i++ {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") { // gone, or a zombie not reaped yet
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("journalctl (pid %d) outlived the killed exporter", pid)
}
