package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
)

// The exporter is put on one CPU before its heavy packages initialise
// (internal/procs/startidle): an import added to startidle, or a package
// renamed, would let them run on every CPU first and keep what the other
// processors touched resident. GODEBUG=inittrace=1 prints each package's
// initialisation in order.
func TestStartsOnOneCPUBeforeTheHeavyPackages(t *testing.T) {
	cmd := exec.Command(binary, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^init (\S+) @`).FindAllStringSubmatch(string(out), -1) {
		order = append(order, m[1])
	}
	at := slices.Index(order, "github.com/heartbeat-exporter/heartbeat_exporter/internal/procs/startidle")
	if at < 0 {
		t.Fatalf("startidle not initialised:\n%s", out)
	}
	for _, heavy := range []string{
		"github.com/prometheus/procfs",
		"github.com/prometheus/client_golang/prometheus",
		"go.yaml.in/yaml/v3",
		"google.golang.org/protobuf/internal/impl",
		"github.com/heartbeat-exporter/heartbeat_exporter/collector",
	} {
		i := slices.Index(order, heavy)
		if i < 0 {
			t.Errorf("%s: no initialisation traced (renamed?)", heavy)
		} else if i < at {
			t.Errorf("%s initialised before startidle", heavy)
		}
	}
}
