//go:build unix

package fileid

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openWithin runs open and fails the test if it has not returned after a
// generous wait: a blocking open of a FIFO never returns.
func openWithin(t *testing.T, open func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- open() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("open blocked")
		return nil
	}
}

func TestOpenRegularRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.prom")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, link, "/dev/zero", "/dev/null", dir} {
		for name, open := range map[string]func(string) (*os.File, os.FileInfo, error){
			"follow": OpenRegular, "nofollow": OpenRegularNoFollow,
		} {
			err := openWithin(t, func() error {
				f, _, err := open(p)
				if err == nil {
					f.Close()
				}
				return err
			})
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("%s %s: err = %v, want ErrNotRegular", name, p, err)
			}
		}
		_, err := ReadRegular(p, 0)
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadRegular %s: err = %v", p, err)
		}
	}
}

func TestOpenRegularReadsAFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	f, fi, err := OpenRegular(link)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("file left in non-blocking mode")
	}
	if fi.Size() != 6 {
		t.Errorf("size %d", fi.Size())
	}
	st, _ := os.Stat(p)
	if !Of(fi).SameFile(Of(st)) || Of(fi) != Of(st) {
		t.Errorf("identity %+v differs from %+v", Of(fi), Of(st))
	}
	if _, _, err := OpenRegularNoFollow(link); !errors.Is(err, ErrNotRegular) {
		t.Errorf("nofollow on a link: %v", err)
	}
	if b, err := ReadRegularNoFollow(p, 6); err != nil || string(b) != "hello\n" {
		t.Errorf("ReadRegularNoFollow = %q, %v", b, err)
	}
	if _, err := ReadRegular(p, 5); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit 5: %v", err)
	}
	if _, _, err := OpenRegular(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestIdentityChangesWithReplacement(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(p)
	tmp := filepath.Join(dir, "tmp")
	if err := os.WriteFile(tmp, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.Stat(p)
	if Of(a).SameFile(Of(b)) {
		t.Error("a file renamed into place kept the identity")
	}
}

// A FIFO where a folder is expected is refused at once.
func TestReadDirRefusesAFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "d")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := openWithin(t, func() error { _, err := ReadDir(fifo); return err })
	if !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("ReadDir(FIFO) = %v, want ENOTDIR", err)
	}
	entries, err := ReadDir(dir)
	if err != nil || len(entries) != 2 || entries[0].Name() != "b" || entries[1].Name() != "d" {
		t.Errorf("ReadDir = %v, %v", entries, err)
	}
}

// ReadRegular reads a /proc file (fstat says size 0) whole, stops a file
// longer than its limit at limit+1 bytes whatever fstat said, and refuses
// a FIFO at once without waiting for a writer.
func TestReadRegularProcAndFIFO(t *testing.T) {
	want, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	got, err := ReadRegular("/proc/self/mountinfo", 1<<20)
	if err != nil || string(got) != string(want) {
		t.Errorf("ReadRegular(/proc/self/mountinfo) = %d bytes, %v; os.ReadFile %d", len(got), err, len(want))
	}
	if _, err := ReadRegular("/proc/self/mountinfo", 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a size-0 file over its limit: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadRegular(big, 0); err != nil || len(b) != 10000 {
		t.Errorf("10,000-byte file: %d bytes, %v", len(b), err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRegular(fifo, 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("FIFO: %v", err)
	}
}

// What ReadRegular returns is the caller's: a later read (through the
// same pooled buffer) does not change it; a large file is read whole.
func TestReadRegularResultNotShared(t *testing.T) {
	dir := t.TempDir()
	a, b, big := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "big")
	for path, text := range map[string]string{a: "first\n", b: "second file, longer\n"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 600<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := ReadRegular(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRegular(b, 0); err != nil {
		t.Fatal(err)
	}
	if string(first) != "first\n" {
		t.Errorf("a's bytes became %q after reading b", first)
	}
	if got, err := ReadRegular(big, 0); err != nil || len(got) != 600<<10 {
		t.Errorf("600 KiB file: %d bytes, %v", len(got), err)
	}
}
