package logrules

import (
	"fmt"
	"strings"
	"testing"
)

// TestRuleSeriesCapped: the cap is on the rule's combinations, not per
// label: three labels of up to 100 values each give at most MaxSeries
// series plus the all-"other" one, and every line is still counted.
func TestRuleSeriesCapped(t *testing.T) {
	e, err := Compile([]Rule{{Name: "r", Regex: `a=(\w+) b=(\w+) c=(\w+)`, Counter: "c_total", MaxSeries: 50,
		LabelFrom: []LabelFrom{{Label: "a", Group: "1", MaxValues: 100}, {Label: "b", Group: "2", MaxValues: 100}, {Label: "c", Group: "3", MaxValues: 100}}}})
	if err != nil {
		t.Fatal(err)
	}
	var d Delta
	for i := range 1000 {
		e.Match(fmt.Appendf(nil, "a=%d b=%d c=%d", i%10, i/10%10, i/100), &d)
	}
	series := e.Series()
	var total uint64
	other := -1
	for id, s := range series {
		if id < len(d.Counts) {
			total += d.Counts[id]
		}
		if s.Key() == (Series{Counter: "c_total", Labels: []Label{{"a", Other}, {"b", Other}, {"c", Other}}}).Key() {
			other = id
		}
	}
	if len(series) > 51 {
		t.Errorf("%d series from one rule with max_series 50", len(series))
	}
	if total != 1000 || other < 0 || d.Counts[other] != 950 {
		t.Errorf("total %d, other series id %d; want 1000 lines counted, 950 of them as other", total, other)
	}
}

func TestAllowListProductRefused(t *testing.T) {
	values := make([]string, 20)
	for i := range values {
		values[i] = fmt.Sprint(i)
	}
	lf := func(l, g string) LabelFrom { return LabelFrom{Label: l, Group: g, Values: values} }
	_, err := Compile([]Rule{{Name: "r", Regex: `(\d+) (\d+) (\d+)`, Counter: "c_total",
		LabelFrom: []LabelFrom{lf("a", "1"), lf("b", "2"), lf("c", "3")}}})
	if err == nil || !strings.Contains(err.Error(), "more than 1000 series") {
		t.Errorf("21^3 allowed combinations: %v", err)
	}
}

func TestRegexSizeBounded(t *testing.T) {
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("w%dx", i)
	}
	_, err := Compile([]Rule{{Name: "big", Regex: "(" + strings.Join(words, "|") + ")", Counter: "c_total"}})
	if err == nil || !strings.Contains(err.Error(), "instructions, more than 2000") {
		t.Errorf("a 5,000-word alternation: %v", err)
	}
}
