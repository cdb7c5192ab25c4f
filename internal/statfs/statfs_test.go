package statfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A real hung NFS mount cannot be produced in a test (it needs an NFS
// server that stops answering, and root); the hang is acted out by a
// Statfs or Lstat that blocks until released.

const (
	timeout = 100 * time.Millisecond
	margin  = 400 * time.Millisecond // generous for -race on a busy machine
)

// hangingChecker returns a Checker whose Statfs blocks until release is
// called, and a count of its calls.
func hangingChecker(t *testing.T) (c *Checker, calls *atomic.Int32, release func()) {
	t.Helper()
	c = New()
	calls = new(atomic.Int32)
	gate := make(chan struct{})
	c.Statfs = func(string) (Stats, error) {
		calls.Add(1)
		<-gate
		return Stats{SizeBytes: 100, AvailBytes: 50, FreeBytes: 60, Files: 10, FilesFree: 5}, nil
	}
	c.Lstat = func(string) (fs.FileInfo, error) { return nil, nil }
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // never leave a goroutine hanging after the test
	return c, calls, release
}

func waitIdle(t *testing.T, c *Checker) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Outstanding() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("probe still outstanding after release")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCheckRealFileSystem(t *testing.T) {
	dir := t.TempDir()
	c := New()
	here, absent := filepath.Join(dir, "here"), filepath.Join(dir, "absent")
	if err := os.Mkdir(here, 0o755); err != nil {
		t.Fatal(err)
	}
	r := c.Check(context.Background(), dir, []string{here, absent}, time.Second)
	if r.Stuck || r.Err != nil || !r.Measured {
		t.Fatalf("Check = %+v", r)
	}
	if r.Lstat[here] != nil || !errors.Is(r.Lstat[absent], fs.ErrNotExist) {
		t.Errorf("Lstat = %v", r.Lstat)
	}
	if r.Stats.SizeBytes == 0 || r.Stats.SizeBytes < r.Stats.FreeBytes || r.Stats.FreeBytes < r.Stats.AvailBytes {
		t.Errorf("implausible stats %+v", r.Stats)
	}
	if c.Outstanding() != 0 {
		t.Error("probe still registered after answering")
	}
}

func TestCheckNoPathExistsSkipsStatfs(t *testing.T) {
	c := New()
	c.Statfs = func(string) (Stats, error) { t.Error("statfs called"); return Stats{}, nil }
	dir := t.TempDir()
	r := c.Check(context.Background(), dir, []string{filepath.Join(dir, "no")}, time.Second)
	if r.Stuck || r.Measured {
		t.Errorf("Check = %+v", r)
	}
}

func TestCheckStatfsError(t *testing.T) {
	dir := t.TempDir()
	r := New().Check(context.Background(), filepath.Join(dir, "gone"), []string{dir}, time.Second)
	if !r.Measured || !errors.Is(r.Err, fs.ErrNotExist) {
		t.Errorf("Check = %+v", r)
	}
}

func TestHungMountIsReportedNotWaitedFor(t *testing.T) {
	c, calls, release := hangingChecker(t)
	ctx := context.Background()

	start := time.Now()
	r := c.Check(ctx, "/nfs", []string{"/nfs/x"}, timeout)
	if d := time.Since(start); d < timeout || d > timeout+margin {
		t.Errorf("Check took %v, want about %v", d, timeout)
	}
	if !r.Stuck || !r.BecameStuck || r.Err != nil || r.Measured {
		t.Fatalf("first Check = %+v, want stuck, became stuck", r)
	}

	// While the probe hangs, further checks answer at once and start no
	// new probe.
	for i := range 5 {
		start := time.Now()
		r := c.Check(ctx, "/nfs", []string{"/nfs/x"}, timeout)
		if !r.Stuck || r.BecameStuck {
			t.Fatalf("check %d = %+v, want stuck, not newly", i, r)
		}
		if d := time.Since(start); d > margin {
			t.Errorf("check %d waited %v for a known hung mount", i, d)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("statfs called %d times while hung, want 1", n)
	}
	if c.Outstanding() != 1 {
		t.Errorf("Outstanding = %d, want 1", c.Outstanding())
	}

	// Another mount is not held up by the hung one... but uses the same
	// hanging Statfs here, so only check it gets its own probe.
	_ = c.Check(ctx, "/other", []string{"/other"}, time.Millisecond)
	if n := calls.Load(); n != 2 {
		t.Errorf("statfs calls = %d, want 2 after probing another mount", n)
	}

	release()
	waitIdle(t, c)
	r = c.Check(ctx, "/nfs", []string{"/nfs/x"}, timeout)
	if r.Stuck || !r.Recovered || !r.Measured || r.Stats.SizeBytes != 100 {
		t.Fatalf("after release Check = %+v, want measured, recovered", r)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("statfs calls = %d, want 3: the mount is probed afresh", n)
	}
	r = c.Check(ctx, "/nfs", []string{"/nfs/x"}, timeout)
	if r.Stuck || r.Recovered {
		t.Errorf("second answer = %+v, want no transition", r)
	}
}

// A hang in lstat (the configured folder on the hung mount) is caught too.
func TestHungLstat(t *testing.T) {
	c := New()
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	c.Lstat = func(string) (fs.FileInfo, error) { <-gate; return nil, nil }
	r := c.Check(context.Background(), "/nfs", []string{"/nfs/x"}, timeout)
	if !r.Stuck || !r.BecameStuck {
		t.Errorf("Check = %+v", r)
	}
}

// The caller's context ends the wait early, without declaring the mount
// stuck before its time; the probe keeps running and is joined later.
func TestContextEndsWaitEarly(t *testing.T) {
	c, calls, release := hangingChecker(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := c.Check(ctx, "/nfs", []string{"/nfs/x"}, time.Minute)
	if !r.Stuck || r.BecameStuck || !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("Check = %+v", r)
	}
	go func() { time.Sleep(20 * time.Millisecond); release() }()
	r = c.Check(context.Background(), "/nfs", []string{"/nfs/x"}, time.Minute)
	if r.Stuck || r.Recovered || !r.Measured {
		t.Fatalf("joined Check = %+v", r)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("statfs called %d times, want 1 (the probe was joined)", n)
	}
}

// A probe joined by a check for other paths answers only for its own.
func TestJoinedProbeOtherPaths(t *testing.T) {
	c, _, release := hangingChecker(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Check(ctx, "/m", []string{"/m/a"}, time.Minute)
	go func() { time.Sleep(20 * time.Millisecond); release() }()
	r := c.Check(context.Background(), "/m", []string{"/m/a", "/m/b"}, time.Minute)
	if _, ok := r.Lstat["/m/b"]; ok || r.Lstat["/m/a"] != nil {
		t.Errorf("Lstat = %v", r.Lstat)
	}
}

// Concurrent scrapes of one hung mount share one probe (run with -race).
func TestConcurrentChecksShareProbe(t *testing.T) {
	c, calls, release := hangingChecker(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := c.Check(context.Background(), "/nfs", []string{"/nfs"}, timeout); !r.Stuck {
				t.Errorf("Check = %+v", r)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("statfs called %d times, want 1", n)
	}
	release()
	waitIdle(t, c)
}
