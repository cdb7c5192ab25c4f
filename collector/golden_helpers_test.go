package collector

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// scrapeExposition serves one scrape of c, named name, the way /metrics
// does (a Scrape in a registry, its Gatherer) and returns the text
// exposition and the families.
func scrapeExposition(t testing.TB, name string, c Collector) (string, []*dto.MetricFamily) {
	t.Helper()
	return scrapeCollectors(t, map[string]Collector{name: c})
}

// scrapeCollectors is scrapeExposition for several collectors at once.
func scrapeCollectors(t testing.TB, collectors map[string]Collector) (string, []*dto.MetricFamily) {
	t.Helper()
	s := &Scrape{ctx: context.Background(), logger: log.NewNopLogger(), collectors: collectors}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s)
	mfs, err := s.Gatherer(reg).Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String(), mfs
}

// compareGolden compares got with the file at path, rewriting it first
// under -update; test names the test to rerun.
func compareGolden(t *testing.T, path, got, test string) {
	t.Helper()
	if tfUpdate() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update ./collector/ to create it)", err, test)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update and review the diff)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
