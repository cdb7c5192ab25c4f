package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// The example Prometheus configurations must load in a real Prometheus
// (promtool's checker; missing file_sd files are only a warning).
func TestExamplePrometheusConfigs(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "config", "examples/prometheus-fleet.yml"},
		{"check", "config", "--agent", "examples/remote-write/prometheus-agent.yml"},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// examples/prometheus.yml, installed as its comments and the README say
// (the rendered rules in heartbeat/ beside it), loads both rule files.
func TestExamplePrometheusConfigLoadsRules(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "prometheus.yml"), string(readFile(t, "examples/prometheus.yml")))
	if err := os.MkdirAll(filepath.Join(dir, "heartbeat"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"alerts.yaml", "rules.yaml"} {
		writeFile(t, filepath.Join(dir, "heartbeat", f), string(readFile(t, filepath.Join("alerts", f))))
	}
	out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS: 2 rule files found") {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

// examples/prometheus-fleet.yml in a real Prometheus: a target listed
// with an instance label keeps it, one without gets its host name (no
// port) rather than host:port.
func TestFleetExampleInstanceLabels(t *testing.T) {
	named, unnamed := startDemo(t), startDemo(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fleet.yml"), "- targets: ['"+named.addr+"']\n  labels: {instance: acme-fra1-mx1, customer: acme}\n"+
		"- targets: ['"+unnamed.addr+"']\n")
	example, err := os.ReadFile("examples/prometheus-fleet.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"/etc/prometheus/heartbeat.d/*.yml", filepath.Join(dir, "*.yml"),
		"scrape_interval: 1m", "scrape_interval: 1s",
		"scrape_timeout: 20s", "scrape_timeout: 1s",
	).Replace(string(example))
	writeFile(t, filepath.Join(dir, "prometheus.yml"), cfg)
	bin := testenv.RequireTool(t, "prometheus", "prometheus")
	prom := newDaemon(t, bin, freeAddr(t), "/-/ready", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"))
	prom.start()

	var got []string
	waitLong(t, func() bool {
		got = nil
		for _, s := range promQuery(t, prom.addr, `up{job="heartbeat"} == 1`) {
			got = append(got, s.labels["instance"]+" customer="+s.labels["customer"])
		}
		sort.Strings(got)
		return len(got) == 2
	}, "both fleet targets to be scraped")
	want := []string{"127.0.0.1 customer=", "acme-fra1-mx1 customer=acme"}
	if !slices.Equal(got, want) {
		t.Errorf("instance labels %q, want %q", got, want)
	}
}
