package collector

import (
	"context"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// stuckCollector ignores its context, as a read of a FIFO would: it sends
// one metric, then waits until released, then sends more.
type stuckCollector struct{ release, finished chan struct{} }

var stuckDesc = prometheus.NewDesc("stuck_value", "A stuck collector's value.", nil, nil)

func (c stuckCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	ch <- prometheus.MustNewConstMetric(stuckDesc, prometheus.GaugeValue, 1)
	<-c.release
	for range 1000 { // more than any buffer: must not block once abandoned
		ch <- prometheus.MustNewConstMetric(stuckDesc, prometheus.GaugeValue, 2)
	}
	close(c.finished)
	return nil
}

type okCollector struct{}

var okDesc = prometheus.NewDesc("ok_value", "A healthy collector's value.", nil, nil)

func (okCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	ch <- prometheus.MustNewConstMetric(okDesc, prometheus.GaugeValue, 7)
	return nil
}

// A collector still running at the deadline is reported failed and the
// scrape returns with everything else; when it ends later, what it sends
// goes nowhere and nothing blocks.
func TestScrapeDoesNotWaitPastItsDeadline(t *testing.T) {
	release, finished := make(chan struct{}), make(chan struct{})
	set := &Set{logger: log.NewNopLogger(), collectors: map[string]Collector{
		"stuck": stuckCollector{release, finished}, "ok": okCollector{}}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	sel, err := set.Select(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(sel)
	done := make(chan []*dto.MetricFamily)
	go func() {
		mfs, _ := sel.Gatherer(reg).Gather()
		done <- mfs
	}()
	var mfs []*dto.MetricFamily
	select {
	case mfs = <-done:
	case <-time.After(20 * time.Second):
		close(release)
		t.Fatal("the scrape waited for the stuck collector")
	}
	success := map[string]float64{}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "heartbeat_scrape_collector_success" {
				success[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			} else {
				values[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	if success["stuck"] != 0 || success["ok"] != 1 {
		t.Errorf("success = %v, want stuck 0, ok 1", success)
	}
	if values["ok_value"] != 7 {
		t.Errorf("the healthy collector's metric is missing: %v", values)
	}
	close(release)
	select { // its late sends were drained, not left blocking it for ever
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("the abandoned collector is blocked sending")
	}
}
