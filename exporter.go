package main

import (
	"context"
	"fmt"
	stdlog "log"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heartbeat-exporter/heartbeat_exporter/collector"
	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/push"
)

const exporterName = "heartbeat_exporter"

// exporter serves /metrics: it owns the current collector set, swaps it on
// reload, and bounds how many scrapes run at once.
type exporter struct {
	logger     log.Logger
	configFile string
	paths      collector.Paths

	set      atomic.Pointer[collector.Set]
	reloadMu sync.Mutex
	// nodeID is node.id of the config in force ("" when unset); push
	// mode names its instance after it.
	nodeID atomic.Pointer[string]

	// self holds the heartbeat_exporter_* metrics, always served; runtime
	// holds go_*, process_* and promhttp_*, dropped by
	// --web.disable-exporter-metrics.
	self    *prometheus.Registry
	runtime *prometheus.Registry
	// own are self's collectors, served from each scrape's registry (one
	// registry, so one Gather, per scrape; self checks them once at start).
	own prometheus.Collector
	// runtimeOn: runtime holds collectors (not --web.disable-exporter-metrics).
	runtimeOn bool
	// reserved are the sample names self and runtime serve: the
	// collectors may not serve them again (textfiles).
	reserved map[string]bool

	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge
	rejected        prometheus.Counter

	inFlight chan struct{}
	handler  http.Handler
}

type exporterOptions struct {
	configFile             string
	paths                  collector.Paths
	maxRequests            int
	disableExporterMetrics bool
	// selfCollectors join the heartbeat_exporter_* metrics (push mode's
	// own), registered before the reserved names are taken.
	selfCollectors []prometheus.Collector
}

// newExporter loads the config and builds the collectors; an error here
// means the exporter cannot start.
func newExporter(logger log.Logger, opts exporterOptions) (*exporter, error) {
	e := &exporter{
		logger:     logger,
		configFile: opts.configFile,
		paths:      opts.paths,
		self:       prometheus.NewRegistry(),
		runtime:    prometheus.NewRegistry(),
		reloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "heartbeat_exporter_config_last_reload_successful",
			Help: "1 if the last configuration (re)load succeeded.",
		}),
		reloadTimestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "heartbeat_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Last successful configuration load, in Unix time.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "heartbeat_exporter_scrapes_rejected_total",
			Help: "Scrapes refused with 503 by --web.max-requests.",
		}),
	}
	if opts.maxRequests > 0 {
		e.inFlight = make(chan struct{}, opts.maxRequests)
	}
	own := append(ownCollectors{buildInfo(),
		e.reloadSuccess, e.reloadTimestamp, e.rejected}, opts.selfCollectors...)
	e.self.MustRegister(own...)
	e.own = own

	var instrumented prometheus.Registerer = prometheus.NewRegistry() // discarded
	if !opts.disableExporterMetrics {
		e.runtime.MustRegister(
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			collectors.NewGoCollector(),
		)
		instrumented = e.runtime
		e.runtimeOn = true
	}
	e.handler = promhttp.InstrumentMetricHandler(instrumented, http.HandlerFunc(e.serveMetrics))
	e.reserved = collector.ReservedNames(e.self, e.runtime)

	if err := e.reload(); err != nil {
		return nil, err
	}
	return e, nil
}

// reload builds a new collector set from the config file. On error the
// running set stays in force and the reload metrics say so.
func (e *exporter) reload() error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	set, cfg, err := e.buildSet(e.set.Load())
	if err != nil {
		e.reloadSuccess.Set(0)
		return err
	}
	e.nodeID.Store(&cfg.Node.ID)
	if old := e.set.Swap(set); old != nil {
		old.Close()
	}
	e.reloadSuccess.Set(1)
	e.reloadTimestamp.SetToCurrentTime()
	return nil
}

// buildSet loads the config and builds the collectors from it, each
// handed its predecessor in prev (the set in force, nil at start).
func (e *exporter) buildSet(prev *collector.Set) (*collector.Set, *config.Config, error) {
	cfg, err := config.Load(e.configFile)
	if err != nil {
		return nil, nil, err
	}
	set, err := collector.NewSet(collector.Deps{Logger: e.logger, Config: cfg, Paths: e.paths, Reserved: e.reserved}, prev)
	return set, cfg, err
}

// Close stops the collectors' background work.
func (e *exporter) Close() {
	if s := e.set.Load(); s != nil {
		s.Close()
	}
}

func (e *exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.handler.ServeHTTP(w, r)
}

func (e *exporter) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if e.inFlight != nil {
		select {
		case e.inFlight <- struct{}{}:
			defer func() { <-e.inFlight }()
		default:
			e.rejected.Inc()
			http.Error(w, fmt.Sprintf("too many concurrent scrapes (limit %d)", cap(e.inFlight)), http.StatusServiceUnavailable)
			return
		}
	}

	ctx, cancel := scrapeContext(r)
	defer cancel()
	q := r.URL.Query()
	g, err := e.gatherer(ctx, q["collect[]"], q["exclude[]"])
	if err != nil {
		_ = level.Warn(e.logger).Log("msg", "bad scrape request", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      stdlog.New(log.NewStdlibAdapter(level.Error(e.logger)), "", 0),
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// gatherer is what one scrape serves: the chosen collectors of the set in
// force, with the exporter's own metrics. An error means collect/exclude
// named a collector that is not enabled.
func (e *exporter) gatherer(ctx context.Context, collect, exclude []string) (prometheus.Gatherer, error) {
	return e.gatherWith(ctx, collect, exclude, e.runtimeOn)
}

// pushSource is what push mode sends (pushGatherer) and names its
// instance after (node.id, else the host name under --path.procfs).
func (e *exporter) pushSource() push.Source {
	return push.Source{
		Gatherer: e.pushGatherer,
		NodeID: func() string {
			if id := e.nodeID.Load(); id != nil {
				return *id
			}
			return ""
		},
		Proc: e.paths.Proc,
	}
}

// pushGatherer is what push mode sends: the same code path as a scrape,
// less the go_*, process_* and promhttp_* runtime metrics, which clash
// with a Pushgateway's own and would triple the series of a fleet.
func (e *exporter) pushGatherer(ctx context.Context) prometheus.Gatherer {
	g, _ := e.gatherWith(ctx, nil, nil, false) // no names: cannot fail
	return g
}

func (e *exporter) gatherWith(ctx context.Context, collect, exclude []string, runtime bool) (prometheus.Gatherer, error) {
	sel, err := e.set.Load().Select(ctx, collect, exclude)
	if err != nil {
		return nil, err
	}
	// One registry of unchecked collectors (Register cannot fail): each
	// registry's Gather allocates two 1,000-metric channels, the bulk of
	// a small scrape's garbage.
	reg := prometheus.NewRegistry()
	reg.MustRegister(sel, e.own)
	var base prometheus.Gatherer = reg
	if runtime {
		base = prometheus.Gatherers{e.runtime, reg}
	}
	// The Scrape's Gatherer adds the families collectors keep ready-made
	// (textfile) without passing them through the registry again.
	return sel.Gatherer(base), nil
}

// ownCollectors are the exporter's own collectors as one unchecked
// collector (Describe sends nothing); the self registry checked them at
// start.
type ownCollectors []prometheus.Collector

func (ownCollectors) Describe(chan<- *prometheus.Desc) {}

func (o ownCollectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range o {
		c.Collect(ch)
	}
}

// defaultScrapeTimeout bounds a scrape that names no deadline of its own
// (curl, a browser): no request holds a --web.max-requests slot for ever.
const defaultScrapeTimeout = 30 * time.Second

// scrapeContext ends a little before Prometheus gives up on the scrape, so
// a slow source costs its own collector, not the whole answer. A collector
// still running then is reported failed (collector.Scrape.Collect).
func scrapeContext(r *http.Request) (context.Context, context.CancelFunc) {
	if s := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); s != "" {
		if secs, err := strconv.ParseFloat(s, 64); err == nil && secs > 1 {
			return context.WithTimeout(r.Context(), time.Duration((secs-0.5)*float64(time.Second)))
		}
	}
	return context.WithTimeout(r.Context(), defaultScrapeTimeout)
}

// reloadHandler serves POST /-/reload.
func (e *exporter) reloadHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
		return
	}
	if err := e.reload(); err != nil {
		_ = level.Error(e.logger).Log("msg", "configuration reload refused, keeping the previous one", "err", err)
		http.Error(w, "reload refused, previous configuration kept:\n"+err.Error(), http.StatusBadRequest)
		return
	}
	_ = level.Info(e.logger).Log("msg", "configuration reloaded", "file", e.configFile)
	fmt.Fprintln(w, "configuration reloaded")
}
