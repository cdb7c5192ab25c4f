package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/procs"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/quarantine"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/walk"
)

func init() { registerKeeping("quarantine", true, newQuarantineCollector) }

func quarantineDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "quarantine", name), help,
		append([]string{"quarantine"}, labels...), nil)
}

var (
	quarantineInfoDesc     = quarantineDesc("info", "Configured quarantine folder that exists; always 1.", "path")
	quarantineMessagesDesc = quarantineDesc("messages", "Messages in the quarantine at the last scan.", "category")
	quarantineBytesDesc    = quarantineDesc("bytes", "Apparent size of the quarantined messages, in bytes.", "category")
	quarantineDiskDesc     = quarantineDesc("disk_bytes", "Disk space the quarantined messages use, in bytes.")
	quarantineOldestDesc   = quarantineDesc("oldest_message_timestamp_seconds", "Modification time of the oldest message, in Unix time.")
	quarantineLastDesc     = quarantineDesc("last_scan_timestamp_seconds", "When the last scan finished, in Unix time.")
	quarantineDurationDesc = quarantineDesc("scan_duration_seconds", "Duration of the last scan, in seconds.")
	quarantineErrorsDesc   = quarantineDesc("scan_errors_total", "Folders or files the scans could not read.")
	quarantinePendingDesc  = quarantineDesc("scan_pending", "1 until the first scan has finished, then 0.")
)

// busyFromAnyThread is procs.Busy taken on a goroutine of its own. The
// walk asks for it from its walking thread, whose priority is lowered,
// and raising the CPUs stops the world: led by a thread the kernel runs
// last, that stop would hold every scrape as long as the kernel makes it
// wait.
func busyFromAnyThread() (release func()) {
	got := make(chan func())
	go func() { got <- procsBusy() }()
	return <-got
}

// procsBusy is procs.Busy; a test sees which thread calls it.
var procsBusy = procs.Busy

// quarantineWorkers is how many goroutines walk one quarantine: one
// processor is left to the goroutines serving scrapes, which must not wait
// for a walk (measured in bench/quarantine-vs-du.sh).
func quarantineWorkers() int {
	return min(16, max(1, procs.Busiest()-1))
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
	// watchLogged: that inotify could not watch every folder was logged
	// (once per scanner: a quarantine that outgrew the watches stays so).
	watchLogged bool

	key    string             // what a reload compares: the same key keeps the scanner
	cancel context.CancelFunc // nil until started
	done   chan struct{}

	mu        sync.Mutex
	last      *quarantine.Result // nil before the first scan
	absent    bool               // the last scan found no folder
	lastErr   error              // root unreadable
	errsTotal int
	logged    errorLog
}

// quarantineCollector serves the scanners' last results.
type quarantineCollector struct {
	scanners []*quarantineScanner
	prev     *quarantineCollector                      // until TakeOver
	pending  map[*quarantineScanner]*quarantineScanner // new scanner -> the changed one it replaces

	mu    sync.Mutex
	owned map[*quarantineScanner]bool // the scanners Close stops: not those a successor took
}

// newQuarantineCollector keeps the predecessor's scanner of a quarantine
// whose configuration did not change (its last result and error count
// go on, no going back to pending and rescanning); a changed one gets a
// new scanner, started in TakeOver from the old one's error count.
func newQuarantineCollector(d Deps, prev *quarantineCollector) (Collector, error) {
	cfg := d.config()
	root := d.rootfs()
	c := &quarantineCollector{prev: prev, pending: map[*quarantineScanner]*quarantineScanner{}}
	for _, q := range cfg.Quarantine {
		s := &quarantineScanner{
			cfg:    q,
			dir:    filepath.Join(root, q.Path),
			logger: log.With(d.Logger, "quarantine", q.Name),
			// Every CPU while a walk reads folders; a rescan that
			// finds the quarantine unchanged stays on the idle ones.
			opt: quarantine.Options{MaxCategories: q.MaxCategories, Workers: quarantineWorkers(), Busy: busyFromAnyThread},
		}
		switch {
		case q.Classify == config.QuarantinePresetAmavis:
			s.opt.Classify = quarantine.Amavis
			s.zeros = quarantine.AmavisCategories()
		case q.ClassifyRegexp() != nil:
			s.opt.Classify = quarantine.Regexp(q.ClassifyRegexp())
		}
		s.key = fmt.Sprintf("%q %q %q %d %s", q.Name, s.dir, q.Classify, q.MaxCategories, q.Interval)
		old, same := prev.scanner(q.Name)
		switch {
		case same(s.key):
			s = old
		case old != nil:
			c.pending[s] = old
		default:
			c.own(s)
			s.start()
		}
		c.scanners = append(c.scanners, s)
	}
	return c, nil
}

// scanner returns the collector's scanner of the named quarantine (nil
// when none, or no collector) and a test of its key.
func (c *quarantineCollector) scanner(name string) (*quarantineScanner, func(string) bool) {
	if c != nil {
		for _, s := range c.scanners {
			if s.cfg.Name == name {
				return s, func(key string) bool { return key == s.key }
			}
		}
	}
	return nil, func(string) bool { return false }
}

func (c *quarantineCollector) own(s *quarantineScanner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned == nil {
		c.owned = map[*quarantineScanner]bool{}
	}
	c.owned[s] = true
}

func (c *quarantineCollector) disown(s *quarantineScanner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.owned, s)
}

// TakeOver re-owns the unchanged scanners and replaces the changed ones:
// the old scanner stops (its last result stays served by the old set
// until the swap) and the new one starts from its error count and last
// result.
func (c *quarantineCollector) TakeOver() {
	prev := c.prev
	c.prev = nil
	if prev == nil {
		return
	}
	for _, s := range c.scanners {
		if old := c.pending[s]; old != nil {
			prev.disown(old)
			old.stop()
			s.inherit(old)
			if old.index != s.index {
				old.index.Close() // its watches
			}
			c.own(s)
			s.start()
			continue
		}
		if old, same := prev.scanner(s.cfg.Name); old == s && same(s.key) {
			prev.disown(s)
			c.own(s)
		}
	}
	c.pending = nil
}

// inherit takes a stopped scanner's error count and last result (served
// until the first scan of s ends, so a reload does not bring "pending"
// back), and its index of the folders when it counted them the same way.
func (s *quarantineScanner) inherit(old *quarantineScanner) {
	old.mu.Lock()
	defer old.mu.Unlock()
	s.errsTotal, s.last, s.absent, s.lastErr, s.logged = old.errsTotal, old.last, old.absent, old.lastErr, old.logged
	if old.dir == s.dir && old.cfg.Classify == s.cfg.Classify && old.cfg.MaxCategories == s.cfg.MaxCategories {
		s.index = old.index
	}
}

// start runs the scan loop in the background.
func (s *quarantineScanner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		s.loop(ctx)
	}()
}

// stop ends the scan loop and waits for it.
func (s *quarantineScanner) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
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

// reniceLogged makes the failure to lower the walks' priority logged once
// per process, not once per scan or quarantine.
var reniceLogged sync.Once

func (s *quarantineScanner) scan(ctx context.Context) {
	if s.index == nil {
		s.index = &quarantine.Index{FullEvery: quarantineFullEvery, Watch: true}
	}
	res, err := s.index.Scan(ctx, s.dir, s.opt)
	if rerr := walk.ReniceError(); rerr != nil {
		reniceLogged.Do(func() {
			_ = level.Warn(s.logger).Log("msg", "cannot lower the quarantine walk's priority; scans compete with scrapes for the CPU (under systemd, SystemCallFilter= must allow setpriority)", "err", rerr)
		})
	}
	if res != nil && res.WatchErr != nil && !s.watchLogged {
		s.watchLogged = true
		_ = level.Warn(s.logger).Log("msg", "cannot watch every quarantine folder through inotify; those are checked by their lstat at each rescan (raise fs.inotify.max_user_watches)", "path", s.cfg.Path, "watched", res.Watched, "err", res.WatchErr)
	}
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
	switch report, recovered := s.logged.ObserveText(msg); {
	case recovered:
		_ = level.Info(s.logger).Log("msg", "quarantine readable again", "path", s.cfg.Path)
	case report:
		_ = level.Error(s.logger).Log("msg", "quarantine scan incomplete", "path", s.cfg.Path, "err", msg)
	}
}

// Close stops the scans this collector still owns, and waits for them.
func (c *quarantineCollector) Close() {
	c.mu.Lock()
	owned := c.owned
	c.owned = nil
	c.mu.Unlock()
	for s := range owned {
		s.stop()
		s.index.Close() // its watches
	}
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
		sendGauge(ch, d, v, append([]string{name}, labels...)...)
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
	sendCounter(ch, quarantineErrorsDesc, float64(s.errsTotal), name)
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
