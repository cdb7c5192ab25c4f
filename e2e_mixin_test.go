package main

// End-to-end test of the mixin: real Prometheus and Alertmanager on
// loopback, the exporter on the demo tree, the rendered rules loaded.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
	mixin "github.com/heartbeat-exporter/heartbeat_exporter/mixins/heartbeat-mixin"
)

const mixinDir = "mixins/heartbeat-mixin"

// fastRules evaluates every group each second; lowDisk also makes the
// warning "almost out of space" alert fire at once on any real disk (less
// than 101 % left) and keeps the critical one quiet.
const (
	fastRules = `{ _config+:: { rulesInterval: '1s', dailyRulesInterval: '1s' } }`
	lowDisk   = `{ _config+:: { fsSpaceAvailableWarningThreshold: 101, fsSpaceAvailableCriticalThreshold: -1, fsSpaceAvailableFor: '0s' } }`
)

func renderMixin(t *testing.T, override string) map[string]string {
	t.Helper()
	files, err := mixin.Render(mixinDir, override)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func writeRules(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for _, name := range []string{"alerts/alerts.yaml", "alerts/rules.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startDaemon runs a real outside program until the test ends and waits
// for its readiness URL.
func startDaemon(t *testing.T, ready string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(name), log)
		}
	})
	waitUpTo(t, 20*time.Second, func() bool {
		resp, err := http.Get(ready)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, filepath.Base(name)+" to be ready")
}

// webhookAlert is one alert of an Alertmanager webhook notification.
type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// webhookReceiver collects the alerts Alertmanager posts to it.
func webhookReceiver(t *testing.T) (*httptest.Server, chan webhookAlert) {
	alerts := make(chan webhookAlert, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []webhookAlert `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			t.Errorf("webhook: %v", err)
		}
		for _, a := range msg.Alerts {
			select {
			case alerts <- a:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, alerts
}

// awaitAlert returns the first alert matching want before the timeout.
func awaitAlert(t *testing.T, alerts chan webhookAlert, want func(webhookAlert) bool, what string) webhookAlert {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case a := <-alerts:
			if want(a) {
				return a
			}
		case <-timeout:
			t.Fatalf("no %s notification within 30s", what)
		}
	}
}

// startWithConfig writes a Prometheus-style daemon's config file into dir
// and starts it on a free loopback address, which it returns.
func startWithConfig(t *testing.T, dir, configName, config, bin string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	writeFile(t, filepath.Join(dir, configName), config)
	startDaemon(t, "http://"+addr+"/-/ready", bin, append(args,
		"--config.file="+filepath.Join(dir, configName),
		"--web.listen-address="+addr)...)
	return addr
}

// startAlertmanager routes every alert to the webhook at hookURL, grouped
// by alert name and mount point, with waits short enough for a test.
func startAlertmanager(t *testing.T, bin, dir, hookURL string) string {
	t.Helper()
	config := fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, mountpoint]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s/
        send_resolved: true
`, hookURL)
	return startWithConfig(t, dir, "alertmanager.yml", config, bin,
		"--storage.path="+filepath.Join(dir, "am"), "--cluster.listen-address=")
}

func TestMixinEndToEnd(t *testing.T) {
	prometheus := testenv.RequireTool(t, "prometheus", "prometheus")
	alertmanager := testenv.RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	// The exporter runs on a copy of the demo, so the test can add mail
	// to its log: ratios such as the spam share only have data once
	// counters have moved between samples.
	tree := copyDemoTree(t)
	exporter := startExporter(t, tree+"/proc", tree+"/sys", tree+"/root",
		"--config.file="+tree+"/heartbeat.yml", "--state.dir="+t.TempDir())
	dir := t.TempDir()

	hook, alerts := webhookReceiver(t)
	amAddr := startAlertmanager(t, alertmanager, dir, hook.URL)
	writeRules(t, dir, renderMixin(t, fastRules+" + "+lowDisk))
	promConfig := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [alerts.yaml, rules.yaml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ['%s']}]
scrape_configs:
  - job_name: heartbeat
    static_configs: [{targets: ['%s']}]
`, amAddr, exporter.addr)
	promAddr := startWithConfig(t, dir, "prometheus.yml", promConfig, prometheus,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.enable-lifecycle")

	isLowDiskOnRoot := func(a webhookAlert) bool {
		return a.Labels["alertname"] == "HeartbeatFilesystemAlmostOutOfSpace" && a.Labels["mountpoint"] == "/"
	}
	firing := awaitAlert(t, alerts, func(a webhookAlert) bool { return isLowDiskOnRoot(a) && a.Status == "firing" }, "firing low-disk")
	for k, v := range map[string]string{
		"severity": "warning", "job": "heartbeat", "instance": exporter.addr,
		"device": "/dev/vda1", "fstype": "ext4", "mountpoint": "/",
	} {
		if firing.Labels[k] != v {
			t.Errorf("firing alert label %s=%q, want %q (labels %v)", k, firing.Labels[k], v, firing.Labels)
		}
	}
	if got := firing.Annotations["summary"]; got != "Filesystem has less than 101% available space left." {
		t.Errorf("summary %q", got)
	}
	if !regexp.MustCompile(`^Filesystem / \(/dev/vda1\) on ` + regexp.QuoteMeta(exporter.addr) + ` has only \d+\.\d\d% available space left\.$`).MatchString(firing.Annotations["description"]) {
		t.Errorf("description %q", firing.Annotations["description"])
	}
	if !strings.HasSuffix(firing.Annotations["runbook_url"], "README.md#heartbeatfilesystemalmostoutofspace") {
		t.Errorf("runbook_url %q", firing.Annotations["runbook_url"])
	}

	// Prometheus has scraped the unchanged demo several times by now: the
	// same traffic once more makes every mail counter increase.
	testenv.AppendFile(t, filepath.Join(tree, "root/var/log/mail.log"), string(readFile(t, filepath.Join(demoTree, "root/var/log/mail.log"))))
	checkDashboardQueries(t, promAddr, exporter.addr)

	// The disk metrics go away (Prometheus now scrapes the exporter with
	// exclude[]=filesystem): the alert resolves. Reloading changed rules
	// instead did not do here: Prometheus 2.42 sent no resolved
	// notification for the changed rule's alerts within 30 s.
	writeFile(t, filepath.Join(dir, "prometheus.yml"), promConfig+"    params: {'exclude[]': [filesystem]}\n")
	if code := postReload(t, promAddr); code != http.StatusOK {
		t.Fatalf("reload answered %d", code)
	}
	awaitAlert(t, alerts, func(a webhookAlert) bool { return isLowDiskOnRoot(a) && a.Status == "resolved" }, "resolved low-disk")
}

// copyDemoTree copies the demo fixture tree into a temporary folder.
func copyDemoTree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("cp", "-a", demoTree, dst).CombinedOutput(); err != nil {
		t.Fatalf("copying the demo: %v\n%s", err, out)
	}
	return dst
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// waitUpTo polls cond every 50 ms until it holds or the time is up.
func waitUpTo(t *testing.T, limit time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// promQueryCount runs an instant query; it returns the number of series or
// the error Prometheus gave.
func promQueryCount(t *testing.T, promAddr, query string) (int, error) {
	t.Helper()
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("%v: %s", err, body)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s", r.Error)
	}
	return len(r.Data.Result), nil
}

var metricName = regexp.MustCompile(`\b(heartbeat_[a-zA-Z0-9_:]*|up)\b`)

// sourceMetrics lists the exported metrics a query reads, following
// recorded series back to the metrics their rules read.
func sourceMetrics(query string, recorded map[string]string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(q string) {
		for _, name := range metricName.FindAllString(q, -1) {
			if seen[name] {
				continue
			}
			seen[name] = true
			if expr, ok := recorded[name]; ok {
				walk(expr)
			}
		}
	}
	walk(query)
	var out []string
	for name := range seen {
		if _, ok := recorded[name]; !ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// demoMetricNames are the metric names of the golden demo output.
func demoMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "demo.metrics"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return names
}

func recordingRules(t *testing.T, rulesYAML string) map[string]string {
	t.Helper()
	recorded := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)- expr: (.*?)\n    record: "([^"]+)"`).FindAllStringSubmatch(rulesYAML, -1) {
		recorded[m[2]] = m[1]
	}
	if len(recorded) == 0 {
		t.Fatal("no recording rules found in rules.yaml")
	}
	return recorded
}

// checkDashboardQueries runs every panel query of every dashboard: each
// must parse, and each whose metrics the demo exports must return data.
// Only metrics that need a live daemon (clamd's answers, systemd's unit
// state: see notInDemo) may be absent from the demo; their panels are
// logged, and the collectors' own tests cover those metrics.
func checkDashboardQueries(t *testing.T, promAddr, instance string) {
	t.Helper()
	files := renderMixin(t, fastRules)
	dashboards, err := mixin.ParseDashboards(files)
	if err != nil {
		t.Fatal(err)
	}
	recorded := recordingRules(t, files["alerts/rules.yaml"])
	demo := demoMetricNames(t)
	// Enough samples for rate() and the recording rules.
	waitUpTo(t, 20*time.Second, func() bool {
		n, err := promQueryCount(t, promAddr, `count_over_time(up{job="heartbeat"}[1m]) >= 5`)
		return err == nil && n == 1
	}, "five scrapes")
	vars := strings.NewReplacer("$job", "heartbeat", "$instance", strings.ReplaceAll(regexp.QuoteMeta(instance), `\`, `\\`), "$__rate_interval", "10s")
	var checked, pending int
	for name, d := range dashboards {
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				query := vars.Replace(tg.Expr)
				n, err := promQueryCount(t, promAddr, query)
				if err != nil {
					t.Errorf("%s / %s: %s: %v", name, p.Title, query, err)
					continue
				}
				var missing []string
				for _, m := range sourceMetrics(query, recorded) {
					if !demo[m] {
						missing = append(missing, m)
					}
				}
				switch {
				case len(missing) > 0 && allNeedLiveDaemon(missing):
					pending++
					t.Logf("needs a live daemon: %s / %s (%s)", name, p.Title, strings.Join(missing, ", "))
				case len(missing) > 0:
					t.Errorf("%s / %s: metrics the demo does not serve: %s", name, p.Title, strings.Join(missing, ", "))
				case n == 0:
					t.Errorf("%s / %s: no data on the demo: %s", name, p.Title, query)
				default:
					checked++
				}
			}
		}
	}
	t.Logf("dashboard queries: %d returned data, %d need a live clamd, systemd or push mode", checked, pending)
}

// notInDemo matches the metrics the demo cannot serve: clamd's answers
// (the demo runs no clamd; TestModulesRealClamd covers them) and systemd
// unit state (no system bus in the demo) and push mode (only with
// --push.url; push_e2e_test.go covers it), the nftables count (read over
// netlink only when --path.procfs is /proc) and the signatures behind the
// published version (a DNS query, off in the demo; both covered by
// collector/inventory_test.go).
var notInDemo = regexp.MustCompile(`^heartbeat_(clamd_(info|queue_length|threads|memory_bytes|database_timestamp_seconds)|service_systemd_.*|push_.*|inventory_firewall_(readable|rules)|module_database_versions_behind)$`)

func allNeedLiveDaemon(metrics []string) bool {
	for _, m := range metrics {
		if !notInDemo.MatchString(m) {
			return false
		}
	}
	return true
}
