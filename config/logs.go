package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/units"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/logrules"
)

// LogConfig is one log (or glob of logs) the logs collector tails.
type LogConfig struct {
	// Path of the log, or a glob; each matching file is followed (never a
	// compressed one). Read under --path.rootfs.
	Path string `yaml:"path"`
	// Journal, instead of a path: the systemd journal, read through
	// journalctl (run only for such an entry).
	Journal *LogJournal `yaml:"journal"`
	// Presets by name: amavis, postfix, clamd, spamd, freshclam, errors.
	Presets []string `yaml:"presets"`
	// StartAt is where a file with no saved position starts: end (the
	// default) or beginning. A file that appears later is read from 0.
	StartAt string `yaml:"start_at"`
	// Rules are the operator's own, beside the presets.
	Rules []LogRule `yaml:"rules"`
	// MaxLineBytes: longer lines are counted as truncated and only their
	// head is matched (64KiB by default).
	MaxLineBytes Bytes `yaml:"max_line_bytes"`
	// PollInterval: how often the file is checked for new lines (1s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// RotateGrace: how long a file renamed away by a rotation is still read
	// after it last changed (the daemon writes there until it reopens its
	// log); 5m.
	RotateGrace time.Duration `yaml:"rotate_grace"`
}

// LogJournal says which journal entries a log source follows.
type LogJournal struct {
	// Directory of journal files, under --path.rootfs (another machine's
	// or a container's); empty: the system journal.
	Directory string `yaml:"directory"`
	// Matches are journalctl's: FIELD=VALUE (e.g. _SYSTEMD_UNIT=postfix@-.service,
	// SYSLOG_IDENTIFIER=amavis); several on one field are ORed, on
	// different fields ANDed, and "+" starts an alternative group.
	Matches []string `yaml:"matches"`
}

// Name is the source's log label: its path, or "journal" with the
// directory and matches that tell journal sources apart.
func (l LogConfig) Name() string {
	if l.Journal == nil {
		return l.Path
	}
	name := "journal"
	if l.Journal.Directory != "" {
		name += ":" + l.Journal.Directory
	}
	if len(l.Journal.Matches) > 0 {
		name += " " + strings.Join(l.Journal.Matches, " ")
	}
	return name
}

var journalMatchRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\+|[A-Z0-9_]+=.*)$`) })

// LogRule is an operator's rule.
type LogRule struct {
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
	// Counter is the metric the rule feeds; by default
	// heartbeat_log_rule_matches_total{log,rule=<name>}.
	Counter   string            `yaml:"counter"`
	Labels    map[string]string `yaml:"labels"`
	LabelFrom []LogLabelFrom    `yaml:"label_from"`
	// MaxSeries caps the combinations of the label_from values (default
	// logrules.DefaultMaxSeries); beyond, every captured label is "other".
	MaxSeries int `yaml:"max_series"`
}

// LogLabelFrom turns a capture group into a label with bounded values.
type LogLabelFrom struct {
	Label     string            `yaml:"label"`
	Group     string            `yaml:"group"` // name or number
	Values    []string          `yaml:"values"`
	Map       map[string]string `yaml:"map"`
	MaxValues int               `yaml:"max_values"`
}

// Defaults of a LogConfig.
const (
	LogStartAtEnd          = "end"
	LogStartAtBeginning    = "beginning"
	DefaultLogMaxLineBytes = Bytes(64 * units.KiB)
	DefaultLogPollInterval = time.Second
	// DefaultLogRotateGrace covers, many times over, the seconds between
	// logrotate's rename and the signal that makes the daemon reopen its
	// log, and a daemon never signalled as long as it logs every 5 minutes.
	DefaultLogRotateGrace = 5 * time.Minute
)

// maxRuleSeries is the highest max_series a rule may set.
const maxRuleSeries = 100000

// logsOwnCounters are served by the logs collector itself: no rule may feed them.
var logsOwnCounters = map[string]bool{
	"heartbeat_log_read_bytes_total": true, "heartbeat_log_lines_total": true,
	"heartbeat_log_lines_truncated_total": true,
}

// sharedCounters are the heartbeat_ families rules may feed, with the label
// names every collector uses for them (snf serves heartbeat_messages_total
// too): a rule giving them other labels would make the registry drop the
// whole family at scrape time. Other names under another collector's
// prefix (reservedCounterPrefixes) are refused; a name of the operator's
// own, even heartbeat_smtp_auth_failures_total, is fine.
var sharedCounters = map[string]string{
	logrules.MessagesTotal:      "source,verdict",
	logrules.MTAMessagesTotal:   "source,status",
	logrules.VirusesFoundTotal:  "source",
	logrules.ModuleUpdatesTotal: "result,source",
	logrules.LogErrorsTotal:     "",
	logrules.RuleMatchesTotal:   anyLabels, // the logs collector's own family
}

// anyLabels marks a shared counter whose label names the rules decide.
const anyLabels = "*"

// reservedCounterPrefixes are the families of the other collectors and of
// the exporter itself.
var reservedCounterPrefixes = []string{
	"heartbeat_snf_", "heartbeat_service_", "heartbeat_quarantine_", "heartbeat_core_",
	"heartbeat_module_", "heartbeat_clamd_", "heartbeat_textfile_", "heartbeat_filesystem_",
	"heartbeat_exporter_", "heartbeat_push_", "heartbeat_scrape_", "heartbeat_log_",
}

// reservedCounter says whether a rule may not feed counter.
func reservedCounter(counter string) bool {
	if _, shared := sharedCounters[counter]; shared {
		return false
	}
	return slices.ContainsFunc(reservedCounterPrefixes, func(p string) bool { return strings.HasPrefix(counter, p) })
}

var metricNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*_total$`) })

// logsSection is Config.Logs as a section.
type logsSection []LogConfig

func (ls *logsSection) applyDefaults() {
	for i := range *ls {
		l := &(*ls)[i]
		if l.StartAt == "" {
			l.StartAt = LogStartAtEnd
		}
		if l.MaxLineBytes == 0 {
			l.MaxLineBytes = DefaultLogMaxLineBytes
		}
		if l.PollInterval == 0 {
			l.PollInterval = DefaultLogPollInterval
		}
		if l.RotateGrace == 0 {
			l.RotateGrace = DefaultLogRotateGrace
		}
	}
}

// RuleSet is the log's presets and own rules in the engine's terms.
func (l LogConfig) RuleSet() ([]logrules.Rule, error) {
	var rules []logrules.Rule
	for _, p := range l.Presets {
		r, err := logrules.Preset(p)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r...)
	}
	for _, r := range l.Rules {
		rule := logrules.Rule{Name: r.Name, Regex: r.Regex, Counter: r.Counter, Labels: map[string]string{}}
		for k, v := range r.Labels {
			rule.Labels[k] = v
		}
		if rule.Counter == "" {
			rule.Counter = logrules.RuleMatchesTotal
			rule.Labels["rule"] = r.Name
		}
		for _, lf := range r.LabelFrom {
			rule.LabelFrom = append(rule.LabelFrom, logrules.LabelFrom{
				Label: lf.Label, Group: lf.Group, Values: lf.Values, Map: lf.Map, MaxValues: lf.MaxValues})
		}
		rule.MaxSeries = r.MaxSeries
		rules = append(rules, rule)
	}
	return rules, nil
}

func validateJournal(at string, j LogJournal) []FieldError {
	var errs []FieldError
	if j.Directory != "" {
		if msg := checkAbsPath(j.Directory); msg != "" {
			errs = append(errs, FieldError{Path: at + ".directory", Msg: msg})
		}
	}
	for i, m := range j.Matches {
		if !journalMatchRE().MatchString(m) {
			errs = append(errs, FieldError{Path: fmt.Sprintf("%s.matches[%d]", at, i),
				Msg: fmt.Sprintf("%q is not a journal match: FIELD=VALUE with an upper-case field name, or +", m)})
		}
	}
	return errs
}

// validateLogs checks the logs section; label sets must agree per counter
// across all logs, as one metric has one set of label names.
func (ls *logsSection) validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	labelSets := map[string]string{} // counter -> label names
	for counter, names := range sharedCounters {
		if names != anyLabels {
			labelSets[counter] = names
		}
	}
	paths := map[string]bool{}
	for i, l := range *ls {
		at := fmt.Sprintf("logs[%d]", i)
		if paths[l.Name()] {
			add(at+".path", "%q is listed twice; give one entry all its presets and rules", l.Name())
		}
		paths[l.Name()] = true
		switch {
		case l.Journal != nil && l.Path != "":
			add(at+".journal", "path and journal exclude each other: one source per entry")
		case l.Journal != nil:
			errs = append(errs, validateJournal(at+".journal", *l.Journal)...)
		default:
			if msg := checkAbsPath(l.Path); msg != "" {
				add(at+".path", "%s", msg)
			} else if _, err := filepath.Match(l.Path, ""); err != nil {
				add(at+".path", "bad glob %q: %v", l.Path, err)
			}
		}
		for j, p := range l.Presets {
			if _, err := logrules.Preset(p); err != nil {
				add(fmt.Sprintf("%s.presets[%d]", at, j), "%v", err)
			}
		}
		if l.StartAt != LogStartAtEnd && l.StartAt != LogStartAtBeginning {
			add(at+".start_at", "must be %q or %q, got %q", LogStartAtEnd, LogStartAtBeginning, l.StartAt)
		}
		if l.MaxLineBytes < Bytes(units.KiB) || l.MaxLineBytes > Bytes(16*units.MiB) {
			add(at+".max_line_bytes", "must be between 1KiB and 16MiB")
		}
		if l.PollInterval < 100*time.Millisecond || l.PollInterval > time.Minute {
			add(at+".poll_interval", "must be between 100ms and 1m, got %s", l.PollInterval)
		}
		if l.RotateGrace < time.Second || l.RotateGrace > 24*time.Hour {
			add(at+".rotate_grace", "must be between 1s and 24h, got %s", l.RotateGrace)
		}
		errs = append(errs, validateLogRules(at, l.Rules)...)
		rules, err := l.RuleSet()
		if err != nil {
			continue // reported above
		}
		for _, r := range rules {
			names := ruleLabelNames(r)
			if prev, ok := labelSets[r.Counter]; ok && prev != names {
				add(at+".rules", "counter %s gets labels {%s} here and {%s} elsewhere; one metric has one set of label names", r.Counter, names, prev)
			}
			labelSets[r.Counter] = names
		}
	}
	return errs
}

func validateLogRules(at string, rules []LogRule) []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for k, r := range rules {
		rp := fmt.Sprintf("%s.rules[%d]", at, k)
		switch {
		case !labelNameRE().MatchString(r.Name):
			add(rp+".name", "%q is not a valid rule name (letters, digits, _)", r.Name)
		case seen[r.Name]:
			add(rp+".name", "rule %q is defined twice", r.Name)
		}
		seen[r.Name] = true
		if r.Counter != "" && (!metricNameRE().MatchString(r.Counter) || logsOwnCounters[r.Counter]) {
			add(rp+".counter", "%q must be a metric name ending in _total, not one the logs collector serves itself", r.Counter)
		} else if reservedCounter(r.Counter) {
			add(rp+".counter", "%q belongs to another collector; rules may feed %s, or a name of your own", r.Counter, strings.Join(slices.Sorted(maps.Keys(sharedCounters)), ", "))
		}
		for _, name := range labelNamesOf(r) {
			if !labelNameRE().MatchString(name) || strings.HasPrefix(name, "__") || name == "log" || name == "rule" && r.Counter == "" {
				add(rp+".labels", "%q is not a label name a rule may set", name)
			}
		}
		rule := logrules.Rule{Name: r.Name, Regex: r.Regex, Counter: "x_total", MaxSeries: r.MaxSeries}
		if r.MaxSeries < 0 || r.MaxSeries > maxRuleSeries {
			add(rp+".max_series", "must be between 0 (default %d) and %d", logrules.DefaultMaxSeries, maxRuleSeries)
		}
		for _, lf := range r.LabelFrom {
			rule.LabelFrom = append(rule.LabelFrom, logrules.LabelFrom{Label: lf.Label, Group: lf.Group,
				Values: lf.Values, Map: lf.Map, MaxValues: lf.MaxValues})
			if lf.MaxValues < 0 || lf.MaxValues > 1000 {
				add(rp+".label_from", "max_values must be between 0 and 1000")
			}
		}
		if _, err := logrules.Compile([]logrules.Rule{rule}); err != nil {
			add(rp+".regex", "%v", err)
		}
	}
	return errs
}

func labelNamesOf(r LogRule) []string {
	var names []string
	for k := range r.Labels {
		names = append(names, k)
	}
	for _, lf := range r.LabelFrom {
		names = append(names, lf.Label)
	}
	return names
}

func ruleLabelNames(r logrules.Rule) string {
	var names []string
	for k := range r.Labels {
		names = append(names, k)
	}
	for _, lf := range r.LabelFrom {
		names = append(names, lf.Label)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// folders are the folders of the configured logs.
func (ls *logsSection) folders() []string {
	var dirs []string
	for _, l := range *ls {
		switch {
		case l.Journal == nil:
			dirs = append(dirs, filepath.Dir(l.Path))
		case l.Journal.Directory != "":
			dirs = append(dirs, l.Journal.Directory)
		default:
			dirs = append(dirs, "/var/log/journal") // where a persistent system journal lives
		}
	}
	return dirs
}
