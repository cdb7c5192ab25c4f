package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

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

// examples/grafana/provisioning is Grafana's provisioning layout: a file
// dashboard provider and a Prometheus data source of the type the
// dashboards' datasource variable lists, its time interval the example
// scrape interval; the README's Grafana section points at it.
func TestGrafanaProvisioningExample(t *testing.T) {
	var providers struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Folder, Type    string
			OrgID                 int  `yaml:"orgId"`
			DisableDeletion       bool `yaml:"disableDeletion"`
			AllowUIUpdates        bool `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int  `yaml:"updateIntervalSeconds"`
			Options               struct{ Path string }
		}
	}
	var sources struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, Access, URL string
			IsDefault                    bool `yaml:"isDefault"`
			Editable                     bool
			JSONData                     struct {
				TimeInterval string `yaml:"timeInterval"`
			} `yaml:"jsonData"`
		}
	}
	decodeStrict(t, "examples/grafana/provisioning/dashboards/heartbeat.yml", &providers)
	decodeStrict(t, "examples/grafana/provisioning/datasources/prometheus.yml", &sources)
	if providers.APIVersion != 1 || len(providers.Providers) != 1 {
		t.Fatalf("dashboard provisioning: apiVersion %d, %d providers", providers.APIVersion, len(providers.Providers))
	}
	if p := providers.Providers[0]; p.Type != "file" || !filepath.IsAbs(p.Options.Path) {
		t.Errorf("dashboard provider: type %q path %q, want a file provider with an absolute path", p.Type, p.Options.Path)
	}
	if sources.APIVersion != 1 || len(sources.Datasources) != 1 {
		t.Fatalf("data source provisioning: apiVersion %d, %d data sources", sources.APIVersion, len(sources.Datasources))
	}
	ds := sources.Datasources[0]
	var scrape struct {
		ScrapeConfigs []struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"scrape_configs"`
	}
	raw, err := os.ReadFile("examples/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &scrape); err != nil || len(scrape.ScrapeConfigs) == 0 {
		t.Fatalf("examples/prometheus.yml: %v", err)
	}
	if ds.JSONData.TimeInterval != scrape.ScrapeConfigs[0].ScrapeInterval {
		t.Errorf("data source timeInterval %q, examples/prometheus.yml scrapes every %q", ds.JSONData.TimeInterval, scrape.ScrapeConfigs[0].ScrapeInterval)
	}
	if !ds.IsDefault {
		t.Error("the data source is not the default one the dashboards start on")
	}
	dashboards, _ := filepath.Glob("dashboards/*.json")
	if len(dashboards) == 0 {
		t.Fatal("no dashboards/*.json")
	}
	for _, path := range dashboards {
		var d struct {
			Templating struct {
				List []struct{ Name, Type, Query any }
			}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		found := false
		for _, v := range d.Templating.List {
			if v.Name == "datasource" {
				found = true
				if v.Query != ds.Type {
					t.Errorf("%s: datasource variable lists %v, the example provisions %s", path, v.Query, ds.Type)
				}
			}
		}
		if !found {
			t.Errorf("%s: no datasource variable", path)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, grafana, _ := strings.Cut(string(readme), "\n## Grafana\n")
	grafana, _, _ = strings.Cut(grafana, "\n## ")
	if !strings.Contains(grafana, "examples/grafana/") {
		t.Error("the README's Grafana section does not point at examples/grafana/")
	}
}

func decodeStrict(t *testing.T, path string, into any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
