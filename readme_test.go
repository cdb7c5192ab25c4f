package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func readText(t *testing.T, path string) string {
	return string(readFile(t, path))
}

// The README's first lines hold exactly the two commands, make demo and
// make test.
func TestReadmeFirstLines(t *testing.T) {
	lines := strings.SplitN(readText(t, "README.md"), "\n", 7)
	if lines[2] != "```sh" || !strings.HasPrefix(lines[3], "make demo ") ||
		!strings.HasPrefix(lines[4], "make test ") || lines[5] != "```" {
		t.Errorf("the README does not open with `make demo` and `make test`:\n%s", strings.Join(lines[:6], "\n"))
	}
}

// The Go version the README asks for is go.mod's.
func TestReadmeGoVersion(t *testing.T) {
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readText(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "Go " + m[1] + " or newer"; !strings.Contains(readText(t, "README.md"), want) {
		t.Errorf("README does not say %q", want)
	}
}

// Every .PHONY target of the Makefile has a rule, and the variables a user
// may set (DEMO_ADDR) are documented with their defaults.
func TestMakefileTargetsAndVariables(t *testing.T) {
	mk := readText(t, "Makefile")
	phony := regexp.MustCompile(`(?m)^\.PHONY:(.*)$`).FindStringSubmatch(mk)
	if phony == nil {
		t.Fatal("no .PHONY line")
	}
	for _, target := range strings.Fields(phony[1]) {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).MatchString(mk) {
			t.Errorf(".PHONY declares %q but the Makefile has no rule for it", target)
		}
	}
	addr := regexp.MustCompile(`(?m)^DEMO_ADDR \?= (\S+)$`).FindStringSubmatch(mk)
	if addr == nil {
		t.Fatal("no DEMO_ADDR default in the Makefile")
	}
	if want := "`DEMO_ADDR` (default `" + addr[1] + "`"; !strings.Contains(readText(t, "README.md"), want) {
		t.Errorf("README does not document %s", want)
	}
}

// The README's count of scrapes `make bench` runs is the script's default.
func TestReadmeBenchScrapes(t *testing.T) {
	m := regexp.MustCompile(`RUNS=\$\{1:-(\d+)\}`).FindStringSubmatch(readText(t, "bench/scrape-vs-node-exporter.sh"))
	if m == nil {
		t.Fatal("no RUNS default in bench/scrape-vs-node-exporter.sh")
	}
	if want := "(" + m[1] + " scrapes;"; !strings.Contains(readText(t, "README.md"), want) {
		t.Errorf("README does not say `make bench` runs %s scrapes", m[1])
	}
}

// The number of series --web.disable-exporter-metrics drops on the demo is
// the one the README quotes, and the demo as `make demo` runs it (state
// kept nowhere, on purpose) logs no warning.
func TestReadmeDemoFacts(t *testing.T) {
	series := func(body string) int {
		n := 0
		for _, l := range strings.Split(body, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		return n
	}
	full := startDemo(t)
	lean := startDemo(t, "--web.disable-exporter-metrics")
	dropped := series(full.metrics(t)) - series(lean.metrics(t))
	if want := fmt.Sprintf("%d runtime metrics", dropped); !strings.Contains(readText(t, "README.md"), want) {
		t.Errorf("--web.disable-exporter-metrics drops %d series on the demo; README does not say %q", dropped, want)
	}

	demo := startExporter(t, demoTree+"/proc", demoTree+"/sys", demoTree+"/root",
		"--config.file="+demoTree+"/heartbeat.yml", "--state.dir=")
	demo.metrics(t)
	if strings.Contains(demo.stderr.String(), "level=warn") {
		t.Errorf("the demo logs a warning:\n%s", demo.stderr)
	}
}
