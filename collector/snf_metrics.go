package collector

import (
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/snfxml"
)

func snfDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "snf", name), help, labels, nil)
}

var (
	snfEventsDesc = snfDesc("events_total",
		"SNF events counted from its status snapshots.", "node", "event")
	snfResultsDesc = snfDesc("results_total",
		"SNF scan result codes from its status snapshots.", "node", "code")
	snfRuleHitsDesc = snfDesc("rule_hits_total",
		"SNF rule hits of the top rules (rule=\"other\": the rest).", "node", "rule")
	snfRateDesc = snfDesc("event_rate",
		"SNF's own estimate of events per window.", "node", "event", "window")
	snfTimerDesc = snfDesc("timer_timestamp_seconds",
		"When SNF's maintenance timers last fired, in Unix time.", "node", "timer")
	snfSnapshotsDesc = snfDesc("snapshots_total",
		"SNF status snapshots read, by result.", "result")
)

// snfGauge is one per-node gauge taken from the node's latest snapshot;
// ok is false when the snapshot lacks the element.
type snfGauge struct {
	desc  *prometheus.Desc
	value func(s *snfxml.Snapshot) (v float64, ok bool)
}

func snfTimestamp(t time.Time) (float64, bool) {
	return float64(t.Unix()), !t.IsZero()
}

func snfRulesTime(pick func(*snfxml.Rules) time.Time) func(*snfxml.Snapshot) (float64, bool) {
	return func(s *snfxml.Snapshot) (float64, bool) {
		if s.Rules == nil {
			return 0, false
		}
		return snfTimestamp(pick(s.Rules))
	}
}

func snfGBUdb(pick func(*snfxml.GBUdb) float64) func(*snfxml.Snapshot) (float64, bool) {
	return func(s *snfxml.Snapshot) (float64, bool) {
		if s.GBUdb == nil {
			return 0, false
		}
		return pick(s.GBUdb), true
	}
}

var snfGauges = []snfGauge{
	{snfDesc("gbudb_size_bytes", "RAM used for GBUdb records, in bytes.", "node"),
		snfGBUdb(func(g *snfxml.GBUdb) float64 { return float64(g.SizeBytes) })},
	{snfDesc("gbudb_records", "Active IP records in the GBUdb.", "node"),
		snfGBUdb(func(g *snfxml.GBUdb) float64 { return float64(g.Records) })},
	{snfDesc("gbudb_utilization_ratio", "Share of the allocated GBUdb records in use (0..1).", "node"),
		snfGBUdb(func(g *snfxml.GBUdb) float64 { return snfPercentToRatio(g.UtilizationPercent) })},
	{snfDesc("rulebase_timestamp_seconds", "Timestamp of the rulebase file, in Unix time.", "node"),
		snfRulesTime(func(r *snfxml.Rules) time.Time { return r.Rulebase })},
	{snfDesc("rulebase_active_timestamp_seconds", "Timestamp of the active rulebase, in Unix time.", "node"),
		snfRulesTime(func(r *snfxml.Rules) time.Time { return r.Active })},
	{snfDesc("rulebase_update_timestamp_seconds", "Timestamp of the rulebase on SNF's server, in Unix time.", "node"),
		snfRulesTime(func(r *snfxml.Rules) time.Time { return r.Update })},
	{snfDesc("rulebase_update_ready", "1 if SNF's server has a newer rulebase than the active one.", "node"),
		func(s *snfxml.Snapshot) (float64, bool) {
			if s.Rules == nil {
				return 0, false
			}
			return snfBool(s.Rules.UpdateReady), true
		}},
	{snfDesc("latest_rule_id", "Highest matching rule ID SNF has seen.", "node"),
		func(s *snfxml.Snapshot) (float64, bool) {
			if s.Rules == nil {
				return 0, false
			}
			return float64(s.Rules.LatestRule), s.Rules.LatestRule > 0
		}},
	{snfDesc("snapshot_basetime_timestamp_seconds", "Start of the latest snapshot's period, in Unix time.", "node"),
		func(s *snfxml.Snapshot) (float64, bool) { return snfTimestamp(s.BaseTime) }},
	{snfDesc("snapshot_elapsed_seconds", "Length of the latest snapshot's period, in seconds.", "node"),
		func(s *snfxml.Snapshot) (float64, bool) { return s.Elapsed.Seconds(), true }},
}

// snfPercentToRatio divides by 100 by moving the decimal point, so 98.2742
// becomes 0.982742 and not 0.9827419999999999.
func snfPercentToRatio(p float64) float64 {
	if r, err := strconv.ParseFloat(strconv.FormatFloat(p, 'f', -1, 64)+"e-2", 64); err == nil {
		return r
	}
	return p / 100
}

func snfBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var snfWindows = []struct {
	name string
	pick func(snfxml.Rates) float64
}{
	{"second", func(r snfxml.Rates) float64 { return r.PerSecond }},
	{"minute", func(r snfxml.Rates) float64 { return r.PerMinute }},
	{"hour", func(r snfxml.Rates) float64 { return r.PerHour }},
	{"day", func(r snfxml.Rates) float64 { return r.PerDay }},
}

// emit sends every metric of the state.
func (c *snfCollector) emit(ch chan<- prometheus.Metric) {
	for _, result := range []string{"counted", "duplicate", "bad"} {
		sendCounter(ch, snfSnapshotsDesc, c.snaps[result], result)
	}
	verdicts := map[string]float64{}
	for id, n := range c.nodes {
		for v, count := range n.verdicts {
			verdicts[v] += count
		}
		c.emitNode(ch, id, n)
		c.emitModule(ch, id, n.latest)
	}
	if len(c.nodes) > 0 {
		for _, v := range []string{"spam", "ham", "other"} {
			sendCounter(ch, messagesDesc, verdicts[v], "snf", v)
		}
	}
}

func (c *snfCollector) emitNode(ch chan<- prometheus.Metric, id string, n *snfNode) {
	for _, e := range snfEvents {
		sendCounter(ch, snfEventsDesc, n.events[e.name], id, e.name)
	}
	for code, count := range n.results {
		sendCounter(ch, snfResultsDesc, count, id, strconv.FormatInt(code, 10))
	}
	if n.rules != nil {
		n.rules.rebalance()
		for rule := range n.rules.members {
			sendCounter(ch, snfRuleHitsDesc, float64(n.rules.totals[rule]), id, strconv.FormatInt(rule, 10))
		}
		sendCounter(ch, snfRuleHitsDesc, float64(n.rules.other), id, "other")
	}
	s := n.latest
	for _, g := range snfGauges {
		if v, ok := g.value(s); ok {
			sendGauge(ch, g.desc, v, id)
		}
	}
	for _, e := range snfEvents {
		rates, ok := s.Rates[e.letter]
		if !ok {
			continue
		}
		for _, w := range snfWindows {
			sendGauge(ch, snfRateDesc, w.pick(rates), id, e.name, w.name)
		}
	}
	seen := map[string]bool{}
	for _, t := range s.Timers {
		if v, ok := snfTimestamp(t.At); ok && !seen[t.Name] {
			seen[t.Name] = true
			sendGauge(ch, snfTimerDesc, v, id, t.Name)
		}
	}
}

var snfVersionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`Version\s+(\S+)`) })

// snfVersion is the "Version X" of an SNF version string, or the whole
// string when it has none.
func snfVersion(s string) string {
	if m := snfVersionRE().FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
}

// emitModule reports SNF's versions like the modules collector reports
// the other engines, so version panels and stale-rules alerts cover SNF.
// With several nodes the module label names the node.
func (c *snfCollector) emitModule(ch chan<- prometheus.Metric, id string, s *snfxml.Snapshot) {
	module := "snf"
	if len(c.nodes) > 1 {
		module = "snf:" + id
	}
	versions := [][2]string{{"engine", snfVersion(s.EngineVersion)}, {"platform", snfVersion(s.PlatformVersion)}}
	if s.Rules != nil && !s.Rules.Rulebase.IsZero() {
		versions = append(versions, [2]string{"rulebase", s.Rules.Rulebase.Format("20060102150405")})
	}
	for _, v := range versions {
		if v[1] != "" {
			sendGauge(ch, moduleInfoDesc, 1, module, "snf", v[0], v[1])
		}
	}
	if s.Rules != nil && !s.Rules.Active.IsZero() {
		sendGauge(ch, moduleLastUpdateDesc, float64(s.Rules.Active.Unix()), module)
	}
}
