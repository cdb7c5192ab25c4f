package push

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/remotewrite"
)

// remoteWriteSender speaks Prometheus remote-write 1.0 (the version every
// receiver takes: Prometheus 2.x and 3.x, Mimir, Thanos Receive,
// VictoriaMetrics) through client_golang's exp/api/remote, which does the
// snappy compression, headers and status handling. That module ships
// generated types for remote-write 2.0 only, and Debian's Prometheus 2.42
// receives 1.0 only; the 1.0 message comes from internal/remotewrite
// instead of the Prometheus server module and its dependencies.
type remoteWriteSender struct {
	api      *remote.API
	job      string
	mu       sync.Mutex
	lastSent []remotewrite.TimeSeries // for the staleness markers at the end
}

func newRemoteWriteSender(rawURL, job string, client *http.Client) (*remoteWriteSender, error) {
	api, err := remote.NewAPI(rawURL,
		remote.WithAPIHTTPClient(client),
		remote.WithAPIPath(""), // --push.url is the whole endpoint
		// MaxRetries -1: one attempt; the push loop retries, so that
		// every failed attempt is counted by reason.
		remote.WithAPIBackoff(remote.BackoffConfig{MaxRetries: -1}),
	)
	if err != nil {
		return nil, err
	}
	return &remoteWriteSender{api: api, job: job}, nil
}

func (s *remoteWriteSender) send(ctx context.Context, g prometheus.Gatherer, instance string) error {
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	req := toWriteRequest(mfs, s.job, instance, time.Now())
	if _, err := s.api.Write(ctx, remote.WriteV1MessageType, req); err != nil {
		return err
	}
	s.mu.Lock()
	s.lastSent = req.Timeseries
	s.mu.Unlock()
	return nil
}

// end marks every series last sent as stale, so queries stop showing this
// instance at once instead of five minutes later.
func (s *remoteWriteSender) end(ctx context.Context, _ string) error {
	s.mu.Lock()
	sent := s.lastSent
	s.mu.Unlock()
	if len(sent) == 0 {
		return nil
	}
	now := time.Now().UnixMilli()
	stale := &remotewrite.WriteRequest{Timeseries: make([]remotewrite.TimeSeries, len(sent))}
	for i, ts := range sent {
		stale.Timeseries[i] = remotewrite.TimeSeries{
			Labels:  ts.Labels,
			Samples: []remotewrite.Sample{{Value: remotewrite.StaleNaN, TimestampMs: now}},
		}
	}
	_, err := s.api.Write(ctx, remote.WriteV1MessageType, stale)
	return err
}

// toWriteRequest turns gathered families into remote-write series, the
// way Prometheus would store a scrape of them: job and instance added (a
// label of those names already there becomes exported_job /
// exported_instance), summaries and histograms split into their
// _sum/_count/quantile/_bucket series, labels sorted.
func toWriteRequest(mfs []*dto.MetricFamily, job, instance string, now time.Time) *remotewrite.WriteRequest {
	req := &remotewrite.WriteRequest{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			b := seriesBuilder{req: req, name: mf.GetName(), ts: now.UnixMilli()}
			if m.TimestampMs != nil {
				b.ts = m.GetTimestampMs()
			}
			b.base = targetLabels(m.GetLabel(), job, instance)
			b.addMetric(mf.GetType(), m)
		}
	}
	return req
}

func targetLabels(pairs []*dto.LabelPair, job, instance string) []remotewrite.Label {
	out := make([]remotewrite.Label, 0, len(pairs)+2)
	for _, lp := range pairs {
		if lp.GetValue() == "" {
			continue // an empty label is no label, as on a scrape
		}
		name := lp.GetName()
		if name == "job" || name == "instance" {
			name = "exported_" + name
		}
		out = append(out, remotewrite.Label{Name: name, Value: lp.GetValue()})
	}
	return append(out, remotewrite.Label{Name: "job", Value: job}, remotewrite.Label{Name: "instance", Value: instance})
}

// seriesBuilder appends the series of one metric to req.
type seriesBuilder struct {
	req  *remotewrite.WriteRequest
	name string
	base []remotewrite.Label
	ts   int64
}

func (b seriesBuilder) addMetric(t dto.MetricType, m *dto.Metric) {
	switch t {
	case dto.MetricType_COUNTER:
		b.add("", m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		b.add("", m.GetGauge().GetValue())
	case dto.MetricType_UNTYPED:
		b.add("", m.GetUntyped().GetValue())
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			b.add("", q.GetValue(), remotewrite.Label{Name: "quantile", Value: formatFloat(q.GetQuantile())})
		}
		b.add("_sum", s.GetSampleSum())
		b.add("_count", float64(s.GetSampleCount()))
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		b.addHistogram(m.GetHistogram())
	}
}

// addHistogram sends the classic buckets; a native-only histogram has
// none and is sent as its _sum and _count.
func (b seriesBuilder) addHistogram(h *dto.Histogram) {
	sawInf := false
	for _, bk := range h.GetBucket() {
		sawInf = sawInf || math.IsInf(bk.GetUpperBound(), 1)
		b.add("_bucket", float64(bk.GetCumulativeCount()), remotewrite.Label{Name: "le", Value: formatFloat(bk.GetUpperBound())})
	}
	if !sawInf {
		b.add("_bucket", float64(h.GetSampleCount()), remotewrite.Label{Name: "le", Value: "+Inf"})
	}
	b.add("_sum", h.GetSampleSum())
	b.add("_count", float64(h.GetSampleCount()))
}

func (b seriesBuilder) add(suffix string, v float64, extra ...remotewrite.Label) {
	labels := make([]remotewrite.Label, 0, len(b.base)+len(extra)+1)
	labels = append(labels, remotewrite.Label{Name: "__name__", Value: b.name + suffix})
	labels = append(labels, b.base...)
	labels = append(labels, extra...)
	sort.Slice(labels, func(i, j int) bool { return labels[i].Name < labels[j].Name })
	b.req.Timeseries = append(b.req.Timeseries, remotewrite.TimeSeries{
		Labels:  labels,
		Samples: []remotewrite.Sample{{Value: v, TimestampMs: b.ts}},
	})
}

// formatFloat writes le and quantile values as the text exposition does.
func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
