package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// snfAppended is n snapshots of the seed sample a minute apart.
func snfAppended(tb testing.TB, n int) string {
	seed := snfSeed(tb)
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Replace(seed, "basetime='20080602033557'",
			fmt.Sprintf("basetime='2008%02d%02d%02d%02d00'", 6+i/44640, 1+i/1440%31, i/60%24, i%60), 1))
	}
	return b.String()
}

func snfDrain(tb testing.TB, c Collector) {
	ch := make(chan prometheus.Metric, 4096)
	go func() {
		for range ch {
		}
	}()
	if err := c.Update(context.Background(), ch); err != nil {
		tb.Fatal(err)
	}
	close(ch)
}

// BenchmarkSNFScrapeAfterFirstRead: scrapes of a 10,000-snapshot appended
// file once it has been read: bytes read per scrape (should be 0) and the
// cost of a scrape.
func BenchmarkSNFScrapeAfterFirstRead(b *testing.B) {
	st := newSNFTest(b, config.SNFSource{Path: "/snf/*.log.xml", RuleHistogramTop: 10})
	st.write(b, "/snf/n.status.minute.20080602.log.xml", snfAppended(b, 10000), false)
	c := st.c.(*snfCollector)
	snfDrain(b, c)
	if got := c.snaps["counted"]; got != 10000 {
		b.Fatalf("counted %v snapshots", got)
	}
	first := c.read
	b.ReportAllocs()
	for b.Loop() {
		snfDrain(b, c)
	}
	b.ReportMetric(float64(c.read-first)/float64(b.N), "bytes-read/op")
	b.ReportMetric(float64(first), "first-read-bytes")
}

// BenchmarkSNFFirstRead: the first scrape of a 10,000-snapshot file.
func BenchmarkSNFFirstRead(b *testing.B) {
	root := b.TempDir()
	p := filepath.Join(root, "snf", "n.status.minute.20080602.log.xml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	data := snfAppended(b, 10000)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := newSNFCollector(Deps{Config: &config.Config{SNF: []config.SNFSource{{Path: "/snf/*.log.xml", RuleHistogramTop: 10}}}, Paths: Paths{Root: root}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		snfDrain(b, c)
	}
}
