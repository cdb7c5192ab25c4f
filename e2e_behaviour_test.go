package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A broken source fails its own collector only: success 0 for system, the
// filesystem collector and the exporter metrics are still served.
func TestBrokenSourceFailsOnlyItsCollector(t *testing.T) {
	proc := filepath.Join(t.TempDir(), "proc")
	if err := os.CopyFS(proc, os.DirFS(demoTree+"/proc")); err != nil {
		t.Fatal(err)
	}
	// A directory where /proc/loadavg should be: unreadable as a file,
	// even for root (CI runs as root, so chmod 000 would not do).
	loadavg := filepath.Join(proc, "loadavg")
	if err := os.Remove(loadavg); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(loadavg, 0o755); err != nil {
		t.Fatal(err)
	}
	p := startExporter(t, proc, demoTree+"/sys", demoTree+"/root",
		"--config.file="+demoTree+"/heartbeat.yml")
	m := p.metrics(t)
	for _, want := range []string{
		`heartbeat_scrape_collector_success{collector="system"} 0`,
		`heartbeat_scrape_collector_success{collector="filesystem"} 1`,
		`heartbeat_memory_total_bytes `, // the rest of system is still served
		`heartbeat_filesystem_avail_bytes{`,
		`heartbeat_exporter_build_info{`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(m, "heartbeat_load1 ") {
		t.Error("heartbeat_load1 served from a broken loadavg")
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "loadavg") },
		"the log to name the broken file")
	// Logged once per change, not at every scrape.
	p.metrics(t)
	p.metrics(t)
	if n := strings.Count(p.stderr.String(), `msg="collector failed"`); n != 1 {
		t.Errorf("failure logged %d times over 3 scrapes, want once", n)
	}
}

func TestCollectAndExcludeParameters(t *testing.T) {
	p := startDemo(t)
	_, onlySystem := p.get(t, "/metrics?collect[]=system")
	if !strings.Contains(onlySystem, "heartbeat_load1 ") || strings.Contains(onlySystem, "heartbeat_filesystem_") {
		t.Error("collect[]=system did not give system alone")
	}
	_, noSystem := p.get(t, "/metrics?exclude[]=system")
	if strings.Contains(noSystem, "heartbeat_load1 ") || !strings.Contains(noSystem, "heartbeat_filesystem_") {
		t.Error("exclude[]=system did not drop system alone")
	}
	if !strings.Contains(noSystem, `heartbeat_scrape_collector_success{collector="filesystem"} 1`) ||
		strings.Contains(noSystem, `collector="system"`) {
		t.Error("scrape metrics do not follow the filter")
	}
	code, body := p.get(t, "/metrics?collect[]=nosuch")
	if code != http.StatusBadRequest || !strings.Contains(body, "nosuch") {
		t.Errorf("unknown collector: got %d %q, want 400 naming it", code, body)
	}
}

func TestDisabledCollectorFlag(t *testing.T) {
	p := startDemo(t, "--no-collector.filesystem")
	m := p.metrics(t)
	if strings.Contains(m, "heartbeat_filesystem_") || !strings.Contains(m, "heartbeat_load1 ") {
		t.Error("--no-collector.filesystem did not disable filesystem alone")
	}
}

// A bad new config is refused on POST /-/reload and on SIGHUP; the old one
// stays in force and the reload metrics say so. A good one is taken.
func TestReloadKeepsOldConfigOnError(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "heartbeat.yml")
	writeFile(t, cfg, "node:\n  labels: {customer: acme}\n")
	p := startExporter(t, demoTree+"/proc", demoTree+"/sys", demoTree+"/root", "--config.file="+cfg, "--web.enable-lifecycle")
	mustContain(t, p.metrics(t), `customer="acme"`, "heartbeat_exporter_config_last_reload_successful 1")

	writeFile(t, cfg, "node:\n  labels: {customer: globex}\n  lables: {}\n")
	if code := postReload(t, p.addr); code != http.StatusBadRequest {
		t.Errorf("bad reload answered %d, want 400", code)
	}
	m := p.metrics(t)
	mustContain(t, m, `customer="acme"`, "heartbeat_exporter_config_last_reload_successful 0")
	if !strings.Contains(p.stderr.String(), cfg+":3: node.lables") {
		t.Errorf("log does not name file, line and field:\n%s", p.stderr)
	}

	writeFile(t, cfg, "node:\n  labels: {customer: globex}\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		m := p.metrics(t)
		return strings.Contains(m, `customer="globex"`) && strings.Contains(m, "heartbeat_exporter_config_last_reload_successful 1")
	}, "SIGHUP to load the good config")

	code, _ := p.get(t, "/-/reload")
	if code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload answered %d, want 405", code)
	}
}

func TestConfigCheckFlag(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	writeFile(t, bad, "filesystem:\n  paths: [relative]\n")
	out, err := execBinary("--config.check", "--config.file="+bad)
	if err == nil || !strings.Contains(out, bad+":2: filesystem.paths[0]") {
		t.Errorf("--config.check on a bad file: err=%v out=%q", err, out)
	}
	out, err = execBinary("--config.check", "--config.file="+demoTree+"/heartbeat.yml")
	if err != nil || !strings.Contains(out, "valid") {
		t.Errorf("--config.check on the demo config: err=%v out=%q", err, out)
	}
	if out, err := execBinary("--config.check"); err != nil {
		t.Errorf("embedded default does not validate: %v %s", err, out)
	}
}

func execBinary(args ...string) (string, error) {
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	waitUntil(t, 5*time.Second, cond, what)
}

// The embedded default must be harmless on any host, mail products or not:
// on this machine's real /proc, /sys and / every collector succeeds and
// nothing is logged at warn or error level.
func TestEmbeddedDefaultOnThisHost(t *testing.T) {
	p := startExporter(t, "/proc", "/sys", "/")
	m := p.metrics(t)
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "heartbeat_scrape_collector_success{") && strings.HasSuffix(line, " 0") {
			t.Errorf("collector failed with the embedded default: %s", line)
		}
	}
	promtoolCheckMetrics(t, m)
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(line, "level=error") || strings.Contains(line, "level=warn") {
			t.Errorf("embedded default logs a problem: %s", line)
		}
	}
}
