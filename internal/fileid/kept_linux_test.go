package fileid

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A /proc file is opened once and read again from its start: the same
// descriptor, fresh content each time (/proc/uptime moves).
func TestKeptProcFileReadAgainFresh(t *testing.T) {
	k := Keep("/proc/uptime", 1<<10)
	defer k.Close()
	first, err := k.Read()
	if err != nil {
		t.Skip("no /proc/uptime:", err)
	}
	fd := k.fd
	if fd < 0 {
		t.Fatal("a procfs file was not kept open")
	}
	var second []byte
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if second, err = k.Read(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) || time.Now().After(deadline) {
			break
		}
	}
	if bytes.Equal(first, second) {
		t.Errorf("read %q twice: the kept file was not read again", first)
	}
	if k.fd != fd {
		t.Errorf("descriptor %d, then %d: reopened", fd, k.fd)
	}
	want, _ := os.ReadFile("/proc/loadavg")
	if got, err := Keep("/proc/loadavg", 1<<10).Read(); err != nil || len(got) == 0 || bytes.Count(got, []byte(" ")) != bytes.Count(want, []byte(" ")) {
		t.Errorf("/proc/loadavg: %q, %v (os.ReadFile: %q)", got, err, want)
	}
	k.Close()
	if k.fd != -1 {
		t.Error("Close left the descriptor")
	}
	// A scrape still running on a set a reload closed reads, keeping nothing.
	if b, err := k.Read(); err != nil || len(b) == 0 || k.fd != -1 {
		t.Errorf("read after Close: %q, %v, descriptor %d", b, err, k.fd)
	}
}

// A link to a /proc file is followed but not kept: pointed elsewhere, the
// next read follows it there.
func TestKeptLinkNotKept(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "loadavg")
	if err := os.Symlink("/proc/loadavg", link); err != nil {
		t.Fatal(err)
	}
	k := Keep(link, 1<<10)
	defer k.Close()
	if _, err := k.Read(); err != nil {
		t.Skip(err)
	}
	if k.fd != -1 {
		t.Fatal("a file reached through a link was kept open")
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("0.1 0.2 0.3 1/1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, link); err != nil {
		t.Fatal(err)
	}
	if b, err := k.Read(); err != nil || string(b) != "0.1 0.2 0.3 1/1 1\n" {
		t.Errorf("after the link moved: %q, %v", b, err)
	}
}

// A file on an ordinary file system (a fixture tree) is opened at each
// read: one rewritten in place and one replaced by a rename are both seen.
func TestKeptOrdinaryFileNotKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loadavg")
	write := func(s string) {
		t.Helper()
		tmp := path + ".new"
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("0.1 0.2 0.3 1/100 42\n")
	k := Keep(path, 1<<10)
	defer k.Close()
	for _, want := range []string{"0.1 0.2 0.3 1/100 42\n", "0.5 0.6 0.7 2/100 43\n"} {
		if want != "0.1 0.2 0.3 1/100 42\n" {
			write(want)
		}
		got, err := k.Read()
		if err != nil || string(got) != want {
			t.Errorf("read %q, %v; want %q", got, err, want)
		}
		if k.fd != -1 {
			t.Errorf("a file on %s was kept open", path)
		}
	}
}

// Kept reads keep ReadRegular's limits and errors: absent, a folder, a
// FIFO (without blocking), more than the limit.
func TestKeptErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path  string
		limit int64
		want  error
	}{
		{filepath.Join(dir, "absent"), 1 << 10, fs.ErrNotExist},
		{dir, 1 << 10, ErrNotRegular},
		{fifo, 1 << 10, ErrNotRegular},
		{"/proc/self/status", 16, ErrTooLarge},
	} {
		k := Keep(c.path, c.limit)
		for range 2 { // an error never leaves the file kept
			if _, err := k.Read(); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.path, err, c.want)
			}
		}
		k.Close()
	}
}

// Scrapes may read one Kept at once.
func TestKeptConcurrentReads(t *testing.T) {
	k := Keep("/proc/meminfo", 1<<20)
	defer k.Close()
	if _, err := k.Read(); err != nil {
		t.Skip(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if b, err := k.Read(); err != nil || !bytes.HasPrefix(b, []byte("MemTotal:")) {
					t.Errorf("%.20q, %v", b, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
