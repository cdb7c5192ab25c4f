// Package collector holds one collector per heartbeat subsystem. Each file
// registers its collector in init(); a Set builds the enabled ones from a
// config and runs them concurrently on every scrape.
package collector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// Namespace prefixes every metric the exporter serves.
const Namespace = "heartbeat"

// ErrNoData tells the scraper a collector had nothing to report; it is not
// a failure (a source that is absent on this host).
var ErrNoData = errors.New("collector returned no data")

// Collector is what each subsystem implements. Update sends its metrics on
// ch and returns an error only when a source is broken, not when absent.
type Collector interface {
	Update(ctx context.Context, ch chan<- prometheus.Metric) error
}

// Closer is implemented by collectors that run background work; Close is
// called when a reload replaces them, after the new set is in force.
type Closer interface {
	Close()
}

// Successor is implemented by a collector whose factory kept state of its
// predecessor (see Factory) that must move rather than be shared: running
// loops, open files, counters. NewSet calls TakeOver once every factory of
// the new set has succeeded, so a refused reload never reaches it; the
// predecessor is still served until the swap and closed after it, so
// TakeOver leaves it consistent (its last values stay readable) and its
// Close must then leave alone what was taken.
type Successor interface {
	TakeOver()
}

// Paths are the roots the collectors read the host from, and the folders
// the process flags name for them; tests and containers point them
// elsewhere. They reach every factory in Deps: no collector reads another
// one's flags through a package variable.
type Paths struct {
	Proc string // --path.procfs
	Sys  string // --path.sysfs
	Root string // --path.rootfs
	// State is --state.dir: log positions and SNF marks ("" keeps them in
	// memory only).
	State string
	// Textfile is --collector.textfile.directory, served beside the
	// config's textfile.directories.
	Textfile []string
}

// Deps is what a collector factory gets.
type Deps struct {
	Logger log.Logger
	Config *config.Config
	Paths  Paths
	// Reserved holds the sample names the exporter serves outside the
	// collectors (go_*, process_*, promhttp_*, heartbeat_exporter_*; see
	// ReservedNames): metrics read from elsewhere may not reuse them.
	Reserved map[string]bool
	// procs is shared by the collectors of one Set (see procShare).
	procs *procShare
}

// config is the configuration, or an empty one (tests build collectors
// without one).
func (d Deps) config() *config.Config {
	if d.Config == nil {
		return &config.Config{}
	}
	return d.Config
}

// rootfs is --path.rootfs, "/" when unset.
func (d Deps) rootfs() string {
	if d.Paths.Root == "" {
		return "/"
	}
	return d.Paths.Root
}

// Factory builds a collector from a config. An error refuses the config.
//
// prev is the collector of the same name in the set being replaced (nil at
// start): this is the only way state outlives a reload (no package-level
// maps). The factory decides what of prev to keep, by comparing configs,
// but must leave prev running unchanged: the new set may still be refused
// (another factory failing), and prev then runs on. What it keeps is
// either shared read-only with prev, or moved in TakeOver (see Successor).
type Factory func(d Deps, prev Collector) (Collector, error)

type registration struct {
	defaultOn bool
	factory   Factory
	enabled   *bool
}

var registry = map[string]*registration{}

// registerCollector is called from each collector's init() for a
// collector that keeps nothing across a reload.
func registerCollector(name string, defaultOn bool, f func(Deps) (Collector, error)) {
	register(name, defaultOn, func(d Deps, _ Collector) (Collector, error) { return f(d) })
}

// registerKeeping is called from the init() of a collector that keeps
// state across a reload: its factory gets its predecessor as its own type
// (nil at start).
func registerKeeping[C Collector](name string, defaultOn bool, f func(d Deps, prev C) (Collector, error)) {
	register(name, defaultOn, func(d Deps, prev Collector) (Collector, error) {
		p, _ := prev.(C)
		return f(d, p)
	})
}

func register(name string, defaultOn bool, f Factory) {
	if _, dup := registry[name]; dup {
		panic("collector registered twice: " + name)
	}
	registry[name] = &registration{defaultOn: defaultOn, factory: f}
}

// flagAdders let a collector add flags of its own (e.g.
// --collector.textfile.directory), whose values go into the Paths handed
// to AddFlags; called from AddFlags.
var flagAdders []func(*kingpin.Application, *Paths)

// registerFlags is called from a collector's init() for its extra flags.
func registerFlags(add func(*kingpin.Application, *Paths)) {
	flagAdders = append(flagAdders, add)
}

// AddFlags adds --collector.NAME / --no-collector.NAME for every collector,
// and the collectors' own flags, whose values it sets in p.
func AddFlags(app *kingpin.Application, p *Paths) {
	for _, add := range flagAdders {
		add(app, p)
	}
	for _, name := range Names() {
		r := registry[name]
		state := "disabled"
		if r.defaultOn {
			state = "enabled"
		}
		r.enabled = app.Flag("collector."+name,
			fmt.Sprintf("Enable the %s collector (default: %s).", name, state)).
			Default(fmt.Sprint(r.defaultOn)).Bool()
	}
}

// Names lists every registered collector, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func isEnabled(name string) bool {
	r := registry[name]
	if r.enabled == nil { // flags not parsed (tests): use the default
		return r.defaultOn
	}
	return *r.enabled
}

// Set is the enabled collectors built from one config. A reload builds a
// new Set from the old one (NewSet(deps, old)), swaps it in, then closes
// the old one.
type Set struct {
	logger     log.Logger
	collectors map[string]Collector
}

// NewSet builds every enabled collector, handing each factory the
// collector of the same name in prev (nil at start). The first factory
// error is returned, naming the collector: what was built is closed and
// prev is left untouched, still running. Once every factory succeeded,
// each Successor takes its predecessor's state over; the caller swaps the
// new set in and then closes prev.
func NewSet(deps Deps, prev *Set) (*Set, error) {
	s := &Set{logger: deps.Logger, collectors: map[string]Collector{}}
	procs := &procShare{}
	for _, name := range Names() {
		if !isEnabled(name) {
			continue
		}
		d := deps
		d.Logger = log.With(deps.Logger, "collector", name)
		d.procs = procs
		c, err := registry[name].factory(d, prev.collector(name))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("collector %s: %w", name, err)
		}
		s.collectors[name] = c
	}
	for _, name := range s.Enabled() {
		if sc, ok := s.collectors[name].(Successor); ok {
			sc.TakeOver()
		}
	}
	return s, nil
}

// collector returns the named collector, nil when s is nil or lacks it.
func (s *Set) collector(name string) Collector {
	if s == nil {
		return nil
	}
	return s.collectors[name]
}

// Enabled lists the collectors in the set, sorted.
func (s *Set) Enabled() []string {
	names := make([]string, 0, len(s.collectors))
	for n := range s.collectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Close stops background work of every collector in the set.
func (s *Set) Close() {
	for _, c := range s.collectors {
		if cl, ok := c.(Closer); ok {
			cl.Close()
		}
	}
}

// Select returns a Scrape running the named collectors of the set: all
// when collect is empty, minus those in exclude. Naming a collector that
// is not enabled is an error, as in node_exporter. ctx bounds the
// collectors' work to the scrape's deadline.
func (s *Set) Select(ctx context.Context, collect, exclude []string) (*Scrape, error) {
	if len(collect) > 0 && len(exclude) > 0 {
		return nil, errors.New("collect[] and exclude[] cannot be combined")
	}
	chosen := map[string]Collector{}
	if len(collect) == 0 {
		for n, c := range s.collectors {
			chosen[n] = c
		}
	}
	for _, n := range collect {
		c, ok := s.collectors[n]
		if !ok {
			return nil, fmt.Errorf("collector %q is unknown or disabled", n)
		}
		chosen[n] = c
	}
	for _, n := range exclude {
		if _, ok := s.collectors[n]; !ok {
			return nil, fmt.Errorf("collector %q is unknown or disabled", n)
		}
		delete(chosen, n)
	}
	return &Scrape{ctx: ctx, logger: s.logger, collectors: chosen}, nil
}

var (
	scrapeDurationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "scrape", "collector_duration_seconds"),
		"Duration of a collector's scrape, in seconds.",
		[]string{"collector"}, nil)
	scrapeSuccessDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "scrape", "collector_success"),
		"1 if the collector's sources could be read this scrape.",
		[]string{"collector"}, nil)
)

// Scrape runs a chosen group of collectors for one request. It is a
// prometheus.Collector for the request's registry; Gatherer adds the
// ready-made families some collectors hand over (see FamilyCollector).
type Scrape struct {
	ctx        context.Context
	logger     log.Logger
	collectors map[string]Collector

	mu       sync.Mutex
	families [][]*dto.MetricFamily // from FamilyCollectors, set by Collect
}

// Describe sends nothing: the collectors' metrics depend on what the host
// has, so the registry treats this collector as unchecked.
func (s *Scrape) Describe(chan<- *prometheus.Desc) {}

// Collect runs every collector concurrently and waits for all of them, but
// not past the scrape's deadline: a collector still running then is
// reported failed for this scrape and left behind (its context is
// cancelled; what it sends later is dropped), so a source that hangs costs
// its own collector and never the answer or a --web.max-requests slot.
func (s *Scrape) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	s.families = nil // a Scrape gathered again serves the latest families only
	s.mu.Unlock()
	begin := time.Now()
	// Buffered so that nothing a collector sends can block it once the
	// scrape has gone; a drainer empties them after the deadline.
	out := make(chan prometheus.Metric, 256)
	results := make(chan result, len(s.collectors))
	for name, c := range s.collectors {
		go func() { results <- s.run(name, c, out) }()
	}
	pending := make(map[string]bool, len(s.collectors))
	for name := range s.collectors {
		pending[name] = true
	}
	for len(pending) > 0 {
		select {
		case m := <-out:
			ch <- m
		case r := <-results:
			delete(pending, r.name)
			s.finish(r, ch)
		case <-s.ctx.Done():
			s.collectFinished(pending, out, results, ch)
			s.abandon(pending, begin, ch)
			go drain(out, results, len(pending))
			return
		}
	}
	// Every collector has returned: what they sent is all in out.
	for {
		select {
		case m := <-out:
			ch <- m
		default:
			return
		}
	}
}

// result is one collector's outcome in one scrape.
type result struct {
	name     string
	duration time.Duration
	families []*dto.MetricFamily
	err      error
}

func (s *Scrape) run(name string, c Collector, ch chan<- prometheus.Metric) result {
	begin := time.Now()
	r := result{name: name}
	if fc, ok := c.(FamilyCollector); ok {
		r.families, r.err = safeUpdateFamilies(s.ctx, fc, ch)
	} else {
		r.err = safeUpdate(s.ctx, c, ch)
	}
	r.duration = time.Since(begin)
	return r
}

// finish serves a collector's outcome: its families, its duration and
// success.
func (s *Scrape) finish(r result, ch chan<- prometheus.Metric) {
	if len(r.families) > 0 {
		s.mu.Lock()
		s.families = append(s.families, r.families)
		s.mu.Unlock()
	}
	success := 1.0
	switch {
	case r.err == nil:
		collectorErrors.clear(s.logger, r.name)
	case errors.Is(r.err, ErrNoData):
		_ = level.Debug(s.logger).Log("msg", "collector returned no data", "collector", r.name)
		collectorErrors.clear(s.logger, r.name)
	default:
		success = 0
		collectorErrors.report(s.logger, r.name, r.err)
	}
	sendGauge(ch, scrapeDurationDesc, r.duration.Seconds(), r.name)
	sendGauge(ch, scrapeSuccessDesc, success, r.name)
}

// collectFinished serves the outcomes already waiting at the deadline, so
// a collector that returned just in time is not reported failed.
func (s *Scrape) collectFinished(pending map[string]bool, out <-chan prometheus.Metric, results <-chan result, ch chan<- prometheus.Metric) {
	for {
		select {
		case m := <-out:
			ch <- m
		case r := <-results:
			delete(pending, r.name)
			s.finish(r, ch)
		default:
			return
		}
	}
}

// abandon reports the collectors still running at the deadline as failed.
func (s *Scrape) abandon(pending map[string]bool, begin time.Time, ch chan<- prometheus.Metric) {
	for name := range pending {
		s.finish(result{name: name, duration: time.Since(begin),
			err: fmt.Errorf("still running at the scrape deadline: %w", s.ctx.Err())}, ch)
	}
}

// drain keeps the abandoned collectors' sends from blocking until the last
// of them has returned; what they send is dropped.
func drain(out <-chan prometheus.Metric, results <-chan result, running int) {
	for running > 0 {
		select {
		case <-out:
		case <-results:
			running--
		}
	}
}

// safeUpdate turns a panic in a collector into an error for that collector
// alone: one broken parser must not take the process or the scrape down.
func safeUpdate(ctx context.Context, c Collector, ch chan<- prometheus.Metric) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collector panicked: %v", r)
		}
	}()
	return c.Update(ctx, ch)
}

func safeUpdateFamilies(ctx context.Context, c FamilyCollector, ch chan<- prometheus.Metric) (families []*dto.MetricFamily, err error) {
	defer func() {
		if r := recover(); r != nil {
			families, err = nil, fmt.Errorf("collector panicked: %v", r)
		}
	}()
	return c.UpdateFamilies(ctx, ch)
}

// collectorErrors logs a collector's error once per change, so a source
// that stays broken does not flood the log at every scrape.
var collectorErrors = &changeLog{last: map[string]*errorLog{}}

// changeLog is an errorLog per collector, for scrapes that run in parallel.
type changeLog struct {
	mu   sync.Mutex
	last map[string]*errorLog // failing collectors only
}

func (l *changeLog) report(logger log.Logger, name string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.last[name]
	if e == nil {
		e = &errorLog{}
	}
	if report, _ := e.Observe(err); !report {
		_ = level.Debug(logger).Log("msg", "collector still failing", "collector", name, "err", err.Error())
		return
	}
	l.last[name] = e
	_ = level.Error(logger).Log("msg", "collector failed", "collector", name, "err", err.Error())
}

func (l *changeLog) clear(logger log.Logger, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.last[name]; e != nil {
		delete(l.last, name)
		if _, recovered := e.Observe(nil); recovered {
			_ = level.Info(logger).Log("msg", "collector recovered", "collector", name)
		}
	}
}
