package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

func demoConfig(t testing.TB) *config.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(demo, "heartbeat.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("heartbeat.yml", raw)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newInventoryTest(t testing.TB, paths Paths, cfg *config.Config, procs *procShare) *inventoryCollector {
	t.Helper()
	c, err := newInventoryCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: paths, procs: procs})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*inventoryCollector)
}

// The demo's fixtures: listeners on and off loopback (a connection and
// ports not asked about left out), an NFSv4.2 and a CIFS 3.1.1 mount,
// dpkg's installed and removed tools, docker, podman and lxc cgroups (a
// conmon scope and docker.service are no containers), clamd.conf with
// on-access and clamonacc running, freshclam's mirrors, proxy and the
// last mirror of its log, sa-update's channel.
func TestInventoryDemoGolden(t *testing.T) {
	c := newInventoryTest(t, demoCopy(t), demoConfig(t), nil)
	got, err := collectText(t, &adapter{c: c})
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "fixtures/inventory/demo.out", got, "TestInventoryDemoGolden")
}

// The firewall count: unknown without permission (no rules series, not a
// failure), a real error fails the collector, a count is served.
func TestInventoryFirewall(t *testing.T) {
	cfg := &config.Config{}
	p := demoCopy(t)
	for _, tc := range []struct {
		name    string
		rules   int
		err     error
		want    []string
		wantErr bool
	}{
		{"no permission", 0, errNoPermission, []string{"heartbeat_inventory_firewall_readable 0"}, false},
		{"counted", 0, nil, []string{"heartbeat_inventory_firewall_readable 1", "heartbeat_inventory_firewall_rules 0"}, false},
		{"counted many", 17, nil, []string{"heartbeat_inventory_firewall_rules 17"}, false},
		{"broken", 0, errors.New("netlink: boom"), nil, true},
	} {
		c := newInventoryTest(t, p, cfg, nil)
		c.firewall = func(context.Context) (int, error) { return tc.rules, tc.err }
		got, err := collectText(t, &adapter{c: c}, "heartbeat_inventory_firewall_rules", "heartbeat_inventory_firewall_readable")
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w+"\n") {
				t.Errorf("%s: %q not in\n%s", tc.name, w, got)
			}
		}
		if tc.err != nil && strings.Contains(got, "heartbeat_inventory_firewall_rules ") {
			t.Errorf("%s: a rule count served while unknown:\n%s", tc.name, got)
		}
	}
}

// A socket table that does not parse fails the collector; the other
// parts are still served.
func TestInventoryBrokenSocketTable(t *testing.T) {
	p := demoCopy(t)
	if err := os.WriteFile(filepath.Join(p.Proc, "net", "tcp"), []byte("header\n 0: 0100007F:zz 0 0A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newInventoryTest(t, p, demoConfig(t), nil)
	got, err := collectText(t, &adapter{c: c})
	if err == nil || !strings.Contains(err.Error(), "net/tcp") {
		t.Errorf("err %v, want one naming net/tcp", err)
	}
	for _, want := range []string{`port="2049",protocol="udp"`, "heartbeat_inventory_mounts{", "heartbeat_cpu_cores 4"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s missing after a broken tcp table", want)
		}
	}
}

// Sources that are absent (a host without the products) are quiet.
func TestInventoryAbsentSourcesQuiet(t *testing.T) {
	empty := t.TempDir()
	cfg, err := config.Parse(config.DefaultName, config.DefaultYAML)
	if err != nil {
		t.Fatal(err)
	}
	c := newInventoryTest(t, Paths{Proc: filepath.Join(demo, "proc"), Sys: empty, Root: empty}, cfg, nil)
	got, err := collectText(t, &adapter{c: c})
	if err != nil {
		t.Fatalf("absent sources failed the collector: %v", err)
	}
	for _, absent := range []string{"clamd_config", "update_", "package_installed", "containers", "spamassassin"} {
		if strings.Contains(got, absent) {
			t.Errorf("%s served without its source:\n%s", absent, got)
		}
	}
}

// With the services poller's pass at hand the inventory reads no /proc
// of its own: a name only the shared pass has is found.
func TestInventorySharesServicesPass(t *testing.T) {
	procs := &procShare{}
	procs.names, procs.at = []string{"mariadbd", "ora_pmon_orcl"}, time.Now()
	c := newInventoryTest(t, demoCopy(t), demoConfig(t), procs)
	got, _ := collectText(t, &adapter{c: c}, "heartbeat_inventory_process_running")
	for _, want := range []string{`app="mysql"`, `app="oracle"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s not found from the shared pass:\n%s", want, got)
		}
	}
	if strings.Contains(got, `app="nginx"`) || c.scanner != nil {
		t.Errorf("the inventory read /proc itself:\n%s", got)
	}
	procs.at = time.Now().Add(-time.Hour) // a stale pass is not used
	got, _ = collectText(t, &adapter{c: c}, "heartbeat_inventory_process_running")
	if !strings.Contains(got, `app="nginx"`) {
		t.Errorf("stale shared pass used:\n%s", got)
	}
}

// txtServer answers TXT queries for name on a loopback port the test
// picks, counting the queries.
func txtServer(t *testing.T, name, txt string) (string, *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var queries atomic.Int32
	mux := dns.NewServeMux()
	mux.HandleFunc(dns.Fqdn(name), func(w dns.ResponseWriter, r *dns.Msg) {
		queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		if r.Question[0].Qtype == dns.TypeTXT {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1800},
				Txt: []string{txt},
			})
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String(), &queries
}

// newPublishedTest is the demo's inventory asking the DNS server at addr.
func newPublishedTest(t *testing.T, addr string) *inventoryCollector {
	t.Helper()
	cfg := demoConfig(t)
	cfg.Inventory.PublishedVersions = config.PublishedVersionsConfig{
		Enabled: true, Record: "current.cvd.clamav.net", Server: addr, DatabaseDir: "/var/lib/clamav",
		Interval: time.Hour, Timeout: 2 * time.Second,
	}
	return newInventoryTest(t, demoCopy(t), cfg, nil)
}

// The published versions come from the TXT record freshclam reads,
// asked of a DNS server on loopback; the answer is cached between
// scrapes. The demo has main 62, daily 27123, bytecode 283.
func TestInventoryPublishedVersions(t *testing.T) {
	addr, queries := txtServer(t, "current.cvd.clamav.net", "1.4.2:62:27130:1732957200:1:90:49192:336")
	c := newPublishedTest(t, addr)
	for range 2 {
		got, err := collectText(t, &adapter{c: c}, "heartbeat_module_database_versions_behind")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`{database="main"} 0`, `{database="daily"} 7`, `{database="bytecode"} 53`} {
			if !strings.Contains(got, want) {
				t.Errorf("%s not in\n%s", want, got)
			}
		}
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("%d DNS queries for two scrapes, want 1 (cached)", n)
	}
}

// A DNS answer that is not the expected record fails the collector.
func TestInventoryPublishedVersionsBadAnswer(t *testing.T) {
	addr, _ := txtServer(t, "current.cvd.clamav.net", "garbage")
	c := newPublishedTest(t, addr)
	got, err := collectText(t, &adapter{c: c}, "heartbeat_module_database_versions_behind", "heartbeat_cpu_cores")
	if err == nil || !strings.Contains(got, "heartbeat_cpu_cores") || strings.Contains(got, "versions_behind") {
		t.Errorf("err %v, output\n%s", err, got)
	}
}

// BenchmarkInventoryDemo is one scrape of the inventory on the demo
// tree, its /proc pass shared with a services poller; the OwnProcPass
// variant reads the demo's /proc itself at every scrape (a poll interval
// of 0), for comparison.
func BenchmarkInventoryDemo(b *testing.B) {
	procs := &procShare{}
	procs.names, procs.at = []string{"clamd", "nginx", "clamonacc"}, time.Now().Add(time.Hour)
	benchInventory(b, procs, 0)
}

func BenchmarkInventoryDemoOwnProcPass(b *testing.B) { benchInventory(b, nil, time.Nanosecond) }

func benchInventory(b *testing.B, procs *procShare, poll time.Duration) {
	c := newInventoryTest(b, Paths{Proc: filepath.Join(demo, "proc"), Sys: filepath.Join(demo, "sys"), Root: filepath.Join(demo, "root")}, demoConfig(b), procs)
	if poll > 0 {
		c.poll = poll
	}
	ch := make(chan prometheus.Metric, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Update(context.Background(), ch); err != nil {
			b.Fatal(err)
		}
		for len(ch) > 0 {
			<-ch
		}
	}
}

// /proc/cpuinfo is parsed again only when the online-CPU list changes
// (CPUs plugged in or out); without that list it is read at every scrape.
func TestInventoryCPUInfoReadAgainWhenCPUsChange(t *testing.T) {
	paths := demoCopy(t)
	c := newInventoryTest(t, paths, demoConfig(t), nil)
	online := filepath.Join(paths.Sys, "devices", "system", "cpu", "online")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cpus := func(n int) {
		t.Helper()
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "processor\t: %d\nmodel name\t: Test CPU %d\nphysical id\t: 0\ncore id\t\t: %d\n\n", i, n, i)
		}
		write(filepath.Join(paths.Proc, "cpuinfo"), b.String())
	}
	for _, step := range []struct {
		name       string
		change     func()
		cores      string
		onlineGone bool
	}{
		{"first read", func() { cpus(2); write(online, "0-1\n") }, "2", false},
		{"cpuinfo changed, online list not: the parse is kept", func() { cpus(3) }, "2", false},
		{"a CPU plugged in", func() { write(online, "0-2\n") }, "3", false},
		{"no online list: read each time", func() { cpus(1); os.Remove(online) }, "1", true},
		{"still none", func() { cpus(4) }, "4", true},
	} {
		step.change()
		got, err := collectText(t, &adapter{c: c}, "heartbeat_cpu_cores", "heartbeat_cpu_info")
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		want := fmt.Sprintf("heartbeat_cpu_cores %s\n", step.cores)
		model := fmt.Sprintf(`model="Test CPU %s"`, step.cores)
		if !strings.Contains(got, want) || !strings.Contains(got, model) {
			t.Errorf("%s: want %q and %s in\n%s", step.name, want, model, got)
		}
	}
}
