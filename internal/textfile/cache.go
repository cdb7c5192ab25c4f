package textfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// Dir is one folder of *.prom files.
type Dir struct {
	Name string // the host path, as configured: file labels are Name/FILE
	Path string // where this process reads it (under --path.rootfs)
}

// Options configure a Cache.
type Options struct {
	// MaxFileSize refuses bigger files before reading them; <= 0 means
	// no limit.
	MaxFileSize int64
	// Reserved says whether a sample name belongs to the exporter itself;
	// families exposing such a name are dropped.
	Reserved func(name string) bool
	// FollowSymlinksOutside lets a *.prom symbolic link lead anywhere;
	// by default it is followed only to a file inside one of the scanned
	// folders, so a planted link cannot serve /proc or a secret as
	// metrics.
	FollowSymlinksOutside bool
	// MaxSeries caps the series served from all files together (see
	// Series); a file that would pass it is refused whole, files being
	// taken in scan order. <= 0 means no cap.
	MaxSeries int
}

// Cache keeps every file's parsed families, keyed by the file's identity
// (device, inode, size, modification time), and the merged result: a scan
// that finds no file changed, added or removed returns the previous
// snapshot without reading, parsing or merging anything.
type Cache struct {
	opts Options

	mu    sync.Mutex
	files map[string]*entry // by file path (label)
	// inside are the scanned folders' real paths, where a symbolic link
	// may lead (see Options.FollowSymlinksOutside).
	inside []string
	snap   *Snapshot
	stats  Stats
}

// Stats count the work a cache did, for tests and debugging.
type Stats struct {
	Reads  int // files opened and read
	Parses int // files parsed
	Merges int // merged sets rebuilt
}

// Snapshot is the result of one scan. It is shared by every scrape that
// finds the same files and must not be modified.
type Snapshot struct {
	// Families are the merged families of all served files, sorted by
	// name, each metric's labels sorted.
	Families []*dto.MetricFamily
	// Files lists every *.prom file found, sorted by path.
	Files []FileStatus
	// Errors are problems with the folders themselves (unreadable, not a
	// folder); an absent folder is not a problem.
	Errors []error
}

// FileStatus is what became of one file.
type FileStatus struct {
	Path string
	// Served is true when the file was parsed and at least its valid
	// families are served; MTime is then its modification time.
	Served bool
	MTime  time.Time
	// Err says why the file (Served false), or some of its families
	// (Served true), were refused.
	Err error
}

// Failed tells whether any file or folder had a problem.
func (s *Snapshot) Failed() bool {
	if len(s.Errors) > 0 {
		return true
	}
	for _, f := range s.Files {
		if f.Err != nil {
			return true
		}
	}
	return false
}

// entry is the cached state of one file.
type entry struct {
	path string
	// known is set once key describes the file content families and err
	// were made from; an open or stat failure clears it, so the file is
	// tried again on the next scan. The same inode on the same device,
	// with the same size and modification time, is taken to hold the same
	// bytes: a writer that renames a new file into place always changes
	// the inode.
	known    bool
	key      fileid.ID
	mtime    time.Time
	families []*dto.MetricFamily // nil when err is set
	series   int                 // Series(families)
	err      error               // the file as a whole was refused
	capErr   error               // refused by the last merge: over MaxSeries
	problems []error             // families dropped by the last merge
}

// NewCache returns an empty cache.
func NewCache(opts Options) *Cache {
	return &Cache{opts: opts, files: map[string]*entry{}}
}

// Stats returns the work done so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// testHookBeforeRead runs after a file was opened and examined, before it
// is read (tests replace or grow the file there).
var testHookBeforeRead func(path string)

// Scan looks at every *.prom file in dirs (in order; files by name within
// a folder), reads and parses the ones whose identity changed since the
// last scan, and returns the merged result. Scans are serialized.
func (c *Cache) Scan(dirs []Dir) *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()

	var (
		dirErrs []error
		order   []*entry
		changed bool
		seen    = map[string]bool{}
	)
	c.inside = c.inside[:0]
	for _, d := range dirs {
		if real, err := filepath.EvalSymlinks(d.Path); err == nil {
			c.inside = append(c.inside, real)
		}
	}
	for _, d := range dirs {
		names, err := promFiles(d.Path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				dirErrs = append(dirErrs, fmt.Errorf("folder %s: %w", d.Name, unwrapPath(err)))
			}
			continue
		}
		for _, name := range names {
			label := filepath.Join(d.Name, name)
			if seen[label] {
				continue
			}
			e := c.files[label]
			if e == nil {
				e = &entry{path: label}
				c.files[label] = e
				changed = true
			}
			present, ch := c.refresh(e, filepath.Join(d.Path, name))
			if !present {
				continue // removed between listing and opening
			}
			seen[label] = true
			changed = changed || ch
			order = append(order, e)
		}
	}
	for label := range c.files {
		if !seen[label] {
			delete(c.files, label)
			changed = true
		}
	}

	if changed || c.snap == nil {
		c.stats.Merges++
		srcs := make([]Source, 0, len(order))
		parsed := make([]*entry, 0, len(order))
		total := 0
		for _, e := range order {
			e.problems, e.capErr = nil, nil
			if e.families != nil && c.opts.MaxSeries > 0 && total+e.series > c.opts.MaxSeries {
				e.capErr = fmt.Errorf("%d series would take the textfiles past textfile.max_series (%d; %d served from the files before it); not served", e.series, c.opts.MaxSeries, total)
				continue
			}
			if e.families != nil {
				total += e.series
				srcs = append(srcs, Source{Path: e.path, Families: e.families})
				parsed = append(parsed, e)
			}
		}
		families, problems := Merge(srcs, c.opts.Reserved)
		for i, e := range parsed {
			e.problems = problems[i]
		}
		c.snap = &Snapshot{Families: families}
	} else if sameErrors(c.snap.Errors, dirErrs) {
		return c.snap
	}
	// Statuses are rebuilt; the families are shared when unchanged.
	snap := &Snapshot{Families: c.snap.Families, Errors: dirErrs, Files: make([]FileStatus, 0, len(order))}
	for _, e := range order {
		snap.Files = append(snap.Files, e.status())
	}
	slices.SortFunc(snap.Files, func(a, b FileStatus) int { return strings.Compare(a.Path, b.Path) })
	c.snap = snap
	return snap
}

func (e *entry) status() FileStatus {
	st := FileStatus{Path: e.path, Err: e.err}
	if e.capErr != nil {
		st.Err = e.capErr
		return st
	}
	if e.families != nil {
		st.Served, st.MTime = true, e.mtime
		st.Err = joinErrors(e.problems)
	}
	return st
}

// joinErrors joins errors on one line, for the log.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func sameErrors(a, b []error) bool {
	return slices.EqualFunc(a, b, func(x, y error) bool { return errString(x) == errString(y) })
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// refresh brings e up to date with the file at path. present is false when
// the file vanished; changed is true when e's families or error changed.
func (c *Cache) refresh(e *entry, path string) (present, changed bool) {
	// The common case: a stat says the file is the one already parsed.
	if st, err := os.Stat(path); err == nil && e.known && fileid.Of(st) == e.key {
		return true, false
	}
	f, err := c.open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, false
		}
		return true, e.fail(unwrapPath(err))
	}
	defer f.Close()
	// Everything below describes the open file, whatever happens to the
	// name meanwhile: a file replaced by rename is read whole or not at
	// all, and the key is that of the content read.
	st, err := f.Stat()
	if err != nil {
		return true, e.fail(unwrapPath(err))
	}
	key := fileid.Of(st)
	if e.known && key == e.key {
		return true, false
	}
	if testHookBeforeRead != nil {
		testHookBeforeRead(path)
	}
	families, err := c.read(f, st)
	changed = !e.known || errString(err) != errString(e.err) || families != nil || e.families != nil
	e.known, e.key, e.mtime, e.families, e.err = true, key, st.ModTime(), families, err
	e.series = Series(families)
	return true, changed
}

// open opens a *.prom file without blocking, refusing what is not a
// regular file and a symbolic link that leads out of the scanned folders.
// The link's target is opened by its resolved name with O_NOFOLLOW, so a
// link swapped after the check is refused, not followed.
func (c *Cache) open(path string) (*os.File, error) {
	lst, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if lst.Mode()&fs.ModeSymlink == 0 || c.opts.FollowSymlinksOutside {
		f, _, err := fileid.OpenRegular(path)
		return f, err
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	if !c.isInside(target) {
		return nil, fmt.Errorf("is a symbolic link to %s, outside the textfile folders (textfile.follow_symlinks_outside is off)", target)
	}
	f, _, err := fileid.OpenRegularNoFollow(target)
	return f, err
}

func (c *Cache) isInside(path string) bool {
	for _, dir := range c.inside {
		if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

// read reads and parses an open file, refusing it when it is not a
// regular file or exceeds the size limit.
func (c *Cache) read(f *os.File, st fs.FileInfo) ([]*dto.MetricFamily, error) {
	limit := c.opts.MaxFileSize
	if limit > 0 && st.Size() > limit {
		return nil, fmt.Errorf("file is %d bytes, more than the limit of %d (textfile.max_file_size); not read", st.Size(), limit)
	}
	c.stats.Reads++
	var r io.Reader = f
	if limit > 0 {
		// The file may grow while it is read: read one byte past the
		// limit at most, to notice.
		r = io.LimitReader(f, limit+1)
	}
	data, err := readAll(r, st.Size())
	if err != nil {
		return nil, fmt.Errorf("reading: %w", unwrapPath(err))
	}
	if limit > 0 && int64(len(data)) > limit {
		return nil, fmt.Errorf("file grew past the limit of %d bytes (textfile.max_file_size) while being read; not used", limit)
	}
	c.stats.Parses++
	families, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if families == nil {
		families = []*dto.MetricFamily{} // an empty file is served: nothing, and its mtime
	}
	return families, nil
}

// readAll reads r to the end into a buffer sized for the expected size.
func readAll(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Series counts the series families expose, as max_series counts them: a
// sample line each, so a histogram counts its buckets plus _sum and
// _count, a summary its quantiles plus _sum and _count.
func Series(families []*dto.MetricFamily) int {
	n := 0
	for _, mf := range families {
		for _, m := range mf.Metric {
			switch {
			case m.Histogram != nil:
				n += len(m.Histogram.Bucket) + 2
				if !hasInfBucket(m.Histogram) {
					n++ // the +Inf bucket the exposition adds
				}
			case m.Summary != nil:
				n += len(m.Summary.Quantile) + 2
			default:
				n++
			}
		}
	}
	return n
}

func hasInfBucket(h *dto.Histogram) bool {
	b := h.Bucket
	return len(b) > 0 && math.IsInf(b[len(b)-1].GetUpperBound(), 1)
}

// fail records that the file could not be opened or examined; it is tried
// again on the next scan.
func (e *entry) fail(err error) bool {
	changed := errString(err) != errString(e.err) || e.families != nil
	e.known, e.families, e.err = false, nil, err
	return changed
}

// promFiles lists the *.prom names in a folder, sorted.
func promFiles(dir string) ([]string, error) {
	f, err := fileid.OpenDir(dir) // a FIFO in the folder's place must not block
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if strings.HasSuffix(n, ".prom") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// unwrapPath drops the path an *fs.PathError carries: messages name the
// host path themselves, not the path under --path.rootfs.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(err, fileid.ErrNotRegular) {
		return pe.Err
	}
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
