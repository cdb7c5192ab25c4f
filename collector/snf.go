package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/snfxml"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/tail"
)

func init() {
	registerKeeping("snf", true, newSNFCollector)
}

// snfCollector reads MessageSniffer status snapshots at scrape time. Only
// the bytes appended since the last scrape are read (an unchanged file
// costs one stat), so there is no background reader to stop; a
// snapshot's per-period counts are added to counters the collector keeps
// across scrapes.
//
// Counting is exact for appended files (append='yes', SNF's rotated
// <licenseid>.status.minute.<date>.log.xml): every snapshot is read once.
// A file rewritten every period (append='no') only yields the snapshots
// present when a scrape looks, so scrape at least as often as SNF's period
// or use appended files.
type snfCollector struct {
	*snfState
	prev *snfState // a changed config's predecessor, until TakeOver
}

// snfState is what the collector counts with. It outlives the collector
// across a reload: the same configuration keeps the very same state (the
// counters go on, no file is read again); a changed one takes the
// counters and the marks of what was counted over (TakeOver), so nothing
// is counted twice and no counter goes down. The marks are also saved
// under --state.dir, for the next run of the exporter.
type snfState struct {
	root    string
	cfg     []config.SNFSource
	store   *tail.StateStore // nil: marks in memory only
	logger  log.Logger
	sources []*snfSource

	mu      sync.Mutex // the state below is shared by concurrent scrapes
	retired bool       // taken over: serves its last counts, reads no more
	seen    *snfIDSet
	nodes   map[string]*snfNode
	snaps   map[string]float64 // counted, duplicate, bad
	files   bool               // some configured file has existed
	read    int64              // bytes read from the files so far (benchmarks)
	extra   string             // a node refused for being one too many, this scrape
	marks   snfMarks
}

type snfSource struct {
	cfg     config.SNFSource
	follow  *snfxml.Follower
	started bool // the first scan is done
}

// snfHistoryAge: at the first scan, files last written this long before
// the newest match are history (old date-rotated files) and are followed
// from their end, so that a folder of months of status files does not
// make the first scrape read them all.
const snfHistoryAge = time.Hour

// snfNode is what one SNF node (licence id) has reported.
type snfNode struct {
	events   map[string]float64 // readable event name -> count
	verdicts map[string]float64
	results  map[int64]float64
	rules    *snfRuleTop      // nil while no source with rule_histogram_top > 0 fed it
	latest   *snfxml.Snapshot // newest by basetime: the gauges
}

// snfMaxNodes bounds the nodes kept (a file full of invented node ids
// must not grow the state without end).
const snfMaxNodes = 64

// snfSeenIDs is how many snapshot ids are remembered to recognise one
// read again (a rewritten file, or two globs matching one file): more
// than a day of minute snapshots.
const snfSeenIDs = 8192

func newSNFCollector(d Deps, prev *snfCollector) (Collector, error) {
	root := d.rootfs()
	var cfg []config.SNFSource
	if d.Config != nil {
		cfg = d.Config.SNF
	}
	var store *tail.StateStore
	if len(cfg) > 0 {
		store = openStateStore(d.Logger, d.Paths.State)
	}
	if prev != nil && reflect.DeepEqual(prev.cfg, cfg) && reflect.DeepEqual(prev.store, store) && prev.root == root {
		return &snfCollector{snfState: prev.snfState}, nil
	}
	st := &snfState{root: root, cfg: cfg, store: store, logger: d.Logger,
		seen: newSNFIDSet(snfSeenIDs), nodes: map[string]*snfNode{}, snaps: map[string]float64{}}
	for _, s := range cfg {
		st.sources = append(st.sources, &snfSource{cfg: s, follow: snfxml.NewFollower(int(s.MaxSnapshotBytes))})
	}
	if prev != nil {
		return &snfCollector{snfState: st, prev: prev.snfState}, nil
	}
	if store != nil {
		marks, err := loadSNFMarks(store.Dir, root)
		if err != nil {
			_ = level.Warn(d.Logger).Log("msg", "saved SNF marks unreadable; snapshots still in their files will be counted again", "err", err)
		}
		st.marks = marks.inherit()
	}
	return &snfCollector{snfState: st}, nil
}

// TakeOver retires a changed config's predecessor (it serves its last
// counts until the swap, reads no more) and goes on from its counters and
// marks.
func (c *snfCollector) TakeOver() {
	old := c.prev
	if old == nil {
		return
	}
	c.prev = nil
	old.mu.Lock()
	defer old.mu.Unlock()
	old.retired = true
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marks = old.marks.inherit()
	c.snaps = maps.Clone(old.snaps)
	for id, n := range old.nodes {
		c.nodes[id] = n.clone()
	}
}

// clone copies a node's counters, for a successor to go on from.
func (n *snfNode) clone() *snfNode {
	out := &snfNode{events: maps.Clone(n.events), verdicts: maps.Clone(n.verdicts),
		results: maps.Clone(n.results), latest: n.latest}
	if r := n.rules; r != nil {
		out.rules = &snfRuleTop{n: r.n, totals: maps.Clone(r.totals), fresh: maps.Clone(r.fresh),
			members: maps.Clone(r.members), other: r.other}
	}
	return out
}

// Update reads what is new in every configured file, then reports. A bad
// file (unreadable, a bad snapshot) makes it return an error naming it,
// while everything good is counted and reported.
func (c *snfCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retired {
		if !c.files && len(c.nodes) == 0 {
			return ErrNoData
		}
		c.emit(ch)
		return nil
	}
	var errs []error
	c.extra = ""
	for _, src := range c.sources {
		errs = append(errs, c.readSource(ctx, src)...)
	}
	if c.extra != "" {
		errs = append(errs, fmt.Errorf("more than %d SNF nodes: snapshots of node %q and later ones ignored", snfMaxNodes, c.extra))
	}
	c.saveMarks()
	if !c.files && len(c.nodes) == 0 {
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		return ErrNoData
	}
	c.emit(ch)
	return errors.Join(errs...)
}

// readSource expands the source's glob under the root and reads each
// file. When the scrape runs out of time, reading stops after the current
// snapshot and goes on at the next scrape.
func (c *snfCollector) readSource(ctx context.Context, src *snfSource) []error {
	matches, err := filepath.Glob(filepath.Join(c.root, src.cfg.Path))
	if err != nil { // refused by config validation; kept for safety
		return []error{fmt.Errorf("snf path %q: %w", src.cfg.Path, err)}
	}
	sort.Strings(matches) // date-stamped names: oldest first
	var errs []error
	if !src.started {
		src.started = true
		errs = skipHistory(src.follow, matches, c.marks.oldest())
	}
	keep := map[string]bool{}
	for _, m := range matches {
		keep[m] = true
	}
	src.follow.Retain(keep)
	for _, m := range matches {
		stats, err := src.follow.Read(m, func(s *snfxml.Snapshot) bool {
			c.record(src, s)
			return ctx.Err() == nil
		})
		c.snaps["bad"] += float64(stats.Bad)
		c.read += stats.BytesRead
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w (the rest is read at the next scrape)", m, ctx.Err()))
			break
		}
	}
	if src.follow.Files() > 0 {
		c.files = true
	}
	return errs
}

// skipHistory follows the files written long before the newest one
// from their end (see snfHistoryAge). When an earlier run's marks are
// known (counted is their oldest), only files last written before it are
// history: they hold nothing that was not counted, while the files
// written since, even rotated ones, are read and only what is newer than
// the marks counted.
func skipHistory(f *snfxml.Follower, matches []string, counted time.Time) []error {
	mtimes := make([]time.Time, len(matches))
	var newest time.Time
	for i, m := range matches {
		if st, err := os.Stat(m); err == nil {
			mtimes[i] = st.ModTime()
			if mtimes[i].After(newest) {
				newest = mtimes[i]
			}
		}
	}
	cutoff := newest.Add(-snfHistoryAge)
	if !counted.IsZero() {
		cutoff = counted
	}
	var errs []error
	for i, m := range matches {
		if !mtimes[i].IsZero() && mtimes[i].Before(cutoff) {
			if err := f.SkipToEnd(m); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// snfEvents names SNF's event letters (counters and rates), in SNF's order.
var snfEvents = []struct{ letter, name string }{
	{"m", "messages"}, {"s", "spam"}, {"h", "ham"}, {"w", "white"}, {"c", "caution"},
	{"b", "black"}, {"t", "truncate"}, {"a", "auto_panic"}, {"r", "rule_panic"},
}

// record adds a snapshot's per-period counts, once per snapshot id, and
// keeps the newest snapshot of its node for the gauges.
func (c *snfCollector) record(src *snfSource, s *snfxml.Snapshot) {
	if !c.seen.add(s.ID()) || c.marks.countedBefore(s) {
		c.snaps["duplicate"]++
		return
	}
	n := c.node(s.NodeID)
	if n == nil {
		c.snaps["bad"]++
		if c.extra == "" {
			c.extra = s.NodeID
		}
		return
	}
	c.snaps["counted"]++
	c.marks.add(s)
	for _, e := range snfEvents {
		n.events[e.name] += float64(s.Counters[e.letter])
	}
	m, spam, ham := s.Counters["m"], s.Counters["s"], s.Counters["h"]
	n.verdicts["spam"] += float64(spam)
	n.verdicts["ham"] += float64(ham)
	if m > spam+ham {
		n.verdicts["other"] += float64(m - spam - ham)
	}
	for _, g := range s.Results.Groups {
		n.results[g.Key] += float64(g.Count)
	}
	if top := src.cfg.RuleHistogramTop; top > 0 && s.Rules != nil {
		if n.rules == nil {
			n.rules = newSNFRuleTop(top)
		}
		n.rules.add(s.Rules.Histogram.Groups)
	}
	if n.latest == nil || !s.BaseTime.Before(n.latest.BaseTime) {
		n.latest = s
	}
}

func (c *snfCollector) node(id string) *snfNode {
	if n, ok := c.nodes[id]; ok {
		return n
	}
	if len(c.nodes) >= snfMaxNodes {
		return nil
	}
	n := &snfNode{events: map[string]float64{}, verdicts: map[string]float64{}, results: map[int64]float64{}}
	c.nodes[id] = n
	return n
}

// snfIDSet remembers the last max ids added.
type snfIDSet struct {
	max   int
	ids   map[string]bool
	order []string // ring buffer of ids in insertion order
	next  int
}

func newSNFIDSet(max int) *snfIDSet { return &snfIDSet{max: max, ids: map[string]bool{}} }

// add returns false when id is already in the set.
func (s *snfIDSet) add(id string) bool {
	if s.ids[id] {
		return false
	}
	if len(s.order) < s.max {
		s.order = append(s.order, id)
	} else {
		delete(s.ids, s.order[s.next])
		s.order[s.next] = id
		s.next = (s.next + 1) % s.max
	}
	s.ids[id] = true
	return true
}

// snfRuleTop keeps rule hit counters for the busiest rules only. After each
// read the n rules with most hits so far become the members; a member's
// series is its total hits. The hits read for the other rules are added
// to rule="other" at that time, so "other" only grows, and every hit is
// in exactly one series when it is first reported.
type snfRuleTop struct {
	n       int
	totals  map[int64]uint64 // hits per tracked rule (bounded, see rebalance)
	fresh   map[int64]uint64 // hits read since the last rebalance
	members map[int64]bool
	other   uint64
}

func newSNFRuleTop(n int) *snfRuleTop {
	return &snfRuleTop{n: n, totals: map[int64]uint64{}, fresh: map[int64]uint64{}, members: map[int64]bool{}}
}

func (r *snfRuleTop) add(groups []snfxml.Group) {
	for _, g := range groups {
		r.totals[g.Key] += g.Count
		r.fresh[g.Key] += g.Count
	}
}

// rebalance picks the members, files the fresh hits of the others under
// "other", and forgets the least-hit rules once far more are tracked than
// shown.
func (r *snfRuleTop) rebalance() {
	if len(r.fresh) == 0 {
		return
	}
	keys := make([]int64, 0, len(r.totals))
	for k := range r.totals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r.totals[keys[i]] != r.totals[keys[j]] {
			return r.totals[keys[i]] > r.totals[keys[j]]
		}
		return keys[i] < keys[j]
	})
	r.members = map[int64]bool{}
	for _, k := range keys[:min(r.n, len(keys))] {
		r.members[k] = true
	}
	for k, c := range r.fresh {
		if !r.members[k] {
			r.other += c
		}
	}
	clear(r.fresh)
	if limit := 10*r.n + 1000; len(keys) > limit {
		for _, k := range keys[limit/2:] {
			delete(r.totals, k)
		}
	}
}
