package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/quarantine"
)

func init() { registerCollector("quarantine", true, newQuarantineCollector) }

func quarantineDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "quarantine", name), help,
		append([]string{"quarantine"}, labels...), nil)
}

var (
	quarantineInfoDesc     = quarantineDesc("info", "A configured quarantine folder that exists; path is the host path, as in the filesystem collector's path_info; always 1.", "path")
	quarantineMessagesDesc = quarantineDesc("messages", "Messages (regular files) in the quarantine at the last scan, by category from the file name.", "category")
	quarantineBytesDesc    = quarantineDesc("bytes", "Apparent size (st_size) of the messages in the quarantine at the last scan, by category, in bytes.", "category")
	quarantineDiskDesc     = quarantineDesc("disk_bytes", "Disk space the quarantine's messages use (st_blocks * 512) at the last scan, in bytes.")
	quarantineOldestDesc   = quarantineDesc("oldest_message_timestamp_seconds", "Modification time of the oldest message at the last scan, in seconds since the epoch; absent when empty.")
	quarantineLastDesc     = quarantineDesc("last_scan_timestamp_seconds", "When the last background scan finished, in seconds since the epoch.")
	quarantineDurationDesc = quarantineDesc("scan_duration_seconds", "How long the last background scan took, in seconds.")
	quarantineErrorsDesc   = quarantineDesc("scan_errors_total", "Folders or files the background scans could not read (the scan goes on without them).")
	quarantinePendingDesc  = quarantineDesc("scan_pending", "1 until the first background scan has finished (the other numbers are then left out), 0 after.")
)

// quarantineWorkers is how many goroutines walk one quarantine: one
// processor is left to the goroutines serving scrapes, which must not wait
// for a walk (measured in bench/quarantine-vs-du.sh).
func quarantineWorkers() int {
	return min(16, max(1, runtime.GOMAXPROCS(0)-1))
}

// quarantineFullEvery is how often a scan reads every folder, not only
// those that changed: the safety net for a message rewritten in place,
// which changes no folder.
const quarantineFullEvery = time.Hour

// quarantineScanner rescans one quarantine folder in the background; a
// scrape only reads its last result.
type quarantineScanner struct {
	cfg    config.QuarantineConfig
	dir    string // where this process reads it (rootfs applied)
	opt    quarantine.Options
	logger log.Logger
	zeros  []string          // categories reported even when empty (a preset's)
	index  *quarantine.Index // what the scans know of its folders; the scan loop's

	mu        sync.Mutex
	last      *quarantine.Result // nil before the first scan
	absent    bool               // the last scan found no folder
	lastErr   error              // root unreadable
	errsTotal int
	logged    string
}

// quarantineCollector serves the scanners' last results.
type quarantineCollector struct {
	scanners []*quarantineScanner
	keys     []string // in sharedScanners
	once     sync.Once
}

// sharedScanners keeps the scanners running across reloads: the new
// collector set is built before the old one is closed, so a quarantine
// whose configuration did not change keeps its scanner, its last result
// and its error count, instead of going back to pending and rescanning.
var sharedScanners = struct {
	mu      sync.Mutex
	running map[string]*sharedScanner
}{running: map[string]*sharedScanner{}}

type sharedScanner struct {
	s      *quarantineScanner
	refs   int
	cancel context.CancelFunc
	done   chan struct{}
}

// acquireScanner returns the running scanner for key, or starts one.
func acquireScanner(key string, s *quarantineScanner) *quarantineScanner {
	sharedScanners.mu.Lock()
	defer sharedScanners.mu.Unlock()
	if sh := sharedScanners.running[key]; sh != nil {
		sh.refs++
		return sh.s
	}
	ctx, cancel := context.WithCancel(context.Background())
	sh := &sharedScanner{s: s, refs: 1, cancel: cancel, done: make(chan struct{})}
	sharedScanners.running[key] = sh
	go func() {
		defer close(sh.done)
		s.loop(ctx)
	}()
	return s
}

// releaseScanner stops the scanner for key when no collector uses it.
func releaseScanner(key string) {
	sharedScanners.mu.Lock()
	sh := sharedScanners.running[key]
	sh.refs--
	if sh.refs > 0 {
		sharedScanners.mu.Unlock()
		return
	}
	delete(sharedScanners.running, key)
	sharedScanners.mu.Unlock()
	sh.cancel()
	<-sh.done
}

func newQuarantineCollector(d Deps) (Collector, error) {
	cfg := d.config()
	root := d.rootfs()
	c := &quarantineCollector{}
	for _, q := range cfg.Quarantine {
		s := &quarantineScanner{
			cfg:    q,
			dir:    filepath.Join(root, q.Path),
			logger: log.With(d.Logger, "quarantine", q.Name),
			opt:    quarantine.Options{MaxCategories: q.MaxCategories, Workers: quarantineWorkers()},
		}
		switch {
		case q.Classify == config.QuarantinePresetAmavis:
			s.opt.Classify = quarantine.Amavis
			s.zeros = quarantine.AmavisCategories()
		case q.ClassifyRegexp() != nil:
			s.opt.Classify = quarantine.Regexp(q.ClassifyRegexp())
		}
		key := fmt.Sprintf("%q %q %q %d %s", q.Name, s.dir, q.Classify, q.MaxCategories, q.Interval)
		c.keys = append(c.keys, key)
		c.scanners = append(c.scanners, acquireScanner(key, s))
	}
	return c, nil
}

// loop scans at once, then cfg.Interval after each scan ended, so a slow
// disk never has two scans of one folder running.
func (s *quarantineScanner) loop(ctx context.Context) {
	for {
		s.scan(ctx)
		t := time.NewTimer(s.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *quarantineScanner) scan(ctx context.Context) {
	if s.index == nil {
		s.index = &quarantine.Index{FullEvery: quarantineFullEvery}
	}
	res, err := s.index.Scan(ctx, s.dir, s.opt)
	if ctx.Err() != nil {
		return // closed mid-scan: keep the last complete result
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.absent = errors.Is(err, fs.ErrNotExist)
	if s.absent {
		err = nil
		s.last = nil
	}
	s.lastErr = err
	msg := ""
	switch {
	case err != nil:
		s.last = nil // no stale numbers for a folder that cannot be read
		s.errsTotal++
		msg = err.Error()
	case res != nil:
		s.last = res
		s.errsTotal += res.Walk.Errors
		if res.Walk.Errors > 0 {
			msg = fmt.Sprintf("%d unreadable, e.g. %v", res.Walk.Errors, res.Walk.First[0])
		}
	}
	if msg != s.logged {
		if msg == "" {
			_ = level.Info(s.logger).Log("msg", "quarantine readable again", "path", s.cfg.Path)
		} else {
			_ = level.Error(s.logger).Log("msg", "quarantine scan incomplete", "path", s.cfg.Path, "err", msg)
		}
		s.logged = msg
	}
}

// Close stops the scans no other collector set uses, and waits for them.
func (c *quarantineCollector) Close() {
	c.once.Do(func() {
		for _, key := range c.keys {
			releaseScanner(key)
		}
	})
}

func (c *quarantineCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	if len(c.scanners) == 0 {
		return ErrNoData
	}
	var errs []error
	for _, s := range c.scanners {
		if err := s.emit(ch); err != nil {
			errs = append(errs, fmt.Errorf("quarantine %s: %w", s.cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}

// emit sends one quarantine's metrics from its last scan.
func (s *quarantineScanner) emit(ch chan<- prometheus.Metric) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := s.cfg.Name
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, append([]string{name}, labels...)...)
	}
	pending := s.last == nil && s.lastErr == nil && !s.absent
	if pending {
		// Before the first scan: say so, if the folder is there at all.
		if _, err := os.Lstat(s.dir); err != nil {
			return nil
		}
	} else if s.absent {
		return nil
	}
	gauge(quarantineInfoDesc, 1, s.cfg.Path)
	if pending {
		gauge(quarantinePendingDesc, 1)
		return nil
	}
	gauge(quarantinePendingDesc, 0)
	ch <- constMetric(quarantineErrorsDesc, prometheus.CounterValue, float64(s.errsTotal), name)
	if s.last == nil {
		return s.lastErr
	}
	r := s.last
	cats := map[string]bool{}
	for cat := range r.Categories {
		cats[cat] = true
	}
	for _, cat := range s.zeros {
		cats[cat] = true
	}
	for _, cat := range slices.Sorted(maps.Keys(cats)) {
		gauge(quarantineMessagesDesc, float64(r.Categories[cat].Messages), cat)
		gauge(quarantineBytesDesc, float64(r.Categories[cat].Bytes), cat)
	}
	gauge(quarantineDiskDesc, float64(r.DiskBytes))
	if !r.Oldest.IsZero() {
		gauge(quarantineOldestDesc, float64(r.Oldest.UnixNano())/1e9)
	}
	gauge(quarantineLastDesc, float64(r.Finished.UnixNano())/1e9)
	gauge(quarantineDurationDesc, r.Duration.Seconds())
	if s.lastErr != nil {
		return s.lastErr
	}
	if r.Walk.Errors > 0 {
		return fmt.Errorf("%d folders or files unreadable, e.g. %v", r.Walk.Errors, r.Walk.First[0])
	}
	return nil
}
