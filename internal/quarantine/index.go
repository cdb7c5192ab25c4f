package quarantine

import (
	"context"
	"slices"
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
// Memory is per folder, not per file: a path, a few numbers and one
// entry per category present in it.
type Index struct {
	// FullEvery: a scan at least this long after the last full one reads
	// every folder (0: every scan is full).
	FullEvery time.Duration

	mu       sync.Mutex
	dirs     map[string]*dirTotals
	lastFull time.Time
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
	h := &scanHook{old: ix.dirs, full: full, seen: map[string]*dirTotals{}, cur: make([]tally, opt.Workers)}
	for i := range h.cur {
		h.cur[i].cats = map[string]*Counts{}
	}
	wr, err := walk.WalkDirs(ctx, root, opt.Workers, func(worker int, _, name string, st *unix.Stat_t) {
		h.cur[worker].add(classify(opt.Classify, name), st)
	}, h)
	if err != nil {
		ix.dirs = nil // a scan cut short knows nothing for sure
		return nil, err
	}
	ix.dirs = h.seen
	if full {
		ix.lastFull = begin
	}
	res := h.result(wr)
	res.Categories = capCategories(res.Categories, opt.MaxCategories)
	res.Finished = time.Now()
	res.Duration = res.Finished.Sub(begin)
	res.Full = full
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
	old  map[string]*dirTotals // the last scan's, read only
	full bool
	cur  []tally

	mu     sync.Mutex
	seen   map[string]*dirTotals
	reread int
}

func (h *scanHook) Enter(worker int, dir string, st *unix.Stat_t) (bool, []string) {
	if d := h.old[dir]; !h.full && d != nil && d.unchanged(st) {
		h.mu.Lock()
		h.seen[dir] = d
		h.mu.Unlock()
		return true, d.subdirs
	}
	t := &h.cur[worker]
	clear(t.cats)
	t.disk, t.oldest = 0, 0
	t.readAt = time.Now().UnixNano()
	return false, nil
}

func (h *scanHook) Done(worker int, dir string, st *unix.Stat_t, subdirs []string, errs int) {
	t := &h.cur[worker]
	d := &dirTotals{dev: st.Dev, ino: st.Ino, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), readAt: t.readAt,
		disk: t.disk, oldest: t.oldest, subdirs: slices.Clone(subdirs), cats: make([]catCounts, 0, len(t.cats))}
	if errs > 0 {
		d.ino = 0 // never unchanged: read again next time
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
