package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestLogsReadmeExampleIsValid keeps the README's logs example honest.
func TestLogsReadmeExampleIsValid(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Logs collector.*?```yaml\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no yaml example in the README's Logs collector section")
	}
	cfg, err := Parse("README.md", m[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Logs) != 2 || !strings.Contains(cfg.Logs[0].Rules[1].Counter, "auth_failures") {
		t.Fatalf("parsed %+v", cfg.Logs)
	}
}
