package quarantine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// recount is the quarantine under root counted by a plain
// filepath.WalkDir and lstat, not by the code under test.
func recount(t *testing.T, root string) *Result {
	t.Helper()
	res := &Result{Categories: map[string]Counts{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrPermission) {
			return fs.SkipDir // counted by no one
		}
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		cat := classify(Amavis, d.Name())
		c := res.Categories[cat]
		c.Messages++
		c.Bytes += info.Size()
		res.Categories[cat] = c
		res.DiskBytes += info.Sys().(*syscall.Stat_t).Blocks * 512
		if res.Oldest.IsZero() || info.ModTime().Before(res.Oldest) {
			res.Oldest = info.ModTime()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// shortRacyWindow makes the index trust a folder's times 20 ms after a
// change (above the kernel's timestamp tick), for the test's duration.
func shortRacyWindow(t *testing.T) {
	old := racyWindow
	racyWindow = 20 * time.Millisecond
	t.Cleanup(func() { racyWindow = old })
}

func sameCounts(a, b *Result) bool {
	return maps.Equal(a.Categories, b.Categories) && a.DiskBytes == b.DiskBytes && a.Oldest.Equal(b.Oldest)
}

// foldersOfOneSpam makes a quarantine of the given folders, each holding
// one 10-byte spam file, and returns its root.
func foldersOfOneSpam(t *testing.T, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, d, "spam-1"), 10)
	}
	return root
}

func writeFile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every incremental scan, after each kind of change, equals a full
// recount, and re-reads only the folders that changed: with folders
// checked by their lstat, watched through inotify, and watched until the
// watches run out (every other folder then checked by its lstat).
func TestIndexRescanExact(t *testing.T) {
	shortRacyWindow(t)
	t.Run("lstat", func(t *testing.T) { rescanExact(t, &Index{FullEvery: time.Hour}, false) })
	t.Run("inotify", func(t *testing.T) { rescanExact(t, &Index{FullEvery: time.Hour, Watch: true}, true) })
	t.Run("inotify without enough watches", func(t *testing.T) {
		old := inotifyAddWatch
		var calls atomic.Int32
		inotifyAddWatch = func(fd int, path string, mask uint32) (int, error) {
			if calls.Add(1)%2 == 0 {
				return -1, unix.ENOSPC
			}
			return old(fd, path, mask)
		}
		t.Cleanup(func() { inotifyAddWatch = old })
		rescanExact(t, &Index{FullEvery: time.Hour, Watch: true}, false)
	})
}

// rescanExact changes a quarantine between scans through ix; watchAll:
// every folder gets a watch.
func rescanExact(t *testing.T, ix *Index, watchAll bool) {
	t.Cleanup(ix.Close)
	top := t.TempDir()
	root := filepath.Join(top, "q")
	kinds := []string{"spam-%d.gz", "virus-%d", "banned-%d", "badh-%d", "junk-%d"}
	dirs := []string{"a", "b", "c", "d/e", "d/e/f", "d/g", "h/i"}
	for i, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 40 {
			writeFile(t, filepath.Join(root, d, fmt.Sprintf(kinds[j%len(kinds)], i*100+j)), i*300+j*7)
		}
	}
	opt := Options{Classify: Amavis, Workers: 2}
	var got *Result
	scan := func(step string, wantReread int) {
		t.Helper()
		time.Sleep(2 * racyWindow) // the changes are settled, the rest can be trusted
		var err error
		got, err = ix.Scan(context.Background(), root, opt)
		if err != nil {
			t.Fatal(err)
		}
		if want := recount(t, root); !sameCounts(got, want) {
			t.Fatalf("%s: scan %+v %d %v, recount %+v %d %v", step, got.Categories, got.DiskBytes, got.Oldest,
				want.Categories, want.DiskBytes, want.Oldest)
		}
		if got.Reread != wantReread {
			t.Errorf("%s: %d folders re-read, want %d", step, got.Reread, wantReread)
		}
		if watchAll && got.WatchErr != nil {
			t.Errorf("%s: a folder could not be watched: %v", step, got.WatchErr)
		}
	}
	scan("first", len(dirs)+3) // with the root, d and h
	if got.Watched != 0 || got.WatchErr != nil {
		t.Errorf("first scan: %d folders watched (%v), want none (watches come with the second)", got.Watched, got.WatchErr)
	}
	scan("unchanged", 0)
	switch {
	case !ix.Watch && (got.Watched != 0 || got.WatchErr != nil):
		t.Errorf("watching without Watch: %d, %v", got.Watched, got.WatchErr)
	case ix.Watch && watchAll && (got.Watched != len(dirs)+3 || got.WatchErr != nil || got.Vouched != 0):
		t.Errorf("second scan: %d folders watched (%v), %d vouched, want all %d and none", got.Watched, got.WatchErr, got.Vouched, len(dirs)+3)
	case ix.Watch && !watchAll && (got.Watched != 1 || !errors.Is(got.WatchErr, unix.ENOSPC)):
		t.Errorf("%d folders watched (%v), want 1 (no more tried after the first failure) and ENOSPC", got.Watched, got.WatchErr)
	}
	scan("unchanged again", 0)
	if ix.Watch && watchAll && got.Vouched != len(dirs)+2 { // all but the root
		t.Errorf("unchanged: %d folders vouched for by inotify, want %d", got.Vouched, len(dirs)+2)
	}
	writeFile(t, filepath.Join(root, "a", "spam-new.gz"), 5000)
	writeFile(t, filepath.Join(root, "a", "virus-new"), 10)
	scan("added", 1)
	if err := os.Remove(filepath.Join(root, "b", "virus-101")); err != nil {
		t.Fatal(err)
	}
	scan("deleted", 1)
	// replaced in place: a new file renamed over an old name, as writers
	// that never leave a half-written file do
	writeFile(t, filepath.Join(root, "c", ".tmp"), 70000)
	if err := os.Rename(filepath.Join(root, "c", ".tmp"), filepath.Join(root, "c", "spam-200.gz")); err != nil {
		t.Fatal(err)
	}
	scan("replaced", 1)
	// deep in the tree: only d/e/f changes, not d/e, d or the root
	writeFile(t, filepath.Join(root, "d", "e", "f", "virus-deep"), 123)
	scan("deep folder changed", 1)
	if err := os.Rename(filepath.Join(root, "d", "e"), filepath.Join(root, "a", "moved")); err != nil {
		t.Fatal(err)
	}
	scan("folder moved", 4) // a and d changed; a/moved and a/moved/f are new paths
	if err := os.RemoveAll(filepath.Join(root, "a", "moved")); err != nil {
		t.Fatal(err)
	}
	scan("folder removed", 1)
	// A folder replaced by a symbolic link to a folder of messages: the
	// link is not followed (nor counted), its parent is re-read.
	elsewhere := t.TempDir()
	writeFile(t, filepath.Join(elsewhere, "spam-1"), 99)
	if err := os.Rename(filepath.Join(root, "d", "g"), filepath.Join(elsewhere, "g")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(root, "d", "g")); err != nil {
		t.Fatal(err)
	}
	scan("folder replaced by a link", 1)
	scan("link unchanged", 0)
	// A parent moved away and made again with a subfolder of the same
	// name: the old subfolder saw no event, but its path names another.
	if err := os.Rename(filepath.Join(root, "h"), filepath.Join(elsewhere, "h")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "h", "i"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "h", "i", "spam-new-i"), 1)
	scan("parent made again", 3) // the root, h, h/i
	if ix.Watch && watchAll {
		// A message rewritten in place changes no folder, but inotify
		// tells (the lstat check leaves it to the full scan).
		writeFile(t, filepath.Join(root, "b", "banned-102"), 4321)
		scan("rewritten in place", 1)
	}
	// The whole quarantine moved away and made again.
	if err := os.Rename(root, filepath.Join(top, "q.old")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "h/i"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, d, "virus-again"), 2)
	}
	scan("quarantine made again", 4) // the root, a, h, h/i
	scan("unchanged after", 0)
	// A file rewritten in place changes no folder: a full scan sees it,
	// and FullEvery 0 makes every scan one.
	ix.FullEvery = 0
	got, err := ix.Scan(context.Background(), root, opt)
	if err != nil || !got.Full || got.Reread != 4 {
		t.Errorf("FullEvery 0: full %v, %d re-read, err %v", got.Full, got.Reread, err)
	}
}

// When the kernel's event queue overflows (fs.inotify.max_queued_events,
// 16384 by default), the events lost may have been a message rewritten in
// place: the next scan reads everything.
func TestIndexEventsLostMakeAFullScan(t *testing.T) {
	root := t.TempDir()
	files := []string{filepath.Join(root, "spam-1"), filepath.Join(root, "spam-2")}
	for _, f := range files {
		writeFile(t, f, 10)
	}
	ix := &Index{FullEvery: time.Hour, Watch: true}
	t.Cleanup(ix.Close)
	opt := Options{Classify: Amavis}
	for range 2 { // the second sets the watch
		if _, err := ix.Scan(context.Background(), root, opt); err != nil {
			t.Fatal(err)
		}
	}
	// Alternating, so that the kernel cannot merge an event with the last.
	for i := range 20000 {
		at := time.Unix(int64(1e9+i), 0)
		if err := os.Chtimes(files[i%2], at, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ix.Scan(context.Background(), root, opt)
	if err != nil || !got.Full || !sameCounts(got, recount(t, root)) {
		t.Fatalf("after events were lost: full %v, err %v, %+v", got.Full, err, got)
	}
}

// A scan that fails forgets what it knew: the next one reads everything.
func TestIndexForgetsAfterError(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "spam-1"), 10)
	ix := &Index{FullEvery: time.Hour}
	if _, err := ix.Scan(context.Background(), root, Options{Classify: Amavis}); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Scan(context.Background(), filepath.Join(root, "absent"), Options{}); err == nil {
		t.Fatal("no error for an absent root")
	}
	if ix.dirs != nil {
		t.Errorf("index kept %d folders after a failed scan", len(ix.dirs))
	}
}

// unreadableEnv marks the re-executed test binary that runs as nobody.
const unreadableEnv = "HB_QUARANTINE_TEST_UNREADABLE"

// A folder that cannot be read is an error of every scan until it can be
// read again (it is never taken as known), and the rest is counted
// exactly. Root reads any folder whatever its mode, so as root the test
// re-runs itself as user nobody (which then owns the tree it makes).
func TestIndexUnreadableFolder(t *testing.T) {
	if os.Getuid() == 0 && os.Getenv(unreadableEnv) == "" {
		testenv.RerunAsNobody(t, "TestIndexUnreadableFolder", unreadableEnv+"=1")
		return
	}
	shortRacyWindow(t)
	root := t.TempDir()
	for _, d := range []string{"open", "closed/inner", "deep/er/closed"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, d, "spam-"+filepath.Base(d)), len(d))
	}
	writeFile(t, filepath.Join(root, "closed", "virus-1"), 7)
	closed := []string{filepath.Join(root, "closed"), filepath.Join(root, "deep", "er", "closed")}
	ix := &Index{FullEvery: time.Hour}
	opt := Options{Classify: Amavis, Workers: 2}
	if _, err := ix.Scan(context.Background(), root, opt); err != nil {
		t.Fatal(err)
	}
	var want *Result
	for _, d := range closed {
		if err := os.Chmod(d, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(d, 0o755) })
	}
	want = recount(t, root) // without the closed folders
	for i := range 2 {
		time.Sleep(2 * racyWindow)
		got, err := ix.Scan(context.Background(), root, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Walk.Errors != 2 || !errors.Is(got.Walk.First[0], fs.ErrPermission) || !sameCounts(got, want) {
			t.Fatalf("scan %d with closed folders: %d errors %v, counts %+v, want 2 permission errors, %+v",
				i, got.Walk.Errors, got.Walk.First, got.Categories, want.Categories)
		}
	}
	for _, d := range closed {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * racyWindow)
	got, err := ix.Scan(context.Background(), root, opt)
	if want := recount(t, root); err != nil || got.Walk.Errors != 0 || !sameCounts(got, want) {
		t.Fatalf("readable again: %v, %d errors, counts %+v, want %+v", err, got.Walk.Errors, got.Categories, want.Categories)
	}
}

// The first scan sets no watch; the second watches each folder (by its
// path when it is unchanged, on the descriptor it reads otherwise), and
// counts what changed in between; from the third on, a message rewritten
// in place (which no folder time shows) is seen through those watches.
func TestIndexWatchesFromTheSecondScan(t *testing.T) {
	shortRacyWindow(t)
	root := foldersOfOneSpam(t, "a", "b", "c")
	ix := &Index{FullEvery: time.Hour, Watch: true}
	t.Cleanup(ix.Close)
	scan := func(step string, watched, reread int) {
		t.Helper()
		time.Sleep(2 * racyWindow)
		got, err := ix.Scan(context.Background(), root, Options{Classify: Amavis})
		if err != nil {
			t.Fatal(err)
		}
		if want := recount(t, root); !sameCounts(got, want) {
			t.Errorf("%s: counts %+v, want %+v", step, got.Categories, want.Categories)
		}
		if got.Watched != watched || got.Reread != reread || got.WatchErr != nil {
			t.Errorf("%s: %d watched, %d re-read (%v), want %d and %d", step, got.Watched, got.Reread, got.WatchErr, watched, reread)
		}
	}
	scan("first", 0, 4)
	writeFile(t, filepath.Join(root, "a", "virus-2"), 20)  // before any watch
	scan("second", 4, 1)                                   // a, watched on its descriptor; the root, b and c by their path
	writeFile(t, filepath.Join(root, "c", "spam-1"), 3000) // in place: c watched by its path
	writeFile(t, filepath.Join(root, "a", "spam-1"), 4000) // in place: a watched on its descriptor
	scan("rewritten in place", 4, 2)
	scan("unchanged", 4, 0)
}

// A folder that vanishes or becomes a link between its parent's read and
// its watch is no failure to watch (which would stop the watches of that
// scan and warn about fs.inotify.max_user_watches): its lstat decides.
func TestIndexFolderGoneBeforeItsWatch(t *testing.T) {
	shortRacyWindow(t)
	root := foldersOfOneSpam(t, "a", "b")
	old := inotifyAddWatch
	inotifyAddWatch = func(fd int, path string, mask uint32) (int, error) {
		if filepath.Base(path) == "a" {
			return -1, unix.ENOENT
		}
		return old(fd, path, mask)
	}
	t.Cleanup(func() { inotifyAddWatch = old })
	ix := &Index{FullEvery: time.Hour, Watch: true}
	t.Cleanup(ix.Close)
	for i := range 2 {
		time.Sleep(2 * racyWindow)
		got, err := ix.Scan(context.Background(), root, Options{Classify: Amavis})
		if err != nil {
			t.Fatal(err)
		}
		if !sameCounts(got, recount(t, root)) || got.WatchErr != nil || (i == 1 && got.Watched != 2) {
			t.Errorf("scan %d: %+v, %d watched (%v), want exact counts, the root and b watched, no error",
				i, got.Categories, got.Watched, got.WatchErr)
		}
	}
}

// Options.Busy is taken once by a scan that reads a folder, and released
// when it ends; a rescan that finds everything unchanged (by watch or by
// lstat) never takes it, so an idle quarantine does not raise the CPUs.
func TestIndexBusyOnlyWhenAFolderIsRead(t *testing.T) {
	shortRacyWindow(t)
	root := foldersOfOneSpam(t, "a", "b")
	for _, watch := range []bool{false, true} {
		var taken, released atomic.Int32
		busy := func() func() {
			taken.Add(1)
			return func() { released.Add(1) }
		}
		ix := &Index{FullEvery: time.Hour, Watch: watch}
		scan := func(step string, wantTaken int32) {
			t.Helper()
			time.Sleep(2 * racyWindow)
			before := taken.Load()
			res, err := ix.Scan(context.Background(), root, Options{Classify: Amavis, Workers: 2, Busy: busy})
			if err != nil {
				t.Fatal(err)
			}
			if got := taken.Load() - before; got != wantTaken {
				t.Errorf("watch %v, %s: Busy taken %d times (%d folders re-read), want %d", watch, step, got, res.Reread, wantTaken)
			}
			if taken.Load() != released.Load() {
				t.Errorf("watch %v, %s: Busy taken %d times, released %d", watch, step, taken.Load(), released.Load())
			}
		}
		scan("first", 1)
		scan("unchanged", 0)
		scan("unchanged again", 0)
		writeFile(t, filepath.Join(root, "b", fmt.Sprintf("virus-%v", watch)), 20)
		scan("one folder changed", 1)
		ix.Close()
	}
}
