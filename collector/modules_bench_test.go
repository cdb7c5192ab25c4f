package collector

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// rchar is the bytes this process has read so far (read(2) and friends),
// from /proc/self/io.
func rchar(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io:", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no rchar in /proc/self/io")
	return 0
}

// benchClamavRoot is a database folder with a 300 MB daily.cld (a valid
// header, the rest a hole: sparse) and the other fixture databases.
func benchClamavRoot(b *testing.B) string {
	root := modRoot(b, "clamav", nil)
	daily := filepath.Join(root, "var/lib/clamav/daily.cld")
	if err := os.Truncate(daily, 300<<20); err != nil {
		b.Fatal(err)
	}
	return root
}

// benchModulesScrape runs Update b.N times on the collector fresh
// gives, reporting file bytes read per scrape (rchar, less what reading
// /proc/self/io itself costs).
func benchModulesScrape(b *testing.B, fresh func() *modulesCollector) {
	ch := make(chan prometheus.Metric, 1000)
	probe := rchar(b)
	probeCost := rchar(b) - probe
	b.ResetTimer()
	var read int64
	for i := 0; i < b.N; i++ {
		c := fresh()
		before := rchar(b)
		if err := c.Update(context.Background(), ch); err != nil {
			b.Fatal(err)
		}
		read += rchar(b) - before - probeCost
		for len(ch) > 0 {
			<-ch
		}
	}
	b.ReportMetric(float64(read)/float64(b.N), "bytes-read/scrape")
}

const benchClamavYAML = `modules:
  - name: virus
    kind: clamav
    database_dir: /var/lib/clamav
    freshclam_log: /var/log/clamav/freshclam.log
`

// BenchmarkModulesClamav300MBCold: the cache emptied before each scrape: every header (512 bytes each) and the freshclam log are read.
func BenchmarkModulesClamav300MBCold(b *testing.B) {
	c := newModulesTest(b, benchClamavRoot(b), benchClamavYAML)
	benchModulesScrape(b, func() *modulesCollector {
		c.cache = newModuleFileCache()
		return c
	})
}

// BenchmarkModulesClamav300MBWarm: one collector, as in the exporter:
// unchanged files are only stat'ed.
func BenchmarkModulesClamav300MBWarm(b *testing.B) {
	root := benchClamavRoot(b)
	c := newModulesTest(b, root, benchClamavYAML)
	benchModulesScrape(b, func() *modulesCollector { return c })
}
