package main

import (
	"os/exec"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// The example Prometheus configurations must load in a real Prometheus
// (promtool's checker; missing file_sd files are only a warning).
func TestExamplePrometheusConfigs(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "config", "examples/prometheus.yml"},
		{"check", "config", "examples/prometheus-fleet.yml"},
		{"check", "config", "--agent", "examples/remote-write/prometheus-agent.yml"},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
