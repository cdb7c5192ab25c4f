package logrules

import (
	"bytes"
	"regexp/syntax"
	"slices"
)

// requiredLiterals finds literal strings one of which every match of the
// regex contains, so that a cheap bytes.Contains can skip most lines
// before the regex runs. It returns nil when it finds none (no prefilter):
// it may miss a possible prefilter, never invent a wrong one.
func requiredLiterals(expr string) [][]byte {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := required(re.Simplify())
	out := make([][]byte, 0, len(lits))
	for _, l := range lits {
		if l == "" {
			return nil
		}
		out = append(out, []byte(l))
	}
	return out
}

// maxSets bounds the literal sets a line is checked against: each costs
// a scan of the line, and past the best few they rarely reject more.
const maxSets = 3

// requiredSets finds every literal set requiredLiterals could choose from
// (one per piece of a concatenation), best first: a line must contain one
// literal of EACH set to match, so checking several rejects more lines
// before the regex, which costs far more than a bytes.Index. Sets of
// literals shorter than 3 bytes (": ", " ") pass almost every line and are
// dropped, except when they are all there is.
func requiredSets(expr string) [][][]byte {
	var out [][][]byte
	for i, set := range allRequiredSets(expr) {
		if i == maxSets || i > 0 && minLenBytes(set) < 3 {
			break
		}
		out = append(out, set)
	}
	return out
}

// allRequiredSets is every distinct non-empty literal set of expr that
// any match must hold one literal of, best first.
func allRequiredSets(expr string) [][][]byte {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var sets [][]string
	for _, set := range requiredAll(re.Simplify()) {
		if minLen(set) > 0 && !slices.ContainsFunc(sets, func(s []string) bool { return slices.Equal(s, set) }) {
			sets = append(sets, set)
		}
	}
	slices.SortStableFunc(sets, func(a, b []string) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	out := make([][][]byte, len(sets))
	for i, set := range sets {
		out[i] = toBytes(set)
	}
	return out
}

func minLenBytes(set [][]byte) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// requiredAll returns the literal sets of every piece of re that any match
// must contain: all those of a concatenation's parts, or re's own set.
func requiredAll(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpConcat:
		var all [][]string
		for _, sub := range re.Sub {
			all = append(all, requiredAll(sub)...)
		}
		return all
	case syntax.OpCapture, syntax.OpPlus:
		return requiredAll(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredAll(re.Sub[0])
		}
		return nil
	}
	if set := required(re); set != nil {
		return [][]string{set}
	}
	return nil
}

func toBytes(set []string) [][]byte {
	out := make([][]byte, len(set))
	for i, l := range set {
		out[i] = []byte(l)
	}
	return out
}

// required returns a set of literals, one of which any match of re
// contains, or nil.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if cand := required(sub); cand != nil && better(cand, best) {
				best = cand
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			cand := required(sub)
			if cand == nil {
				return nil
			}
			all = append(all, cand...)
		}
		return all
	}
	return nil
}

// better prefers the set whose shortest literal is longest (fewer false
// candidates), then the smaller set.
func better(a, b []string) bool {
	if b == nil {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	return ma > mb || ma == mb && len(a) < len(b)
}

func minLen(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// indexRare is bytes.Index(s, lit), searching for the literal's rarest
// byte in log text (at index k of lit; k < 0: chosen here) with
// IndexByte, then comparing the rest. bytes.Index searches for the first
// byte, which for literals like " -> " or "]: " is among the commonest of
// a line, so it falls back to comparing at every position.
func indexRare(s, lit []byte, k int) int {
	if len(lit) == 0 {
		return 0
	}
	if k < 0 {
		k = rarest(lit)
	}
	for i := k; i < len(s); {
		j := bytes.IndexByte(s[i:], lit[k])
		if j < 0 {
			return -1
		}
		p := i + j - k
		if p+len(lit) <= len(s) && bytes.Equal(s[p:p+len(lit)], lit) {
			return p
		}
		i += j + 1
	}
	return -1
}

// rarest returns the index in lit of its rarest byte in mail logs, by a
// rough frequency rank: space, lower-case letters, digits and the
// punctuation of "name[pid]: key=<value>, " are everywhere; upper-case
// letters (but the hex digits of postfix's queue ids) and brackets other
// than those are rare; later bytes win ties
// (a literal's start is often the end of a common word).
func rarest(lit []byte) int {
	best := 0
	for i := range lit {
		if byteRank[lit[i]] <= byteRank[lit[best]] {
			best = i
		}
	}
	return best
}

var byteRank = func() (t [256]uint8) {
	for b := range 256 {
		switch {
		case b == ' ':
			t[b] = 9
		case bytes.IndexByte([]byte("etaoinsrlcdm"), byte(b)) >= 0:
			t[b] = 8
		case b >= 'a' && b <= 'z', b >= '0' && b <= '9', bytes.IndexByte([]byte(".:=,[]<>@-/_"), byte(b)) >= 0:
			t[b] = 6
		case b >= 'A' && b <= 'F': // in postfix's hex queue ids
			t[b] = 4
		case b >= 'A' && b <= 'Z':
			t[b] = 3
		case b < 0x80:
			t[b] = 2
		default:
			t[b] = 1
		}
	}
	return t
}()
