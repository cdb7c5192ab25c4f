package logrules

import (
	"regexp/syntax"
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
