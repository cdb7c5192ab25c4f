package logrules

import "testing"

// A series counted by a replaced engine keeps its place in the new one
// when a rule of the new engine produces it, within the capture's bounds.
func TestAdopt(t *testing.T) {
	rule := Rule{Name: "r", Regex: `user=(?P<u>\w+)`, Counter: "c_total", Labels: map[string]string{"k": "v"},
		LabelFrom: []LabelFrom{{Label: "user", Group: "u", MaxValues: 1}}}
	old, err := Compile([]Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	var d Delta
	old.Match([]byte("user=alice"), &d)
	series := old.Series()
	if len(series) != 1 {
		t.Fatalf("series %v", series)
	}
	renewed, err := Compile([]Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := renewed.Adopt(series[0]); !ok {
		t.Fatal("the same rule's series is not adopted")
	}
	bob := Series{Counter: "c_total", Labels: []Label{{"k", "v"}, {"user", "bob"}}}
	if _, ok := renewed.Adopt(bob); ok {
		t.Error("a second user was adopted beyond MaxValues 1")
	}
	for _, s := range []Series{
		{Counter: "other_total", Labels: series[0].Labels},
		{Counter: "c_total", Labels: []Label{{"k", "w"}, {"user", "alice"}}},
		{Counter: "c_total", Labels: []Label{{"user", "alice"}}},
	} {
		if _, ok := renewed.Adopt(s); ok {
			t.Errorf("%v adopted, but no rule produces it", s)
		}
	}
}
