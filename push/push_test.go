package push

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/remotewrite"
)

func TestPushOptionsCheck(t *testing.T) {
	o := Options{URL: "http://gw:9091", Interval: time.Minute, Timeout: time.Second, Job: "heartbeat"}
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	if o.Jitter != 6*time.Second {
		t.Errorf("default jitter = %s, want a tenth of the interval", o.Jitter)
	}
	zero := Options{URL: "http://gw:9091", Interval: time.Minute, Timeout: time.Second, Job: "j", jitterSet: true}
	if err := zero.Check(); err != nil || zero.Jitter != 0 {
		t.Errorf("--push.jitter=0 given: jitter %s, err %v", zero.Jitter, err)
	}
	for name, bad := range map[string]Options{
		"scheme":   {URL: "gw:9091", Interval: time.Minute, Timeout: time.Second, Job: "j"},
		"interval": {URL: "http://gw", Timeout: time.Second, Job: "j"},
		"jitter":   {URL: "http://gw", Interval: time.Minute, Jitter: 2 * time.Minute, jitterSet: true, Timeout: time.Second, Job: "j"},
		"job":      {URL: "http://gw", Interval: time.Minute, Timeout: time.Second},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if off := (Options{}); off.Check() != nil {
		t.Error("no --push.url must be valid (push mode off)")
	}
}

// The delay between sends spans interval ± jitter/2, so the mean period
// is the interval.
func TestNextDelaySpansTheJitterWindow(t *testing.T) {
	p := &Pusher{opts: Options{Interval: 60 * time.Second, Jitter: 20 * time.Second}}
	p.random = func(int64) int64 { return 0 }
	if got := p.nextDelay(); got != 50*time.Second {
		t.Errorf("lowest delay %s, want 50s", got)
	}
	p.random = func(n int64) int64 { return n - 1 }
	if got := p.nextDelay(); got != 70*time.Second-1 {
		t.Errorf("highest delay %s, want just under 70s", got)
	}
	p.opts.Jitter = 0
	p.random = func(int64) int64 { t.Fatal("random drawn with no jitter"); return 0 }
	if got := p.nextDelay(); got != 60*time.Second {
		t.Errorf("no jitter: %s", got)
	}
}

func family(name string, typ dto.MetricType, metrics ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum(), Metric: metrics}
}

func labelPairs(kv ...string) []*dto.LabelPair {
	var out []*dto.LabelPair
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &dto.LabelPair{Name: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

func seriesLines(req *remotewrite.WriteRequest) []string {
	var out []string
	for _, ts := range req.Timeseries {
		var parts []string
		for _, l := range ts.Labels {
			parts = append(parts, l.Name+"="+l.Value)
		}
		for _, s := range ts.Samples {
			parts = append(parts, "@"+time.UnixMilli(s.TimestampMs).UTC().Format("15:04:05"), "="+strings.TrimSpace(formatFloat(s.Value)))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestToWriteRequest(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	mfs := []*dto.MetricFamily{
		family("a_total", dto.MetricType_COUNTER, &dto.Metric{
			Label: labelPairs("zone", "z", "job", "textfile", "empty", ""), Counter: &dto.Counter{Value: proto.Float64(3)}}),
		family("b", dto.MetricType_GAUGE, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1.5)}, TimestampMs: proto.Int64(now.Add(-time.Hour).UnixMilli())}),
		family("c_seconds", dto.MetricType_SUMMARY, &dto.Metric{Summary: &dto.Summary{
			SampleCount: proto.Uint64(2), SampleSum: proto.Float64(0.5),
			Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(0.2)}}}}),
		family("d_bytes", dto.MetricType_HISTOGRAM, &dto.Metric{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(4), SampleSum: proto.Float64(10),
			Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1e-5), CumulativeCount: proto.Uint64(1)}}}}),
	}
	got := seriesLines(toWriteRequest(mfs, "heartbeat", "gw1", now))
	want := []string{
		"__name__=a_total exported_job=textfile instance=gw1 job=heartbeat zone=z @10:00:00 =3",
		"__name__=b instance=gw1 job=heartbeat @09:00:00 =1.5",
		"__name__=c_seconds instance=gw1 job=heartbeat quantile=0.5 @10:00:00 =0.2",
		"__name__=c_seconds_sum instance=gw1 job=heartbeat @10:00:00 =0.5",
		"__name__=c_seconds_count instance=gw1 job=heartbeat @10:00:00 =2",
		"__name__=d_bytes_bucket instance=gw1 job=heartbeat le=1e-05 @10:00:00 =1",
		"__name__=d_bytes_bucket instance=gw1 job=heartbeat le=+Inf @10:00:00 =4",
		"__name__=d_bytes_sum instance=gw1 job=heartbeat @10:00:00 =10",
		"__name__=d_bytes_count instance=gw1 job=heartbeat @10:00:00 =4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// constGatherer gathers fixed families.
type constGatherer []*dto.MetricFamily

func (g constGatherer) Gather() ([]*dto.MetricFamily, error) { return g, nil }

func testPusher(t *testing.T, url, protocol string) *Pusher {
	t.Helper()
	opts := Options{URL: url, Protocol: protocol, Interval: time.Minute, Timeout: 5 * time.Second, Job: "heartbeat"}
	p, err := New(opts, Source{}, NewMetrics(), log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Each way a send can fail is told apart by what happened on the wire.
func TestFailureReasons(t *testing.T) {
	status500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	defer status500.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer slow.Close()
	defer close(hang)
	gone := httptest.NewServer(nil)
	refused := gone.URL // nothing listens there any more
	gone.Close()

	gauge := constGatherer{family("b", dto.MetricType_GAUGE, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1)}})}
	withJob := constGatherer{family("b", dto.MetricType_GAUGE, &dto.Metric{
		Label: labelPairs("job", "x"), Gauge: &dto.Gauge{Value: proto.Float64(1)}})}

	for _, tc := range []struct {
		url, protocol string
		g             prometheus.Gatherer
		want          string
	}{
		{status500.URL, ProtocolPushgateway, gauge, reasonHTTPStatus},
		{status500.URL, ProtocolRemoteWrite, gauge, reasonHTTPStatus},
		{refused, ProtocolPushgateway, gauge, reasonConnect},
		{refused, ProtocolRemoteWrite, gauge, reasonConnect},
		{slow.URL, ProtocolPushgateway, gauge, reasonTimeout},
		{slow.URL, ProtocolRemoteWrite, gauge, reasonTimeout},
		{status500.URL, ProtocolPushgateway, withJob, reasonEncode}, // the push package refuses a job label
	} {
		p := testPusher(t, tc.url, tc.protocol)
		limit := p.opts.Timeout // generous: a loaded machine must not turn a 500 into a timeout
		if tc.want == reasonTimeout {
			limit = 300 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		p.transport.reset()
		err := p.sender.send(ctx, tc.g, "gw1")
		got := p.transport.reason(ctx, err)
		cancel()
		if err == nil {
			t.Errorf("%s %s: no error", tc.protocol, tc.want)
			continue
		}
		if got != tc.want {
			t.Errorf("%s to %s: reason %q, want %q (err %v)", tc.protocol, tc.url, got, tc.want, err)
		}
	}
}

// sendOnceTo runs one send, with its retries, of a gauge to a server
// that always answers status; it returns the Pusher and the number of
// requests the server saw.
func sendOnceTo(t *testing.T, status int) (*Pusher, int) {
	t.Helper()
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		attempts.Add(1)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	p := testPusher(t, srv.URL, ProtocolPushgateway)
	g := constGatherer{family("b", dto.MetricType_GAUGE, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1)}})}
	p.src.Gatherer = func(context.Context) prometheus.Gatherer { return g }
	p.opts.Interval = 1600 * time.Millisecond // waits of 200ms, then 400, 800
	p.sendWithRetries(context.Background(), time.Now().Add(p.opts.Interval))
	return p, int(attempts.Load())
}

// A target that keeps failing is retried with growing waits until the
// next send is due, every attempt counted; it never blocks the caller
// past that point.
func TestRetriesUntilNextSendIsDue(t *testing.T) {
	p, n := sendOnceTo(t, http.StatusServiceUnavailable)
	counted := map[string]float64{}
	for _, r := range pushFailureReasons {
		counted[r] = testutil.ToFloat64(p.metrics.failures.WithLabelValues(r))
	}
	if n < 2 || float64(n) != counted[reasonHTTPStatus] {
		t.Errorf("%d attempts answered, %v counted as http_status: want retries, each counted", n, counted[reasonHTTPStatus])
	}
	// On a loaded machine the last attempt may run out of time before its
	// request is made: counted once, as a timeout, and nothing else.
	if counted[reasonTimeout] > 1 || counted[reasonConnect]+counted[reasonEncode] != 0 {
		t.Errorf("failures counted by reason %v: want only http_status, and at most one timeout at the deadline", counted)
	}
	if n > 5 {
		t.Errorf("%d attempts in one interval: the backoff does not grow", n)
	}
	if testutil.ToFloat64(p.metrics.lastSuccess) != 0 {
		t.Error("last success set though every attempt failed")
	}
}

// A refusal (401: wrong password) is not retried within the interval.
func TestRefusalIsNotRetried(t *testing.T) {
	p, n := sendOnceTo(t, http.StatusUnauthorized)
	if n != 1 {
		t.Errorf("%d attempts after a 401, want 1", n)
	}
	if got := testutil.ToFloat64(p.metrics.failures.WithLabelValues(reasonHTTPStatus)); got != 1 {
		t.Errorf("http_status failures = %v, want 1", got)
	}
}

func TestStaleMarkersRepeatTheLastSeries(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		b, err := snappy.Decode(nil, raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()
	p := testPusher(t, srv.URL, ProtocolRemoteWrite)
	g := constGatherer{family("b", dto.MetricType_GAUGE, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(7)}})}
	if err := p.sender.send(context.Background(), g, "gw1"); err != nil {
		t.Fatal(err)
	}
	if err := p.sender.end(context.Background(), "gw1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("%d requests, want 2", len(bodies))
	}
	first, _ := remotewrite.Unmarshal(bodies[0])
	last, _ := remotewrite.Unmarshal(bodies[1])
	if len(last.Timeseries) != 1 || !slices.Equal(last.Timeseries[0].Labels, first.Timeseries[0].Labels) ||
		math.Float64bits(last.Timeseries[0].Samples[0].Value) != math.Float64bits(remotewrite.StaleNaN) {
		t.Errorf("end sent %+v", last)
	}
}
