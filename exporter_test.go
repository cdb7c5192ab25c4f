package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heartbeat-exporter/heartbeat_exporter/collector"
)

func newDemoExporter(t *testing.T, maxRequests int) *exporter {
	t.Helper()
	e, err := newExporter(log.NewNopLogger(), exporterOptions{
		configFile:  demoTree + "/heartbeat.yml",
		paths:       collector.Paths{Proc: demoTree + "/proc", Sys: demoTree + "/sys", Root: demoTree + "/root"},
		maxRequests: maxRequests,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func scrapeInProcess(e *exporter) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec
}

// With --web.max-requests scrapes already running, one more is answered
// 503 at once and counted; once a slot frees, scrapes are served again.
func TestMaxRequestsRefusesExcessScrapes(t *testing.T) {
	e := newDemoExporter(t, 2)
	e.inFlight <- struct{}{} // two scrapes in progress
	e.inFlight <- struct{}{}

	if rec := scrapeInProcess(e); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("scrape over the limit answered %d, want 503", rec.Code)
	}
	if got := testutil.ToFloat64(e.rejected); got != 1 {
		t.Errorf("rejected counter = %v, want 1", got)
	}

	<-e.inFlight
	rec := scrapeInProcess(e)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape under the limit answered %d", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "heartbeat_exporter_scrapes_rejected_total 1") {
		t.Error("the refusal is not visible in /metrics")
	}
	if !strings.Contains(rec.Body.String(), `promhttp_metric_handler_requests_total{code="503"} 1`) {
		t.Error("promhttp does not count the 503")
	}
}

// Scrapes running while the config is reloaded must neither race nor fail
// (run with -race).
func TestConcurrentScrapesDuringReload(t *testing.T) {
	e := newDemoExporter(t, 0)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if rec := scrapeInProcess(e); rec.Code != http.StatusOK {
					t.Errorf("scrape answered %d", rec.Code)
					return
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		if err := e.reload(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// BenchmarkScrape measures one whole /metrics request in process, on this
// host's real /proc and /sys with the default collectors and "/" only.
func BenchmarkScrape(b *testing.B) {
	cfg := filepath.Join(b.TempDir(), "bench.yml")
	if err := os.WriteFile(cfg, []byte("filesystem:\n  paths: [/]\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	e, err := newExporter(log.NewNopLogger(), exporterOptions{
		configFile:             cfg,
		paths:                  collector.Paths{Proc: "/proc", Sys: "/sys", Root: "/"},
		disableExporterMetrics: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ReportAllocs()
	for b.Loop() {
		if rec := scrapeInProcess(e); rec.Code != http.StatusOK {
			b.Fatalf("scrape answered %d", rec.Code)
		}
	}
}
