package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

// A config file is bounded in what it costs to read: its size, the keys of
// one mapping (yaml.v3's duplicate check is quadratic in them: 40,000
// node.labels took 7.3 s) and the problems listed.

func TestLoadRefusesWhatIsNotARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		_, err := Load(path) // before the fix: /dev/zero read until memory ran out, the FIFO blocked for ever
		if !errors.Is(err, fileid.ErrNotRegular) {
			t.Errorf("Load(%s): %v, want a not-a-regular-file error", path, err)
		}
	}
}

func TestLoadRefusesHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yml")
	data := "# " + strings.Repeat("x", MaxFileBytes) + "\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); !errors.Is(err, fileid.ErrTooLarge) {
		t.Errorf("Load of %d bytes: %v, want too large", len(data), err)
	}
}

func TestParseRefusesHugeMapping(t *testing.T) {
	var b strings.Builder
	b.WriteString("node:\n  labels:\n")
	for i := range 40000 {
		fmt.Fprintf(&b, "    k%d: v\n", i)
	}
	_, err := Parse("big.yml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "big.yml:3: node.labels: 40000 keys in one mapping; at most 1000") {
		t.Errorf("40,000 labels: %v", err)
	}
}

func TestParseFindsDuplicateKeys(t *testing.T) {
	_, err := Parse("dup.yml", []byte("node:\n  labels: {a: x}\n  labels: {b: y}\n"))
	if err == nil || !strings.Contains(err.Error(), "dup.yml:3: node.labels: defined twice (first on line 2)") {
		t.Errorf("duplicate key: %v", err)
	}
}

// TestParseBoundsProblems: 2,000 unknown keys give 20 problems and a count.
func TestParseBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("quarantine:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "  - {name: q%d, path: /q, bogus: 1, wrong: 2}\n", i)
	}
	_, err := Parse("many.yml", []byte(b.String()))
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != MaxProblems || e.More != 2000-MaxProblems {
		t.Fatalf("2,000 unknown keys: %d problems listed, %d more; want %d and %d", len(e.Problems), e.More, MaxProblems, 2000-MaxProblems)
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != MaxProblems+1 || !strings.HasSuffix(err.Error(), "... and 1980 more problems") {
		t.Errorf("%d lines, ending %q", lines, err.Error()[len(err.Error())-40:])
	}
}

// TestParseManyKeysLinear: 40 mappings of 1,000 keys (40,000 in all) parse
// with work linear in the keys: each key is compared with at most the
// 1,000 of its own mapping. (Counted, not timed: the cap is what makes it
// linear, TestParseRefusesHugeMapping holds the cap.)
func TestParseManyKeysLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("logs:\n  - path: /var/log/mail.log\n    rules:\n")
	for r := range 40 {
		fmt.Fprintf(&b, "      - name: r%d\n        regex: 'x (?P<v>\\S+)'\n        label_from:\n          - label: v\n            group: v\n            map:\n", r)
		for i := range MaxMappingKeys {
			fmt.Fprintf(&b, "              k%d: v%d\n", i, i%10)
		}
	}
	if _, err := Parse("wide.yml", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
}

// A log rule's regex too big to match at a useful speed, and a rule whose
// allow-lists multiply past max_series, are refused at config check.
func TestParseRefusesCostlyRules(t *testing.T) {
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("w%dx", i)
	}
	yml := "logs:\n  - path: /var/log/mail.log\n    rules:\n      - name: big\n        regex: '(" + strings.Join(words, "|") + ")'\n" +
		"      - name: wide\n        regex: '(\\d) (\\d)'\n        max_series: 10\n        label_from:\n" +
		"          - {label: a, group: '1', values: ['1', '2', '3']}\n          - {label: b, group: '2', values: ['1', '2', '3']}\n"
	_, err := Parse("costly.yml", []byte(yml))
	for _, want := range []string{
		"costly.yml:5: logs[0].rules[0].regex: rule \"big\": the regex compiles to",
		"logs[0].rules[1].regex: rule \"wide\": its labels' allowed values make more than 10 series",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
