//go:build unix

package textfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// scanWithin scans and fails if the scan has not returned after a generous
// wait: opening a FIFO with no writer blocks for ever.
func scanWithin(t *testing.T, c *Cache, dirs []Dir) *Snapshot {
	t.Helper()
	done := make(chan *Snapshot, 1)
	go func() { done <- c.Scan(dirs) }()
	select {
	case s := <-done:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("scan blocked")
		return nil
	}
}

func fileErr(s *Snapshot, suffix string) string {
	for _, f := range s.Files {
		if strings.HasSuffix(f.Path, suffix) && f.Err != nil {
			return f.Err.Error()
		}
	}
	return ""
}

// A FIFO named *.prom is refused without blocking; the other files are
// served.
func TestCacheFIFORefused(t *testing.T) {
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "a.prom"), "a 1\n")
	if err := unix.Mkfifo(filepath.Join(dir, "x.prom"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := scanWithin(t, NewCache(Options{}), oneDir(dir))
	if got := values(t, s); got != "a=1" {
		t.Errorf("values %q", got)
	}
	if msg := fileErr(s, "x.prom"); msg != "is a FIFO, not a regular file" {
		t.Errorf("FIFO error %q", msg)
	}
}

// A symbolic link is followed to a regular file inside a scanned folder,
// refused when it leads elsewhere (unless allowed) or to a non-file.
func TestCacheSymlinkPolicy(t *testing.T) {
	dir, other, outside := t.TempDir(), t.TempDir(), t.TempDir()
	writeAtomic(t, filepath.Join(dir, "real.data"), "inside 1\n")
	writeAtomic(t, filepath.Join(other, "o.data"), "other 2\n")
	writeAtomic(t, filepath.Join(outside, "secret"), "secret 3\n")
	for name, target := range map[string]string{
		"in.prom":       filepath.Join(dir, "real.data"),
		"relative.prom": "real.data",
		"other.prom":    filepath.Join(other, "o.data"),
		"out.prom":      filepath.Join(outside, "secret"),
		"dots.prom":     filepath.Join(dir, "..", filepath.Base(outside), "secret"),
		"proc.prom":     "/proc/self/status",
		"dev.prom":      "/dev/zero",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	dirs := []Dir{{Name: "/tf", Path: dir}, {Name: "/other", Path: other}}
	s := scanWithin(t, NewCache(Options{}), dirs)
	if got := values(t, s); got != "inside=1 other=2" {
		t.Errorf("served %q, want only the links inside the folders", got)
	}
	for _, name := range []string{"out.prom", "proc.prom"} {
		if msg := fileErr(s, name); !strings.Contains(msg, "outside the textfile folders") {
			t.Errorf("%s: %q", name, msg)
		}
	}
	if msg := fileErr(s, "dev.prom"); !strings.Contains(msg, "outside the textfile folders") {
		t.Errorf("dev.prom: %q", msg)
	}

	s = scanWithin(t, NewCache(Options{FollowSymlinksOutside: true}), dirs)
	if got := values(t, s); !strings.Contains(got, "secret=3") {
		t.Errorf("allowed outside: served %q", got)
	}
	if msg := fileErr(s, "dev.prom"); msg != "is a character device, not a regular file" {
		t.Errorf("allowed outside, /dev/zero: %q", msg)
	}
}
