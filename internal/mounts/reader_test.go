package mounts

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A table on procfs is read again only after a mount or unmount: in a
// mount namespace of the test's own (private, so nothing reaches the
// host), a tmpfs mounted and unmounted is seen at the next read, and a
// read with no change in between reads nothing.
func TestReaderPollsProcfsForChanges(t *testing.T) {
	// The namespace is the thread's; the thread is never unlocked, so
	// it ends with the test and no other goroutine runs in it.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Skipf("cannot make a mount namespace (needs CAP_SYS_ADMIN): %v", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("making the namespace private: %v", err)
	}
	file := "/proc/thread-self/mountinfo"
	dir := t.TempDir()
	var r Reader
	defer r.Close()
	read := func(step string) []Mount {
		t.Helper()
		ms, name, err := r.ReadFirst(file)
		if err != nil || name != file || len(ms) == 0 {
			t.Fatalf("%s: %d mounts from %q, %v", step, len(ms), name, err)
		}
		return ms
	}
	fsType := func(ms []Mount) string {
		m, _ := Lookup(ms, filepath.Join(dir, "x"))
		return m.FSType
	}

	before := tableReads.Load()
	first := read("first read")
	if !r.open {
		t.Fatal("the procfs table is not watched")
	}
	second := read("unchanged")
	if n := tableReads.Load() - before; n != 1 || &first[0] != &second[0] {
		t.Errorf("unchanged table: %d reads, want 1 (the same parse)", n)
	}
	if err := unix.Mount("none", dir, "tmpfs", 0, ""); err != nil {
		t.Fatalf("mount: %v", err)
	}
	if got := fsType(read("after a mount")); got != "tmpfs" {
		t.Errorf("after a mount: %s is on %q, want tmpfs", dir, got)
	}
	if err := unix.Unmount(dir, 0); err != nil {
		t.Fatalf("umount: %v", err)
	}
	if got := fsType(read("after the unmount")); got == "tmpfs" {
		t.Errorf("after the unmount: %s still on tmpfs", dir)
	}
	reads := tableReads.Load()
	read("unchanged again")
	if tableReads.Load() != reads {
		t.Error("an unchanged table was read again")
	}
	r.Close()
	if got := fsType(read("after Close")); got == "tmpfs" || r.open {
		t.Errorf("after Close: %q, a descriptor kept %v", got, r.open)
	}
}

// A table that is not on procfs is read at every call (its changes raise
// no poll event), and the reader falls back to the next file while the
// first cannot be read.
func TestReaderFileElsewhereReadEachTime(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mountinfo")
	if err := os.WriteFile(file, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	var r Reader
	defer r.Close()
	missing := filepath.Join(dir, "absent")
	before := tableReads.Load()
	for range 3 {
		if _, name, err := r.ReadFirst(missing, file); err != nil || name != file {
			t.Fatalf("read %q, %v", name, err)
		}
	}
	if n := tableReads.Load() - before; n != 3 || r.open {
		t.Errorf("%d reads of a plain file in 3 calls (watched %v), want 3", n, r.open)
	}
	if _, _, err := r.ReadFirst(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no table: %v", err)
	}
}

// A mount table that is no regular file (a FIFO, with or without a writer
// holding it open, a folder, a link to /dev/zero) is an error at once:
// no wait, no endless read; the next file in the list is not tried for it.
func TestReaderRefusesWhatIsNoFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	writer, err := os.OpenFile(fifo, os.O_RDWR, 0) // a writer that never writes
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{fifo, zero, dir} {
		var r Reader
		done := make(chan error, 1)
		go func() { _, _, err := r.ReadFirst(name); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: err %v, want one naming it", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still reading after 10 s", name)
		}
		r.Close()
	}
}
