package textfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkCacheMemoryPerSeries reports the heap a cached textfile holds
// per series (the README's figure for textfile.max_series): 100,000
// gauges with three labels, one of them unique per series, as a
// per-queue or per-user export has. Run once: go test -run '^$' -bench
// MemoryPerSeries -benchtime 1x ./internal/textfile/
func BenchmarkCacheMemoryPerSeries(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("# HELP app_items Items per thing.\n# TYPE app_items gauge\n")
	for i := range n {
		fmt.Fprintf(&sb, "app_items{host=\"gw-17\",kind=\"k%d\",id=\"item-%08d\"} %d\n", i%20, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.prom"), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := NewCache(Options{})
		s := c.Scan(oneDir(dir))
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(s.Families) != 1 {
			b.Fatal(s.Files)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/series")
		runtime.KeepAlive(c)
	}
}
