package collector

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/quarantine"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// qtTree writes files (host path -> size) under a new root.
func qtTree(t *testing.T, files map[string]int, mtime time.Time) string {
	t.Helper()
	root := t.TempDir()
	for name, size := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func newQuarantineTest(t *testing.T, root, yaml string) *quarantineCollector {
	t.Helper()
	return reloadQuarantineTest(t, root, yaml, nil)
}

// reloadQuarantineTest builds the successor of prev (nil: a start); the
// caller calls TakeOver and closes prev, as a reload does.
func reloadQuarantineTest(t *testing.T, root, yaml string, prev *quarantineCollector) *quarantineCollector {
	t.Helper()
	cfg, err := config.Parse("test.yml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newQuarantineCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: Paths{Root: root}}, prev)
	if err != nil {
		t.Fatal(err)
	}
	qc := c.(*quarantineCollector)
	t.Cleanup(qc.Close)
	return qc
}

// qtVolatile masks the scan's own time and duration.
var qtVolatile = regexp.MustCompile(`(?m)^(heartbeat_quarantine_((last_scan_timestamp|scan_duration)_seconds|disk_bytes)\{[^}]*\}) .*$`)

var qtPending = regexp.MustCompile(`scan_pending\{[^}]*\} 1`)

func waitScanned(t *testing.T, c Collector) string {
	t.Helper()
	var text string
	waitUntil(t, "the first quarantine scan", func() bool {
		text, _ = collectText(t, &adapter{c: c})
		return !qtPending.MatchString(text)
	})
	return qtVolatile.ReplaceAllString(text, "$1 <volatile>")
}

func TestQuarantineAmavisFolder(t *testing.T) {
	mtime := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	root := qtTree(t, map[string]int{
		"/var/lib/amavis/virusmails/a/spam-abcDEF012345.gz": 1000,
		"/var/lib/amavis/virusmails/b/spam-bbcDEF012345.gz": 3000,
		"/var/lib/amavis/virusmails/c/virus-cbcDEF012345":   5000,
		"/var/lib/amavis/virusmails/c/badh-dbcDEF012345":    7,
		"/var/lib/amavis/virusmails/README":                 10,
	}, mtime)
	older := filepath.Join(root, "/var/lib/amavis/virusmails/c/badh-dbcDEF012345")
	if err := os.Chtimes(older, mtime.Add(-time.Hour), mtime.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(root, "/var/lib/amavis/virusmails/a/loop")); err != nil {
		t.Fatal(err)
	}
	c := newQuarantineTest(t, root, `
quarantine:
  - {name: amavis, path: /var/lib/amavis/virusmails, classify: amavis}
  - {name: absent, path: /var/spool/nothing-here}
`)
	got := waitScanned(t, c)
	for _, want := range []string{
		`heartbeat_quarantine_info{path="/var/lib/amavis/virusmails",quarantine="amavis"} 1`,
		`heartbeat_quarantine_messages{category="spam",quarantine="amavis"} 2`,
		`heartbeat_quarantine_bytes{category="spam",quarantine="amavis"} 4000`,
		`heartbeat_quarantine_messages{category="virus",quarantine="amavis"} 1`,
		`heartbeat_quarantine_messages{category="bad_header",quarantine="amavis"} 1`,
		`heartbeat_quarantine_bytes{category="bad_header",quarantine="amavis"} 7`,
		`heartbeat_quarantine_messages{category="unclassified",quarantine="amavis"} 1`,
		`heartbeat_quarantine_messages{category="clean",quarantine="amavis"} 0`,
		`heartbeat_quarantine_oldest_message_timestamp_seconds{quarantine="amavis"} 1.714554e+09`,
		`heartbeat_quarantine_scan_pending{quarantine="amavis"} 0`,
		`heartbeat_quarantine_scan_errors_total{quarantine="amavis"} 0`,
		`heartbeat_quarantine_last_scan_timestamp_seconds{quarantine="amavis"} <volatile>`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("output lacks %s", want)
		}
	}
	if strings.Contains(got, `quarantine="absent"`) {
		t.Error("an absent quarantine is reported")
	}
	if !strings.Contains(got, `heartbeat_quarantine_disk_bytes{quarantine="amavis"} `) ||
		strings.Contains(got, `heartbeat_quarantine_disk_bytes{quarantine="amavis"} 0`) {
		t.Error("disk bytes missing or zero")
	}
}

// Before the first scan finished, a scrape says so and serves no
// numbers; it does not wait for the scan.
func TestQuarantinePendingBeforeFirstScan(t *testing.T) {
	s, c := oneVirusScanner(t)
	text, err := collectText(t, &adapter{c: c})
	if err != nil {
		t.Fatal(err)
	}
	want := `# HELP heartbeat_quarantine_info Configured quarantine folder that exists; always 1.
# TYPE heartbeat_quarantine_info gauge
heartbeat_quarantine_info{path="/q",quarantine="q"} 1
# HELP heartbeat_quarantine_scan_pending 1 until the first scan has finished, then 0.
# TYPE heartbeat_quarantine_scan_pending gauge
heartbeat_quarantine_scan_pending{quarantine="q"} 1
`
	if text != want {
		t.Errorf("before the first scan:\n%s\nwant\n%s", text, want)
	}
	s.scan(context.Background())
	defer s.index.Close() // its inotify watches
	text, _ = collectText(t, &adapter{c: c})
	if !strings.Contains(text, `heartbeat_quarantine_messages{category="unclassified",quarantine="q"} 1`) {
		t.Errorf("after the scan:\n%s", text)
	}
}

// scrapeUntilFailed scrapes c until the scrape fails (what waits for);
// it returns the text served with that failure and the error.
func scrapeUntilFailed(t *testing.T, c *quarantineCollector, what string) (text string, err error) {
	t.Helper()
	waitUntil(t, what, func() bool {
		text, err = collectText(t, &adapter{c: c})
		return err != nil
	})
	return text, err
}

// A quarantine path that is not a folder is broken: an error (success
// 0), counted, and no numbers.
func TestQuarantineBrokenRoot(t *testing.T) {
	root := qtTree(t, map[string]int{"/q": 5}, time.Now())
	c := newQuarantineTest(t, root, "quarantine:\n  - {name: q, path: /q}\n")
	text, _ := scrapeUntilFailed(t, c, "the scan")
	if !strings.Contains(text, `heartbeat_quarantine_scan_errors_total{quarantine="q"} 1`) || strings.Contains(text, "heartbeat_quarantine_messages") {
		t.Errorf("broken root served:\n%s", text)
	}
}

// A reload builds the new collector before closing the old one: a
// quarantine whose configuration is the same keeps its scanner and last
// result (no pending again); a changed one gets a new scanner that goes on
// from the old error count; a refused reload stops nothing of the old.
func TestQuarantineScannerSurvivesReload(t *testing.T) {
	root := qtTree(t, map[string]int{"/q/virus-x": 3}, time.Now())
	yaml := "quarantine:\n  - {name: q, path: /q, classify: amavis}\n"
	first := newQuarantineTest(t, root, yaml)
	waitScanned(t, first)

	refused := reloadQuarantineTest(t, root, "quarantine:\n  - {name: q, path: /q, classify: amavis, interval: 2m}\n", first)
	refused.Close() // another factory failed: no TakeOver
	if first.scanners[0].cancel == nil || first.scanners[0].done == nil {
		t.Fatal("the old scanner is gone")
	}
	select {
	case <-first.scanners[0].done:
		t.Fatal("a refused reload stopped the old scanner")
	default:
	}

	second := reloadQuarantineTest(t, root, yaml, first)
	if second.scanners[0] != first.scanners[0] {
		t.Fatal("the same configuration got a new scanner")
	}
	second.TakeOver()
	first.Close()
	text, err := collectText(t, &adapter{c: second})
	if !strings.Contains(text, `heartbeat_quarantine_messages{category="virus",quarantine="q"} 1`) {
		t.Errorf("after the old set closed: %v\n%s", err, text)
	}
	second.scanners[0].mu.Lock()
	second.scanners[0].errsTotal = 7 // as if seven reads had failed
	second.scanners[0].mu.Unlock()
	other := reloadQuarantineTest(t, root, "quarantine:\n  - {name: q, path: /q, classify: amavis, interval: 1m}\n", second)
	if other.scanners[0] == second.scanners[0] {
		t.Error("a changed configuration shares the old scanner")
	}
	other.TakeOver()
	second.Close()
	select {
	case <-second.scanners[0].done:
	default:
		t.Error("the replaced scanner still runs")
	}
	waitScanned(t, other)
	other.scanners[0].mu.Lock()
	errsAfter := other.scanners[0].errsTotal
	other.scanners[0].mu.Unlock()
	if errsAfter < 7 {
		t.Errorf("scan errors %d after the changed reload, 7 before", errsAfter)
	}
	other.Close()
	select {
	case <-other.scanners[0].done:
	default:
		t.Error("the last scanner still runs after its collector closed")
	}
}

// The demo's amavis quarantine: one level of subfolders, spam .gz files,
// every preset category reported, an absent second quarantine left out.
// (Disk bytes depend on the file system the test runs on: masked.)
func TestQuarantineDemoGolden(t *testing.T) {
	p := demoCopy(t)
	setMtimes(t, filepath.Join(p.Root, "var"), time.Date(2024, 11, 14, 8, 0, 0, 0, time.UTC))
	cfg, err := config.Load(filepath.Join(demo, "heartbeat.yml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newQuarantineCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.(Closer).Close()
	tfGolden(t, filepath.Join("fixtures", "quarantine", "demo.out"), waitScanned(t, c))
}

// A reload that keeps a quarantine's folder and classification keeps the
// folder index (the next scan re-reads only what changed); one that
// classifies differently starts a new index.
func TestQuarantineReloadKeepsFolderIndex(t *testing.T) {
	old := &quarantineScanner{dir: "/q", cfg: config.QuarantineConfig{Classify: "amavis"}, index: &quarantine.Index{}}
	same := &quarantineScanner{dir: "/q", cfg: config.QuarantineConfig{Classify: "amavis"}}
	same.inherit(old)
	if same.index != old.index {
		t.Error("same folder and classification: the index was not kept")
	}
	other := &quarantineScanner{dir: "/q", cfg: config.QuarantineConfig{Classify: `^(?P<category>[a-z]+)-`}}
	other.inherit(old)
	if other.index != nil {
		t.Error("another classification: the old index was kept")
	}
}

// qtUnreadableEnv marks the re-executed test binary that runs as nobody.
const qtUnreadableEnv = "HB_QUARANTINE_COLLECTOR_UNREADABLE"

// A folder of the quarantine that cannot be read fails this collector
// (success 0, its error counter grows) and the readable rest is still
// served. Root reads any folder, so as root the test re-runs itself
// as user nobody, which then makes and owns the tree.
func TestQuarantineUnreadableFolder(t *testing.T) {
	if os.Getuid() == 0 && os.Getenv(qtUnreadableEnv) == "" {
		testenv.RerunAsNobody(t, "TestQuarantineUnreadableFolder", qtUnreadableEnv+"=1")
		return
	}
	root := qtTree(t, map[string]int{"/q/open/spam-1": 10, "/q/a/b/closed/virus-1": 20}, time.Now())
	closed := filepath.Join(root, "q/a/b/closed")
	if err := os.Chmod(closed, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(closed, 0o755) })
	c := newQuarantineTest(t, root, "quarantine:\n  - {name: q, path: /q, classify: amavis, interval: 1m}\n")
	text, err := scrapeUntilFailed(t, c, "a scan that failed on the closed folder")
	if !strings.Contains(err.Error(), "permission denied") ||
		!strings.Contains(text, `heartbeat_quarantine_scan_errors_total{quarantine="q"} 1`+"\n") ||
		!strings.Contains(text, `heartbeat_quarantine_messages{category="spam",quarantine="q"} 1`+"\n") ||
		!strings.Contains(text, `heartbeat_quarantine_messages{category="virus",quarantine="q"} 0`+"\n") {
		t.Errorf("err %v, served:\n%s", err, text)
	}
}

// A scrape during a scan serves the last finished scan's numbers at once:
// it never waits for the walk (here held inside the classifier).
func TestQuarantineScrapeDoesNotWaitForScan(t *testing.T) {
	s, c := oneVirusScanner(t)
	s.opt = quarantine.Options{Workers: 1}
	t.Cleanup(func() { s.index.Close() })
	s.scan(context.Background())
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.opt.Classify = func(string) string {
		once.Do(func() { close(entered) })
		<-release
		return ""
	}
	if err := os.WriteFile(filepath.Join(s.dir, "virus-y"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.scan(context.Background())
	}()
	<-entered
	text, err := collectText(t, &adapter{c: c})
	close(release)
	<-done
	if err != nil || !strings.Contains(text, `heartbeat_quarantine_messages{category="unclassified",quarantine="q"} 1`+"\n") {
		t.Errorf("scrape during a scan: %v\n%s", err, text)
	}
	text, _ = collectText(t, &adapter{c: c})
	if !strings.Contains(text, `heartbeat_quarantine_messages{category="unclassified",quarantine="q"} 2`+"\n") {
		t.Errorf("after the scan:\n%s", text)
	}
}

// oneVirusScanner is a scanner of quarantine "q" holding one virus
// message, not yet scanned, and a collector serving it alone.
func oneVirusScanner(t *testing.T) (*quarantineScanner, *quarantineCollector) {
	t.Helper()
	root := qtTree(t, map[string]int{"/q/virus-x": 1}, time.Now())
	s := &quarantineScanner{
		cfg:    config.QuarantineConfig{Name: "q", Path: "/q", Interval: time.Hour},
		dir:    filepath.Join(root, "q"),
		logger: log.NewNopLogger(),
	}
	return s, &quarantineCollector{scanners: []*quarantineScanner{s}}
}

// The walk asks for the CPUs from its thread of lowered priority; the stop
// of the world that raises them is led from a thread of normal priority.
func TestQuarantineBusyNotTakenOnTheWalkingThread(t *testing.T) {
	niceOf := func() int {
		p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
		if err != nil {
			t.Error(err)
		}
		return p
	}
	seen := make(chan int, 1)
	old := procsBusy
	procsBusy = func() func() {
		seen <- niceOf()
		return func() {}
	}
	t.Cleanup(func() { procsBusy = old })
	normal := niceOf()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // not unlocked: the lowered thread ends with the goroutine
		if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 10); err != nil {
			t.Error(err)
			return
		}
		if niceOf() == normal {
			t.Error("the thread's priority did not change")
			return
		}
		busyFromAnyThread()()
	}()
	<-done
	if got := <-seen; got != normal {
		t.Errorf("procs.Busy ran on a thread of priority %d, want the normal %d", got, normal)
	}
}
