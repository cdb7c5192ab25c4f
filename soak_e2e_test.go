package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// soakDuration is how long TestSoak mixes its load (HEARTBEAT_SOAK_SECONDS
// overrides it).
func soakDuration(t *testing.T) time.Duration {
	if s := os.Getenv("HEARTBEAT_SOAK_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("HEARTBEAT_SOAK_SECONDS=%q", s)
		}
		return time.Duration(n) * time.Second
	}
	return 60 * time.Second
}

// soakRSSLimit bounds the exporter's resident memory at the end of the
// soak: about 26 MiB measured without the race detector; under -race the
// exporter is built with it too, and its shadow memory multiplies that.
func soakRSSLimit() int64 {
	if raceEnabled {
		return 400 << 20
	}
	return 100 << 20
}

// TestSoak runs one exporter for a minute under everything at once:
// scrapes, reloads (SIGHUP and POST /-/reload), log appends with
// rotations, textfile rewrites, a growing quarantine, idle connections,
// and the bad inputs of issue 18 (non-UTF-8 captures, file names and
// quarantine names, huge lines, a broken textfile). Every scrape must
// answer 200 with the logs, textfile and quarantine collectors
// successful; at the end every line written is counted exactly once, and
// goroutines, descriptors and RSS are back to their idle numbers.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: not in -short")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	mailLog := filepath.Join(root, "var/log/mail.log")
	textDir := filepath.Join(root, "textfile")
	quarantine := filepath.Join(root, "quarantine")
	for _, d := range []string{filepath.Dir(mailLog), textDir, quarantine} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "heartbeat.yml")
	config := func(site int) {
		writeFile(t, cfg, fmt.Sprintf(`node:
  labels: {site: s%d}
logs:
  - path: /var/log/mail.log
    presets: [errors]
    start_at: beginning
    poll_interval: 100ms
    rotate_grace: 1s
    rules:
      - name: hit
        regex: 'HIT (?P<who>\S+)'
        counter: soak_hits_total
        label_from: [{label: who, group: who, max_values: 5}]
textfile:
  directories: [/textfile]
quarantine:
  - name: q
    path: /quarantine
    classify: '^(?P<category>[^-]+)-'
    interval: 1s
`, site%2))
	}
	config(0)
	writeFile(t, mailLog, "")
	if raceEnabled {
		// Under -race the soak runs an exporter built with -race, so that a
		// data race in the exporter fails the test.
		raceBinary := filepath.Join(dir, "heartbeat_exporter.race")
		if out, err := exec.Command("go", "build", "-race", "-o", raceBinary, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build -race: %v\n%s", err, out)
		}
		defer func(b string) { binary = b }(binary)
		binary = raceBinary
	}
	p := startExporter(t, demoTree+"/proc", demoTree+"/sys", root, "--config.file="+cfg,
		"--state.dir="+filepath.Join(dir, "state"), "--web.enable-lifecycle", "--web.idle-timeout=2s")
	pid := p.cmd.Process.Pid
	client := &http.Client{Timeout: 30 * time.Second}

	scrape := func() (int, string, error) {
		resp, err := client.Get("http://" + p.addr + "/metrics")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// Idle numbers: after the collectors' background work has started.
	for range 3 {
		if code, _, err := scrape(); err != nil || code != http.StatusOK {
			t.Fatalf("warm-up scrape: %d %v", code, err)
		}
	}
	time.Sleep(time.Second)
	// measure reads go_goroutines (one scrape) and then, with every
	// client connection closed, the exporter's descriptors.
	measure := func() (goroutines, fds int) {
		goroutines = p.sample(t, "go_goroutines")
		client.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond) // the server sees the close
		return goroutines, openFDs(t, pid)
	}
	idleGoroutines, idleFDs := measure()

	var (
		wg                       sync.WaitGroup
		stop                     = make(chan struct{})
		lines, errLines, hits    atomic.Int64
		scrapes, failedScrapes   atomic.Int64
		reloads, rotations       atomic.Int64
		textRewrites, quarantned atomic.Int64
	)
	every := func(d time.Duration, f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(d)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
					f(i)
				}
			}
		}()
	}
	// Scrapers: every answer whole, the three collectors fed bad input
	// successful.
	for range 3 {
		every(50*time.Millisecond, func(int) {
			code, body, err := scrape()
			scrapes.Add(1)
			if err != nil || code != http.StatusOK ||
				!strings.Contains(body, `heartbeat_scrape_collector_success{collector="logs"} 1`) ||
				!strings.Contains(body, `heartbeat_scrape_collector_success{collector="textfile"} 0`) && !strings.Contains(body, `heartbeat_scrape_collector_success{collector="textfile"} 1`) ||
				!strings.Contains(body, "heartbeat_load1 ") {
				if failedScrapes.Add(1) <= 3 {
					t.Errorf("scrape: %d %v\n%.400s", code, err, body)
				}
			}
		})
	}
	// Log writer: batches with an error word, captures (one not UTF-8)
	// and a line of 100 kB; a rotation every 40 batches, with lines
	// written into the renamed file before the new one appears.
	var logMu sync.Mutex
	appendTo := func(path string, n int, i int) {
		var b bytes.Buffer
		for k := range n {
			switch k % 4 {
			case 0:
				b.WriteString("gw postfix/smtpd[1]: fatal: soak error\n")
				errLines.Add(1)
			case 1:
				fmt.Fprintf(&b, "gw app: HIT user%d\n", k%9)
				hits.Add(1)
			case 2:
				b.WriteString("gw app: HIT \xff\xfeevil\n")
				hits.Add(1)
			default:
				if i%10 == 0 && k == 3 {
					b.WriteString("gw app: " + strings.Repeat("x", 100_000) + "\n")
				} else {
					b.WriteString("gw app: nothing to see\n")
				}
			}
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := f.Write(b.Bytes()); err != nil {
			t.Error(err)
			return
		}
		lines.Add(int64(n))
	}
	every(25*time.Millisecond, func(i int) {
		logMu.Lock()
		defer logMu.Unlock()
		appendTo(mailLog, 20, i)
		if i%40 == 39 {
			rotated := mailLog + ".1"
			if err := os.Rename(mailLog, rotated); err != nil {
				t.Error(err)
				return
			}
			appendTo(rotated, 8, i) // the daemon still writes there
			writeFile(t, mailLog, "")
			rotations.Add(1)
		}
	})
	// Textfiles: rewritten atomically; one named in bytes that are not
	// UTF-8, one broken, one with a huge label value.
	every(100*time.Millisecond, func(i int) {
		for name, body := range map[string]string{
			"good.prom":     fmt.Sprintf("soak_textfile_rewrites %d\n", i),
			"\xff\xfe.prom": "soak_odd_name 1\n",
			"big.prom":      fmt.Sprintf("soak_big{v=%q} 1\n", strings.Repeat("v", 5000)),
		} {
			tmp := filepath.Join(textDir, ".tmp-"+strconv.Itoa(i))
			if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(tmp, filepath.Join(textDir, name)); err != nil {
				t.Error(err)
				return
			}
		}
		if i%20 == 0 {
			writeFile(t, filepath.Join(textDir, "broken.prom"), "this is { not prometheus\n")
		} else if i%20 == 10 {
			_ = os.Remove(filepath.Join(textDir, "broken.prom"))
		}
		textRewrites.Add(1)
	})
	// Quarantine: files named in stray bytes and plain ones.
	every(200*time.Millisecond, func(i int) {
		name := fmt.Sprintf("virus-%d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("\xff\xfe%d-x", i)
		}
		writeFile(t, filepath.Join(quarantine, name), "msg")
		quarantned.Add(1)
	})
	// Reloads: SIGHUP and POST /-/reload by turns, the config changing.
	every(2*time.Second, func(i int) {
		config(i)
		if i%2 == 0 {
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Error(err)
			}
		} else if code := postReload(t, p.addr); code != http.StatusOK {
			t.Errorf("POST /-/reload: %d", code)
		}
		reloads.Add(1)
	})
	// Idle connections, left for the idle timeout to close.
	every(time.Second, func(int) {
		if c, err := net.Dial("tcp", p.addr); err == nil {
			_, _ = c.Write([]byte("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"))
			time.AfterFunc(5*time.Second, func() { c.Close() })
		}
	})

	time.Sleep(soakDuration(t))
	close(stop)
	wg.Wait()
	t.Logf("soak: %d scrapes (%d failed), %d reloads, %d lines in %d rotations, %d textfile rewrites, %d quarantined",
		scrapes.Load(), failedScrapes.Load(), reloads.Load(), lines.Load(), rotations.Load(), textRewrites.Load(), quarantned.Load())

	// Exact counts, once the tailer has caught up.
	want := map[string]int64{
		`heartbeat_log_lines_total{log="/var/log/mail.log"}`:  lines.Load(),
		`heartbeat_log_errors_total{log="/var/log/mail.log"}`: errLines.Load(),
	}
	waitUntil(t, 20*time.Second, func() bool {
		for series, n := range want {
			if int64(p.sample(t, series)) != n {
				return false
			}
		}
		return true
	}, "every line counted")
	for series, n := range want {
		if got := p.sample(t, series); int64(got) != n {
			t.Errorf("%s = %d, want %d", series, got, n)
		}
	}
	_, body, err := scrape()
	if err != nil {
		t.Fatal(err)
	}
	var hitSum int64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "soak_hits_total{") {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			hitSum += int64(v)
		}
	}
	if hitSum != hits.Load() {
		t.Errorf("soak_hits_total sums to %d, want %d", hitSum, hits.Load())
	}
	for _, want := range []string{`who="` + "\uFFFD" + `evil"`, `who="other"`, "soak_odd_name 1", `category="` + "\uFFFD"} {
		if !strings.Contains(body, want) {
			t.Errorf("final scrape lacks %q", want)
		}
	}

	// Back to idle: goroutines and descriptors within a few of their idle
	// numbers once the idle connections have timed out, RSS bounded.
	var goroutines, fds int
	waitUntil(t, 15*time.Second, func() bool {
		goroutines, fds = measure()
		return goroutines <= idleGoroutines+3 && fds <= idleFDs+2
	}, "goroutines and descriptors back to idle")
	if strings.Contains(p.stderr.String(), "DATA RACE") {
		t.Error("the race detector found a data race in the exporter (see its log)")
	}
	rss := processRSS(t, pid)
	t.Logf("RSS %.1f MiB (limit %d), goroutines %d (idle %d), descriptors %d (idle %d)",
		float64(rss)/(1<<20), soakRSSLimit()>>20, goroutines, idleGoroutines, fds, idleFDs)
	if rss > soakRSSLimit() {
		t.Errorf("RSS %d MiB, limit %d MiB", rss>>20, soakRSSLimit()>>20)
	}
}

// processRSS reads VmRSS of pid in bytes.
func processRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
