package collector

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

// samples gathers a collector once and returns each series' value keyed
// by name{label="value",...} (labels sorted), and Update's error.
func samples(t *testing.T, c Collector) (map[string]float64, error) {
	t.Helper()
	a := &adapter{c: c}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out, a.err
}

// waitUntil polls cond until it holds; the deadline only stops a hung
// test, nothing is asserted about time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// supervisor is a shell loop that keeps a child running, like a
// watchdog: it restarts the child each time it dies, up to restarts
// times, each time only once the test has created the file go.N (so the
// test sees the service down in between).
const supervisorScript = `child=$1 dir=$2 max=$3 n=0
while :; do
  "$child" 1000 &
  echo $! > "$dir/pid.tmp" && mv "$dir/pid.tmp" "$dir/pid"
  wait $!
  n=$((n+1))
  [ "$n" -gt "$max" ] && exit 0
  while [ ! -e "$dir/go.$n" ]; do sleep 0.01; done
done`

type supervised struct {
	dir, child string
	cmd        *exec.Cmd
}

func startSupervisor(t *testing.T, restarts int) *supervised {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	s := &supervised{dir: t.TempDir()}
	// A copy of sleep under a name and path of its own, so that the
	// service matches the test's processes only.
	s.child = filepath.Join(s.dir, "hb-test-child")
	copyFile(t, sleep, s.child)
	s.cmd = exec.Command("sh", "-c", supervisorScript, "sh", s.child, s.dir, strconv.Itoa(restarts))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		_ = s.cmd.Wait()
	})
	waitUntil(t, "the first child", func() bool { return s.pid() != 0 })
	s.waitExec(t)
	return s
}

// waitExec waits until the current child runs the child program: the
// supervisor writes the PID right after fork, before the exec.
func (s *supervised) waitExec(t *testing.T) {
	t.Helper()
	waitUntil(t, "the child's exec", func() bool {
		exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(s.pid()), "exe"))
		return exe == s.child
	})
}

// pid is the running child's PID as the supervisor wrote it, 0 before.
func (s *supervised) pid() int {
	raw, err := os.ReadFile(filepath.Join(s.dir, "pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return pid
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// procStartTime reads a process's start time from /proc/PID/stat itself.
func procStartTime(t *testing.T, pid int) float64 {
	t.Helper()
	p, err := procfs.NewProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Stat()
	if err != nil {
		t.Fatal(err)
	}
	start, err := st.StartTime()
	if err != nil {
		t.Fatal(err)
	}
	return start
}

func newServicesTest(t *testing.T, paths Paths, yaml string) Collector {
	t.Helper()
	cfg, err := config.Parse("test.yml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newServicesCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: paths}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.(Closer).Close)
	return c
}

// The poller, on its own interval, sees every restart of a supervised
// child: N restarts, down in between, and each child's start time.
func TestServicesCountsRestartsOfRealProcesses(t *testing.T) {
	const restarts = 3
	sup := startSupervisor(t, restarts)
	c := newServicesTest(t, Paths{Proc: "/proc", Root: "/"}, fmt.Sprintf(`
services:
  poll_interval: 10ms
  watch:
    - {name: child, exe: %s}
    - {name: by_name, process: hb-test-child}
    - {name: by_cmdline, cmdline: '^%s 1000$'}
    - {name: missing, process: no-such-daemon}
`, sup.child, sup.child))
	key := func(metric, service string) string { return metric + `{service="` + service + `"}` }
	get := func() map[string]float64 {
		m, err := samples(t, c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	m := get()
	pid := sup.pid()
	for _, svc := range []string{"child", "by_name", "by_cmdline"} {
		if m[key("heartbeat_service_up", svc)] != 1 || m[key("heartbeat_service_restarts_total", svc)] != 0 {
			t.Fatalf("%s at start: up %v restarts %v, want up 1 and no restart for the first sighting",
				svc, m[key("heartbeat_service_up", svc)], m[key("heartbeat_service_restarts_total", svc)])
		}
		if got, want := m[key("heartbeat_service_start_time_seconds", svc)], procStartTime(t, pid); got != want {
			t.Errorf("%s start time %v, /proc/%d/stat says %v", svc, got, pid, want)
		}
	}
	if m[key("heartbeat_service_up", "missing")] != 0 {
		t.Error("a configured service with no process is not reported up 0")
	}
	if _, ok := m[key("heartbeat_service_start_time_seconds", "missing")]; ok {
		t.Error("a down service has a start time")
	}

	for i := 1; i <= restarts; i++ {
		old := pid
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the service to be seen down", func() bool { return get()[key("heartbeat_service_up", "child")] == 0 })
		if err := os.WriteFile(filepath.Join(sup.dir, "go."+strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the restarted child", func() bool { return sup.pid() != old })
		pid = sup.pid()
		waitUntil(t, "the service to be seen up again", func() bool { return get()[key("heartbeat_service_up", "child")] == 1 })
		m = get()
		if got, want := m[key("heartbeat_service_start_time_seconds", "child")], procStartTime(t, pid); got != want {
			t.Errorf("restart %d: start time %v, /proc/%d/stat says %v", i, got, pid, want)
		}
	}
	m = get()
	for _, svc := range []string{"child", "by_name", "by_cmdline"} {
		if got := m[key("heartbeat_service_restarts_total", svc)]; got != restarts {
			t.Errorf("%s: restarts_total %v, want %d", svc, got, restarts)
		}
	}
	if got := m[key("heartbeat_service_processes", "child")]; got != 1 {
		t.Errorf("processes = %v, want 1", got)
	}
	// A child caught in its execve has no resident page yet (CI saw 0
	// once): its memory must turn positive, not be so at the first poll.
	waitUntil(t, "the resident memory of the running sleep to be positive", func() bool {
		return get()[key("heartbeat_service_resident_memory_bytes", "child")] > 0
	})
}

// A restart the poller did not see go down (the new process was already
// there at the next poll) still counts, by its new start time.
func TestServicesCountsReplacementWithoutDowntime(t *testing.T) {
	sup := startSupervisor(t, 1)
	// The go file exists beforehand: the supervisor restarts at once.
	if err := os.WriteFile(filepath.Join(sup.dir, "go.1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := newServicesTest(t, Paths{Proc: "/proc", Root: "/"}, fmt.Sprintf(`
services:
  poll_interval: 1h   # polled by hand below
  watch:
    - {name: child, exe: %s}
`, sup.child))
	sc := c.(*servicesCollector)
	old := sup.pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the restarted child", func() bool { return sup.pid() != old })
	sup.waitExec(t)
	sc.poll()
	m, err := samples(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if got := m[`heartbeat_service_restarts_total{service="child"}`]; got != 1 {
		t.Errorf("restarts_total %v after a replacement, want 1", got)
	}
}

// A preset whose program is not installed is left out; one that is, and
// one without if_installed, are reported even with no process.
func TestServicesPresetsLeftOutWhenNotInstalled(t *testing.T) {
	p := tree(t, map[string]string{"root/usr/sbin/clamd": ""})
	p.Proc = "/proc"
	c := newServicesTest(t, p, `
services:
  watch:
    - {name: clamd, process: hb-no-clamd, if_installed: [/usr/sbin/clamd]}
    - {name: spamd, process: hb-no-spamd, if_installed: [/usr/sbin/spamd]}
    - {name: mine, process: hb-no-mine}
`)
	m, err := samples(t, c)
	if err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[string]bool{"clamd": true, "spamd": false, "mine": true} {
		v, ok := m[`heartbeat_service_up{service="`+svc+`"}`]
		if ok != want || v != 0 {
			t.Errorf("%s: up present=%v value=%v, want present=%v value 0", svc, ok, v, want)
		}
	}
}

func TestServicesNothingConfigured(t *testing.T) {
	c := newServicesTest(t, Paths{Proc: "/proc", Root: "/"}, "services: {}\n")
	if err := c.Update(context.Background(), make(chan prometheus.Metric, 10)); err != ErrNoData {
		t.Errorf("Update = %v, want ErrNoData", err)
	}
}

// The demo's /proc: clamd by name, amavisd (a master and a child that
// perl renamed) by command line, postfix by pidfile, freshclam installed
// but not running, spamd not installed and left out.
func TestServicesDemoGolden(t *testing.T) {
	cfg, err := config.Load(filepath.Join(demo, "heartbeat.yml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newServicesCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: demoPaths}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.(Closer).Close()
	got, err := collectText(t, &adapter{c: c})
	if err != nil {
		t.Fatal(err)
	}
	tfGolden(t, filepath.Join("fixtures", "services", "demo.out"), got)
}

// A pidfile naming no live process, or absent, means down; one holding
// garbage is broken.
func TestServicesPidfile(t *testing.T) {
	p := tree(t, map[string]string{
		"root/run/stale.pid": "999999\n",
		"root/run/bad.pid":   "not a pid\n",
	})
	p.Proc = "/proc"
	c := newServicesTest(t, p, `
services:
  watch:
    - {name: stale, pidfile: /run/stale.pid}
    - {name: gone, pidfile: /run/gone.pid}
    - {name: bad, pidfile: /run/bad.pid}
`)
	m, err := samples(t, c)
	if err == nil || !strings.Contains(err.Error(), "service bad") {
		t.Errorf("err = %v, want one naming service bad", err)
	}
	for _, svc := range []string{"stale", "gone", "bad"} {
		if v, ok := m[`heartbeat_service_up{service="`+svc+`"}`]; !ok || v != 0 {
			t.Errorf("%s: up %v (present %v), want 0", svc, v, ok)
		}
	}
}

// Without a system bus (this host has none; DBUS_SYSTEM_BUS_ADDRESS points
// at a socket that does not exist) a unit is not an error: the process
// metrics are served, the unit metrics left out, and the missing bus is
// logged once, at debug level, however many polls ask.
func TestServicesNoSystemBusIsNotAnError(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	sup := startSupervisor(t, 0)
	cfg, err := config.Parse("t.yml", []byte(fmt.Sprintf(`
services:
  poll_interval: 10ms
  watch:
    - {name: child, exe: %s, unit: hb-test-child.service}
`, sup.child)))
	if err != nil {
		t.Fatal(err)
	}
	logs := &tfLog{}
	c, err := newServicesCollector(Deps{Logger: log.NewLogfmtLogger(logs), Config: cfg, Paths: Paths{Proc: "/proc", Root: "/"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.(Closer).Close()
	waitUntil(t, "a few polls", func() bool { return strings.Contains(logs.String(), "systemd not reachable") })
	time.Sleep(100 * time.Millisecond) // ten more polls, which must not log again
	m, err := samples(t, c)
	if err != nil {
		t.Fatalf("no bus made the collector fail: %v", err)
	}
	if m[`heartbeat_service_up{service="child"}`] != 1 {
		t.Error("process metrics not served without a bus")
	}
	for k := range m {
		if strings.Contains(k, "systemd") {
			t.Errorf("unit metric without a bus: %s", k)
		}
	}
	if n := strings.Count(logs.String(), "systemd not reachable"); n != 1 || !strings.Contains(logs.String(), "level=debug") {
		t.Errorf("missing bus logged %d times, want once at debug:\n%s", n, logs)
	}
}

// A --path.procfs that cannot be read fails the collector at each scrape,
// not the configuration.
func TestServicesUnreadableProcfs(t *testing.T) {
	c := newServicesTest(t, Paths{Proc: filepath.Join(t.TempDir(), "no-proc"), Root: "/"},
		"services:\n  watch:\n    - {name: x, process: x}\n")
	if _, err := samples(t, c); err == nil || !strings.Contains(err.Error(), "--path.procfs") {
		t.Errorf("err = %v, want one naming --path.procfs", err)
	}
}

// A reload, with the same config or a changed one that keeps the
// service, goes on counting restarts and CPU time where the predecessor
// was (they went back to 0 at each SIGHUP).
func TestServicesReloadKeepsCounters(t *testing.T) {
	sup := startSupervisor(t, 1)
	yaml := fmt.Sprintf("services:\n  poll_interval: 10ms\n  watch:\n    - {name: child, exe: %s}\n", sup.child)
	deps := func(extra string) Deps {
		cfg, err := config.Parse("test.yml", []byte(yaml+extra))
		if err != nil {
			t.Fatal(err)
		}
		return Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: Paths{Proc: "/proc", Root: "/"}}
	}
	c, err := newServicesCollector(deps(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(c Collector) map[string]float64 {
		m, err := samples(t, c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	restarts := `heartbeat_service_restarts_total{service="child"}`
	old := sup.pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the service to be seen down", func() bool { return get(c)[`heartbeat_service_up{service="child"}`] == 0 })
	if err := os.WriteFile(filepath.Join(sup.dir, "go.1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the restart to be counted", func() bool { return get(c)[restarts] == 1 })
	before := get(c)
	isCounter := func(k string) bool { return strings.Contains(k, "_total{") }
	for _, extra := range []string{"", "    - {name: other, process: no-such-daemon}\n"} {
		c = reloadOne(t, "services", deps(extra), c)
		after := get(c)
		if drops := counterDrops(before, after, isCounter); len(drops) > 0 {
			t.Errorf("reload (extra %q): counters went down: %v (before %v, after %v)", extra, drops, before, after)
		}
		if after[restarts] != 1 {
			t.Errorf("reload (extra %q): restarts %v, want 1", extra, after[restarts])
		}
		before = after
	}
	c.(Closer).Close()
}
