package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/proctrack"
)

func init() { registerKeeping("services", true, newServicesCollector) }

func serviceDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "service", name), help,
		append([]string{"service"}, labels...), nil)
}

var (
	serviceUpDesc        = serviceDesc("up", "1 if a process of the service runs, 0 if none.")
	serviceProcessesDesc = serviceDesc("processes", "Processes matching the service.")
	serviceStartDesc     = serviceDesc("start_time_seconds", "Start time of the service's main process, in Unix time.")
	serviceCPUDesc       = serviceDesc("cpu_seconds_total", "CPU time of the service's processes, in seconds.", "mode")
	serviceRSSDesc       = serviceDesc("resident_memory_bytes", "Resident memory of the service's processes, in bytes.")
	serviceRestartsDesc  = serviceDesc("restarts_total", "Times the service's main process was restarted.")
	serviceUnitDesc      = serviceDesc("systemd_unit_active", "1 for the systemd unit's current ActiveState.", "unit", "state")
	serviceNRestartsDesc = serviceDesc("systemd_restarts_total", "Restarts systemd made under Restart= (NRestarts).", "unit")
)

// watchedService is one configured service and its state.
type watchedService struct {
	key   string // what a reload compares: the same key keeps the state
	spec  proctrack.Spec
	unit  string
	state proctrack.Service
	err   error // pidfile unreadable
}

// servicesCollector serves the state of a background poller of /proc; a
// scrape never reads /proc itself.
type servicesCollector struct {
	logger     log.Logger
	procPath   string
	procs      *procShare
	scanner    *proctrack.Scanner // nil until procPath could be opened
	interval   time.Duration
	useSystemd bool
	systemd    proctrack.Systemd

	mu       sync.Mutex
	services []*watchedService
	scanErr  error
	units    map[string]proctrack.UnitState // nil: no bus
	noBus    errorLog                       // systemd not reachable, logged once per outage

	prev *servicesCollector // until TakeOver
	stop chan struct{}
	done chan struct{} // nil until started
}

// newServicesCollector builds the collector; with a predecessor it only
// starts polling in TakeOver, with the predecessor's process tracker and
// each unchanged service's state (restarts, CPU time), so that a reload
// resets no counter.
func newServicesCollector(d Deps, prev *servicesCollector) (Collector, error) {
	cfg := d.config()
	root, procPath := d.rootfs(), d.Paths.Proc
	if procPath == "" {
		procPath = "/proc"
	}
	c := &servicesCollector{
		logger:   d.Logger,
		procs:    d.procs,
		interval: cfg.Services.PollInterval,
		// The bus belongs to the host whose /proc is read; with a fixture
		// tree (the demo, tests) its answers would describe another host.
		useSystemd: filepath.Clean(procPath) == "/proc",
		stop:       make(chan struct{}),
		procPath:   procPath,
	}
	if c.interval <= 0 {
		c.interval = config.DefaultServicesPollInterval
	}
	c.services = watchedServices(d.Logger, cfg.Services.Watch, root)
	if prev != nil {
		c.prev = prev
		return c, nil
	}
	c.start()
	return c, nil
}

// start runs the first poll before the first scrape, so that every
// service is reported, up or down, from the start, then polls in the
// background.
func (c *servicesCollector) start() {
	c.done = make(chan struct{})
	if len(c.services) == 0 {
		close(c.done)
		return
	}
	c.poll()
	go c.loop()
}

// TakeOver stops the predecessor's poller (its last state stays served
// until it is closed) and goes on from its tracker and state.
func (c *servicesCollector) TakeOver() {
	prev := c.prev
	if prev == nil {
		return // started by the factory
	}
	c.prev = nil
	prev.halt()
	prev.mu.Lock()
	kept := make(map[string]proctrack.Service, len(prev.services))
	for _, ws := range prev.services {
		kept[ws.key] = ws.state
	}
	if prev.procPath == c.procPath {
		c.scanner = prev.scanner // its cache of exe and command lines
	}
	c.units, c.noBus = prev.units, prev.noBus
	prev.mu.Unlock()
	for _, ws := range c.services {
		if st, ok := kept[ws.key]; ok {
			ws.state = st // Update replaces the maps it holds, never changes them
		}
	}
	c.start()
}

// watchedServices turns the configured services into specs, leaving out
// the presets whose program is not installed (checked at start and at
// each reload).
func watchedServices(logger log.Logger, watch []config.ServiceConfig, root string) []*watchedService {
	var out []*watchedService
	for _, w := range watch {
		if !installed(root, w.IfInstalled) {
			_ = level.Debug(logger).Log("msg", "service not installed, not watched", "service", w.Name)
			continue
		}
		ws := &watchedService{unit: w.Unit, spec: proctrack.Spec{
			Name: w.Name, Process: w.Process, Exe: w.Exe, Cmdline: w.CmdlineRegexp(),
		}}
		if w.Pidfile != "" {
			ws.spec.Pidfile = filepath.Join(root, w.Pidfile)
		}
		ws.key = fmt.Sprintf("%q %q %q %q %q", w.Name, w.Process, w.Exe, w.Cmdline, ws.spec.Pidfile)
		out = append(out, ws)
	}
	return out
}

// installed tells whether a preset's program is on the host; no paths
// means a service the operator always wants watched.
func installed(root string, paths []string) bool {
	if len(paths) == 0 {
		return true
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return true
		}
	}
	return false
}

func (c *servicesCollector) loop() {
	defer close(c.done)
	defer c.systemd.Close()
	t := time.NewTicker(c.interval)
	defer t.Stop()
	c.pollSystemd()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.poll()
			c.pollSystemd()
		}
	}
}

// poll reads /proc once and updates every service. A /proc that cannot
// be opened is the collector's error at each scrape, not a refused
// config: it is tried again at the next poll.
func (c *servicesCollector) poll() {
	if c.scanner == nil {
		scanner, err := proctrack.NewScanner(c.procPath)
		if err != nil {
			c.mu.Lock()
			c.scanErr = fmt.Errorf("--path.procfs: %w", err)
			c.mu.Unlock()
			return
		}
		c.scanner = scanner
	}
	snap, err := c.scanner.Scan()
	now := time.Now()
	if err == nil {
		c.procs.publish(snap, now)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanErr = err
	if err != nil {
		return
	}
	for _, ws := range c.services {
		procs, err := snap.Match(&ws.spec)
		ws.err = err
		ws.state.Update(snap, procs, now)
	}
}

// pollSystemd asks systemd about the units; no bus is not an error, it is
// logged once at debug level.
func (c *servicesCollector) pollSystemd() {
	var units []string
	for _, ws := range c.services {
		if ws.unit != "" {
			units = append(units, ws.unit)
		}
	}
	if !c.useSystemd || len(units) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.interval)
	defer cancel()
	states, err := c.systemd.Query(ctx, units)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if report, _ := c.noBus.ObserveText("systemd not reachable"); report {
			_ = level.Debug(c.logger).Log("msg", "systemd not reachable, unit states left out", "err", err)
		}
		c.units = nil
		return
	}
	c.noBus.ObserveText("")
	c.units = states
}

// Close stops the poller.
func (c *servicesCollector) Close() { c.halt() }

// halt stops the poller, if it runs, and waits for it.
func (c *servicesCollector) halt() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	if c.done != nil {
		<-c.done
	}
}

func (c *servicesCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	if len(c.services) == 0 {
		return ErrNoData
	}
	// Copy the last poll's state, so that a slow scrape does not hold up
	// the poller.
	c.mu.Lock()
	scanErr, units := c.scanErr, c.units
	services := make([]watchedService, len(c.services))
	for i, ws := range c.services {
		services[i] = *ws
	}
	c.mu.Unlock()
	if scanErr != nil {
		return scanErr
	}
	var errs []error
	for i := range services {
		ws := &services[i]
		emitService(ch, ws, units)
		if ws.err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", ws.spec.Name, ws.err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

func emitService(ch chan<- prometheus.Metric, ws *watchedService, units map[string]proctrack.UnitState) {
	name, s := ws.spec.Name, ws.state
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		sendGauge(ch, d, v, append([]string{name}, labels...)...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		sendCounter(ch, d, v, append([]string{name}, labels...)...)
	}
	up := 0.0
	if s.Up {
		up = 1
		gauge(serviceStartDesc, s.StartTime)
	}
	gauge(serviceUpDesc, up)
	gauge(serviceProcessesDesc, float64(s.Processes))
	gauge(serviceRSSDesc, float64(s.RSSBytes))
	counter(serviceCPUDesc, s.UserCPU, "user")
	counter(serviceCPUDesc, s.SystemCPU, "system")
	counter(serviceRestartsDesc, float64(s.Restarts))
	st, ok := units[ws.unit]
	if ws.unit == "" || !ok {
		return
	}
	for _, state := range proctrack.UnitStates {
		v := 0.0
		if state == st.ActiveState {
			v = 1
		}
		gauge(serviceUnitDesc, v, ws.unit, state)
	}
	if st.HasRestarts {
		counter(serviceNRestartsDesc, float64(st.NRestarts), ws.unit)
	}
}
