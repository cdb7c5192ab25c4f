package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/heartbeat-exporter/heartbeat_exporter/collector"
)

// newTextfileExporter runs the exporter in-process with a textfile folder
// holding files, under a root of its own.
func newTextfileExporter(t *testing.T, disableExporterMetrics bool, files map[string]string) *exporter {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "var/lib/heartbeat_exporter/textfile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(root, "heartbeat.yml")
	if err := os.WriteFile(cfg, []byte("filesystem:\n  paths: [/]\ntextfile:\n  directories: [/var/lib/heartbeat_exporter/textfile]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := newExporter(log.NewNopLogger(), exporterOptions{
		configFile:             cfg,
		paths:                  collector.Paths{Proc: demoTree + "/proc", Sys: demoTree + "/sys", Root: root},
		disableExporterMetrics: disableExporterMetrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func scrapeWith(t *testing.T, e *exporter, target, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s answered %d: %s", target, rec.Code, rec.Body)
	}
	return rec
}

const licenceProm = "# HELP licence_expiry_timestamp_seconds When the licence expires.\n# TYPE licence_expiry_timestamp_seconds gauge\nlicence_expiry_timestamp_seconds{product=\"av\"} 1.8e+09\n"

// The textfile families are served in /metrics, in every negotiated format,
// and follow collect[]/exclude[] with their collector.
func TestTextfileThroughHandler(t *testing.T) {
	e := newTextfileExporter(t, false, map[string]string{"licence.prom": licenceProm})

	body := scrapeWith(t, e, "/metrics", "").Body.String()
	for _, want := range []string{
		"licence_expiry_timestamp_seconds{product=\"av\"} 1.8e+09",
		"heartbeat_textfile_scrape_error 0",
		`heartbeat_scrape_collector_success{collector="textfile"} 1`,
		`heartbeat_textfile_mtime_seconds{file="/var/lib/heartbeat_exporter/textfile/licence.prom"}`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	promtoolCheckMetrics(t, body)

	if b := scrapeWith(t, e, "/metrics?collect[]=system", "").Body.String(); strings.Contains(b, "licence_expiry") || strings.Contains(b, "heartbeat_textfile_") {
		t.Error("collect[]=system still serves the textfiles")
	}
	if b := scrapeWith(t, e, "/metrics?exclude[]=textfile", "").Body.String(); strings.Contains(b, "licence_expiry") {
		t.Error("exclude[]=textfile still serves the textfiles")
	}
	if b := scrapeWith(t, e, "/metrics?collect[]=textfile", "").Body.String(); !strings.Contains(b, "licence_expiry") || strings.Contains(b, "heartbeat_load1") {
		t.Error("collect[]=textfile: wrong selection")
	}

	// Protobuf, as Prometheus asks for native histograms.
	rec := scrapeWith(t, e, "/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "protobuf") {
		t.Fatalf("content type %q", ct)
	}
	dec := expfmt.NewDecoder(rec.Body, expfmt.NewFormat(expfmt.TypeProtoDelim))
	found := false
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			break
		}
		if mf.GetName() == "licence_expiry_timestamp_seconds" && len(mf.Metric) == 1 {
			found = true
		}
	}
	if !found {
		t.Error("protobuf answer lacks the textfile family")
	}
}

// Names the exporter serves itself are refused in textfiles: go_* while
// the runtime metrics are on, heartbeat_* always.
func TestTextfileReservedNames(t *testing.T) {
	files := map[string]string{"runtime.prom": "go_goroutines 1\nheartbeat_load1 7\nfine 1\n"}

	e := newTextfileExporter(t, false, files)
	body := scrapeWith(t, e, "/metrics", "").Body.String()
	if !strings.Contains(body, "heartbeat_textfile_scrape_error 1") || strings.Contains(body, "heartbeat_load1 7") ||
		!strings.Contains(body, "fine 1") || strings.Count(body, "# TYPE go_goroutines ") != 1 || strings.Contains(body, "go_goroutines 1\n") {
		t.Errorf("reserved names served:\n%s", grepLines(body, "go_goroutines", "heartbeat_load1", "fine", "textfile"))
	}
	promtoolCheckMetrics(t, body)

	e = newTextfileExporter(t, true, files)
	body = scrapeWith(t, e, "/metrics", "").Body.String()
	if !strings.Contains(body, "go_goroutines 1\n") || strings.Contains(body, "heartbeat_load1 7") {
		t.Errorf("without runtime metrics go_goroutines belongs to the textfile:\n%s", grepLines(body, "go_goroutines", "heartbeat_load1"))
	}
}

func grepLines(text string, words ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
