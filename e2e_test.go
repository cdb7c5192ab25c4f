package main

// End-to-end tests: the built binary, started on the demo fixture trees,
// answers real HTTP requests on loopback.

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/procs/startidle"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var binary string // built once in TestMain

func TestMain(m *testing.M) {
	flag.Parse()
	if startidle.Lowered { // the tests run in this process get every CPU
		runtime.SetDefaultGOMAXPROCS()
	}
	dir, err := os.MkdirTemp("", "heartbeat-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "heartbeat_exporter")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the exporter: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// demoTree is the fixture tree shared by the demo and these tests.
const demoTree = "examples/demo"

// process is a running exporter.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
}

// syncBuffer is the exporter's stderr, written by exec's copying goroutine
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startExporter runs the binary on the given trees with extra flags and
// waits until it answers.
func startExporter(t *testing.T, proc, sys, root string, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{
		"--web.listen-address=" + addr,
		"--path.procfs=" + proc,
		"--path.sysfs=" + sys,
		"--path.rootfs=" + root,
	}, extra...)
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--state.dir=") }) {
		// Not the default folder, which the exporter creates: positions
		// saved there would carry over from one test (and run) to the next.
		args = append(args, "--state.dir="+t.TempDir())
	}
	p := &process{cmd: exec.Command(binary, args...), addr: addr, stderr: &syncBuffer{}}
	p.cmd.Env = append(os.Environ(), "TZ=UTC")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("exporter log:\n%s", p.stderr)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not come up on %s: %v\n%s", addr, err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startDemo(t *testing.T, extra ...string) *process {
	return startExporter(t, demoTree+"/proc", demoTree+"/sys", demoTree+"/root",
		append([]string{"--config.file=" + demoTree + "/heartbeat.yml", "--state.dir=" + t.TempDir()}, extra...)...)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// postReload POSTs /-/reload at addr (ours or Prometheus') and returns the
// status code.
func postReload(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (p *process) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func (p *process) metrics(t *testing.T) string {
	t.Helper()
	code, body := p.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics answered %d: %s", code, body)
	}
	return body
}

// volatile matches series whose values depend on the machine or the
// moment, not on the fixtures: their values are replaced before comparing.
var volatile = regexp.MustCompile(`^(heartbeat_scrape_collector_duration_seconds|` +
	`heartbeat_filesystem_(avail|free|size)_bytes|heartbeat_filesystem_files(_free)?|` +
	`heartbeat_textfile_mtime_seconds|heartbeat_log_last_read_timestamp_seconds|` +
	`heartbeat_module_last_update_timestamp_seconds|heartbeat_module_package_last_update_timestamp_seconds|` +
	`heartbeat_quarantine_(last_scan_timestamp|scan_duration|oldest_message_timestamp)_seconds|heartbeat_quarantine_disk_bytes|` +
	`heartbeat_core_file_newest_timestamp_seconds|` +
	`heartbeat_exporter_config_last_reload_success_timestamp_seconds)([{ ])`)

var quarantinePending = regexp.MustCompile(`(?m)^heartbeat_quarantine_scan_pending\{.*\} 1$`)

var buildInfoLabels = regexp.MustCompile(`^(heartbeat_exporter_build_info)\{.*\} 1$`)

// sample returns the value of one series (name{labels} as served, labels
// in the served order) as an integer, or -1 when it is not served.
func (p *process) sample(t *testing.T, series string) int {
	t.Helper()
	for _, line := range strings.Split(p.metrics(t), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return int(f)
		}
	}
	return -1
}

func normalize(metrics string) string {
	var out []string
	for _, line := range strings.Split(metrics, "\n") {
		switch {
		case volatile.MatchString(line):
			line = line[:strings.LastIndexByte(line, ' ')] + " <volatile>"
		case buildInfoLabels.MatchString(line):
			line = buildInfoLabels.ReplaceAllString(line, "$1{<build labels>} 1")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestDemoGolden compares the whole /metrics output on the demo tree with
// testdata/demo.metrics; run `go test -run TestDemoGolden -update .` to
// rewrite it after an intended change, and review the diff.
func TestDemoGolden(t *testing.T) {
	p := startDemo(t, "--web.disable-exporter-metrics")
	raw := p.metrics(t)
	// Quarantines are scanned in the background and a scrape never waits
	// for the first scan: wait for it here, so the golden file holds the
	// counts rather than a race.
	waitFor(t, func() bool {
		raw = p.metrics(t)
		return !quarantinePending.MatchString(raw)
	}, "the first quarantine scan")
	got := normalize(raw)
	golden := filepath.Join("testdata", "demo.metrics")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (rerun with -update and review the diff):\n%s", golden, lineDiff(string(want), got))
	}
	promtoolCheckMetrics(t, raw)
	// A family two collectors emit with different HELP texts is dropped by
	// the gatherer with only a logged error: the demo must log none.
	if strings.Contains(p.stderr.String(), "level=error") {
		t.Errorf("the demo scrape logged errors:\n%s", p.stderr)
	}
}

// TestDemoWithExporterMetrics checks the full output, runtime metrics
// included, passes promtool's lint too.
func TestDemoWithExporterMetrics(t *testing.T) {
	p := startDemo(t)
	raw := p.metrics(t)
	for _, want := range []string{"go_goroutines ", "process_resident_memory_bytes ", "promhttp_metric_handler_requests_total{code=\"200\"}", "heartbeat_exporter_build_info{"} {
		if !strings.Contains(raw, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	promtoolCheckMetrics(t, raw)
}

func promtoolCheckMetrics(t *testing.T, metrics string) {
	t.Helper()
	promtool := testenv.RequireTool(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(metrics)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics complained (%v):\n%s", err, out)
	}
}

// lineDiff lists lines only in one of a and b, enough to see what changed.
func lineDiff(a, b string) string {
	inA := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		inA[l] = true
	}
	inB := map[string]bool{}
	var d []string
	for _, l := range strings.Split(b, "\n") {
		inB[l] = true
		if !inA[l] {
			d = append(d, "+ "+l)
		}
	}
	for _, l := range strings.Split(a, "\n") {
		if !inB[l] {
			d = append(d, "- "+l)
		}
	}
	return strings.Join(d, "\n")
}
