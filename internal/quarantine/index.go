package quarantine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/walk"
)

// Index remembers a quarantine between scans: for each folder, its
// identity, modification and change times, and the totals of the files
// directly in it. A folder gains or loses an entry only by changing both
// times, so a rescan re-reads only the folders whose times changed (or
// were too recent to tell, see racyWindow) and takes the others' totals as
// they were: an unchanged quarantine of a million files costs one lstat
// per folder (by path: an unchanged folder is not even opened). A file
// rewritten in place (same name and inode, new size) changes no folder:
// quarantined messages are written once, and the periodic full scan
// (FullEvery) corrects such a file.
//
// With Watch, each folder is also watched through inotify (see watcher)
// from the second scan that sees it on: a rescan then takes a watched
// folder that had no event, under a parent found unchanged, without any
// system call, and re-reads one that had an event (a file rewritten in
// place included). The first scan sets no watch, so that it costs what du
// costs; the next adds each folder's watch by its path just before the
// lstat that finds it unchanged, so no change is missed between the two
// (one the watch did not see, its lstat shows). What inotify cannot vouch
// for (no watch left, the root) is checked by its lstat as above; events
// lost (the kernel's queue overflowed) make a full scan.
//
// Memory is per folder, not per file: a path, a few numbers and one
// entry per category present in it (and, with Watch, one inotify watch
// in the kernel).
type Index struct {
	// FullEvery: a scan at least this long after the last full one reads
	// every folder (0: every scan is full).
	FullEvery time.Duration

	// Watch: learn of changes through inotify, so that a rescan takes a
	// watched folder whose parent is unchanged as it was without even an
	// lstat. Close releases the instance.
	Watch bool

	mu       sync.Mutex
	dirs     map[string]*dirTotals
	lastFull time.Time
	watch    *watcher // nil until the first scan with Watch
}

// Close releases the index's inotify instance (its watches); a later
// scan reads everything again. A nil index has nothing to close.
func (ix *Index) Close() {
	if ix == nil {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.forget()
}

// forget drops what the index knows, and its watches.
func (ix *Index) forget() {
	ix.dirs = nil
	ix.watch.close()
	ix.watch = nil
}

// racyWindow: a folder whose last change is this close to the time it
// was read may have changed again within the file system's timestamp
// granularity (Linux stamps with a coarse clock): it is read again at the
// next scan. A variable for tests.
var racyWindow = time.Second

type dirTotals struct {
	dev, ino     uint64
	mtime, ctime int64 // nanoseconds
	readAt       int64 // when it was read, unix nanoseconds
	wd           int32 // its inotify watch, 0 for none
	dirty        bool  // an event came for it: read it again
	cats         []catCounts
	disk         int64
	oldest       int64 // unix nanoseconds, 0 for none
	subdirs      []string
}

type catCounts struct {
	cat string
	Counts
}

// unchanged says whether the folder st is the one d was read from, with
// no entry added, removed or renamed since.
func (d *dirTotals) unchanged(st *unix.Stat_t) bool {
	changed := max(st.Mtim.Nano(), st.Ctim.Nano())
	return d.ino == st.Ino && d.dev == st.Dev && d.mtime == st.Mtim.Nano() && d.ctime == st.Ctim.Nano() &&
		changed < d.readAt-int64(racyWindow)
}

// Scan counts the quarantine under root, reading only the folders that
// changed since the last scan through ix (all of them at the first scan
// and every FullEvery). Errors are Scan's.
func (ix *Index) Scan(ctx context.Context, root string, opt Options) (*Result, error) {
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	ix.mu.Lock() // one scan at a time
	defer ix.mu.Unlock()
	begin := time.Now()
	full := ix.dirs == nil || begin.Sub(ix.lastFull) >= ix.FullEvery
	h := &scanHook{old: ix.dirs, full: full, seen: make(map[string]*dirTotals, len(ix.dirs)), cur: make([]tally, opt.Workers), busy: opt.Busy}
	defer h.idle()
	for i := range h.cur {
		h.cur[i].cats = map[string]*Counts{}
	}
	if ix.Watch && ix.watch == nil {
		ix.watch = newWatcher()
	}
	if ix.watch != nil {
		lost := ix.watch.drain(func(dir string, gone bool) {
			if d := ix.dirs[dir]; d != nil {
				d.dirty = true
				if gone {
					d.wd = 0
				}
			}
		})
		// Events lost (the kernel's queue overflowed) may have been a
		// message rewritten in place, which no folder's times show: read
		// everything.
		full = full || lost
		h.full, h.watch, h.vouch = full, ix.watch, ix.watch.fd >= 0 && !full
	}
	wr, err := walk.WalkDirs(ctx, root, opt.Workers, func(worker int, _, name string, st *unix.Stat_t) {
		h.cur[worker].add(classify(opt.Classify, name), st)
	}, h)
	if err != nil {
		ix.forget() // a scan cut short knows nothing for sure
		return nil, err
	}
	ix.dirs = h.seen
	if ix.watch != nil {
		ix.watch.update(ix.dirs, h.byPath)
	}
	if full {
		ix.lastFull = begin
	}
	res := h.result(wr)
	res.Categories = capCategories(res.Categories, opt.MaxCategories)
	res.Finished = time.Now()
	res.Duration = res.Finished.Sub(begin)
	res.Full = full
	if ix.watch != nil {
		res.Watched, res.Vouched, res.WatchErr = len(ix.watch.byWD), h.vouched, h.watchErr
		if ix.watch.err != nil {
			res.WatchErr = ix.watch.err
		}
	}
	return res, nil
}

func classify(c Classifier, name string) string {
	cat := ""
	if c != nil {
		cat = c(name)
	}
	if cat == "" {
		return Unclassified
	}
	return cat
}

// scanHook is walk.Dirs for one scan: cur[worker] tallies the folder a
// worker is reading.
type scanHook struct {
	old   map[string]*dirTotals // the last scan's, read only
	full  bool
	cur   []tally
	watch *watcher // nil without inotify
	vouch bool     // no event was lost since the last scan: watches can vouch
	busy  func() (release func())

	busyOnce sync.Once
	release  func() // what busy returned, nil until a folder is read

	mu       sync.Mutex
	seen     map[string]*dirTotals
	reread   int
	vouched  int
	watchErr error   // the first folder that could not be watched: no more are tried in this scan
	byPath   []int32 // the watches added by path in this scan (update removes those no folder kept)
}

// Vouch takes a folder as it was when it is watched, no event came for
// it, and its parent was found unchanged in this scan: the parent's
// entries are then the same, so its path still names the watched folder.
// (A folder whose parent changed may have been replaced by another of the
// same name; the root has no watched parent.) Parents are walked before
// their subfolders.
func (h *scanHook) Vouch(_ int, dir string) (bool, []string, bool) {
	d := h.old[dir]
	remembered := d != nil && !h.full
	if !h.vouch || !remembered || d.dirty {
		return false, nil, remembered
	}
	if d.wd == 0 {
		// Read by an earlier scan, not watched yet: watch it now, before
		// the walk's lstat of it. If that finds it unchanged, the watch
		// sees what comes after; otherwise it is read again (and Reading
		// watches what it opened).
		d.wd = h.addWatch(func(w *watcher) (int32, error) { return w.addPath(dir) })
		return false, nil, true
	}
	i := strings.LastIndexByte(dir, '/')
	if i < 0 {
		return false, nil, true
	}
	parent := dir[:i]
	h.mu.Lock()
	defer h.mu.Unlock()
	if p := h.seen[parent]; p == nil || p != h.old[parent] {
		return false, nil, true
	}
	h.seen[dir] = d
	h.vouched++
	return true, d.subdirs, true
}

func (h *scanHook) Enter(worker int, dir string, st *unix.Stat_t) (bool, []string) {
	if d := h.old[dir]; !h.full && d != nil && !d.dirty && d.unchanged(st) {
		h.mu.Lock()
		h.seen[dir] = d
		h.mu.Unlock()
		return true, d.subdirs
	}
	h.busyOnce.Do(h.work)
	t := &h.cur[worker]
	clear(t.cats)
	t.disk, t.oldest, t.wd = 0, 0, 0
	t.readAt = time.Now().UnixNano()
	return false, nil
}

// work calls Options.Busy: this scan reads a folder.
func (h *scanHook) work() {
	if h.busy != nil {
		h.release = h.busy()
	}
}

// idle releases what work took, once the walk is over.
func (h *scanHook) idle() {
	h.busyOnce.Do(func() {}) // no worker may take it any more
	if h.release != nil {
		h.release()
	}
}

// Reading watches a folder an earlier scan read before its entries are
// read, so that no change after the read goes unseen. A folder read for
// the first time is not watched yet: the next scan watches it if it is
// still there (see Vouch).
func (h *scanHook) Reading(worker int, dir string, fd int) {
	if h.old[dir] == nil {
		return
	}
	h.cur[worker].wd = h.addWatch(func(w *watcher) (int32, error) { return w.add(fd) })
}

// addWatch adds a watch with add, unless there is no inotify instance or
// a watch could not be added earlier in this scan (no watch left: each
// try would cost a system call per folder for nothing).
func (h *scanHook) addWatch(add func(*watcher) (int32, error)) int32 {
	if h.watch == nil {
		return 0
	}
	h.mu.Lock()
	failed := h.watchErr != nil
	h.mu.Unlock()
	if failed {
		return 0
	}
	wd, err := add(h.watch)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return 0 // gone or replaced since its parent was read: its lstat tells
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil && h.watchErr == nil:
		h.watchErr = err
	case wd != 0:
		h.byPath = append(h.byPath, wd)
	}
	return wd
}

func (h *scanHook) Done(worker int, dir string, st *unix.Stat_t, subdirs []string, errs int) {
	t := &h.cur[worker]
	d := &dirTotals{dev: st.Dev, ino: st.Ino, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), readAt: t.readAt, wd: t.wd,
		disk: t.disk, oldest: t.oldest, subdirs: subdirs, cats: make([]catCounts, 0, len(t.cats))}
	if errs > 0 {
		d.ino, d.dirty = 0, true // never unchanged: read again next time
	}
	for cat, c := range t.cats {
		d.cats = append(d.cats, catCounts{cat, *c})
	}
	h.mu.Lock()
	h.seen[dir] = d
	h.reread++
	h.mu.Unlock()
}

// result sums the folders of this scan.
func (h *scanHook) result(wr walk.Result) *Result {
	res := &Result{Categories: map[string]Counts{}, Walk: wr, Reread: h.reread}
	var oldest int64
	for _, d := range h.seen {
		for _, c := range d.cats {
			sum := res.Categories[c.cat]
			sum.Messages += c.Messages
			sum.Bytes += c.Bytes
			res.Categories[c.cat] = sum
		}
		res.DiskBytes += d.disk
		if d.oldest != 0 && (oldest == 0 || d.oldest < oldest) {
			oldest = d.oldest
		}
	}
	if oldest != 0 {
		res.Oldest = time.Unix(0, oldest)
	}
	return res
}
