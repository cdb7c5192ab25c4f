package logrules

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// maxAnchorLiterals bounds the literals of an anchor: each is a search.
const maxAnchorLiterals = 8

// plan says how MatchBlock finds the lines worth matching for each rule
// with an anchor (a literal set, one of which every match holds: any of
// a rule's sets will do, a line is matched at most once whatever number
// of them it holds). Each literal is searched by one of its bytes, and
// the literals searched by the same byte share one sweep of the block:
// the presets anchored on a syslog tag ("amavis[", "/qmgr[", "/smtp["...)
// all share the sweep for '['. An engine has a plan made from static byte
// ranks; a Delta gets its own from the first big block it reads, choosing
// each operator rule's set and search bytes by that log's byte counts
// (static ranks guess wrong on some logs: the upper-case hex of postfix
// queue ids makes "FOUND"'s 'D' common).
type plan struct {
	engine *Engine
	sweeps []byteSweep
	marked []*compiled // by mark bit
	// alone are anchored rules beyond the 64 a line's marks hold, each
	// searched for on its own with its anchor in aloneAnchors.
	alone        []*compiled
	aloneAnchors map[*compiled][]literal
}

// byteSweep is the search of a block for one byte, and the literals
// checked where it occurs.
type byteSweep struct {
	b    byte
	lits []markLiteral // all of them, as added
	// at holds the literals with a byte before b by that byte: at a stop,
	// only those whose byte is there are compared (the '[' sweep serves
	// a dozen syslog tags); first are those starting with b.
	at    *[256][]markLiteral
	first []markLiteral
}

type markLiteral struct {
	literal
	bit uint64 // the rule's mark
	// word and mask: a literal of at most 8 bytes as a little-endian
	// word, compared with one load instead of a call to memequal.
	word, mask uint64
}

func newMarkLiteral(l literal, bit uint64) markLiteral {
	m := markLiteral{literal: l, bit: bit}
	if len(l.b) <= 8 {
		var w [8]byte
		copy(w[:], l.b)
		m.word = binary.LittleEndian.Uint64(w[:])
		m.mask = ^uint64(0) >> (64 - 8*len(l.b))
	}
	return m
}

// at says whether the literal is in block at index at.
func (l *markLiteral) at(block []byte, at int) bool {
	if at < 0 || at+len(l.b) > len(block) {
		return false
	}
	if l.mask != 0 && at+8 <= len(block) {
		return binary.LittleEndian.Uint64(block[at:])&l.mask == l.word
	}
	return string(block[at:at+len(l.b)]) == string(l.b)
}

// planSample is the sample a Delta's plan is made from, and the least
// block worth making one from: single lines use the engine's plan.
const planSample = 64 << 10

// planFor returns d's plan for e, made from block when d has none yet and
// block is big enough, else e's static plan.
func (e *Engine) planFor(block []byte, d *Delta) *plan {
	if d.plan != nil && d.plan.engine == e {
		return d.plan
	}
	if len(block) < planSample {
		return e.static
	}
	sample := block[:planSample]
	var freq [256]int
	for _, b := range sample {
		freq[b]++
	}
	d.plan = e.newPlan(func(c *compiled) []literal {
		if c.rule.anchor != nil {
			return searchBytes(c.anchors[0], &freq) // a preset's own set
		}
		return cheapestAnchor(c.anchors, sample, &freq)
	})
	return d.plan
}

// newPlan makes a plan with the anchor choose picks for each rule.
func (e *Engine) newPlan(choose func(*compiled) []literal) *plan {
	p := &plan{engine: e, aloneAnchors: map[*compiled][]literal{}}
	defer func() {
		for i := range p.sweeps {
			p.sweeps[i].setFilter()
		}
	}()
	for _, c := range e.anchored {
		anchor := choose(c)
		if len(p.marked) == 64 {
			p.alone = append(p.alone, c)
			p.aloneAnchors[c] = anchor
			continue
		}
		bit := uint64(1) << len(p.marked)
		p.marked = append(p.marked, c)
		for _, l := range anchor {
			k := slices.IndexFunc(p.sweeps, func(s byteSweep) bool { return s.b == l.b[l.rare] })
			if k < 0 {
				k = len(p.sweeps)
				p.sweeps = append(p.sweeps, byteSweep{b: l.b[l.rare]})
			}
			p.sweeps[k].lits = append(p.sweeps[k].lits, newMarkLiteral(l, bit))
		}
	}
	return p
}

func (s *byteSweep) setFilter() {
	s.at = new([256][]markLiteral)
	for _, l := range s.lits {
		if l.rare == 0 {
			s.first = append(s.first, l)
		} else {
			s.at[l.b[l.rare-1]] = append(s.at[l.b[l.rare-1]], l)
		}
	}
}

// Relative costs of an anchor, in the stops of a byte search: a sweep of
// the block (32-byte vectors) and a line matched where a literal occurs.
const (
	sweepCost = planSample / 256
	matchCost = 8
)

// cheapestAnchor returns, of sets, the one expected to cost least on
// sample (whose byte counts are freq): each literal searched by its
// least frequent byte, costing a sweep, a stop at each of those bytes and
// a line matched at each occurrence.
func cheapestAnchor(sets [][]literal, sample []byte, freq *[256]int) []literal {
	var best []literal
	bestCost := -1
	for _, set := range sets {
		lits := make([]literal, len(set))
		cost := 0
		for k, l := range set {
			r := leastFrequent(l.b, freq)
			lits[k] = literal{l.b, r}
			cost += sweepCost + freq[l.b[r]] + matchCost*bytes.Count(sample, l.b)
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = lits, cost
		}
	}
	return best
}

// searchBytes returns the literals of a preset's anchor, each searched by
// its least frequent byte in freq, but a syslog tag by its '[': the tags
// share one sweep.
func searchBytes(set []literal, freq *[256]int) []literal {
	lits := make([]literal, len(set))
	for k, l := range set {
		lits[k] = l
		if l.b[l.rare] != '[' {
			lits[k].rare = leastFrequent(l.b, freq)
		}
	}
	return lits
}

// leastFrequent is the index of lit's least frequent byte by freq (the
// later of equals).
func leastFrequent(lit []byte, freq *[256]int) int {
	r := 0
	for j := range lit {
		if freq[lit[j]] <= freq[lit[r]] {
			r = j
		}
	}
	return r
}

// anchorSets returns the literal sets a rule may be anchored on: the
// preset's own, or those of its regex, without literals holding a '\n'
// (no line holds one); a rule left with an empty set can match no line
// (never is true).
func anchorSets(r Rule) (sets [][]literal, never bool) {
	if r.anchor != nil {
		lits := make([]literal, len(r.anchor))
		for i, a := range r.anchor {
			lits[i] = literal{[]byte(a), tagOr(a)}
		}
		return [][]literal{lits}, false
	}
	for _, set := range allRequiredSets(r.Regex) {
		set = slices.DeleteFunc(set, func(l []byte) bool { return bytes.IndexByte(l, '\n') >= 0 })
		if len(set) == 0 {
			return nil, true
		}
		if len(set) <= maxAnchorLiterals {
			sets = append(sets, literals(set))
		}
	}
	return sets, false
}

// tagOr returns the index of a preset anchor's byte to search: its '['
// (a syslog tag's), else its rarest by the static ranks.
func tagOr(a string) int {
	if i := bytes.IndexByte([]byte(a), '['); i >= 0 {
		return i
	}
	return rarest([]byte(a))
}
