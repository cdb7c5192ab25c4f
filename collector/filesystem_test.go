package collector

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/statfs"
)

// fsTestMountinfo describes mounts whose mount points are folders of the
// test's root. /da is there to catch a match that is not per component,
// /ro to check "ro" in the mount options.
const fsTestMountinfo = `1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
2 1 8:2 / /data rw,relatime shared:2 - ext4 /dev/sdb1 rw
3 1 8:3 / /other\040disk rw shared:3 - xfs /dev/sdc1 rw,attr2
4 1 8:4 / /ro ro,relatime - ext4 /dev/sdd1 ro
5 1 0:5 / /unused rw - tmpfs tmpfs rw
6 1 8:5 / /da rw - ext4 /dev/sde1 rw
`

// fsTestTree builds root and proc folders; mountinfo goes to proc/<pid>.
func fsTestTree(t *testing.T, pid, mountinfo string) Paths {
	t.Helper()
	dir := t.TempDir()
	p := Paths{Proc: filepath.Join(dir, "proc"), Root: filepath.Join(dir, "root")}
	for _, d := range []string{"data/sub", "other disk", "ro", "unused", "da"} {
		if err := os.MkdirAll(filepath.Join(p.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if pid != "" {
		if err := os.MkdirAll(filepath.Join(p.Proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p.Proc, pid, "mountinfo"), []byte(mountinfo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

type fsTestSetup struct {
	c      *filesystemCollector
	logBuf *bytes.Buffer
	logMu  sync.Mutex
}

func newFSTest(t *testing.T, p Paths, timeout time.Duration, paths ...string) *fsTestSetup {
	t.Helper()
	s := &fsTestSetup{logBuf: &bytes.Buffer{}}
	cfg := &config.Config{Filesystem: config.FilesystemConfig{Paths: paths, StatTimeout: timeout}}
	c, err := newFilesystemCollector(Deps{
		Logger: log.NewLogfmtLogger(log.NewSyncWriter(fsLockedWriter{s})),
		Config: cfg,
		Paths:  p,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.c = c.(*filesystemCollector)
	return s
}

type fsLockedWriter struct{ s *fsTestSetup }

func (w fsLockedWriter) Write(b []byte) (int, error) {
	w.s.logMu.Lock()
	defer w.s.logMu.Unlock()
	return w.s.logBuf.Write(b)
}

func (s *fsTestSetup) log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.logBuf.String()
}

// fsAdapter runs one Update as a prometheus.Collector and keeps its error.
type fsAdapter struct {
	c   Collector
	err error
}

func (a *fsAdapter) Describe(chan<- *prometheus.Desc) {}
func (a *fsAdapter) Collect(ch chan<- prometheus.Metric) {
	a.err = a.c.Update(context.Background(), ch)
}

// gather runs one Update and returns the metrics by family, and its error.
func (s *fsTestSetup) gather(t *testing.T) (map[string][]fsSample, error) {
	t.Helper()
	a := &fsAdapter{c: s.c}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string][]fsSample{}
	for _, mf := range mfs {
		if mf.GetHelp() == "" {
			t.Errorf("%s has no HELP", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[mf.GetName()] = append(out[mf.GetName()], fsSample{labels, m.GetGauge().GetValue()})
		}
	}
	return out, a.err
}

type fsSample struct {
	labels map[string]string
	value  float64
}

const fsExactHelp = `# HELP heartbeat_filesystem_path_info Mount point holding each configured path; always 1.
# TYPE heartbeat_filesystem_path_info gauge
# HELP heartbeat_filesystem_readonly 1 if the file system is mounted read-only.
# TYPE heartbeat_filesystem_readonly gauge
# HELP heartbeat_filesystem_stuck 1 if statfs timed out (other metrics are then left out).
# TYPE heartbeat_filesystem_stuck gauge
`

func fsCompare(t *testing.T, c Collector, want string) {
	t.Helper()
	a := &fsAdapter{c: c}
	err := testutil.CollectAndCompare(a, strings.NewReader(want),
		"heartbeat_filesystem_path_info", "heartbeat_filesystem_readonly", "heartbeat_filesystem_stuck")
	if err != nil {
		t.Error(err)
	}
}

func TestFilesystemCollector(t *testing.T) {
	p := fsTestTree(t, "1", fsTestMountinfo)
	// Several paths on /data: the mount is reported once. /data/absent
	// and /nowhere (on /) do not exist: skipped, and / is not reported as
	// none of its configured paths exists.
	s := newFSTest(t, p, time.Second, "/data", "/data/sub", "/data/absent", "/other disk", "/ro", "/nowhere", "/data/sub/")
	fsCompare(t, s.c, fsExactHelp+`
heartbeat_filesystem_path_info{mountpoint="/data",path="/data"} 1
heartbeat_filesystem_path_info{mountpoint="/data",path="/data/sub"} 1
heartbeat_filesystem_path_info{mountpoint="/other disk",path="/other disk"} 1
heartbeat_filesystem_path_info{mountpoint="/ro",path="/ro"} 1
heartbeat_filesystem_readonly{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 0
heartbeat_filesystem_readonly{device="/dev/sdc1",fstype="xfs",mountpoint="/other disk"} 0
heartbeat_filesystem_readonly{device="/dev/sdd1",fstype="ext4",mountpoint="/ro"} 1
heartbeat_filesystem_stuck{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 0
heartbeat_filesystem_stuck{device="/dev/sdc1",fstype="xfs",mountpoint="/other disk"} 0
heartbeat_filesystem_stuck{device="/dev/sdd1",fstype="ext4",mountpoint="/ro"} 0
`)

	got, err := s.gather(t)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, name := range []string{"avail_bytes", "size_bytes", "free_bytes", "files", "files_free"} {
		samples := got["heartbeat_filesystem_"+name]
		if len(samples) != 3 {
			t.Errorf("%s: %d series, want one per mount (3)", name, len(samples))
		}
		for _, smp := range samples {
			if len(smp.labels) != 3 || smp.labels["device"] == "" || smp.labels["fstype"] == "" {
				t.Errorf("%s: labels %v", name, smp.labels)
			}
			if name == "size_bytes" && smp.value <= 0 {
				t.Errorf("%s%v = %v, want > 0", name, smp.labels, smp.value)
			}
		}
	}
	if strings.Contains(s.log(), "level=warn") || strings.Contains(s.log(), "level=error") {
		t.Errorf("unexpected log:\n%s", s.log())
	}
}

func TestFilesystemFallsBackToSelfMountinfo(t *testing.T) {
	p := fsTestTree(t, "self", fsTestMountinfo)
	s := newFSTest(t, p, time.Second, "/data")
	fsCompare(t, s.c, fsExactHelp+`
heartbeat_filesystem_path_info{mountpoint="/data",path="/data"} 1
heartbeat_filesystem_readonly{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 0
heartbeat_filesystem_stuck{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 0
`)
}

func TestFilesystemMissingMountinfoIsError(t *testing.T) {
	p := fsTestTree(t, "", "")
	s := newFSTest(t, p, time.Second, "/")
	got, err := s.gather(t)
	if err == nil || !strings.Contains(err.Error(), "mountinfo") {
		t.Errorf("err = %v, want one naming mountinfo", err)
	}
	if len(got) != 0 {
		t.Errorf("metrics sent: %v", got)
	}
}

func TestFilesystemEmptyMountinfoIsError(t *testing.T) {
	s := newFSTest(t, fsTestTree(t, "1", ""), time.Second, "/")
	if _, err := s.gather(t); err == nil {
		t.Error("no error for an empty mount table")
	}
}

// A malformed line fails the collector, but the mounts read are reported.
func TestFilesystemMalformedLine(t *testing.T) {
	s := newFSTest(t, fsTestTree(t, "1", "garbage line\n"+fsTestMountinfo), time.Second, "/data")
	got, err := s.gather(t)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v", err)
	}
	if len(got["heartbeat_filesystem_size_bytes"]) != 1 {
		t.Errorf("metrics = %v", got)
	}
}

// A broken statfs (not a hang) fails the collector; the other mounts are
// still reported.
func TestFilesystemStatfsErrorOnOneMount(t *testing.T) {
	p := fsTestTree(t, "1", fsTestMountinfo)
	s := newFSTest(t, p, time.Second, "/data", "/ro")
	real := s.c.checker.Statfs
	s.c.checker.Statfs = func(path string) (statfs.Stats, error) {
		if path == filepath.Join(p.Root, "ro") {
			return statfs.Stats{}, &fs.PathError{Op: "statfs", Path: path, Err: syscall.EACCES}
		}
		return real(path)
	}
	got, err := s.gather(t)
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("err = %v, want EACCES", err)
	}
	if smp := got["heartbeat_filesystem_size_bytes"]; len(smp) != 1 || smp[0].labels["mountpoint"] != "/data" {
		t.Errorf("size_bytes = %v, want /data only", smp)
	}
}

// A hung mount is reported stuck within the timeout, is not probed again
// while hung, and is measured again once it answers. A real stale NFS
// mount cannot be made in a test: a Statfs that blocks stands in for it.
func TestFilesystemStuckMount(t *testing.T) {
	const timeout = 100 * time.Millisecond
	const margin = 400 * time.Millisecond
	p := fsTestTree(t, "1", fsTestMountinfo)
	s := newFSTest(t, p, timeout, "/data", "/data/sub", "/ro")
	real := s.c.checker.Statfs
	hung := filepath.Join(p.Root, "data")
	gate := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	var calls atomic.Int32
	s.c.checker.Statfs = func(path string) (statfs.Stats, error) {
		if path == hung {
			calls.Add(1)
			<-gate
		}
		return real(path)
	}
	stuckWant := fsExactHelp + `
heartbeat_filesystem_path_info{mountpoint="/ro",path="/ro"} 1
heartbeat_filesystem_readonly{device="/dev/sdd1",fstype="ext4",mountpoint="/ro"} 1
heartbeat_filesystem_stuck{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 1
heartbeat_filesystem_stuck{device="/dev/sdd1",fstype="ext4",mountpoint="/ro"} 0
`
	start := time.Now()
	fsCompare(t, s.c, stuckWant)
	if d := time.Since(start); d > timeout+margin {
		t.Errorf("scrape took %v with a hung mount, timeout %v", d, timeout)
	}
	for range 5 {
		start := time.Now()
		got, err := s.gather(t)
		if err != nil {
			t.Errorf("a stuck mount failed the collector: %v", err)
		}
		if d := time.Since(start); d > timeout+margin {
			t.Errorf("scrape took %v with a hung mount, timeout %v", d, timeout)
		}
		if smp := got["heartbeat_filesystem_size_bytes"]; len(smp) != 1 {
			t.Errorf("size_bytes = %v, want /ro only", smp)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("statfs of the hung mount called %d times over 6 scrapes, want 1", n)
	}
	if n := strings.Count(s.log(), "level=warn"); n != 1 || !strings.Contains(s.log(), `mountpoint=/data`) {
		t.Errorf("want one warning naming /data, log:\n%s", s.log())
	}

	release()
	for deadline := time.Now().Add(5 * time.Second); s.c.checker.Outstanding() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("hung probe did not finish after release")
		}
		time.Sleep(time.Millisecond)
	}
	fsCompare(t, s.c, fsExactHelp+`
heartbeat_filesystem_path_info{mountpoint="/data",path="/data"} 1
heartbeat_filesystem_path_info{mountpoint="/data",path="/data/sub"} 1
heartbeat_filesystem_path_info{mountpoint="/ro",path="/ro"} 1
heartbeat_filesystem_readonly{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 0
heartbeat_filesystem_readonly{device="/dev/sdd1",fstype="ext4",mountpoint="/ro"} 1
heartbeat_filesystem_stuck{device="/dev/sdb1",fstype="ext4",mountpoint="/data"} 0
heartbeat_filesystem_stuck{device="/dev/sdd1",fstype="ext4",mountpoint="/ro"} 0
`)
	if n := calls.Load(); n != 2 {
		t.Errorf("statfs of the mount called %d times, want 2: measured again after recovery", n)
	}
	if n := strings.Count(s.log(), "level=info"); n != 1 || !strings.Contains(s.log(), "answers statfs again") {
		t.Errorf("want one recovery message, log:\n%s", s.log())
	}
}

// A reload hands the Checker (and the mounts it knows hung) on.
func TestFilesystemReloadKeepsChecker(t *testing.T) {
	c, err := newFilesystemCollector(Deps{Logger: log.NewNopLogger(), Config: &config.Config{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fc := c.(*filesystemCollector)
	if fc.checker == nil || fc.timeout != config.DefaultStatTimeout {
		t.Fatalf("checker %v, timeout %v", fc.checker, fc.timeout)
	}
	next, err := newFilesystemCollector(Deps{Logger: log.NewNopLogger(), Config: &config.Config{}}, fc)
	if err != nil {
		t.Fatal(err)
	}
	if next.(*filesystemCollector).checker != fc.checker {
		t.Error("the successor got a Checker of its own: a hung mount would be probed again")
	}
}
