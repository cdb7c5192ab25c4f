package collector

import (
	"errors"
	"testing"
)

func TestErrorLogOncePerChange(t *testing.T) {
	var l errorLog
	steps := []struct {
		err               error
		report, recovered bool
	}{
		{nil, false, false},
		{errors.New("a"), true, false},
		{errors.New("a"), false, false}, // same text: already logged
		{errors.New("b"), true, false},  // changed
		{nil, false, true},              // cleared, once
		{nil, false, false},
		{errors.New("b"), true, false}, // back after a recovery
	}
	for i, s := range steps {
		report, recovered := l.Observe(s.err)
		if report != s.report || recovered != s.recovered {
			t.Errorf("step %d (%v): report %v recovered %v, want %v %v", i, s.err, report, recovered, s.report, s.recovered)
		}
	}
	if l.Text() != "b" {
		t.Errorf("Text() = %q, want b", l.Text())
	}
}
