package walk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// collect walks root and returns the relative paths of the files seen.
func collect(t *testing.T, root string, workers int) ([]string, Result) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	res, err := Walk(context.Background(), root, workers, func(_ int, dir, name string, _ *unix.Stat_t) {
		rel, _ := filepath.Rel(root, filepath.Join(dir, name))
		mu.Lock()
		seen = append(seen, rel)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(seen)
	return seen, res
}

func write(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Symbolic links are not followed, a loop of them ends nowhere, and a
// FIFO is skipped rather than opened (which would block the walk).
func TestWalkSkipsLinksAndSpecialFiles(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, filepath.Join(root, "a", "one"))
	write(t, filepath.Join(root, "a", "b", "two"))
	write(t, filepath.Join(outside, "elsewhere"))
	for link, target := range map[string]string{
		"a/b/loop":    "../..", // back to root: a loop if followed
		"a/self":      "self",  // a link to itself
		"out":         outside, // a folder outside
		"a/file-link": "one",   // a link to a counted file
		"a/dangling":  "nowhere",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(root, "a", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		got, res := collect(t, root, workers)
		if strings.Join(got, " ") != "a/b/two a/one" {
			t.Errorf("%d workers: files %v, want a/b/two a/one only", workers, got)
		}
		if res.Dirs != 3 || res.Errors != 0 {
			t.Errorf("%d workers: %+v, want 3 folders and no error", workers, res)
		}
	}
}

func TestWalkRootErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Walk(context.Background(), filepath.Join(dir, "absent"), 2, func(int, string, string, *unix.Stat_t) {})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent root: %v, want ErrNotExist", err)
	}
	write(t, filepath.Join(dir, "file"))
	if _, err := Walk(context.Background(), filepath.Join(dir, "file"), 2, func(int, string, string, *unix.Stat_t) {}); err == nil {
		t.Error("a file as root is not an error")
	}
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	// A root that is a link is followed (the links below it are not).
	write(t, filepath.Join(dir, "sub", "f"))
	write(t, filepath.Join(dir, "sub", "deeper", "g"))
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "sublink")); err != nil {
		t.Fatal(err)
	}
	var seen []string
	var mu sync.Mutex
	if _, err := Walk(context.Background(), filepath.Join(dir, "sublink"), 2, func(_ int, _, name string, _ *unix.Stat_t) {
		mu.Lock()
		seen = append(seen, strings.Clone(name)) // name is borrowed
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(seen)
	if strings.Join(seen, " ") != "f g" {
		t.Errorf("through a linked root: %v, want f g", seen)
	}
	if err := os.Symlink(filepath.Join(dir, "file"), filepath.Join(dir, "filelink")); err != nil {
		t.Fatal(err)
	}
	if _, err := Walk(context.Background(), filepath.Join(dir, "filelink"), 2, func(int, string, string, *unix.Stat_t) {}); err == nil {
		t.Error("a link to a file as root is not an error")
	}
}

func TestWalkCancelled(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a", "f"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, root, 2, func(int, string, string, *unix.Stat_t) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// asNobodyEnv marks the re-executed test binary that runs as nobody.
const asNobodyEnv = "HB_WALK_TEST_UNREADABLE_ROOT"

// An unreadable folder is counted as an error and the walk goes on with
// the rest. Root reads any folder whatever its mode, so as root the test
// re-runs itself as user nobody.
func TestWalkUnreadableFolderIsCountedAndSkipped(t *testing.T) {
	root := os.Getenv(asNobodyEnv)
	if root == "" {
		root = t.TempDir()
		write(t, filepath.Join(root, "readable", "f1"))
		write(t, filepath.Join(root, "closed", "hidden"))
		write(t, filepath.Join(root, "z", "f2"))
		if err := os.Chmod(filepath.Join(root, "closed"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "closed"), 0o755) })
		if os.Getuid() == 0 {
			runAsNobody(t, root)
			return
		}
	}
	got, res := collect(t, root, 3)
	if strings.Join(got, " ") != "readable/f1 z/f2" {
		t.Errorf("files %v, want readable/f1 z/f2", got)
	}
	if res.Errors != 1 || len(res.First) != 1 || !errors.Is(res.First[0], fs.ErrPermission) {
		t.Errorf("result %+v, want one permission error", res)
	}
}

// runAsNobody runs this test again as user nobody on the tree made here.
func runAsNobody(t *testing.T, root string) {
	t.Helper()
	// Let nobody through the temporary folder's 0700 parent.
	for _, d := range []string{root, filepath.Dir(root)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testenv.RerunAsNobody(t, "TestWalkUnreadableFolderIsCountedAndSkipped", asNobodyEnv+"="+root)
	t.Log("ran as user nobody, since root reads folders of any mode")
}

// A thread that cannot lower its priority (a seccomp filter refusing
// setpriority) is remembered for the caller to report, and the walk goes
// on.
func TestReniceFailureIsReported(t *testing.T) {
	old := setpriority
	setpriority = func(int, int, int) error { return unix.EPERM }
	defer func() { setpriority = old; reniceErr.Store(nil) }()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	files := 0
	if _, err := Walk(context.Background(), dir, 1, func(int, string, string, *unix.Stat_t) { files++ }); err != nil || files != 1 {
		t.Fatalf("walk: %v, %d files", err, files)
	}
	if err := ReniceError(); !errors.Is(err, unix.EPERM) {
		t.Errorf("ReniceError() = %v, want EPERM", err)
	}
}

// hookDirs is a walk.Dirs that knows nothing and calls vouch first.
type hookDirs struct{ vouch func(dir string) }

func (h hookDirs) Vouch(_ int, dir string) (bool, []string, bool) {
	h.vouch(dir)
	return false, nil, false
}
func (hookDirs) Enter(int, string, *unix.Stat_t) (bool, []string) { return false, nil }
func (hookDirs) Reading(int, string, int)                         {}
func (hookDirs) Done(int, string, *unix.Stat_t, []string, int)    {}

// A folder is opened relative to its open parent, not by its path: a
// parent replaced by a link to elsewhere while the walk runs does not take
// the walk out of the tree (opening root/a/b by path would follow the new
// link a, which O_NOFOLLOW only stops for the last component).
func TestWalkOpensThroughTheOpenParent(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	write(t, filepath.Join(root, "a", "b", "inside"))
	write(t, filepath.Join(outside, "b", "outside"))
	var mu sync.Mutex
	var seen []string
	swapped := false
	dirs := hookDirs{vouch: func(dir string) {
		if dir != filepath.Join(root, "a", "b") || swapped {
			return
		}
		swapped = true // root/a was read; now it becomes a link to outside
		if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "a.old")); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(outside, filepath.Join(root, "a")); err != nil {
			t.Error(err)
		}
	}}
	_, err := WalkDirs(context.Background(), root, 1, func(_ int, dir, name string, _ *unix.Stat_t) {
		mu.Lock()
		seen = append(seen, strings.Clone(name))
		mu.Unlock()
	}, dirs)
	if err != nil || !swapped {
		t.Fatalf("walk: %v (swapped: %v)", err, swapped)
	}
	if strings.Join(seen, " ") != "inside" {
		t.Errorf("files %v, want inside only", seen)
	}
}

// A walk allocates nothing per file and little per folder: a folder's
// path (which the caller keeps), and the list of a folder's subfolders.
func TestWalkAllocations(t *testing.T) {
	root := t.TempDir()
	folders := 1
	for _, d := range []string{"a", "b", "c"} {
		for _, e := range []string{"x", "y", "z"} {
			for i := range 10 {
				write(t, filepath.Join(root, d, e, fmt.Sprintf("file-%d", i)))
			}
			folders++
		}
		folders++
	}
	walk := func() {
		if _, err := Walk(context.Background(), root, 1, func(int, string, string, *unix.Stat_t) {}); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	base := testing.AllocsPerRun(20, func() {
		if _, err := Walk(context.Background(), empty, 1, func(int, string, string, *unix.Stat_t) {}); err != nil {
			t.Fatal(err)
		}
	})
	perFolder := (testing.AllocsPerRun(20, walk) - base) / float64(folders-1)
	t.Logf("%.2f allocations per folder (%d folders, 90 files)", perFolder, folders)
	if perFolder > 2.5 {
		t.Errorf("%.2f allocations per folder, want at most 2.5", perFolder)
	}
}

// Folders kept open for their subfolders are closed by the end of a walk,
// whole or cancelled half-way.
func TestWalkClosesEveryFolder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a/a/a", "a/a/b", "a/b/a", "b/a/a", "b/b/b"} {
		for i := range 3 {
			write(t, filepath.Join(root, p, fmt.Sprintf("f%d", i)))
		}
	}
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	for _, stopAfter := range []int{-1, 1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		var n atomic.Int32
		_, _ = Walk(ctx, root, 2, func(int, string, string, *unix.Stat_t) {
			if int(n.Add(1)) == stopAfter {
				cancel()
			}
		})
		cancel()
		if after := fds(); after != before {
			t.Errorf("cancelled after %d files: %d descriptors open, %d before", stopAfter, after, before)
		}
	}
}

// A walker that steps aside at every chance (pauseEvery 0: at each folder
// and every 256 entries) sees every file once, with one worker and with
// several.
func TestWalkPausingSeesEverything(t *testing.T) {
	root := t.TempDir()
	var want []string
	for d := range 3 {
		for f := range 600 { // more than 256 entries a folder
			rel := filepath.Join(fmt.Sprintf("d%d", d), fmt.Sprintf("f%03d", f))
			write(t, filepath.Join(root, rel))
			want = append(want, rel)
		}
	}
	sort.Strings(want)
	old := pauseEvery
	pauseEvery = 0
	t.Cleanup(func() { pauseEvery = old })
	for _, workers := range []int{1, 3} {
		got, res := collect(t, root, workers)
		if strings.Join(got, ",") != strings.Join(want, ",") || res.Dirs != 4 || res.Errors != 0 {
			t.Errorf("%d workers: %d files in %d folders (%d errors), want %d in 4", workers, len(got), res.Dirs, res.Errors, len(want))
		}
	}
}
