package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/corename"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

func init() { registerCollector("corefiles", true, newCorefilesCollector) }

var (
	coreFilesDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "core", "files"),
		`Core dumps and crash reports in the folder, by program.`,
		[]string{"dir", "executable"}, nil)
	coreBytesDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "core", "file_bytes"),
		"Size of the core dumps and crash reports, in bytes.",
		[]string{"dir"}, nil)
	coreNewestDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "core", "file_newest_timestamp_seconds"),
		"Modification time of the newest core dump, in Unix time.",
		[]string{"dir"}, nil)
)

// corefilesCollector lists core folders. A folder usually holds a handful
// of files, but a crash loop can leave 100,000: a listing is kept while
// the folder's identity and modification time stay the same (a file added,
// removed or renamed changes them), and redone at most coreRelistAfter
// later (a core still being written grows without touching its folder).
type corefilesCollector struct {
	logger      log.Logger
	root        string
	corePattern *fileid.Kept  // the core_pattern file; nil when off
	parsed      parsedPattern // the last core_pattern read, parsed; under mu
	dirs        []string
	maxExes     int

	// mu makes concurrent scrapes wait for one listing instead of each
	// listing the folder (20 scrapes at once took 604 MB).
	mu       sync.Mutex
	listings map[coreListingKey]*coreListing
	listed   int // folders listed so far (tests)
}

// coreRelistAfter bounds how stale a kept listing's sizes and times get.
const coreRelistAfter = time.Minute

// coreRacyWindow: a listing made this soon after the folder changed may
// have missed a change made within the same clock tick; it is not kept.
const coreRacyWindow = time.Second

type coreListingKey struct{ dir, pattern string }

// coreListing is what one listing of a folder found.
type coreListing struct {
	folder fileid.ID
	at     time.Time
	perExe map[string]float64
	bytes  float64
	newest float64
	errs   []error
}

func newCorefilesCollector(d Deps) (Collector, error) {
	cfg := d.config()
	c := &corefilesCollector{logger: d.Logger, root: d.rootfs(), dirs: cfg.Corefiles.Dirs, maxExes: cfg.Corefiles.MaxExecutables,
		listings: map[coreListingKey]*coreListing{}}
	if c.maxExes <= 0 {
		c.maxExes = config.DefaultCorefilesMaxExecutables
	}
	if cfg.Corefiles.UseCorePattern() {
		proc := d.Paths.Proc
		if proc == "" {
			proc = "/proc"
		}
		c.corePattern = fileid.Keep(filepath.Join(proc, "sys", "kernel", "core_pattern"), 64<<10)
	}
	return c, nil
}

// Close closes the core_pattern file kept open.
func (c *corefilesCollector) Close() {
	if c.corePattern != nil {
		c.corePattern.Close()
	}
}

// parsedPattern is a core_pattern and what corename.Pattern made of it
// (the zero value: an empty pattern, which names no folder):
// the pattern is read every scrape, and compiled again only when it
// changed.
type parsedPattern struct {
	raw string
	dir string
	re  *regexp.Regexp
	ok  bool
}

// coreDir is one folder to list and how its files are named.
type coreDir struct {
	dir     string // host path
	pattern *regexp.Regexp
}

// watched lists the configured folders and the core_pattern's, each once.
func (c *corefilesCollector) watched() []coreDir {
	var out []coreDir
	seen := map[string]int{}
	for _, d := range c.dirs {
		d = filepath.Clean(d)
		if _, dup := seen[d]; !dup {
			seen[d] = len(out)
			out = append(out, coreDir{dir: d})
		}
	}
	if c.corePattern == nil {
		return out
	}
	raw, err := c.corePattern.Read()
	if err != nil {
		_ = level.Debug(c.logger).Log("msg", "core_pattern not readable", "err", err)
		return out
	}
	if p := &c.parsed; p.raw != string(raw) { // the zero value is Pattern("")'s answer
		p.raw = string(raw)
		p.dir, p.re, p.ok = corename.Pattern(p.raw)
	}
	dir, re, ok := c.parsed.dir, c.parsed.re, c.parsed.ok
	if !ok {
		return out
	}
	if i, dup := seen[dir]; dup {
		out[i].pattern = re
		return out
	}
	return append(out, coreDir{dir: dir, pattern: re})
}

func (c *corefilesCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	used := map[coreListingKey]bool{}
	for _, d := range c.watched() {
		l, err := c.listing(d)
		if err != nil {
			errs = append(errs, err)
		}
		if l == nil {
			continue
		}
		used[coreListingKey{d.dir, patternString(d.pattern)}] = true
		c.report(ch, d, l)
		errs = append(errs, l.errs...)
	}
	for k := range c.listings {
		if !used[k] {
			delete(c.listings, k) // a folder gone or no longer watched
		}
	}
	return errors.Join(errs...)
}

func patternString(re *regexp.Regexp) string {
	if re == nil {
		return ""
	}
	return re.String()
}

// listing returns the folder's listing, kept or made now; nil for an
// absent folder.
func (c *corefilesCollector) listing(d coreDir) (*coreListing, error) {
	path := filepath.Join(c.root, d.dir)
	key := coreListingKey{d.dir, patternString(d.pattern)}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core folder %s: %w", d.dir, err)
	}
	now := time.Now()
	if l := c.listings[key]; l != nil && l.folder == fileid.Of(fi) && now.Sub(l.at) < coreRelistAfter {
		return l, nil
	}
	c.listed++
	l, err := listCoreDir(path, d.pattern)
	if err != nil {
		delete(c.listings, key)
		return nil, fmt.Errorf("core folder %s: %w", d.dir, err)
	}
	l.folder, l.at = fileid.Of(fi), now
	if now.Sub(fi.ModTime()) >= coreRacyWindow {
		c.listings[key] = l
	} else {
		delete(c.listings, key)
	}
	return l, nil
}

// listCoreDir lists one folder in batches (a crash loop's 100,000 entries
// are never held at once).
func listCoreDir(path string, pattern *regexp.Regexp) (*coreListing, error) {
	f, err := fileid.OpenDir(path) // a FIFO in the folder's place must not block
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l := &coreListing{perExe: map[string]float64{}}
	for {
		entries, err := f.ReadDir(4096)
		for _, e := range entries {
			l.add(e, pattern)
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return l, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (l *coreListing) add(e fs.DirEntry, pattern *regexp.Regexp) {
	if !e.Type().IsRegular() || !corename.Counted(e.Name()) {
		return
	}
	info, err := e.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return // removed meanwhile
	}
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	l.perExe[corename.Executable(e.Name(), pattern)]++
	l.bytes += float64(info.Size())
	l.newest = max(l.newest, float64(info.ModTime().UnixNano())/1e9)
}

// report sends one folder's metrics.
func (c *corefilesCollector) report(ch chan<- prometheus.Metric, d coreDir, l *coreListing) {
	for exe, n := range capCounts(l.perExe, c.maxExes) {
		sendGauge(ch, coreFilesDesc, n, d.dir, exe)
	}
	sendGauge(ch, coreBytesDesc, l.bytes, d.dir)
	if len(l.perExe) > 0 {
		sendGauge(ch, coreNewestDesc, l.newest, d.dir)
	}
}

// capCounts keeps the limit most frequent keys (then by name) and sums
// the rest as "other".
func capCounts(counts map[string]float64, limit int) map[string]float64 {
	if len(counts) <= limit {
		return counts
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := map[string]float64{}
	for i, k := range keys {
		if i < limit-1 && k != "other" {
			out[k] = counts[k]
		} else {
			out["other"] += counts[k]
		}
	}
	return out
}
