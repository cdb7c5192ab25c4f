// Package push is push mode: for gateways that cannot be scraped (behind
// NAT, at a customer's), the exporter sends what a scrape would give to a
// Pushgateway or a remote-write receiver, on its own goroutine, so a
// slow or absent target never holds a scrape up.
//
// The main package adds the flags (AddFlags, Options.Check), serves the
// self metrics (NewMetrics, Metrics.ServedWith) and runs the loop (Start)
// with a Source: what a scrape gathers, and the node's name.
package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/hostinfo"
)

// The values of --push.protocol.
const (
	ProtocolPushgateway = "pushgateway"
	ProtocolRemoteWrite = "remote_write"
)

// Options are the --push.* flags.
type Options struct {
	URL              string // empty: push mode off
	Protocol         string // ProtocolPushgateway (also when empty) or ProtocolRemoteWrite
	Interval         time.Duration
	Jitter           time.Duration
	jitterSet        bool
	Timeout          time.Duration
	Job              string
	Instance         string
	DeleteOnShutdown bool
}

// AddFlags adds the --push.* flags to app, filling o.
func AddFlags(app *kingpin.Application, o *Options) {
	app.Flag("push.url", "Push the metrics a scrape would give to this URL: a Pushgateway (http://host:9091) or a remote-write endpoint (http://host:9090/api/v1/write), see --push.protocol. Empty: push mode off. user:password@ in the URL is sent as basic auth.").
		StringVar(&o.URL)
	app.Flag("push.protocol", "How --push.url is spoken to. One of: [pushgateway, remote_write]").
		Default(ProtocolPushgateway).EnumVar(&o.Protocol, ProtocolPushgateway, ProtocolRemoteWrite)
	app.Flag("push.interval", "Mean time between two sends.").Default("1m").DurationVar(&o.Interval)
	app.Flag("push.jitter", "Width of the random window each send falls in, centred on --push.interval, so a fleet started together does not send together (default: a tenth of --push.interval; 0: no jitter).").
		PlaceHolder("INTERVAL/10").IsSetByUser(&o.jitterSet).DurationVar(&o.Jitter)
	app.Flag("push.timeout", "Longest time one send attempt may take.").Default("10s").DurationVar(&o.Timeout)
	app.Flag("push.job", "job label of the pushed series (the Pushgateway's grouping key).").Default("heartbeat").StringVar(&o.Job)
	app.Flag("push.instance", "instance label of the pushed series (default: node.id from the config, else the host name).").StringVar(&o.Instance)
	app.Flag("push.delete-on-shutdown", "On a clean shutdown, delete this instance's group from the Pushgateway, or (remote_write) end its series with staleness markers.").
		BoolVar(&o.DeleteOnShutdown)
}

// Check validates the flags and fills in the default jitter.
func (o *Options) Check() error {
	if o.URL == "" {
		return nil
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--push.url %q: want an http:// or https:// URL", o.URL)
	}
	if o.Interval <= 0 {
		return fmt.Errorf("--push.interval must be positive, got %s", o.Interval)
	}
	if !o.jitterSet {
		o.Jitter = o.Interval / 10
	}
	if o.Jitter < 0 || o.Jitter > o.Interval {
		return fmt.Errorf("--push.jitter %s must be between 0 and --push.interval (%s)", o.Jitter, o.Interval)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--push.timeout must be positive, got %s", o.Timeout)
	}
	if o.Job == "" {
		return errors.New("--push.job must not be empty")
	}
	return nil
}

// Failure reasons of heartbeat_push_failures_total, all present from the
// start so that rate() sees the first failure.
const (
	reasonConnect    = "connect"     // no answer: refused, unreachable, reset, DNS
	reasonHTTPStatus = "http_status" // answered, but not 2xx
	reasonTimeout    = "timeout"     // the attempt ran out of time
	reasonEncode     = "encode"      // the metrics could not be gathered or encoded
)

var pushFailureReasons = []string{reasonConnect, reasonHTTPStatus, reasonTimeout, reasonEncode}

// Metrics are push mode's self metrics. The duration is a gauge of
// the last attempt rather than a histogram: it is one series per gateway
// instead of a dozen, which counts at fleet scale.
type Metrics struct {
	lastSuccess prometheus.Gauge
	failures    *prometheus.CounterVec
	duration    prometheus.Gauge
}

// NewMetrics makes the self metrics, every failure reason at 0.
func NewMetrics() *Metrics {
	m := &Metrics{
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "heartbeat_push_last_success_timestamp_seconds",
			Help: "Last push the target accepted, in Unix time (0: none).",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "heartbeat_push_failures_total",
			Help: "Failed push attempts, retries included, by reason.",
		}, []string{"reason"}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "heartbeat_push_duration_seconds",
			Help: "Duration of the last push attempt, in seconds.",
		}),
	}
	for _, r := range pushFailureReasons {
		m.failures.WithLabelValues(r)
	}
	return m
}

// Collectors are the self metrics, to register with the exporter's own.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.lastSuccess, m.failures, m.duration}
}

// ServedWith returns the collectors to serve: none when push mode is off,
// so that a scraped-only exporter does not carry idle push series.
func (m *Metrics) ServedWith(o Options) []prometheus.Collector {
	if o.URL == "" {
		return nil
	}
	return m.Collectors()
}

// sender speaks one protocol. send delivers the gathered metrics once,
// without retrying; end withdraws them on a clean shutdown.
type sender interface {
	send(ctx context.Context, g prometheus.Gatherer, instance string) error
	end(ctx context.Context, instance string) error
}

// Source is what push mode sends and names its instance after.
type Source struct {
	// Gatherer gathers what a scrape would serve, less the runtime
	// metrics; ctx bounds the gathering.
	Gatherer func(ctx context.Context) prometheus.Gatherer
	// NodeID is node.id of the config in force ("" when unset).
	NodeID func() string
	// Proc is --path.procfs, where the host name is read.
	Proc string
}

// Start runs the push loop when --push.url is set. The returned func
// waits for the loop to stop (ctx done) and withdraws the pushed metrics
// if asked.
func Start(ctx context.Context, opts Options, src Source, m *Metrics, logger log.Logger) (func(), error) {
	if opts.URL == "" {
		return func() {}, nil
	}
	p, err := New(opts, src, m, logger)
	if err != nil {
		return nil, err
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		p.Run(ctx)
	}()
	return func() {
		<-stopped
		p.Finish()
	}, nil
}

// Pusher runs the send loop.
type Pusher struct {
	opts      Options
	src       Source
	sender    sender
	metrics   *Metrics
	logger    log.Logger
	transport *recordingTransport
	random    func(n int64) int64 // rand.Int64N; tests fix it
}

// New sets a Pusher up; Run starts it.
func New(opts Options, src Source, m *Metrics, logger log.Logger) (*Pusher, error) {
	rt := &recordingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	// The attempt's context bounds a send; the client's timeout, a little
	// longer so that the context fires first on a send, bounds the
	// Pushgateway delete, which takes no context.
	client := &http.Client{Transport: rt, Timeout: opts.Timeout + time.Second}
	p := &Pusher{opts: opts, src: src, metrics: m, logger: log.With(logger, "component", "push"), transport: rt, random: rand.Int64N}
	switch opts.Protocol {
	case ProtocolRemoteWrite:
		s, err := newRemoteWriteSender(opts.URL, opts.Job, client)
		if err != nil {
			return nil, err
		}
		p.sender = s
	default:
		p.sender = &pushgatewaySender{url: opts.URL, job: opts.Job, client: client}
	}
	return p, nil
}

// spread returns a random duration in [0, jitter).
func (p *Pusher) spread() time.Duration {
	if p.opts.Jitter <= 0 {
		return 0
	}
	return time.Duration(p.random(int64(p.opts.Jitter)))
}

// nextDelay is the time from one send to the next: the interval less half
// the jitter plus a random part of it, so the mean period stays the
// interval. Sophos' phone-home does the same on a week: 6 days plus a
// random time within 2 days.
func (p *Pusher) nextDelay() time.Duration {
	return p.opts.Interval - p.opts.Jitter/2 + p.spread()
}

// Run sends until ctx ends. The first send also waits a random part of
// the jitter: a fleet restarted at once (a power cut, a mass upgrade)
// spreads out from the start.
func (p *Pusher) Run(ctx context.Context) {
	_ = level.Info(p.logger).Log("msg", "push mode on", "url", redactURL(p.opts.URL), "protocol", p.opts.Protocol,
		"interval", p.opts.Interval, "jitter", p.opts.Jitter, "job", p.opts.Job, "instance", p.instance())
	timer := time.NewTimer(p.spread())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		next := time.Now().Add(p.nextDelay())
		p.sendWithRetries(ctx, next)
		timer.Reset(time.Until(next))
	}
}

// sendWithRetries tries until one attempt succeeds or the next send is
// due, waiting twice as long after each failure.
func (p *Pusher) sendWithRetries(ctx context.Context, deadline time.Time) {
	wait := min(time.Second, p.opts.Interval/8)
	for {
		reason, err := p.attempt(ctx, deadline)
		if err == nil || ctx.Err() != nil {
			return
		}
		p.metrics.failures.WithLabelValues(reason).Inc()
		_ = level.Warn(p.logger).Log("msg", "push failed", "reason", reason, "retry_in", wait, "err", err)
		if !p.transport.worthRetrying(reason) || time.Now().Add(wait).After(deadline) {
			return // it would fail the same way again; or the next send is due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, p.opts.Interval/2)
	}
}

// attempt gathers through the same code path as a scrape and sends once;
// a failure comes with its reason.
func (p *Pusher) attempt(ctx context.Context, deadline time.Time) (string, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ctx, cancelAttempt := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancelAttempt()
	begin := time.Now()
	defer func() { p.metrics.duration.Set(time.Since(begin).Seconds()) }()
	p.transport.reset()
	g := lenientGatherer{p.src.Gatherer(ctx), p.logger}
	if err := p.sender.send(ctx, g, p.instance()); err != nil {
		return p.transport.reason(ctx, err), redactError(err, p.opts.URL)
	}
	p.metrics.lastSuccess.SetToCurrentTime()
	return "", nil
}

// Finish withdraws the pushed data if --push.delete-on-shutdown asks.
func (p *Pusher) Finish() {
	if !p.opts.DeleteOnShutdown {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.Timeout)
	defer cancel()
	if err := p.sender.end(ctx, p.instance()); err != nil {
		_ = level.Warn(p.logger).Log("msg", "could not withdraw the pushed metrics on shutdown", "err", redactError(err, p.opts.URL))
		return
	}
	_ = level.Info(p.logger).Log("msg", "pushed metrics withdrawn on shutdown", "instance", p.instance())
}

// instance is --push.instance, else node.id of the config in force, else
// the host name (as heartbeat_node_info's hostname label has it).
func (p *Pusher) instance() string {
	if p.opts.Instance != "" {
		return p.opts.Instance
	}
	if p.src.NodeID != nil {
		if id := p.src.NodeID(); id != "" {
			return id
		}
	}
	if b, err := os.ReadFile(filepath.Join(p.src.Proc, "sys/kernel/hostname")); err == nil {
		if h := hostinfo.CleanLabel(string(b)); h != "" {
			return h
		}
	}
	h, _ := os.Hostname()
	return h
}

// lenientGatherer serves what could be gathered despite an error (a
// textfile family left out), as a scrape does with ContinueOnError.
type lenientGatherer struct {
	g      prometheus.Gatherer
	logger log.Logger
}

func (l lenientGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := l.g.Gather()
	if err != nil {
		_ = level.Warn(l.logger).Log("msg", "pushing what could be gathered", "err", err)
	}
	return mfs, nil
}

// recordingTransport remembers how the last request of an attempt ended,
// so a failure can be told apart without parsing error strings: no
// request made (encode), no answer (connect or timeout), or an answer
// that was not 2xx (http_status). Only the push goroutine uses it.
type recordingTransport struct {
	base http.RoundTripper

	mu        sync.Mutex
	requested bool
	err       error
	status    int
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	t.mu.Lock()
	t.requested, t.err, t.status = true, err, 0
	if resp != nil {
		t.status = resp.StatusCode
	}
	t.mu.Unlock()
	return resp, err
}

func (t *recordingTransport) reset() {
	t.mu.Lock()
	t.requested, t.err, t.status = false, nil, 0
	t.mu.Unlock()
}

// worthRetrying says whether the failed attempt may succeed if repeated:
// not an encoding error, nor a refusal by the target (a 4xx: wrong
// password, metrics it rejects) other than 408 and 429.
func (t *recordingTransport) worthRetrying(reason string) bool {
	t.mu.Lock()
	status := t.status
	t.mu.Unlock()
	switch {
	case reason == reasonEncode:
		return false
	case reason == reasonHTTPStatus && status >= 400 && status < 500:
		return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
	}
	return true
}

// reason classifies the failed attempt that ended with err; ctx is the
// attempt's (its deadline passed: a timeout, whatever the error says).
func (t *recordingTransport) reason(ctx context.Context, err error) string {
	t.mu.Lock()
	requested, rtErr := t.requested, t.err
	t.mu.Unlock()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) || isTimeout(rtErr):
		return reasonTimeout
	case !requested:
		return reasonEncode
	case rtErr != nil:
		return reasonConnect
	default:
		return reasonHTTPStatus
	}
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// redactedError is err with the URL's password masked in its message (the
// push package quotes the URL in its errors); errors.Is/As still see err.
type redactedError struct {
	msg string
	err error
}

func (r redactedError) Error() string { return r.msg }
func (r redactedError) Unwrap() error { return r.err }

// redactError masks the password of rawURL in err's message.
func redactError(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if err == nil || perr != nil || u.User == nil {
		return err
	}
	pass, ok := u.User.Password()
	if !ok || pass == "" {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), pass, "xxxxx"), err: err}
}

// redactURL hides a password given in the URL from the log.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil { // check refused it already
		return "<unparsable URL>"
	}
	return u.Redacted()
}
