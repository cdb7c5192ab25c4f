package main

// Push mode end to end: the built exporter pushes to a real Debian
// prometheus-pushgateway and to a real prometheus with its remote-write
// receiver, both on loopback in temporary folders; the target goes away
// and comes back while the exporter keeps serving /metrics.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// daemon is a real outside server the test started.
type daemon struct {
	t       *testing.T
	path    string
	args    []string
	addr    string
	readyAt string // a path answering 200 once the server is up
	cmd     *exec.Cmd
	log     *syncBuffer
}

func (d *daemon) start() {
	d.t.Helper()
	d.cmd = exec.Command(d.path, d.args...)
	d.cmd.Dir = d.t.TempDir()
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	waitLong(d.t, func() bool {
		resp, err := http.Get("http://" + d.addr + d.readyAt)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return d.readyAt == "" || resp.StatusCode == http.StatusOK
	}, filepath.Base(d.path)+" to come up on "+d.addr)
}

func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	_ = d.cmd.Wait()
	d.cmd = nil
}

func newDaemon(t *testing.T, path, addr, readyAt string, args ...string) *daemon {
	d := &daemon{t: t, path: path, addr: addr, readyAt: readyAt, log: &syncBuffer{}}
	d.args = append([]string{"--web.listen-address=" + d.addr}, args...)
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(path), d.log)
		}
	})
	return d
}

// waitLong polls cond for up to 30 s: real servers start slower than the
// exporter on a busy 2-core machine. Not a timing assertion: a generous
// bound on something that must happen.
func waitLong(t *testing.T, cond func() bool, what string) {
	t.Helper()
	waitUntil(t, 30*time.Second, cond, what)
}

func waitUntil(t *testing.T, limit time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pushFlags make the exporter push every 500 ms with no jitter (each send
// may take until the next is due: room enough on a loaded machine).
func pushFlags(u, protocol string, extra ...string) []string {
	return append([]string{"--push.url=" + u, "--push.protocol=" + protocol,
		"--push.interval=500ms", "--push.jitter=0", "--push.timeout=2s"}, extra...)
}

// sampleValue returns the value of the first line of metrics starting
// with series, or -1.
func sampleValue(metrics, series string) float64 {
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// sendsFailWhileServing waits until the exporter counts connect failures,
// checking that /metrics is served in full all along.
func sendsFailWhileServing(t *testing.T, exp *process) {
	t.Helper()
	before := sampleValue(exp.metrics(t), `heartbeat_push_failures_total{reason="connect"}`)
	waitLong(t, func() bool {
		m := exp.metrics(t) // fails the test unless 200
		if !strings.Contains(m, "heartbeat_load1 0.42") {
			t.Fatal("/metrics lost the collectors' metrics during the outage")
		}
		return sampleValue(m, `heartbeat_push_failures_total{reason="connect"}`) > before
	}, "connect failures to be counted")
}

// newPushgateway runs Debian's pushgateway in memory only: its packaged
// default persists to /var/lib/prometheus, which would both touch the host
// and bring old pushes back after a restart.
func newPushgateway(t *testing.T, args ...string) *daemon {
	bin := testenv.RequireTool(t, "prometheus-pushgateway", "prometheus-pushgateway")
	return newDaemon(t, bin, freeAddr(t), "/-/ready", append([]string{"--persistence.file="}, args...)...)
}

// user:password@ in --push.url is sent as basic auth (a Pushgateway behind
// --web.config.file) and never written to the log.
func TestPushBasicAuthInURL(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("pushpass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	writeFile(t, webConfig, "basic_auth_users:\n  gw: "+string(hash)+"\n")
	pg := newPushgateway(t, "--web.config.file="+webConfig)
	pg.readyAt = "" // every path asks for the password: wait for the port only
	pg.start()
	exp := startDemo(t, pushFlags("http://gw:pushpass@"+pg.addr, "pushgateway")...)
	waitLong(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+pg.addr+"/metrics", nil)
		req.SetBasicAuth("gw", "pushpass")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `heartbeat_load1{instance="demo-gateway-01",job="heartbeat"} 0.42`)
	}, "the push through basic auth")
	if strings.Contains(exp.stderr.String(), "pushpass") {
		t.Error("the push password appears in the exporter's log")
	}
	mustContain(t, exp.stderr.String(), "gw:xxxxx@")

	// A wrong password: refused (401, counted as http_status), and the
	// failure logged without it, though the push package quotes the URL.
	wrong := startDemo(t, pushFlags("http://gw:badpass@"+pg.addr, "pushgateway")...)
	waitLong(t, func() bool {
		return sampleValue(wrong.metrics(t), `heartbeat_push_failures_total{reason="http_status"}`) > 0
	}, "the refused push to be counted")
	waitLong(t, func() bool { return strings.Contains(wrong.stderr.String(), "push failed") }, "the failure to be logged")
	if strings.Contains(wrong.stderr.String(), "badpass") {
		t.Errorf("the push password appears in the exporter's log:\n%s", wrong.stderr)
	}
}

func TestPushToPushgateway(t *testing.T) {
	pg := newPushgateway(t)
	pg.start()
	exp := startDemo(t, pushFlags("http://"+pg.addr, "pushgateway", "--push.delete-on-shutdown")...)

	const pushed = `heartbeat_load1{instance="demo-gateway-01",job="heartbeat"} 0.42`
	arrived := func() bool {
		_, body := httpGet(t, "http://"+pg.addr+"/metrics")
		return strings.Contains(body, pushed)
	}
	waitLong(t, arrived, "the push to arrive at the pushgateway")
	_, body := httpGet(t, "http://"+pg.addr+"/metrics")
	mustContain(t, body,
		`heartbeat_node_info{customer="acme",hostname="mx1.example.net",instance="demo-gateway-01",job="heartbeat",node_id="demo-gateway-01",site="fra1"} 1`,
		`heartbeat_push_last_success_timestamp_seconds{instance="demo-gateway-01",job="heartbeat"}`,
		`push_time_seconds{instance="demo-gateway-01",job="heartbeat"}`)

	own := exp.metrics(t)
	if sampleValue(own, "heartbeat_push_last_success_timestamp_seconds") <= 0 {
		t.Error("heartbeat_push_last_success_timestamp_seconds not set after a successful push")
	}
	mustContain(t, own, `heartbeat_push_failures_total{reason="encode"} 0`, "heartbeat_push_duration_seconds ")
	promtoolCheckMetrics(t, own)

	pg.stop()
	sendsFailWhileServing(t, exp)
	pg.start() // same port, empty store: only what is pushed from now on
	waitLong(t, arrived, "pushes to resume after the pushgateway came back")

	// A clean shutdown deletes the group.
	_ = exp.cmd.Process.Signal(syscall.SIGTERM)
	_ = exp.cmd.Wait()
	if _, body := httpGet(t, "http://"+pg.addr+"/metrics"); strings.Contains(body, `job="heartbeat"`) {
		t.Error("the group is still on the pushgateway after a clean shutdown with --push.delete-on-shutdown")
	}
	mustContain(t, exp.stderr.String(), "pushed metrics withdrawn on shutdown")
}

// promQuery runs an instant query and returns the result's label sets
// and values.
func promQuery(t *testing.T, addr, query string) []promSample {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/api/v1/query?query="+url.QueryEscape(query))
	if code != http.StatusOK {
		t.Fatalf("query %s: %d %s", query, code, body)
	}
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	out := make([]promSample, len(r.Data.Result))
	for i, s := range r.Data.Result {
		v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		out[i] = promSample{labels: s.Metric, value: v}
	}
	return out
}

type promSample struct {
	labels map[string]string
	value  float64
}

// labelSets renders each result's labels but job and instance as one
// sorted line each.
func labelSets(samples []promSample) []string {
	var out []string
	for _, s := range samples {
		var pairs []string
		for k, v := range s.labels {
			if k != "job" && k != "instance" {
				pairs = append(pairs, k+"="+strconv.Quote(v))
			}
		}
		sort.Strings(pairs)
		out = append(out, strings.Join(pairs, ","))
	}
	sort.Strings(out)
	return out
}

func startRemoteWritePrometheus(t *testing.T, addr, scrapeTarget string) *daemon {
	bin := testenv.RequireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	writeFile(t, cfg, fmt.Sprintf(`global: {scrape_interval: 1s}
scrape_configs:
  - job_name: scraped
    static_configs: [{targets: ['%s']}]
`, scrapeTarget))
	// Debian's 2.42 names the receiver flag --web.enable-remote-write-receiver
	// (older releases: --enable-feature=remote-write-receiver).
	d := newDaemon(t, bin, addr, "/-/ready", "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.enable-remote-write-receiver")
	d.start()
	return d
}

// Remote write to a real Prometheus: the pushed series have the same
// label sets as Prometheus' own scrape of the same exporter gets, plus
// job and instance; a Prometheus restart loses only the sends in between;
// a clean shutdown marks the series stale.
func TestPushRemoteWriteToPrometheus(t *testing.T) {
	promAddr := freeAddr(t)
	exp := startDemo(t, pushFlags("http://"+promAddr+"/api/v1/write", "remote_write",
		"--push.delete-on-shutdown", "--web.disable-exporter-metrics")...)
	prom := startRemoteWritePrometheus(t, promAddr, exp.addr)

	const pushedLoad = `heartbeat_load1{job="heartbeat",instance="demo-gateway-01"}`
	waitLong(t, func() bool { return len(promQuery(t, promAddr, pushedLoad)) == 1 }, "remote-written series")
	waitLong(t, func() bool { return len(promQuery(t, promAddr, `heartbeat_load1{job="scraped"}`)) == 1 }, "Prometheus' own scrape")

	volatileName := regexp.MustCompile(`^(up|scrape_.*)$`)
	pushed := labelSets(promQuery(t, promAddr, `{job="heartbeat"}`))
	var scraped []string
	for _, s := range labelSets(promQuery(t, promAddr, `{job="scraped"}`)) {
		name := strings.Trim(strings.SplitN(strings.SplitN(s, "__name__=", 2)[1], ",", 2)[0], `"`)
		if !volatileName.MatchString(name) {
			scraped = append(scraped, s)
		}
	}
	if !slices.Equal(pushed, scraped) {
		t.Errorf("remote-written label sets differ from scraped ones:\n%s", lineDiff(strings.Join(scraped, "\n"), strings.Join(pushed, "\n")))
	}
	if got := promQuery(t, promAddr, pushedLoad); got[0].value != 0.42 {
		t.Errorf("pushed heartbeat_load1 = %v, want 0.42", got[0].value)
	}

	countQuery := `count_over_time(` + pushedLoad + `[10m])`
	before := promQuery(t, promAddr, countQuery)[0].value
	prom.stop()
	sendsFailWhileServing(t, exp)
	restarted := time.Now()
	prom.start() // same port, same data folder
	waitLong(t, func() bool {
		s := promQuery(t, promAddr, `timestamp(`+pushedLoad+`)`)
		return len(s) == 1 && s[0].value > float64(restarted.UnixMilli())/1000
	}, "pushes to resume after Prometheus came back")
	if after := promQuery(t, promAddr, countQuery)[0].value; after <= before {
		t.Errorf("samples before the outage lost: %v before, %v after", before, after)
		_, raw := httpGet(t, "http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(pushedLoad+"[10m]"))
		t.Log(raw)
	}

	_ = exp.cmd.Process.Signal(syscall.SIGTERM)
	_ = exp.cmd.Wait()
	mustContain(t, exp.stderr.String(), "pushed metrics withdrawn on shutdown")
	if got := promQuery(t, promAddr, pushedLoad); len(got) != 0 {
		t.Errorf("series still current after the staleness markers: %v", got)
	}
}

func TestPushFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--push.url=ftp://x"},
		{"--push.url=http://127.0.0.1:1", "--push.jitter=2m"},
		{"--push.url=http://127.0.0.1:1", "--push.interval=0s"},
	} {
		out, err := execBinary(append(args, "--config.check")...)
		if err == nil || !strings.Contains(out, "--push.") {
			t.Errorf("%v: accepted (err %v): %s", args, err, out)
		}
	}
}
