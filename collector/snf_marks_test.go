package collector

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// again builds another collector on the same root: the exporter
// restarted (prev nil) or reloaded (prev the running collector; the
// caller calls TakeOver unless the reload is refused).
func (st *snfTest) again(t *testing.T, prev *snfCollector, srcs ...config.SNFSource) *snfTest {
	t.Helper()
	c, err := newSNFCollector(Deps{Logger: log.NewNopLogger(), Config: &config.Config{SNF: srcs}, Paths: Paths{Root: st.root, State: st.state}}, prev)
	if err != nil {
		t.Fatal(err)
	}
	return &snfTest{root: st.root, state: st.state, c: c}
}

const snfDaily = "/log/n1.status.minute.20260102.log.xml"

var snfDailySource = config.SNFSource{Path: "/log/*.status.minute.*.log.xml"}

// A restart with --state.dir counts only the snapshots not counted before,
// including those appended to a file that rotated while it was down (which
// without marks would be history, skipped).
func TestSNFRestartCountsEachSnapshotOnce(t *testing.T) {
	st := newSNFTestState(t, t.TempDir(), snfDailySource)
	st.write(t, snfDaily, snfSnap("n1", 1, 10, 5, 5)+snfSnap("n1", 2, 20, 10, 10)+snfSnap("n1", 3, 30, 15, 15), false)
	st.expect(t, map[string]float64{`heartbeat_snf_snapshots_total{result="counted"}`: 3})

	// while down: one more in the old day's file, then the next day's file
	st.write(t, snfDaily, snfSnap("n1", 4, 1, 1, 0), true)
	st.write(t, "/log/n1.status.minute.20260103.log.xml", snfSnap("n1", 5, 2, 2, 0)+snfSnap("n1", 6, 4, 4, 0), false)
	now := time.Now()
	st.touch(t, snfDaily, now.Add(-3*time.Hour))
	st.touch(t, "/log/n1.status.minute.20260103.log.xml", now)

	next := st.again(t, nil, snfDailySource)
	next.expect(t, map[string]float64{
		`heartbeat_snf_snapshots_total{result="counted"}`:        3,
		`heartbeat_snf_snapshots_total{result="duplicate"}`:      3,
		`heartbeat_snf_events_total{event="messages",node="n1"}`: 7,
		snfSuccess: 1,
	})
}

// Without --state.dir a restart has no marks: the files' snapshots of the
// last hour are counted again (the documented limit), so the test above
// really depends on the saved marks.
func TestSNFRestartWithoutStateDirCountsAgain(t *testing.T) {
	st := newSNFTest(t, snfDailySource)
	st.write(t, snfDaily, snfSnap("n1", 1, 10, 5, 5), false)
	st.scrape(t)
	st.again(t, nil, snfDailySource).expect(t, map[string]float64{`heartbeat_snf_snapshots_total{result="counted"}`: 1})
}

// A reload with the same SNF configuration keeps the state: counters go
// on, nothing is read again. A changed one reads the files again but goes
// on from the old counters and does not count again what they counted
// (the snapshots read again are duplicates), even without --state.dir; a
// refused reload leaves the old state counting.
func TestSNFReload(t *testing.T) {
	changed := snfDailySource
	changed.RuleHistogramTop = 3
	for _, tc := range []struct {
		name string
		next config.SNFSource
		want map[string]float64
	}{
		{"same config", snfDailySource, map[string]float64{
			`heartbeat_snf_snapshots_total{result="counted"}`:        3,
			`heartbeat_snf_snapshots_total{result="duplicate"}`:      0,
			`heartbeat_snf_events_total{event="messages",node="n1"}`: 31,
		}},
		{"changed config", changed, map[string]float64{
			`heartbeat_snf_snapshots_total{result="counted"}`:        3,
			`heartbeat_snf_snapshots_total{result="duplicate"}`:      2,
			`heartbeat_snf_events_total{event="messages",node="n1"}`: 31,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newSNFTest(t, snfDailySource)
			st.write(t, snfDaily, snfSnap("n1", 1, 10, 5, 5)+snfSnap("n1", 2, 20, 10, 10), false)
			st.scrape(t)
			prev := st.c.(*snfCollector)
			st.again(t, prev, tc.next) // refused: no TakeOver
			if prev.retired {
				t.Fatal("a refused reload retired the running state")
			}
			next := st.again(t, prev, tc.next)
			next.c.(Successor).TakeOver()
			if p := next.c.(*snfCollector).prev; p != nil {
				t.Error("the replaced state is still referenced by its successor")
			}
			st.write(t, snfDaily, snfSnap("n1", 3, 1, 1, 0), true)
			next.expect(t, tc.want)
			if tc.next.RuleHistogramTop != 0 { // the old state was retired: it reads no more
				st.expect(t, map[string]float64{`heartbeat_snf_snapshots_total{result="counted"}`: 2})
			}
		})
	}
}

// Bad saved marks are logged and ignored: counting goes on.
func TestSNFMarksFileBad(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()
	if err := os.WriteFile(snfMarksPath(dir, root), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := newSNFCollector(Deps{Logger: log.NewNopLogger(), Config: &config.Config{SNF: []config.SNFSource{snfDailySource}}, Paths: Paths{Root: root, State: dir}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &snfTest{root: root, c: c}
	st.write(t, snfDaily, snfSnap("n1", 1, 10, 5, 5), false)
	st.expect(t, map[string]float64{`heartbeat_snf_snapshots_total{result="counted"}`: 1, snfSuccess: 1})
	if _, err := loadSNFMarks(dir, root); err != nil {
		t.Errorf("marks not rewritten after the next count: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".snf-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
