//go:build unix

package main

// FIFOs, links to devices and the like in every place the exporter reads
// from outside: no scrape, start or shutdown may wait on them.

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

// stateName is the saved-state file name of a followed path (as
// internal/tail names it): a FIFO there must not hang the start.
func stateName(dir, prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, prefix+hex.EncodeToString(sum[:8])+".json")
}

func TestFIFOsEverywhere(t *testing.T) {
	root, stateDir := t.TempDir(), t.TempDir()
	for _, p := range []string{
		"/var/lib/heartbeat_exporter/textfile/x.prom",
		"/var/lib/clamav/daily.cvd",
		"/var/log/clamav/freshclam.log",
		"/var/lib/spamassassin/v.cf",
		"/var/lib/dpkg/status",
		"/var/spool/snfilter/a.status.minute.1.log.xml",
		"/var/log/mail.log",
	} {
		mkfifo(t, filepath.Join(root, p))
	}
	writeFile(t, filepath.Join(root, "var/lib/heartbeat_exporter/textfile/good.prom"), "good_value 1\n")
	mkfifo(t, stateName(stateDir, "tail-", filepath.Join(root, "/var/log/mail.log")))
	mkfifo(t, stateName(stateDir, "snf-", root))
	cfg := filepath.Join(t.TempDir(), "heartbeat.yml")
	writeFile(t, cfg, `filesystem:
  paths: [/]
textfile:
  directories: [/var/lib/heartbeat_exporter/textfile]
modules:
  - name: virus
    kind: clamav
    database_dir: /var/lib/clamav
    freshclam_log: /var/log/clamav/freshclam.log
  - name: spam
    kind: file
    version_file: /var/lib/spamassassin/v.cf
    version_regex: 'version (\S+)'
  - name: product
    kind: dpkg
    packages: [postfix]
snf:
  - path: /var/spool/snfilter/*.status.minute.*.log.xml
logs:
  - path: /var/log/mail.log
    presets: [postfix]
    poll_interval: 100ms
`)
	start := time.Now()
	p := startExporter(t, demoTree+"/proc", demoTree+"/sys", root,
		"--config.file="+cfg, "--state.dir="+stateDir, "--web.max-requests=2")
	t.Logf("started in %s", time.Since(start))

	client := &http.Client{Timeout: 30 * time.Second}
	get := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "3")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	for i := range 50 {
		code, b := get("/metrics")
		if code != http.StatusOK {
			t.Fatalf("scrape %d answered %d: %s", i, code, b)
		}
		body = b
	}
	for _, want := range []string{
		`heartbeat_scrape_collector_success{collector="textfile"} 0`,
		`heartbeat_scrape_collector_success{collector="modules"} 0`,
		`heartbeat_scrape_collector_success{collector="snf"} 0`,
		`heartbeat_scrape_collector_success{collector="logs"} 0`,
		`heartbeat_scrape_collector_success{collector="system"} 1`,
		"good_value 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _ := get("/metrics?collect[]=system"); code != http.StatusOK {
		t.Errorf("collect[]=system answered %d", code)
	}
	for _, want := range []string{"is a FIFO, not a regular file"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// Shutdown completes with the log's FIFO still in place.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatal("SIGTERM did not end the exporter")
	}
}
