package proctrack

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

func TestParsePid(t *testing.T) {
	for in, want := range map[string]int{"1234\n": 1234, "  77  \n": 77, "88": 88, "5\nextra": 5} {
		if got, err := ParsePid([]byte(in)); err != nil || got != want {
			t.Errorf("ParsePid(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", "abc", "-4", "0", "99999999999", "12 34"} {
		if _, err := ParsePid([]byte(in)); err == nil {
			t.Errorf("ParsePid(%q) accepted", in)
		}
	}
}

func FuzzParsePid(f *testing.F) {
	for _, s := range []string{"1\n", " 42 ", "x", "", "4194304"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		pid, err := ParsePid(raw)
		if err == nil && (pid <= 0 || pid > 1<<22) {
			t.Fatalf("ParsePid(%q) = %d", raw, pid)
		}
	})
}

func TestJoinCmdline(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/sbin/clamd\x00--foreground=true\x00": "/usr/sbin/clamd --foreground=true",
		"amavisd (master)":                         "amavisd (master)",
		"":                                         "",
	} {
		if got := JoinCmdline([]byte(in)); got != want {
			t.Errorf("JoinCmdline(%q) = %q", in, got)
		}
	}
}

func TestCommMatchesTruncatedNames(t *testing.T) {
	s := Spec{Process: "very-long-daemon-name"}
	if !s.commMatches("very-long-daemo") || s.commMatches("very-long-daemon-name") {
		t.Error("names longer than 15 characters are not compared on their first 15")
	}
	if !(&Spec{}).commMatches("anything") {
		t.Error("no process name should match any process")
	}
}

func p(pid int, start, utime, stime uint64) *proc {
	return &proc{key: procKey{pid: pid, start: start}, utime: utime, stime: stime, rssBytes: 4096}
}

// The restart rules on made-up polls: the first sighting is no restart,
// a new main process is, coming back after being down is, a child coming
// and going is not; CPU of exited processes is carried.
func TestServiceUpdate(t *testing.T) {
	snap := &Snapshot{BootTime: 1000}
	var sv Service
	now := time.Unix(0, 0)
	steps := []struct {
		name      string
		procs     []*proc
		up        bool
		restarts  uint64
		start     float64
		userCPU   float64
		processes int
	}{
		{"first sighting", []*proc{p(10, 500, 100, 10), p(11, 600, 50, 5)}, true, 0, 1005, 1.5, 2},
		{"a child exits", []*proc{p(10, 500, 200, 20)}, true, 0, 1005, 2.5, 1},
		{"a new child", []*proc{p(10, 500, 200, 20), p(12, 900, 1, 0)}, true, 0, 1005, 2.51, 2},
		{"main replaced", []*proc{p(13, 950, 0, 0), p(12, 900, 1, 0)}, true, 1, 1009, 2.51, 2},
		{"down", nil, false, 1, 0, 2.51, 0},
		{"back up", []*proc{p(14, 1000, 0, 0)}, true, 2, 1010, 2.51, 1},
		{"same again", []*proc{p(14, 1000, 0, 0)}, true, 2, 1010, 2.51, 1},
	}
	for _, s := range steps {
		sv.Update(snap, s.procs, now)
		if sv.Up != s.up || sv.Restarts != s.restarts || sv.StartTime != s.start || sv.Processes != s.processes {
			t.Errorf("%s: up %v restarts %d start %v processes %d; want %v %d %v %d",
				s.name, sv.Up, sv.Restarts, sv.StartTime, sv.Processes, s.up, s.restarts, s.start, s.processes)
		}
		if d := sv.UserCPU - s.userCPU; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: user CPU %v, want %v", s.name, sv.UserCPU, s.userCPU)
		}
	}
}

func TestServiceDownAtFirstPollThenUpIsRestart(t *testing.T) {
	var sv Service
	snap := &Snapshot{}
	sv.Update(snap, nil, time.Time{})
	sv.Update(snap, []*proc{p(5, 1, 0, 0)}, time.Time{})
	if sv.Restarts != 1 {
		t.Errorf("restarts %d: a service that comes up after being down at start is a (re)start", sv.Restarts)
	}
}

func TestMatchCmdline(t *testing.T) {
	s := &Scanner{procPath: "/nonexistent", cache: map[procKey]*proc{}}
	master := &proc{key: procKey{pid: 1}, comm: "amavisd (master", cmdline: "amavisd (master)", haveCmd: true}
	other := &proc{key: procKey{pid: 2}, comm: "bash", cmdline: "bash -c amavisd", haveCmd: true}
	snap := &Snapshot{procs: []*proc{master, other}, scanner: s}
	got, err := snap.Match(&Spec{Cmdline: regexp.MustCompile(`^(\S*/)?amavisd(-new)?( |$)`)})
	if err != nil || len(got) != 1 || got[0] != master {
		t.Errorf("Match = %v, %v; want the master only", got, err)
	}
}

// Without the privilege to read another user's /proc/PID/exe, the first
// argument of the command line stands in for it.
func TestExeFallsBackToArgv0(t *testing.T) {
	if os.Getenv(exeTestEnv) != "" {
		snap, err := mustScanner(t).Scan()
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(os.Getenv(exeTestEnv))
		got, err := snap.Match(&Spec{Exe: os.Getenv(exeTestEnv + "_EXE"), Process: "sleep"})
		if err != nil || len(got) != 1 || got[0].key.pid != pid {
			t.Fatalf("Match by exe as nobody = %v, %v; want pid %d", got, err, pid)
		}
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root: the test runs a root process and looks at it as user nobody")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	sleep, _ = filepath.EvalSymlinks(sleep)
	child := exec.Command(sleep, "300")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	testenv.RerunAsNobody(t, "TestExeFallsBackToArgv0",
		exeTestEnv+"="+strconv.Itoa(child.Process.Pid), exeTestEnv+"_EXE="+sleep)
}

const exeTestEnv = "HB_PROCTRACK_EXE_PID"

func mustScanner(t *testing.T) *Scanner {
	t.Helper()
	s, err := NewScanner("/proc")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A process seen between fork and exec (still the supervisor's shell) is
// looked at again once it has exec'd: same PID, same start time, another
// name.
func TestScannerRereadsAfterExec(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	sleep, _ = filepath.EvalSymlinks(sleep)
	// The shell waits for the test, then execs sleep in the same process.
	cmd := exec.Command("sh", "-c", `while [ ! -e "$1" ]; do sleep 0.01; done; exec "$2" 300`, "sh", ready, sleep)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	s := mustScanner(t)
	spec := &Spec{Exe: sleep}
	match := func() bool {
		snap, err := s.Scan()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := snap.Match(spec)
		for _, p := range got {
			if p.key.pid == cmd.Process.Pid {
				return true
			}
		}
		return false
	}
	if match() {
		t.Fatal("the shell matched before its exec")
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !match() {
		if time.Now().After(deadline) {
			t.Fatal("the process never matched after its exec: exe kept from before it")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
