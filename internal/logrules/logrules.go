// Package logrules turns log lines into counts: each rule is a regular
// expression feeding a named counter with fixed labels and labels taken
// from capture groups, their values allow-listed or capped so that the
// number of series stays bounded whatever the log says. It knows nothing
// about Prometheus.
package logrules

import (
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/labelvalue"
)

// Other is the label value beyond an allow-list or a cap.
const Other = "other"

// DefaultMaxValues caps a capture label with neither values nor map.
const DefaultMaxValues = 20

// DefaultMaxSeries caps the series of one rule with capture labels: the
// combinations of their values (three labels of 1,000 values each would
// otherwise allow a billion). Beyond it a match counts in the series with
// every capture label "other".
const DefaultMaxSeries = 1000

// MaxRegexInsts bounds a rule's compiled program. Go's regexp runs in time
// linear in the line but proportional to the program: a 50,000-word
// alternation (240,000 instructions) counted 75 lines a second. The
// largest preset compiles to 124 instructions.
const MaxRegexInsts = 2000

// Rule is one rule as configured.
type Rule struct {
	Name      string
	Regex     string
	Counter   string            // metric name
	Labels    map[string]string // fixed
	LabelFrom []LabelFrom
	// MaxSeries caps the series of the rule's capture-label combinations
	// (0: DefaultMaxSeries).
	MaxSeries int
	// match, when set, replaces the regex (which it must agree with, as the
	// fuzz test checks) for speed; used by presets only.
	match func([]byte) bool
	// find, when set, replaces the regex of a rule with one capture
	// label: it returns the captured value (same fuzz check).
	find func([]byte) (string, bool)
	// next, when set, finds the candidate lines of a rule whose regex has
	// no literal to search for (see nextFunc); presets only.
	next nextFunc
	// suffix, when set, is what every line the rule matches ends with
	// (presets only): each line's end is checked instead of a search.
	suffix string
	// anchor, when set, is a literal set one of which every match holds,
	// chosen for the preset instead of the regex's (see plan).
	anchor []string
	// unless, when set, is a regex that takes a line the rule's regex
	// matches out again (RE2 has no negative lookaround); presets only,
	// whose match or find apply it too.
	unless string
}

// LabelFrom makes a label from a capture group.
type LabelFrom struct {
	Label string
	Group string // name or number of the capture group
	// Map renames captured values; a value not in it becomes "other".
	Map map[string]string
	// Values allow-lists captured values; others become "other".
	Values []string
	// MaxValues caps distinct values seen (first come); beyond: "other".
	MaxValues int
}

// Series is one counter with its labels, sorted by name.
type Series struct {
	Counter string
	Labels  []Label
}

// Label is one label pair.
type Label struct{ Name, Value string }

// Key identifies a series in maps.
func (s Series) Key() string {
	var b strings.Builder
	b.WriteString(s.Counter)
	for _, l := range s.Labels {
		b.WriteString("\xff" + l.Name + "\xfe" + l.Value)
	}
	return b.String()
}

type compiled struct {
	rule   Rule
	re     *regexp.Regexp
	need   [][]literal // the line must contain one literal of each set (empty: no prefilter)
	fixed  []Label
	from   []*capture
	static int // series id when the rule has no capture labels
	// byValue maps a captured value straight to its series id when the
	// rule has one allow-listed capture: no allocation per match.
	byValue map[string]int
	matchFn func([]byte) bool
	findFn  func([]byte) (string, bool)
	// anchors are the literal sets one of which may be searched for in a
	// block to find the lines worth matching (see plan), best by the
	// static byte ranks first; none: every line is matched.
	anchors [][]literal
	never   bool           // a required literal holds a '\n': no line can match
	next    nextFunc       // Rule.next
	unless  *regexp.Regexp // Rule.unless
	// seen holds the keys of the capture-label series handed out, up to
	// maxSeries; others count in the all-"other" series.
	seenMu    sync.Mutex
	seen      map[string]struct{}
	maxSeries int
	// prefix is the literal every match starts with, if any: the regex
	// runs from its first occurrence on, which gives the same match (no
	// assertion precedes it) and saves Go's backtracker from clearing its
	// visited set for the part of the line before it.
	prefix literal
}

// literal is a required literal with the index of its rarest byte, the
// one searched for (see indexRare).
type literal struct {
	b    []byte
	rare int
}

func newLiteral(b []byte) literal { return literal{b, rarest(b)} }

func literals(set [][]byte) []literal {
	lits := make([]literal, len(set))
	for i, b := range set {
		lits[i] = newLiteral(b)
	}
	return lits
}

func (l literal) in(line []byte) int { return indexRare(line, l.b, l.rare) }

type capture struct {
	spec  LabelFrom
	index int
	allow map[string]string // value -> label value, when bounded by a list
	mu    sync.Mutex
	seen  map[string]bool // for MaxValues
}

// Engine applies rules to lines. Match may be called from one goroutine
// per Delta; the series table is shared and safe for concurrent use.
type Engine struct {
	rules []*compiled
	// How MatchBlock finds each rule's lines (a rule is in one list, or
	// in none when it can match no line): by a search for its anchor
	// (static: the plan by static byte ranks), by its next function, by
	// each line's end, or every line.
	anchored, nexted, suffixed, everyLine []*compiled
	static                                *plan
	// orderFree: every capture label of every rule is bounded by a list
	// or a map, so its series are all known in advance and the counts do
	// not depend on the order lines are matched in (a capped capture's
	// first-come values do).
	orderFree bool

	mu     sync.RWMutex
	series []Series
	ids    map[string]int
}

// Compile checks and prepares rules.
func Compile(rules []Rule) (*Engine, error) {
	e := &Engine{ids: map[string]int{}, orderFree: true}
	for _, r := range rules {
		c, err := e.compile(r)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		e.rules = append(e.rules, c)
		for _, cp := range c.from {
			e.orderFree = e.orderFree && cp.allow != nil
		}
		switch {
		case c.never:
		case r.next != nil:
			e.nexted = append(e.nexted, c)
		case r.suffix != "":
			e.suffixed = append(e.suffixed, c)
		case c.anchors != nil:
			e.anchored = append(e.anchored, c)
		default:
			e.everyLine = append(e.everyLine, c)
		}
	}
	e.static = e.newPlan(func(c *compiled) []literal { return c.anchors[0] })
	return e, nil
}

func (e *Engine) compile(r Rule) (*compiled, error) {
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return nil, err
	}
	if n := programSize(r.Regex); n > MaxRegexInsts {
		return nil, fmt.Errorf("the regex compiles to %d instructions, more than %d: matching it would cost every line that much (split it into several rules)", n, MaxRegexInsts)
	}
	c := &compiled{rule: r, re: re, matchFn: r.match, findFn: r.find, next: r.next, seen: map[string]struct{}{}, maxSeries: r.MaxSeries}
	if c.maxSeries <= 0 {
		c.maxSeries = DefaultMaxSeries
	}
	if r.unless != "" {
		if c.unless, err = regexp.Compile(r.unless); err != nil {
			return nil, err
		}
	}
	for _, set := range requiredSets(r.Regex) {
		c.need = append(c.need, literals(set))
	}
	c.anchors, c.never = anchorSets(r)
	if p, _ := re.LiteralPrefix(); p != "" {
		c.prefix = newLiteral([]byte(p))
	}
	for _, name := range slices.Sorted(maps.Keys(r.Labels)) {
		c.fixed = append(c.fixed, Label{name, r.Labels[name]})
	}
	for _, lf := range r.LabelFrom {
		cp, err := newCapture(re, lf)
		if err != nil {
			return nil, err
		}
		c.from = append(c.from, cp)
	}
	if len(c.from) == 0 {
		c.static = e.id(Series{Counter: r.Counter, Labels: c.fixed})
	} else if err := e.preRegister(c); err != nil {
		return nil, err
	}
	if len(c.from) == 1 && c.from[0].allow != nil {
		c.byValue = map[string]int{}
		for raw, v := range c.from[0].allow {
			labels := append(append([]Label(nil), c.fixed...), Label{c.from[0].spec.Label, v})
			c.byValue[raw] = e.id(Series{Counter: r.Counter, Labels: sortLabels(labels)})
		}
	}
	return c, nil
}

func newCapture(re *regexp.Regexp, lf LabelFrom) (*capture, error) {
	idx := re.SubexpIndex(lf.Group)
	if idx < 0 {
		if _, err := fmt.Sscanf(lf.Group, "%d", &idx); err != nil || idx < 1 || idx > re.NumSubexp() {
			return nil, fmt.Errorf("label %q: no capture group %q in the regex", lf.Label, lf.Group)
		}
	}
	cp := &capture{spec: lf, index: idx}
	switch {
	case len(lf.Map) > 0:
		cp.allow = lf.Map
	case len(lf.Values) > 0:
		cp.allow = map[string]string{}
		for _, v := range lf.Values {
			cp.allow[v] = v
		}
	default:
		if cp.spec.MaxValues <= 0 {
			cp.spec.MaxValues = DefaultMaxValues
		}
		cp.seen = map[string]bool{}
	}
	return cp, nil
}

// programSize is the number of instructions regexp compiles expr to (the
// same parse and simplification as regexp.Compile); expr is valid.
func programSize(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}

// preRegister creates the series of every allowed value combination at 0,
// so increase() works from the first match on. Allow-lists whose product
// passes the rule's series cap are refused before any is built.
func (e *Engine) preRegister(c *compiled) error {
	product := 1
	for _, cp := range c.from {
		if cp.allow == nil {
			return nil // unbounded until seen: nothing known in advance
		}
		distinct := map[string]bool{Other: true}
		for _, v := range cp.allow {
			distinct[v] = true
		}
		product *= len(distinct)
		if product > c.maxSeries {
			return fmt.Errorf("its labels' allowed values make more than %d series (max_series); raise max_series or shorten the lists", c.maxSeries)
		}
	}
	combos := [][]Label{c.fixed}
	for _, cp := range c.from {
		values := map[string]bool{}
		if len(cp.spec.Map) == 0 { // a map names every value its regex can capture
			values[Other] = true
		}
		for _, v := range cp.allow {
			values[v] = true
		}
		var next [][]Label
		for _, base := range combos {
			for _, v := range slices.Sorted(maps.Keys(values)) {
				next = append(next, append(append([]Label(nil), base...), Label{cp.spec.Label, v}))
			}
		}
		combos = next
	}
	for _, labels := range combos {
		s := Series{Counter: c.rule.Counter, Labels: sortLabels(labels)}
		c.seen[s.Key()] = struct{}{}
		e.id(s)
	}
	return nil
}

// id returns the id of a series, adding it when new.
func (e *Engine) id(s Series) int {
	key := s.Key()
	e.mu.RLock()
	id, ok := e.ids[key]
	e.mu.RUnlock()
	if ok {
		return id
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if id, ok := e.ids[key]; ok {
		return id
	}
	id = len(e.series)
	e.series = append(e.series, s)
	e.ids[key] = id
	return id
}

// Series returns every series known so far; ids index it.
func (e *Engine) Series() []Series {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]Series(nil), e.series...)
}

// Delta accumulates counts per series id. Use one Delta per goroutine.
type Delta struct {
	Counts []uint64
	second *Delta   // the second half's, when a block is matched in halves
	plan   *plan    // the anchors chosen for the log read into this Delta
	ends   []int    // the line ends of the block being matched
	marks  []uint64 // by line of that block: the rules to match it against
	stops  []int    // the indexes of a sweep's byte in that block
}

func (d *Delta) add(id int) { d.addN(id, 1) }

func (d *Delta) addN(id int, n uint64) {
	for id >= len(d.Counts) {
		d.Counts = append(d.Counts, 0)
	}
	d.Counts[id] += n
}

// Reset zeroes the delta, keeping its memory (and its plan).
func (d *Delta) Reset() { clear(d.Counts) }

// Match applies every rule to line, which holds no '\n', and counts the
// matches into d.
func (e *Engine) Match(line []byte, d *Delta) {
	if len(line) > 0 {
		e.MatchBlock(line, d)
		return
	}
	for _, c := range e.everyLine { // an empty block holds no line; an empty line can match
		e.matchLine(c, line, d)
	}
}

// matchLine counts line, a whole line without its '\n', with c.
func (e *Engine) matchLine(c *compiled, line []byte, d *Delta) {
	if !e.matchFast(c, line, d) {
		e.matchRegex(c, line, d)
	}
}

// matchFast counts line with c's hand-written matcher. It returns false when c has none,
// or found a value only the regex's path knows how to label.
func (e *Engine) matchFast(c *compiled, line []byte, d *Delta) bool {
	switch {
	case c.matchFn != nil && len(c.from) == 0:
		if c.matchFn(line) {
			d.add(c.static)
		}
		return true
	case c.findFn != nil && c.byValue != nil:
		v, ok := c.findFn(line)
		if !ok {
			return true
		}
		if id, ok := c.byValue[v]; ok {
			d.add(id)
			return true
		}
	}
	return false
}

func (e *Engine) matchRegex(c *compiled, whole []byte, d *Delta) {
	line, ok := c.start(whole)
	if !ok {
		return
	}
	if len(c.from) == 0 {
		if c.re.Match(line) && (c.unless == nil || !c.unless.Match(whole)) {
			d.add(c.static)
		}
		return
	}
	m := c.re.FindSubmatchIndex(line)
	if m == nil || c.unless != nil && c.unless.Match(whole) {
		return
	}
	if c.byValue != nil {
		if a := m[2*c.from[0].index]; a >= 0 {
			if id, ok := c.byValue[string(line[a:m[2*c.from[0].index+1]])]; ok {
				d.add(id)
				return
			}
		}
	}
	d.add(e.id(c.bounded(c.series(line, m))))
}

// bounded returns s, or once the rule has handed out maxSeries series, the
// series with every capture label "other" for a new one.
func (c *compiled) bounded(s Series) Series {
	if c.admit(s) {
		return s
	}
	return c.allOther()
}

// admit tells whether the rule may serve s: one of its series already,
// a new one within maxSeries (taken in), or the all-"other" series.
func (c *compiled) admit(s Series) bool {
	key := s.Key()
	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	if _, ok := c.seen[key]; ok {
		return true
	}
	if len(c.seen) < c.maxSeries {
		c.seen[key] = struct{}{}
		return true
	}
	return key == c.allOther().Key()
}

// allOther is the rule's series with every capture label "other".
func (c *compiled) allOther() Series {
	labels := append([]Label(nil), c.fixed...)
	for _, cp := range c.from {
		labels = append(labels, Label{cp.spec.Label, Other})
	}
	return Series{Counter: c.rule.Counter, Labels: sortLabels(labels)}
}

// start returns line from the first occurrence of the regex's literal
// prefix on, or false when the prefilter shows the regex cannot match.
func (c *compiled) start(line []byte) ([]byte, bool) {
	if !c.candidate(line) {
		return nil, false
	}
	if c.prefix.b == nil {
		return line, true
	}
	i := c.prefix.in(line)
	if i < 0 {
		return nil, false
	}
	return line[i:], true
}

// candidate reports whether line contains a literal of every required
// set, which every regex match does: false means the regex cannot match.
func (c *compiled) candidate(line []byte) bool {
	for _, set := range c.need {
		if !containsAny(line, set) {
			return false
		}
	}
	return true
}

func containsAny(line []byte, set []literal) bool {
	for _, lit := range set {
		if lit.in(line) >= 0 {
			return true
		}
	}
	return false
}

func (c *compiled) series(line []byte, m []int) Series {
	labels := append([]Label(nil), c.fixed...)
	for _, cp := range c.from {
		var v string
		if a, b := m[2*cp.index], m[2*cp.index+1]; a >= 0 {
			v = string(line[a:b])
		}
		labels = append(labels, Label{cp.spec.Label, cp.value(v)})
	}
	return Series{Counter: c.rule.Counter, Labels: sortLabels(labels)}
}

// value bounds a captured value to the allow-list or the cap. A value
// kept as it is is first made a valid label value (labelvalue.Clean): a
// line with a stray byte or a huge field costs its own series only.
func (cp *capture) value(v string) string {
	if cp.allow != nil {
		if mapped, ok := cp.allow[v]; ok {
			return mapped
		}
		return Other
	}
	v = labelvalue.Clean(v)
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.seen[v] {
		return v
	}
	if len(cp.seen) >= cp.spec.MaxValues {
		return Other
	}
	cp.seen[v] = true
	return v
}

func sortLabels(l []Label) []Label {
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}

// Adopt gives a series counted by another engine (the one a reload
// replaced) an id in e, when one of e's rules could have produced it:
// same counter, its fixed labels, and a value for each capture that the
// capture allows (an unbounded capture takes it into its MaxValues). A
// reload that keeps a rule thus keeps its counts; a series no rule of e
// produces is not adopted.
func (e *Engine) Adopt(s Series) (int, bool) {
	for _, c := range e.rules {
		if c.rule.Counter == s.Counter && c.accepts(s.Labels) {
			sorted := Series{Counter: s.Counter, Labels: sortLabels(append([]Label(nil), s.Labels...))}
			if len(c.from) > 0 && !c.admit(sorted) {
				return 0, false // beyond the rule's series cap
			}
			return e.id(sorted), true
		}
	}
	return 0, false
}

// accepts tells whether labels are the rule's fixed labels plus one
// acceptable value per capture.
func (c *compiled) accepts(labels []Label) bool {
	if len(labels) != len(c.fixed)+len(c.from) {
		return false
	}
	byName := make(map[string]string, len(labels))
	for _, l := range labels {
		byName[l.Name] = l.Value
	}
	for _, f := range c.fixed {
		if v, ok := byName[f.Name]; !ok || v != f.Value {
			return false
		}
	}
	for _, cp := range c.from {
		v, ok := byName[cp.spec.Label]
		if !ok || !cp.accepts(v) {
			return false
		}
	}
	return true
}

// accepts tells whether v is a label value the capture can give, taking
// it into the capture's seen values when unbounded.
func (cp *capture) accepts(v string) bool {
	if cp.allow != nil {
		if v == Other {
			return true
		}
		for _, mapped := range cp.allow {
			if mapped == v {
				return true
			}
		}
		return false
	}
	if v == Other {
		return true
	}
	return cp.value(v) == v
}
