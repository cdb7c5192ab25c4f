package mixin

import (
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

// repoRoot is where the rendered files are checked in.
const repoRoot = "../.."

func renderDefault(t *testing.T) map[string]string {
	t.Helper()
	files, err := Render(".", "{}")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestRenderedFilesUpToDate is `make mixin-check`: the checked-in
// alerts/, rules and dashboards must be what the jsonnet renders now.
func TestRenderedFilesUpToDate(t *testing.T) {
	files := renderDefault(t)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Errorf("%s: %v (run make mixin)", name, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s is stale: run make mixin and commit the result", name)
		}
	}
	onDisk, err := filepath.Glob(filepath.Join(repoRoot, "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range onDisk {
		name := "dashboards/" + filepath.Base(path)
		if _, ok := files[name]; !ok {
			t.Errorf("%s is checked in but no longer rendered: remove it", name)
		}
	}
}

func ruleFiles() []string {
	return []string{
		filepath.Join(repoRoot, "alerts", "alerts.yaml"),
		filepath.Join(repoRoot, "alerts", "rules.yaml"),
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	out, err := exec.Command(promtool, append([]string{"check", "rules"}, ruleFiles()...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

func TestPromtoolUnitTests(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	tests, err := filepath.Glob("tests/*.yaml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no unit tests in tests/: %v", err)
	}
	out, err := exec.Command(promtool, append([]string{"test", "rules"}, tests...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// ruleGroups is the shape of a Prometheus rule file.
type ruleGroups struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert  string            `yaml:"alert"`
			Record string            `yaml:"record"`
			Expr   string            `yaml:"expr"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T, path string) ruleGroups {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g ruleGroups
	if err := yaml.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

// TestEveryAlertIsUnitTested: each alert (and severity) has a unit test
// where it fires and one where it must not.
func TestEveryAlertIsUnitTested(t *testing.T) {
	type unitTests struct {
		GroupEvalOrder []string `yaml:"group_eval_order"`
		Tests          []struct {
			AlertRuleTest []struct {
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	fires := map[string]bool{}  // alertname/severity
	silent := map[string]bool{} // alertname
	paths, _ := filepath.Glob("tests/*.yaml")
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var u unitTests
		if err := yaml.Unmarshal(raw, &u); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// Unnamed groups run in no fixed order: an alert would see this
		// or the previous evaluation's recorded values, at random.
		for _, file := range ruleFiles() {
			for _, g := range readRules(t, file).Groups {
				if !slices.Contains(u.GroupEvalOrder, g.Name) {
					t.Errorf("%s: group_eval_order lacks %s", path, g.Name)
				}
			}
		}
		for _, tc := range u.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) == 0 {
					silent[a.Alertname] = true
				}
				for _, e := range a.ExpAlerts {
					labels, _ := e["exp_labels"].(map[string]any)
					fires[a.Alertname+"/"+asString(labels["severity"])] = true
				}
			}
		}
	}
	for _, g := range readRules(t, ruleFiles()[0]).Groups {
		for _, r := range g.Rules {
			if !fires[r.Alert+"/"+r.Labels["severity"]] {
				t.Errorf("%s (severity %s) has no unit test where it fires", r.Alert, r.Labels["severity"])
			}
			if !silent[r.Alert] {
				t.Errorf("%s has no unit test where it must not fire", r.Alert)
			}
		}
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func TestDashboardStructure(t *testing.T) {
	dashboards, err := ParseDashboards(renderDefault(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(dashboards) != 4 {
		t.Errorf("got %d dashboards, want fleet, host, mail flow and MessageSniffer", len(dashboards))
	}
	uids := map[string]bool{}
	for name, d := range dashboards {
		if uids[d.UID] || d.UID == "" {
			t.Errorf("%s: uid %q empty or not unique", name, d.UID)
		}
		uids[d.UID] = true
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Name)
		}
		sort.Strings(vars)
		if !slices.Equal(vars, []string{"datasource", "instance", "job"}) {
			t.Errorf("%s: template variables %v, want datasource, instance, job", name, vars)
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] || p.ID == 0 {
				t.Errorf("%s: panel %q id %d zero or not unique", name, p.Title, p.ID)
			}
			ids[p.ID] = true
			if p.Datasource.UID != "${datasource}" {
				t.Errorf("%s: panel %q does not use the datasource variable", name, p.Title)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: panel %q has no unit", name, p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", name, p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: a query of panel %q does not use the datasource variable", name, p.Title)
				}
				if !strings.Contains(tg.Expr, `job=~"$job"`) || !strings.Contains(tg.Expr, `instance=~"$instance"`) {
					t.Errorf("%s: panel %q query ignores $job or $instance: %s", name, p.Title, tg.Expr)
				}
			}
		}
	}
}

// TestUnitTestsCatchChangedThresholds renders the mixin with one threshold
// moved and expects the unit tests of that alert to fail: they pin the
// thresholds, not just that something fires.
func TestUnitTestsCatchChangedThresholds(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	for _, m := range []struct{ override, tests string }{
		{`{ _config+:: { serviceRestartThreshold: 2 } }`, "services.yaml"},
		{`{ _config+:: { fsSpaceAvailableWarningThreshold: 4 } }`, "filesystem.yaml"},
		{`{ _config+:: { definitionsMaxAgeSeconds: 180000 } }`, "modules.yaml"},
		{`{ _config+:: { signaturesVersionsBehindThreshold: 4 } }`, "inventory.yaml"},
		{`{ _config+:: { listenerAllowedPorts: [22, 25, 445] } }`, "inventory.yaml"},
	} {
		files, err := Render(".", m.override)
		if err != nil {
			t.Fatal(err)
		}
		// The unit tests name the rules as ../../../alerts/*.yaml.
		root := t.TempDir()
		testsDir := filepath.Join(root, "mixins", "heartbeat-mixin", "tests")
		for _, dir := range []string{testsDir, filepath.Join(root, "alerts")} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"alerts/alerts.yaml", "alerts/rules.yaml"} {
			if err := os.WriteFile(filepath.Join(root, name), []byte(files[name]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := os.ReadFile(filepath.Join("tests", m.tests))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(testsDir, m.tests), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "test", "rules", filepath.Join(testsDir, m.tests)).CombinedOutput()
		if err == nil {
			t.Errorf("tests/%s still pass with %s:\n%s", m.tests, m.override, out)
		}
	}
}
