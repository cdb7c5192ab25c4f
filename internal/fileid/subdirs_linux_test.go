package fileid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// SubdirNames lists what os.ReadDir lists as folders: not files, links
// (even to folders), FIFOs; long names and more entries than one
// getdents buffer holds.
func TestSubdirNamesLikeReadDir(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 300 {
		name := fmt.Sprintf("d%03d", i)
		if i%7 == 0 {
			name += "-" + string(slices.Repeat([]byte("x"), 200))
		}
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, want[0]), filepath.Join(dir, "link-to-folder")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := SubdirNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %d names, want %d (first %q / %q)", len(got), len(want), got[:min(1, len(got))], want[0])
	}
	if _, err := SubdirNames(filepath.Join(dir, "fifo")); err == nil {
		t.Error("a FIFO was listed as a folder")
	}
	if _, err := SubdirNames(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent: %v", err)
	}
}

// On cgroupfs, where the inventory uses it, it agrees with os.ReadDir.
func TestSubdirNamesCgroupfs(t *testing.T) {
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/memory"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var want []string
		for _, e := range entries {
			if e.IsDir() {
				want = append(want, e.Name())
			}
		}
		got, err := SubdirNames(dir)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v, %v; os.ReadDir's folders %v", dir, got, err, want)
		}
	}
}
