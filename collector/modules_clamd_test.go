package collector

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// buildClamavDB makes a tiny daily.cud with the real sigtool (two
// signatures, unsigned) plus a plain .hdb beside it, in dir/db.
func buildClamavDB(t *testing.T, dir string) string {
	t.Helper()
	sigtool := testenv.RequireTool(t, "sigtool", "clamav")
	build := filepath.Join(dir, "build")
	db := filepath.Join(dir, "db")
	for _, d := range []string{build, db} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(build, "COPYING"), "test database\n")
	writeFile(t, filepath.Join(build, "daily.hdb"), "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature-md5\n")
	writeFile(t, filepath.Join(build, "daily.ndb"), "Heartbeat.Test:0:*:4865617274626561745465737421\n")
	cmd := exec.Command(sigtool, "--build=daily.cud", "--unsigned", "--cvd-version=27123", "--datadir="+build)
	cmd.Dir = build
	cmd.Stdin = strings.NewReader("heartbeat-test\n") // the builder name sigtool asks for
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sigtool --build: %v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(build, "daily.cud"), filepath.Join(db, "daily.cud")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(db, "local.hdb"), "aa41fc2a1d5d5c6b5b0a0fb1a7e7f3a2:12:Heartbeat.Local.Test\n")
	return db
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startClamd runs the real clamd in the foreground as the current user on
// a unix socket in dir and a loopback TCP port, with TZ set, and waits for
// the socket.
func startClamd(t *testing.T, dir, db, tz string) (socket, tcpAddr string, stop func()) {
	t.Helper()
	bin := testenv.RequireTool(t, "clamd", "clamav-daemon")
	socket = filepath.Join(dir, "clamd.sock")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr = l.Addr().String()
	l.Close()
	conf := filepath.Join(dir, "clamd.conf")
	writeFile(t, conf, fmt.Sprintf("LocalSocket %s\nTCPSocket %d\nTCPAddr 127.0.0.1\nDatabaseDirectory %s\nForeground yes\nLogFile %s\nTemporaryDirectory %s\nMaxThreads 3\n",
		socket, l.Addr().(*net.TCPAddr).Port, db, filepath.Join(dir, "clamd.log"), dir))
	cmd := exec.Command(bin, "--config-file="+conf)
	cmd.Env = append(os.Environ(), "TZ="+tz)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return socket, tcpAddr, stop
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd did not open %s:\n%s", socket, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// series returns the value of one series in an exposition, or "".
func series(text, name string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

func asFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}

// TestModulesRealClamd checks what the exporter reports against what a
// real clamd and sigtool themselves say, then stops clamd: clamd_up 0,
// the collector still succeeds.
func TestModulesRealClamd(t *testing.T) {
	dir, err := os.MkdirTemp("", "hbclamd") // short: a socket path has 108 bytes at most
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := buildClamavDB(t, dir)
	// clamd writes its database time in its local zone: run it in New
	// York and read the reply in New York, as an exporter on that host
	// would (time.Local with the same TZ).
	const tz = "America/New_York"
	ny, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	socket, tcpAddr, stop := startClamd(t, dir, db, tz)

	c := newModulesTest(t, "/", fmt.Sprintf("modules:\n  - name: virus\n    kind: clamav\n    database_dir: %s\n    clamd: unix://%s\n    clamd_timeout: 5s\n", db, socket))
	c.loc = ny
	got := modScrape(t, c)
	if series(got, `heartbeat_scrape_collector_success{collector="modules"}`) != "1" || series(got, `heartbeat_clamd_up{module="virus"}`) != "1" {
		t.Fatalf("scrape with clamd running:\n%s", got)
	}

	// VERSION: "ClamAV <engine>/<daily version>/<ctime>".
	version := strings.TrimSpace(testenv.AskClamd(t, socket, "VERSION"))
	parts := strings.SplitN(strings.TrimPrefix(version, "ClamAV "), "/", 3)
	if len(parts) != 3 {
		t.Fatalf("clamd VERSION: %q", version)
	}
	info := fmt.Sprintf(`heartbeat_clamd_info{database_version=%q,engine_version=%q,module="virus"}`, parts[1], parts[0])
	if series(got, info) != "1" {
		t.Errorf("exporter lacks %s 1 (clamd said %q):\n%s", info, version, got)
	}
	dbTime, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", parts[2], ny)
	if err != nil {
		t.Fatal(err)
	}
	if v := asFloat(t, series(got, `heartbeat_clamd_database_timestamp_seconds{module="virus"}`)); v != float64(dbTime.Unix()) {
		t.Errorf("clamd database time %v, clamd said %q = %d", v, parts[2], dbTime.Unix())
	}
	// clamd's database time is the header's build time in seconds: both
	// read the same instant, whatever the zones.
	if a, b := series(got, `heartbeat_clamd_database_timestamp_seconds{module="virus"}`),
		series(got, `heartbeat_module_database_build_timestamp_seconds{database="daily",module="virus"}`); a != b {
		t.Errorf("clamd database time %s != header build time %s", a, b)
	}

	// STATS: threads, queue and pool memory as clamd lists them.
	stats := testenv.AskClamd(t, socket, "STATS")
	threads := regexp.MustCompile(`THREADS: live (\d+) +idle (\d+) max (\d+)`).FindStringSubmatch(stats)
	queue := regexp.MustCompile(`QUEUE: (\d+) items`).FindStringSubmatch(stats)
	pools := regexp.MustCompile(`pools_total ([0-9.]+)M`).FindStringSubmatch(stats)
	if threads == nil || queue == nil || pools == nil {
		t.Fatalf("clamd STATS:\n%s", stats)
	}
	for state, want := range map[string]string{"live": threads[1], "idle": threads[2], "max": threads[3]} {
		if v := series(got, fmt.Sprintf(`heartbeat_clamd_threads{module="virus",state=%q}`, state)); v != want {
			t.Errorf("threads %s = %s, clamd says %s", state, v, want)
		}
	}
	if threads[3] != "3" {
		t.Errorf("clamd MaxThreads %s, the config says 3", threads[3])
	}
	if v := series(got, `heartbeat_clamd_queue_length{module="virus"}`); v != queue[1] {
		t.Errorf("queue %s, clamd says %s", v, queue[1])
	}
	mib := asFloat(t, pools[1])
	if v := asFloat(t, series(got, `heartbeat_clamd_memory_bytes{kind="pools_total",module="virus"}`)); v < (mib-0.001)*1048576 || v > (mib+0.001)*1048576 {
		t.Errorf("pools_total %v bytes, clamd says %sM", v, pools[1])
	}

	// The header, as sigtool reads it.
	sigtoolInfo, err := exec.Command("sigtool", "--info="+filepath.Join(db, "daily.cud")).CombinedOutput()
	if err != nil {
		t.Fatalf("sigtool --info: %v\n%s", err, sigtoolInfo)
	}
	for field, name := range map[string]string{"Version": "database_version", "Signatures": "signatures", "Functionality level": "functionality_level"} {
		m := regexp.MustCompile(`(?m)^` + field + `: (\d+)$`).FindStringSubmatch(string(sigtoolInfo))
		if m == nil {
			t.Fatalf("sigtool --info lacks %s:\n%s", field, sigtoolInfo)
		}
		if v := series(got, fmt.Sprintf(`heartbeat_module_%s{database="daily",module="virus"}`, name)); v != m[1] {
			t.Errorf("%s = %s, sigtool says %s", name, v, m[1])
		}
	}

	// The same over TCP.
	overTCP := newModulesTest(t, "/", fmt.Sprintf("modules:\n  - name: virus\n    kind: clamav\n    database_dir: %s\n    clamd: tcp://%s\n", db, tcpAddr))
	overTCP.loc = ny
	if tcp := modScrape(t, overTCP); series(tcp, info) != "1" || series(tcp, `heartbeat_clamd_threads{module="virus",state="max"}`) != "3" {
		t.Errorf("scrape over tcp://%s:\n%s", tcpAddr, tcp)
	}

	// clamd gone: up 0, and the collector still succeeds.
	stop()
	got = modScrape(t, c)
	if series(got, `heartbeat_clamd_up{module="virus"}`) != "0" || series(got, `heartbeat_scrape_collector_success{collector="modules"}`) != "1" {
		t.Errorf("scrape with clamd stopped:\n%s", got)
	}
	if series(got, `heartbeat_module_database_version{database="daily",module="virus"}`) != "27123" {
		t.Errorf("database headers are still reported without clamd:\n%s", got)
	}
}

// A listener that is not clamd: what it says cannot be read, which is an
// error of the collector (clamd itself never sends it, so no real clamd
// can stand in here).
func TestModulesClamdMalformedReplies(t *testing.T) {
	cases := map[string]struct{ version, stats, wantErr string }{
		"stats cut short": {"ClamAV 1.4.6/27123/Mon Nov 23 19:44:49 2026\x00", "POOLS: 1\n\nSTATE: VALID PRIMARY\n", "STATS: unexpected clamd reply: STATS reply ends without its terminating NUL"},
		"stats garbage":   {"ClamAV 1.4.6\x00", "POOLS: 1\nSTATE: VALID PRIMARY\nTHREADS: many\nEND\x00", `STATS: unexpected clamd reply: THREADS line "many" lacks live, idle or max`},
		"not clamd":       {"HTTP/1.0 400 Bad Request\r\n\x00", "", `VERSION reply "HTTP/1.0 400 Bad Request\r" does not start with`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			socket := fakeClamd(t, map[string]string{"zVERSION\x00": tc.version, "zSTATS\x00": tc.stats})
			c := newModulesTest(t, "/", fmt.Sprintf("modules:\n  - name: virus\n    kind: clamav\n    database_dir: %s\n    clamd: unix://%s\n", t.TempDir(), socket))
			err := c.Update(context.Background(), make(chan prometheus.Metric, 100))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
			if got := modScrape(t, c); series(got, `heartbeat_scrape_collector_success{collector="modules"}`) != "0" {
				t.Errorf("success is not 0:\n%s", got)
			}
		})
	}
}

// fakeClamd answers each command read on a unix socket with a canned
// reply and closes the connection.
func fakeClamd(t *testing.T, replies map[string]string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hbfake")
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "s")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done; os.RemoveAll(dir) })
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64)
			n, _ := conn.Read(buf)
			_, _ = io.WriteString(conn, replies[string(buf[:n])])
			conn.Close()
		}
	}()
	return socket
}
