//go:build unix

package tail

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// pollRefused polls once, expecting the non-regular-file error and nothing
// read; it fails if the poll blocks (a FIFO opened for reading).
func (r *reader) pollRefused() {
	r.t.Helper()
	type res struct {
		n   int64
		err error
	}
	done := make(chan res, 1)
	go func() {
		n, err := r.f.Poll(func(line []byte, _ bool) { r.lines = append(r.lines, string(line)) })
		done <- res{n, err}
	}()
	select {
	case got := <-done:
		if !errors.Is(got.err, fileid.ErrNotRegular) || got.n != 0 {
			r.t.Fatalf("poll read %d bytes, err %v; want nothing read and ErrNotRegular", got.n, got.err)
		}
	case <-time.After(20 * time.Second):
		r.t.Fatal("poll blocked")
	}
}

// The log's name points at /dev/zero for a while (a mistake, or a
// prank), then at the real file again: nothing is read from the device,
// the error is reported meanwhile, and the real file's new lines are
// counted once afterwards.
func TestPathLinkedToDeviceForAWhile(t *testing.T) {
	dir := t.TempDir()
	path, aside := filepath.Join(dir, "mail.log"), filepath.Join(dir, "mail.log.real")
	appendTo(t, path, numbered(0, 3))
	r := newReader(t, path, Options{}, nil)
	r.poll()
	if err := os.Rename(path, aside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", path); err != nil {
		t.Fatal(err)
	}
	appendTo(t, aside, numbered(3, 5)) // the daemon writes on
	// The rest of the open file is read, then the name is refused.
	if _, err := r.f.Poll(func(line []byte, _ bool) { r.lines = append(r.lines, string(line)) }); !errors.Is(err, fileid.ErrNotRegular) {
		t.Fatalf("err = %v, want ErrNotRegular", err)
	}
	wantCount(t, r, 5)
	r.pollRefused()
	r.pollRefused()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, path); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, numbered(5, 8))
	r.poll()
	wantCount(t, r, 8)
}

// A FIFO at the path at the first open, and after a rotation: the open
// does not block, the error is reported, and the file that replaces the
// FIFO is read from its start.
func TestFIFOAtThePath(t *testing.T) {
	for _, rotated := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "mail.log")
		r := newReader(t, path, Options{}, nil)
		if rotated {
			appendTo(t, path, numbered(0, 2))
			r.poll()
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := unix.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
		r.pollRefused()
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		appendTo(t, path, numbered(2, 5))
		r.poll()
		want := 3
		if rotated {
			want = 5
		}
		wantCount(t, r, want)
	}
}

// A saved state file that is a FIFO or a link (planted in the state
// folder) is refused at once, not waited on or followed.
func TestStateFileNotAFile(t *testing.T) {
	dir := t.TempDir()
	s := StateStore{Dir: dir}
	if err := unix.Mkfifo(s.file("/var/log/mail.log"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := os.WriteFile(target, []byte(`{"path":"/var/log/other.log","offset":5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, s.file("/var/log/other.log")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/var/log/mail.log", "/var/log/other.log"} {
		done := make(chan error, 1)
		go func() { _, err := s.Load(p); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, fileid.ErrNotRegular) {
				t.Errorf("%s: err = %v, want ErrNotRegular", p, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("loading a FIFO state file blocked")
		}
	}
}
