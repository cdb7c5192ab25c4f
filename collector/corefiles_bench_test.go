package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// BenchmarkCorefiles100k scrapes a core folder of 100,000 files that does
// not change between scrapes (issue 18: 0.57 s a scrape when listed every
// time): relisted=true lists it at every scrape, relisted=false keeps the
// listing. Run once, briefly: go test -run '^$' -bench Corefiles100k -benchtime 5x ./collector/
func BenchmarkCorefiles100k(b *testing.B) {
	root := b.TempDir()
	dir := filepath.Join(root, "var/crash")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 100_000 {
		name := fmt.Sprintf("core.prog%d.0.0123456789abcdef0123456789abcdef.%d.1700000000000000", i%50, i)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour) // a folder not changed lately
	if err := os.Chtimes(dir, old, old); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse("b.yml", []byte("corefiles:\n  dirs: [/var/crash]\n  from_core_pattern: false\n"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := newCorefilesCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: Paths{Root: root}})
	if err != nil {
		b.Fatal(err)
	}
	ch := make(chan prometheus.Metric, 1024)
	go func() {
		for range ch {
		}
	}()
	defer close(ch)
	for _, cold := range []bool{true, false} {
		b.Run(fmt.Sprintf("relisted=%v", cold), func(b *testing.B) {
			for b.Loop() {
				if cold {
					c.(*corefilesCollector).listings = map[coreListingKey]*coreListing{}
				}
				if err := c.Update(context.Background(), ch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
