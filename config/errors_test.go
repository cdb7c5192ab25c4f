package config

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// Problems come sorted by line, a type error does not hide the other
// problems, and no message shows Go's type names.
func TestErrorsSortedAndComplete(t *testing.T) {
	yml := `logs:
  - path: relative.log
filesystem:
  stat_timeout: 10
  paths: /var
node:
  labels: {"bad-name": x}
quarantine:
  - name: q
    path: /q
    interval: 1
textfile:
  max_file_size: lots
`
	_, err := Parse("cfg.yml", []byte(yml))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error", err)
	}
	lines := make([]int, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Line
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] < lines[i-1] {
			t.Errorf("problems not sorted by line: %v\n%v", lines, err)
		}
	}
	msg := err.Error()
	for _, want := range []string{
		"cfg.yml:2: logs[0].path:", // validation, after the type errors
		"cfg.yml:4: filesystem.stat_timeout: wrong type: got a number (10), want a duration such as 10s",
		"cfg.yml:5: filesystem.paths: wrong type: got a string (/var), want a list",
		"cfg.yml:7: node.labels", // validation
		"cfg.yml:11: quarantine[0].interval: wrong type",
		"cfg.yml:13: textfile.max_file_size",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if goType := regexp.MustCompile(`!!|\[\]|time\.|config\.|map\[|unmarshal`).FindString(msg); goType != "" {
		t.Errorf("a message shows Go or YAML internals (%q):\n%s", goType, msg)
	}
}
