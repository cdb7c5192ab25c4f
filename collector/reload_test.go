package collector

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// counters returns every counter sample of a scrape of the whole set,
// keyed by name and labels.
func counters(t *testing.T, s *Set) map[string]float64 {
	t.Helper()
	_, mfs := scrapeCollectors(t, s.collectors)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, m := range mf.GetMetric() {
			var b strings.Builder
			b.WriteString(mf.GetName())
			for _, l := range m.GetLabel() {
				b.WriteString("," + l.GetName() + "=" + l.GetValue())
			}
			out[b.String()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// Every collector of the demo goes through reloads with the same config
// and with a changed one that keeps every source, alternately, while its
// sources grow: no counter of any collector goes down, the replaced sets
// are freed (no chain of predecessors kept alive, the leak the snf
// states had), and once the last set is closed no goroutine or file
// descriptor is left behind.
func TestReloadEveryCollector(t *testing.T) {
	p := demoCopy(t)
	p.State = t.TempDir()
	load := func(changed bool) *config.Config {
		cfg, err := config.Load(filepath.Join(demo, "heartbeat.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if changed { // every section changed, every source kept
			cfg.Filesystem.StatTimeout = 3 * time.Second
			cfg.Corefiles.MaxExecutables = 10
			cfg.Services.PollInterval = 3 * time.Second
			for i := range cfg.Logs {
				cfg.Logs[i].PollInterval = 700 * time.Millisecond
			}
			for i := range cfg.Quarantine {
				cfg.Quarantine[i].Interval = 4 * time.Minute
			}
			for i := range cfg.SNF {
				cfg.SNF[i].RuleHistogramTop = 3
			}
		}
		return cfg
	}
	deps := func(changed bool) Deps {
		return Deps{Logger: log.NewNopLogger(), Config: load(changed), Paths: p}
	}
	mailLog := filepath.Join(p.Root, "var/log/mail.log")
	snfLog := filepath.Join(p.Root, "var/spool/snfilter/xxxxxxxx.status.minute.20080602.log.xml")
	grow := func(i int) {
		testenv.AppendFile(t, mailLog, mailLogLines)
		testenv.AppendFile(t, snfLog, snfSnap("n2", i%1000, i, 1, 1))
	}

	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	var alive atomic.Int32 // sets not yet garbage collected
	track := func(s *Set) *Set {
		alive.Add(1)
		runtime.AddCleanup(s, func(*atomic.Int32) { alive.Add(-1) }, &alive)
		return s
	}
	set, err := NewSet(deps(false), nil)
	if err != nil {
		t.Fatal(err)
	}
	track(set)
	before := counters(t, set)
	if len(before) < 20 {
		t.Fatalf("the demo serves only %d counters", len(before))
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var heapEarly uint64
	const reloads = 100
	for i := 1; i <= reloads; i++ {
		if i == 10 {
			heapEarly = heap()
		}
		grow(i)
		next, err := NewSet(deps(i%2 == 1), set)
		if err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		set.Close()
		set = track(next)
		after := counters(t, set)
		if drops := counterDrops(before, after, func(string) bool { return true }); len(drops) > 0 {
			for _, k := range drops {
				t.Errorf("reload %d (changed config: %v): %s went from %v to %v", i, i%2 == 1, k, before[k], after[k])
			}
			t.FailNow()
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				t.Errorf("reload %d: %s is gone", i, k)
			}
		}
		before = after
	}
	if v := before["heartbeat_log_lines_total,log=/var/log/mail.log"]; v < 5*reloads {
		t.Errorf("mail.log lines %v, want at least the %d appended", v, 5*reloads)
	}

	// The sources grew meanwhile (the SNF node n2, the log's counts), but
	// nothing a reload allocates may stay: 90 reloads within 1 MiB.
	if early, late := heapEarly, heap(); late > early+1<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d reloads", early, late, reloads-10)
	} else {
		t.Logf("heap after reload 10: %d bytes, after %d: %d", early, reloads, late)
	}
	waitUntil(t, "the replaced sets to be freed", func() bool {
		runtime.GC()
		return alive.Load() <= 2 // the set in force, and at most the one before it
	})
	set.Close()
	waitUntil(t, "the collectors' goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
	waitUntil(t, "the collectors' files to be closed", func() bool { return openFDs(t) <= fds })
}
