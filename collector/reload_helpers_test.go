package collector

import (
	"testing"
)

// reloadOne does for one collector what a reload does for the set: the
// factory gets its predecessor, takes its state over, and the
// predecessor is closed after the swap.
func reloadOne(t *testing.T, name string, d Deps, prev Collector) Collector {
	t.Helper()
	c, err := registry[name].factory(d, prev)
	if err != nil {
		t.Fatalf("reload of %s refused: %v", name, err)
	}
	if sc, ok := c.(Successor); ok {
		sc.TakeOver()
	}
	if cl, ok := prev.(Closer); ok {
		cl.Close()
	}
	return c
}

// counterDrops lists the counters of before that are lower in after
// (a series gone is not a drop).
func counterDrops(before, after map[string]float64, isCounter func(string) bool) []string {
	var out []string
	for k, v := range before {
		if !isCounter(k) {
			continue
		}
		if w, ok := after[k]; ok && w < v {
			out = append(out, k)
		}
	}
	return out
}
