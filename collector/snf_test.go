package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

const snfFixtures = "fixtures/snf"

func snfSeed(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../internal/snfxml/testdata/seed_sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snfSnap is a small snapshot of minute min of 2026-01-02 15:00 with
// the given message, spam and ham counts, result code 0 for the spam and
// rule 100+minute hit once.
func snfSnap(node string, min, m, s, h int) string {
	return fmt.Sprintf(`<stats nodeid='%s' basetime='202601021%03d00' elapsed='60000' class='minute'>
<counters><m c='%d'/><s c='%d'/><h c='%d'/></counters>
<results><histogram hits='%d'><g k='0' c='%d'/></histogram></results>
<rules><rulebase utc='20260102140000'/><active utc='20260102140000'/><update ready='no' utc='20260102140000'/>
<latest rule='%d'/><histogram hits='1'><g k='%d' c='1'/></histogram></rules>
</stats>
`, node, 500+min, m, s, h, s, s, 100+min, 100+min)
}

// snfTest is a collector on a temporary root with the given sources.
type snfTest struct {
	root  string
	state string // --state.dir ("": none)
	c     Collector
}

func newSNFTest(t testing.TB, srcs ...config.SNFSource) *snfTest {
	t.Helper()
	return newSNFTestState(t, "", srcs...)
}

// newSNFTestState is newSNFTest with --state.dir set to state.
func newSNFTestState(t testing.TB, state string, srcs ...config.SNFSource) *snfTest {
	t.Helper()
	root := t.TempDir()
	c, err := newSNFCollector(Deps{Logger: log.NewNopLogger(), Config: &config.Config{SNF: srcs}, Paths: Paths{Root: root, State: state}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &snfTest{root: root, state: state, c: c}
}

// write puts content at a host path under the root (append: added to the
// end of the file, not replacing it).
func (st *snfTest) write(t testing.TB, hostPath, content string, appendTo bool) {
	t.Helper()
	p := filepath.Join(st.root, hostPath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(p, flags, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func (st *snfTest) scrape(t testing.TB) string {
	t.Helper()
	text, mfs := scrapeNamed(t, map[string]Collector{"snf": st.c})
	checkValid(t, text, mfs)
	return text
}

// snfValue returns the sample of series (name{labels} as printed) in text,
// failing when absent.
func snfValue(t testing.TB, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no series %s in\n%s", series, text)
	return 0
}

// expect scrapes and checks the given series.
func (st *snfTest) expect(t testing.TB, want map[string]float64) string {
	t.Helper()
	text := st.scrape(t)
	snfExpectValues(t, text, want)
	return text
}

// touch sets a file's mtime, so a rewrite is seen whatever the clock's
// resolution.
func (st *snfTest) touch(t testing.TB, hostPath string, when time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(st.root, hostPath), when, when); err != nil {
		t.Fatal(err)
	}
}

func snfExpectValues(t testing.TB, text string, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		if got := snfValue(t, text, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
}

const snfSuccess = `heartbeat_scrape_collector_success{collector="snf"}`

// TestSNFSeedGolden: the documentation's sample, every figure, as metrics.
func TestSNFSeedGolden(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/var/spool/snfilter/*.status.minute*.log.xml", RuleHistogramTop: 3})
	st.write(t, "/var/spool/snfilter/xxxxxxxx.status.minute.log.xml", snfSeed(t), false)
	got := st.scrape(t)
	tfGolden(t, filepath.Join(snfFixtures, "seed.out"), got)

	// Scraped again, unchanged: the same counters, nothing counted twice,
	// not a byte read.
	read := st.c.(*snfCollector).read
	if again := st.scrape(t); again != got {
		t.Errorf("second scrape differs:\n%s", again)
	}
	if extra := st.c.(*snfCollector).read - read; extra != 0 {
		t.Errorf("unchanged file: %d bytes read again", extra)
	}
}

// An appended file read in three increments, the last one ending in the
// middle of a snapshot: exact counters, nothing counted twice.
func TestSNFAppendedIncrements(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/log/*.status.minute.*.log.xml"})
	const file = "/log/n1.status.minute.20260102.log.xml"
	st.write(t, file, "<?xml version='1.0'?>\n"+snfSnap("n1", 1, 10, 7, 3)+snfSnap("n1", 2, 20, 15, 4), false)
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`:       30,
		`heartbeat_snf_events_total{event="spam",node="n1"}`:           22,
		`heartbeat_messages_total{source="snf",verdict="ham"}`:         7,
		`heartbeat_messages_total{source="snf",verdict="other"}`:       1,
		`heartbeat_snf_results_total{code="0",node="n1"}`:              22,
		`heartbeat_snf_snapshots_total{result="counted"}`:              2,
		`heartbeat_snf_snapshot_basetime_timestamp_seconds{node="n1"}`: float64(time.Date(2026, 1, 2, 15, 2, 0, 0, time.UTC).Unix()),
		snfSuccess: 1,
	})

	third := snfSnap("n1", 3, 100, 100, 0)
	st.write(t, file, snfSnap("n1", 4, 5, 0, 5)+third[:len(third)/2], true)
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 35,
		`heartbeat_snf_events_total{event="ham",node="n1"}`:      12,
		`heartbeat_snf_snapshots_total{result="counted"}`:        3,
		snfSuccess: 1, // a snapshot being written is not an error
	})

	st.write(t, file, third[len(third)/2:]+snfSnap("n1", 5, 1, 1, 0), true)
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 136,
		`heartbeat_snf_events_total{event="spam",node="n1"}`:     123,
		`heartbeat_messages_total{source="snf",verdict="spam"}`:  123,
		`heartbeat_snf_results_total{code="0",node="n1"}`:        123,
		`heartbeat_snf_snapshots_total{result="counted"}`:        5,
		`heartbeat_snf_snapshots_total{result="duplicate"}`:      0,
		snfSuccess: 1,
	})
}

// A single-snapshot file rewritten with the same snapshot, and the same
// snapshot in a second file: counted once. Rewritten with a new one
// (same size, new basetime): counted.
func TestSNFSameSnapshotCountedOnce(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/snf/*.xml"})
	st.write(t, "/snf/a.xml", snfSnap("n1", 1, 10, 10, 0), false)
	st.scrape(t)
	// the same snapshot, rewritten behind a declaration: the file's head
	// changed, it is read again from the start
	st.write(t, "/snf/a.xml", "<?xml version='1.0'?>\n"+snfSnap("n1", 1, 10, 10, 0), false)
	future := time.Now().Add(time.Hour)
	st.touch(t, "/snf/a.xml", future)
	st.write(t, "/snf/b.xml", snfSnap("n1", 1, 10, 10, 0), false)
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 10,
		`heartbeat_snf_snapshots_total{result="counted"}`:        1,
		`heartbeat_snf_snapshots_total{result="duplicate"}`:      2,
	})

	st.write(t, "/snf/a.xml", "<?xml version='1.0'?>\n"+snfSnap("n1", 2, 10, 10, 0), false) // same size, rewritten in place
	st.touch(t, "/snf/a.xml", future.Add(time.Hour))
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 20,
		`heartbeat_snf_snapshots_total{result="counted"}`:        2,
	})
}

func TestSNFRulesbaseSpelling(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/snf/status.xml"})
	doc := strings.Replace(snfSeed(t), "<rulebase utc='20080602033628'/>", "<rulesbase utc='20080602033000'/>", 1)
	st.write(t, "/snf/status.xml", doc, false)
	st.expect(t, map[string]float64{
		`heartbeat_snf_rulebase_timestamp_seconds{node="xxxxxxxx"}`:                                     float64(time.Date(2008, 6, 2, 3, 30, 0, 0, time.UTC).Unix()),
		`heartbeat_module_info{database="rulebase",engine="snf",module="snf",version="20080602033000"}`: 1,
	})
}

// Date-rotated files: a new day's file is read from its start, the old
// one's counts stay in the counters after it is removed, and its state is
// dropped.
func TestSNFRotationByDate(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/log/*.status.minute.*.log.xml"})
	st.write(t, "/log/n1.status.minute.20260102.log.xml", snfSnap("n1", 1, 10, 10, 0)+snfSnap("n1", 2, 10, 10, 0), false)
	st.scrape(t)
	st.write(t, "/log/n1.status.minute.20260102.log.xml", snfSnap("n1", 3, 1, 1, 0), true)
	st.write(t, "/log/n1.status.minute.20260103.log.xml", snfSnap("n1", 4, 2, 2, 0), false)
	st.scrape(t)
	if err := os.Remove(filepath.Join(st.root, "/log/n1.status.minute.20260102.log.xml")); err != nil {
		t.Fatal(err)
	}
	st.write(t, "/log/n1.status.minute.20260103.log.xml", snfSnap("n1", 5, 4, 4, 0), true)
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 27,
		`heartbeat_snf_snapshots_total{result="counted"}`:        5,
		snfSuccess: 1,
	})
	if n := st.c.(*snfCollector).sources[0].follow.Files(); n != 1 {
		t.Errorf("state kept for %d files, want 1 (the rotated file dropped)", n)
	}
}

// At the first scan, date-rotated files written long before the newest
// are history: followed from their end, not counted.
func TestSNFHistoryNotCountedAtStart(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/log/*.status.minute.*.log.xml"})
	st.write(t, "/log/n1.status.minute.20251230.log.xml", snfSnap("n1", 1, 100, 100, 0), false)
	st.write(t, "/log/n1.status.minute.20251231.log.xml", snfSnap("n1", 2, 100, 100, 0), false)
	st.write(t, "/log/n2.status.minute.20260102.log.xml", snfSnap("n2", 3, 5, 5, 0), false)
	st.write(t, "/log/n1.status.minute.20260102.log.xml", snfSnap("n1", 3, 7, 7, 0), false)
	now := time.Now()
	st.touch(t, "/log/n1.status.minute.20251230.log.xml", now.Add(-72*time.Hour))
	st.touch(t, "/log/n1.status.minute.20251231.log.xml", now.Add(-48*time.Hour))
	st.touch(t, "/log/n2.status.minute.20260102.log.xml", now.Add(-time.Minute)) // another node's current file
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 7,
		`heartbeat_snf_events_total{event="messages",node="n2"}`: 5,
		`heartbeat_snf_snapshots_total{result="counted"}`:        2,
	})
	st.write(t, "/log/n1.status.minute.20251231.log.xml", snfSnap("n1", 4, 1, 1, 0), true) // late append: counted
	st.expect(t, map[string]float64{
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 8,
		`heartbeat_snf_snapshots_total{result="counted"}`:        3,
		snfSuccess: 1,
	})
}

// The rule histogram: top N rules by hits, the rest as rule="other".
func TestSNFRuleHistogramTop(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/snf/status.xml", RuleHistogramTop: 2})
	st.write(t, "/snf/status.xml", snfSeed(t), false)
	text := st.expect(t, map[string]float64{
		`heartbeat_snf_rule_hits_total{node="xxxxxxxx",rule="73990"}`:   14,
		`heartbeat_snf_rule_hits_total{node="xxxxxxxx",rule="1911756"}`: 9,
		`heartbeat_snf_rule_hits_total{node="xxxxxxxx",rule="other"}`:   17, // 40 hits, 23 of them by the top 2
	})
	if n := strings.Count(text, "heartbeat_snf_rule_hits_total{"); n != 3 {
		t.Errorf("%d rule series, want 3 (top 2 and other)", n)
	}
}

// snfOtherCollector stands for the other collectors of a scrape.
type snfOtherCollector struct{}

func (snfOtherCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("heartbeat_other", "Another collector.", nil, nil), prometheus.GaugeValue, 1)
	return nil
}

// Bad input: the collector fails alone (success 0), does not panic, the
// good snapshots beside the bad one are counted and the other collector
// is served.
func TestSNFBadInput(t *testing.T) {
	seed := snfSeed(t)
	bomb := "<!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]>\n<stats nodeid='&b;' basetime='20260102150900'/>\n"
	cases := map[string]struct {
		doc string
		bad float64 // snapshots refused
	}{
		"malformed": {strings.Replace(seed, "</gbudb>", "</gbdb>", 1), 1},
		"bomb":      {bomb, 2}, // the DOCTYPE, then the snapshot using an undeclared entity
		"huge":      {"<stats nodeid='n1' basetime='20260102150900'>" + strings.Repeat("<g k='1' c='1'/>", 200) + "</stats>\n", 1},
		"latin-1":   {"<stats nodeid='caf\xe9' basetime='20260102150900'/>\n", 1},
		"bad count": {strings.Replace(snfSnap("n1", 9, 1, 1, 0), "<m c='1'/>", "<m c='-1'/>", 1), 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := newSNFTest(t, config.SNFSource{Path: "/snf/*.xml", MaxSnapshotBytes: 2048})
			st.write(t, "/snf/a.xml", snfSnap("n1", 1, 10, 10, 0)+tc.doc+snfSnap("n1", 2, 5, 5, 0), false)
			text, _ := scrapeNamed(t, map[string]Collector{"snf": st.c, "other": snfOtherCollector{}})
			snfExpectValues(t, text, map[string]float64{
				snfSuccess: 0,
				`heartbeat_scrape_collector_success{collector="other"}`: 1,
				"heartbeat_other": 1,
				`heartbeat_snf_events_total{event="messages",node="n1"}`: 15,
				`heartbeat_snf_snapshots_total{result="bad"}`:            tc.bad,
			})
			// The next good snapshot clears the error; the bad one is not reread.
			st.write(t, "/snf/a.xml", snfSnap("n1", 3, 1, 1, 0), true)
			st.expect(t, map[string]float64{
				snfSuccess: 1,
				`heartbeat_snf_events_total{event="messages",node="n1"}`: 16,
				`heartbeat_snf_snapshots_total{result="bad"}`:            tc.bad,
			})
		})
	}
}

// A snapshot cut short is pending while it may be being written; still
// incomplete and unchanged at the next scrape, it is an error.
func TestSNFTruncated(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/snf/status.xml"})
	seed := snfSeed(t)
	st.write(t, "/snf/status.xml", seed[:len(seed)/2], false)
	text := st.scrape(t)
	if !strings.Contains(text, snfSuccess+" 1") || strings.Contains(text, "heartbeat_snf_events_total") {
		t.Errorf("first sight of a partial snapshot: want success 1 and no counts\n%s", text)
	}
	err := st.c.Update(context.Background(), make(chan prometheus.Metric, 1000))
	if err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("unchanged partial snapshot: error %v, want incomplete", err)
	}
	st.write(t, "/snf/status.xml", seed, false)
	st.expect(t, map[string]float64{snfSuccess: 1, `heartbeat_snf_events_total{event="messages",node="xxxxxxxx"}`: 2664})
}

// Nothing configured, or nothing on this host: no metrics, success 1.
func TestSNFAbsentIsQuiet(t *testing.T) {
	for name, srcs := range map[string][]config.SNFSource{
		"absent": {{Path: "/var/spool/snfilter/*.status.minute*.log.xml"}, {Path: "/nope/status.xml"}},
		"none":   nil,
	} {
		st := newSNFTest(t, srcs...)
		text := st.scrape(t)
		if strings.Contains(text, "heartbeat_snf_") || !strings.Contains(text, snfSuccess+" 1") {
			t.Errorf("%s: want only success 1, got\n%s", name, text)
		}
	}
}

// Nodes are capped: a file of invented node ids cannot grow the state
// without end.
func TestSNFNodeCap(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/snf/status.xml"})
	var b strings.Builder
	for i := range snfMaxNodes + 2 {
		b.WriteString(snfSnap(fmt.Sprintf("node%03d", i), 1, 1, 1, 0))
	}
	st.write(t, "/snf/status.xml", b.String(), false)
	text := st.expect(t, map[string]float64{
		snfSuccess: 0,
		`heartbeat_snf_snapshots_total{result="counted"}`:       snfMaxNodes,
		`heartbeat_snf_snapshots_total{result="bad"}`:           2,
		`heartbeat_messages_total{source="snf",verdict="spam"}`: snfMaxNodes,
	})
	if n := strings.Count(text, `heartbeat_snf_events_total{event="messages"`); n != snfMaxNodes {
		t.Errorf("%d nodes reported, want %d", n, snfMaxNodes)
	}
}

// A scrape out of time stops after the snapshot being read; the next one
// goes on from there: nothing lost, nothing counted twice.
func TestSNFScrapeDeadline(t *testing.T) {
	st := newSNFTest(t, config.SNFSource{Path: "/snf/*.xml"})
	st.write(t, "/snf/a.xml", snfSnap("n1", 1, 1, 1, 0)+snfSnap("n1", 2, 2, 2, 0)+snfSnap("n1", 3, 4, 4, 0), false)
	st.write(t, "/snf/b.xml", snfSnap("n1", 4, 8, 8, 0), false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := st.c.Update(ctx, make(chan prometheus.Metric, 1000))
	if err == nil || !strings.Contains(err.Error(), "next scrape") {
		t.Errorf("scrape out of time: error %v", err)
	}
	st.expect(t, map[string]float64{
		snfSuccess: 1,
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 15,
		`heartbeat_snf_snapshots_total{result="counted"}`:        4,
		`heartbeat_snf_snapshots_total{result="duplicate"}`:      0,
	})
}
