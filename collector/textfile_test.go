package collector

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// -update rewrites the golden files; another test file of the package may
// define the flag too.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func tfUpdate() bool { return flag.Lookup("update").Value.String() == "true" }

const tfFixtures = "fixtures/textfile"

// tfLog is a logfmt logger without timestamps, safe for the collector's
// concurrent use, whose output a test can read.
type tfLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *tfLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *tfLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *tfLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

// newTextfileTest builds the collector on root with the given folders.
func newTextfileTest(t testing.TB, root string, dirs []string, maxSize config.Bytes, reserved map[string]bool) (Collector, *tfLog) {
	t.Helper()
	logs := &tfLog{}
	cfg := &config.Config{Textfile: config.TextfileConfig{Directories: dirs, MaxFileSize: maxSize}}
	c, err := newTextfileCollector(Deps{
		Logger:   log.NewLogfmtLogger(logs),
		Config:   cfg,
		Paths:    Paths{Root: root},
		Reserved: reserved,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

var (
	tfMtimeLine    = regexp.MustCompile(`(?m)^(heartbeat_textfile_mtime_seconds\{.*\}) .*$`)
	tfDurationLine = regexp.MustCompile(`(?m)^(heartbeat_scrape_collector_duration_seconds\{.*\}) .*$`)
)

// tfScrape serves one scrape of c the way /metrics does (a Scrape in a
// registry, its Gatherer) and returns the text exposition, with file
// modification times set to 1 and durations to 0, and the gather error.
func tfScrape(t testing.TB, c Collector) (string, []*dto.MetricFamily) {
	t.Helper()
	return scrapeNamed(t, map[string]Collector{"textfile": c})
}

// scrapeNamed scrapes several collectors at once, with modification
// times set to 1 and durations to 0.
func scrapeNamed(t testing.TB, collectors map[string]Collector) (string, []*dto.MetricFamily) {
	t.Helper()
	text, mfs := scrapeCollectors(t, collectors)
	text = tfMtimeLine.ReplaceAllString(text, "$1 1")
	return tfDurationLine.ReplaceAllString(text, "$1 0"), mfs
}

// checkValid makes sure what is served is valid exposition: it parses
// back, and client_golang's own consistency checks (duplicate series,
// help and type conflicts, suffix collisions) find nothing.
func checkValid(t testing.TB, text string, mfs []*dto.MetricFamily) {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(text)); err != nil {
		t.Errorf("output does not parse back: %v", err)
	}
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
	if _, err := (prometheus.Gatherers{g}).Gather(); err != nil {
		t.Errorf("output fails client_golang's consistency checks: %v", err)
	}
}

func tfGolden(t *testing.T, path, got string) {
	t.Helper()
	compareGolden(t, path, got, "TestTextfileGolden")
}

// exporterReserved is what the exporter reserves with runtime metrics on.
func exporterReserved() map[string]bool {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return ReservedNames(reg)
}

// TestTextfileGolden runs the collector on each fixture folder under
// fixtures/textfile and compares the whole output with CASE.out, and what
// it logged with CASE.log.
func TestTextfileGolden(t *testing.T) {
	cases := []struct {
		name     string
		dirs     []string // host paths under fixtures/textfile
		maxSize  config.Bytes
		reserved map[string]bool
	}{
		{name: "two_files"},
		{name: "no_files"},
		{name: "absent_directory"},
		{name: "not_a_directory"},
		{name: "client_side_timestamp"},
		{name: "metric_types"},
		{name: "inconsistent_labels"},
		{name: "merge_same_help"},
		{name: "merge_different_help"},
		{name: "merge_no_help"},
		{name: "merge_empty_help"},
		{name: "merge_help_one_side"},
		{name: "type_mismatch"},
		{name: "duplicate_series_in_file"},
		{name: "duplicate_series_across_files"},
		{name: "duplicate_empty_label"},
		{name: "duplicate_bucket"},
		{name: "empty_file"},
		{name: "no_trailing_newline"},
		{name: "clash_heartbeat"},
		{name: "clash_exporter", reserved: exporterReserved()},
		{name: "suffix_clash"},
		{name: "parse_error"},
		{name: "invalid_utf8"},
		{name: "too_large", maxSize: 100},
		{name: "prom_directory"},
		{name: "two_directories", dirs: []string{"/two_directories/a", "/two_directories/b", "/two_directories/a/"}},
		{name: "glob", dirs: []string{"/glob_*"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dirs := tc.dirs
			if dirs == nil {
				dirs = []string{"/" + tc.name}
			}
			c, logs := newTextfileTest(t, tfFixtures, dirs, tc.maxSize, tc.reserved)
			got, mfs := tfScrape(t, c)
			checkValid(t, got, mfs)
			tfGolden(t, filepath.Join(tfFixtures, tc.name+".out"), got)
			tfGolden(t, filepath.Join(tfFixtures, tc.name+".log"), logs.String())

			// Scraped again unchanged: the same output, nothing logged again.
			logs.Reset()
			if again, _ := tfScrape(t, c); again != got {
				t.Errorf("second scrape differs:\n%s", again)
			}
			if l := logs.String(); l != "" {
				t.Errorf("second scrape of unchanged files logged again:\n%s", l)
			}
		})
	}
}

// A collector without folders reports nothing and is not a failure.
func TestTextfileNoDirectories(t *testing.T) {
	c, _ := newTextfileTest(t, "/", nil, 0, nil)
	got, _ := tfScrape(t, c)
	if strings.Contains(got, "heartbeat_textfile_") {
		t.Errorf("output with no folders configured:\n%s", got)
	}
	if !strings.Contains(got, `heartbeat_scrape_collector_success{collector="textfile"} 1`) {
		t.Errorf("no folders must not be a failure:\n%s", got)
	}
}

// Folders from the config and from --collector.textfile.directory are
// merged, without duplicates, config first; both are read under the root.
func TestTextfileFlagDirectories(t *testing.T) {
	withFlag := func(root string, dirs, flagDirs []string) Collector {
		t.Helper()
		c, err := newTextfileCollector(Deps{Logger: log.NewNopLogger(),
			Config: &config.Config{Textfile: config.TextfileConfig{Directories: dirs}},
			Paths:  Paths{Root: root, Textfile: flagDirs}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := withFlag(tfFixtures, []string{"/two_directories/a"}, []string{"/two_directories/b", "/two_directories/a"})
	tc := c.(*textfileCollector)
	if want := []string{"/two_directories/a", "/two_directories/b"}; strings.Join(tc.patterns, " ") != strings.Join(want, " ") {
		t.Errorf("folders = %q, want %q", tc.patterns, want)
	}
	got, _ := tfScrape(t, c)
	want, err := os.ReadFile(filepath.Join(tfFixtures, "two_directories.out"))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("flag folders: got\n%s\nwant\n%s", got, want)
	}

	// A relative flag value is taken from the working folder.
	c = withFlag("/", nil, []string{"relative/dir"})
	wd, _ := os.Getwd()
	if p := c.(*textfileCollector).patterns; len(p) != 1 || p[0] != filepath.Join(wd, "relative/dir") {
		t.Errorf("relative flag folder became %q", p)
	}
}

// collect[]/exclude[] leave the textfile families out with the collector.
func TestTextfileFamiliesFollowSelection(t *testing.T) {
	c, _ := newTextfileTest(t, tfFixtures, []string{"/two_files"}, 0, nil)
	set := &Set{logger: log.NewNopLogger(), collectors: map[string]Collector{"textfile": c, "other": nopCollector{}}}
	for _, tc := range []struct {
		collect, exclude []string
		want             bool
	}{
		{nil, nil, true},
		{[]string{"textfile"}, nil, true},
		{[]string{"other"}, nil, false},
		{nil, []string{"textfile"}, false},
	} {
		sel, err := set.Select(context.Background(), tc.collect, tc.exclude)
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(sel)
		mfs, err := sel.Gatherer(reg).Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, mf := range mfs {
			if mf.GetName() == "mail_queue_messages" {
				got = true
			}
		}
		if got != tc.want {
			t.Errorf("collect=%v exclude=%v: textfile families served = %v, want %v", tc.collect, tc.exclude, got, tc.want)
		}
	}
}

type nopCollector struct{}

func (nopCollector) Update(context.Context, chan<- prometheus.Metric) error { return ErrNoData }

// The Gatherer's own clash check: a handed-over family whose name another
// gatherer serves is left out with an error, the rest is merged in order.
func TestScrapeGathererClash(t *testing.T) {
	fams := []*dto.MetricFamily{tfGauge("a_metric", 1), tfGauge("clash_total", 2), tfGauge("z_metric", 3)}
	s := &Scrape{ctx: context.Background(), logger: log.NewNopLogger(), collectors: map[string]Collector{"f": familyStub(fams)}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s, prometheus.NewCounter(prometheus.CounterOpts{Name: "clash_total", Help: "Ours."}))
	mfs, err := s.Gatherer(reg).Gather()
	if err == nil || !strings.Contains(err.Error(), "clash_total") {
		t.Errorf("clash not reported: %v", err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := "a_metric clash_total heartbeat_scrape_collector_duration_seconds heartbeat_scrape_collector_success z_metric"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("families = %s\nwant       %s", got, want)
	}
	for _, mf := range mfs {
		if mf.GetName() == "clash_total" && mf.GetHelp() != "Ours." {
			t.Errorf("the handed-over clash_total replaced ours")
		}
	}
}

type familyStub []*dto.MetricFamily

func (f familyStub) Update(context.Context, chan<- prometheus.Metric) error { return nil }
func (f familyStub) UpdateFamilies(context.Context, chan<- prometheus.Metric) ([]*dto.MetricFamily, error) {
	return f, nil
}

func tfGauge(name string, v float64) *dto.MetricFamily {
	help, typ := "Stub.", dto.MetricType_GAUGE
	return &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: &v}}}}
}

// Errors are logged once per change per file: a file that stays bad is
// not logged again, a new problem is, and so is the recovery.
func TestTextfileLogsOncePerChange(t *testing.T) {
	dir := t.TempDir()
	tfWrite(t, filepath.Join(dir, "a.prom"), "bad{ 1\n")
	tfWrite(t, filepath.Join(dir, "b.prom"), "good 1\n")
	c, logs := newTextfileTest(t, "/", []string{dir}, 0, nil)

	scrape := func() string {
		logs.Reset()
		tfScrape(t, c)
		return logs.String()
	}
	if l := scrape(); strings.Count(l, "level=error") != 1 || !strings.Contains(l, "a.prom") {
		t.Errorf("first scrape logged:\n%s", l)
	}
	if l := scrape(); l != "" {
		t.Errorf("unchanged bad file logged again:\n%s", l)
	}
	tfWrite(t, filepath.Join(dir, "a.prom"), "still bad 1 2 3\n")
	if l := scrape(); strings.Count(l, "level=error") != 1 {
		t.Errorf("changed error not logged once:\n%s", l)
	}
	tfWrite(t, filepath.Join(dir, "a.prom"), "fixed 1\n")
	if l := scrape(); !strings.Contains(l, "served again") || strings.Contains(l, "level=error") {
		t.Errorf("recovery logged:\n%s", l)
	}
	if l := scrape(); l != "" {
		t.Errorf("good files logged:\n%s", l)
	}
}

func tfWrite(t testing.TB, path, content string) {
	t.Helper()
	// Atomically, as the README tells writers to.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// The whole /metrics path with a textfile directory: the families are
// served in name order between the others, in every negotiated format.
func TestTextfileScrapeFormats(t *testing.T) {
	c, _ := newTextfileTest(t, tfFixtures, []string{"/metric_types"}, 0, nil)
	s := &Scrape{ctx: context.Background(), logger: log.NewNopLogger(), collectors: map[string]Collector{"textfile": c}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	mfs, err := s.Gatherer(reg).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []expfmt.Format{
		expfmt.NewFormat(expfmt.TypeProtoDelim),
		expfmt.NewFormat(expfmt.TypeOpenMetrics),
		expfmt.NewFormat(expfmt.TypeTextPlain),
	} {
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
		if cl, ok := enc.(expfmt.Closer); ok {
			_ = cl.Close()
		}
		dec := expfmt.NewDecoder(&buf, format)
		if format.FormatType() == expfmt.TypeOpenMetrics {
			if !strings.Contains(buf.String(), "message_size_bytes_bucket{le=\"65536.0\"} 70") {
				t.Errorf("OpenMetrics output lacks the histogram:\n%s", buf.String())
			}
			continue
		}
		n := 0
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				break
			}
			n++
		}
		if n != len(mfs) {
			t.Errorf("%s: decoded %d families, want %d", format, n, len(mfs))
		}
	}
}

// A reload with the same folders and limits keeps the parsed files (no
// file is parsed again); a changed limit starts afresh.
func TestTextfileCacheKeptAcrossReload(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.prom", i)), []byte(fmt.Sprintf("m%d 1\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deps := func(maxSeries int) Deps {
		return Deps{Logger: log.NewNopLogger(), Paths: Paths{Root: "/"}, Reserved: map[string]bool{"go_goroutines": true},
			Config: &config.Config{Textfile: config.TextfileConfig{Directories: []string{dir}, MaxSeries: maxSeries}}}
	}
	factory := registry["textfile"].factory // as NewSet calls it on reload
	first, err := factory(deps(100), nil)
	if err != nil {
		t.Fatal(err)
	}
	tfScrape(t, first)
	parses := first.(*textfileCollector).cache.Stats().Parses
	if parses != 3 {
		t.Fatalf("first scrape parsed %d files", parses)
	}
	second, err := factory(deps(100), first)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := tfScrape(t, second)
	if got := second.(*textfileCollector).cache.Stats().Parses; got != 3 {
		t.Errorf("after a reload with the same config: %d parses, want still 3", got)
	}
	if !strings.Contains(out, "m2 1") {
		t.Errorf("kept cache serves nothing:\n%s", out)
	}
	third, err := factory(deps(2), second)
	if err != nil {
		t.Fatal(err)
	}
	tfScrape(t, third)
	if got := third.(*textfileCollector).cache.Stats().Parses; got != 3 {
		t.Errorf("a changed max_series: %d parses in the new cache, want 3", got)
	}
	if third.(*textfileCollector).cache == second.(*textfileCollector).cache {
		t.Error("a changed max_series kept the old cache")
	}
}
