package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/dpkg"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/hostinfo"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/inventory"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/mounts"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/proctrack"
)

func init() { registerCollector("inventory", true, newInventoryCollector) }

func inventoryDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "inventory", name), help, labels, nil)
}

// Presence series (applications, sockets, mounts, containers) are served
// only for what is found: absent means none, which keeps /metrics short.
var (
	invAppDesc       = inventoryDesc("process_running", "1 for each configured application with a running process.", "app")
	invSocketDesc    = inventoryDesc("listening_sockets", "Listening sockets on a well-known port.", "protocol", "port", "loopback")
	invMountDesc     = inventoryDesc("mounts", "Network file system mounts.", "fstype", "version")
	invRootFSDesc    = inventoryDesc("root_filesystem_info", "Type of the root file system; always 1.", "fstype")
	invPackageDesc   = inventoryDesc("package_installed", "1 if dpkg lists the security tool installed, else 0.", "package")
	invContainerDesc = inventoryDesc("containers", "Running containers by runtime.", "runtime")
	cpuInfoDesc      = prometheus.NewDesc(Namespace+"_cpu_info", "CPU model; always 1.", []string{"model"}, nil)
	cpuCoresDesc     = prometheus.NewDesc(Namespace+"_cpu_cores", "Physical CPU cores.", nil, nil)
)

// inventoryCollector reports what the server runs, exposes and protects.
// Each scrape reads small files; the dpkg status file is parsed again
// only when it changes, /proc is read by the services poller when it runs.
type inventoryCollector struct {
	logger   log.Logger
	cfg      config.InventoryConfig
	proc     string
	sys      string
	root     string
	procs    *procShare
	poll     time.Duration
	firewall func(context.Context) (int, error) // nil: not read
	mounts   mounts.Reader
	online   *fileid.Kept    // devices/system/cpu/online
	xtables  [2]*fileid.Kept // net/ip_tables_names, net/ip6_tables_names

	mu       sync.Mutex
	scanner  *proctrack.Scanner // own pass when the services poller has none
	ownNames []string
	ownAt    time.Time
	dpkgID   fileid.ID
	dpkgPkgs map[string]bool
	dpkgErr  error
	pub      publishedCache
	cpuSeen  cpuSeen
}

// cpuSeen is the last /proc/cpuinfo parsed, with the online-CPU list it
// was read under. Reading cpuinfo costs a quarter of a millisecond (the
// kernel formats every CPU, and on x86 asks each for its clock), more
// than the rest of the inventory; the model and the cores change only
// when CPUs are plugged in or out, which changes the online list.
type cpuSeen struct {
	online string // "" when the list could not be read: read cpuinfo each time
	info   inventory.CPUInfo
}

func newInventoryCollector(d Deps) (Collector, error) {
	cfg := d.config()
	proc, sys := d.Paths.Proc, d.Paths.Sys
	if proc == "" {
		proc = "/proc"
	}
	if sys == "" {
		sys = "/sys"
	}
	c := &inventoryCollector{
		logger: d.Logger, cfg: cfg.Inventory, proc: proc, sys: sys, root: d.rootfs(),
		procs: d.procs, poll: cfg.Services.PollInterval,
	}
	if c.poll <= 0 {
		c.poll = config.DefaultServicesPollInterval
	}
	// Netlink answers about the host the exporter runs on: with a fixture
	// /proc (the demo, tests) they would describe another host.
	if cfg.Inventory.Firewall && filepath.Clean(proc) == "/proc" {
		c.firewall = nftablesRules
	}
	c.pub.cfg = cfg.Inventory.PublishedVersions
	c.online = fileid.Keep(filepath.Join(sys, "devices", "system", "cpu", "online"), 64<<10)
	for i, name := range []string{"ip_tables_names", "ip6_tables_names"} {
		c.xtables[i] = fileid.Keep(filepath.Join(proc, "net", name), 1<<16)
	}
	return c, nil
}

// Close releases the mount table's descriptor and the files kept open.
func (c *inventoryCollector) Close() {
	c.mounts.Close()
	c.online.Close()
	for _, k := range c.xtables {
		k.Close()
	}
}

func (c *inventoryCollector) onRoot(p string) string { return filepath.Join(c.root, p) }

// Update runs every part; a broken source fails the collector (logged)
// while the others are still served.
func (c *inventoryCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	var errs []error
	for _, part := range []func(context.Context, chan<- prometheus.Metric) error{
		c.cpu, c.apps, c.sockets, c.fileSystems, c.packages, c.firewallRules,
		c.containers, c.clamd, c.updateSources, c.publishedVersions,
	} {
		if err := part(ctx, ch); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func invBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// invRead reads a small file; an absent one is (nil, nil).
func invRead(path string, limit int64) ([]byte, error) {
	return absentIsNil(fileid.ReadRegular(path, limit))
}

// absentIsNil is a read with an absent file as (nil, nil).
func absentIsNil(b []byte, err error) ([]byte, error) {
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (c *inventoryCollector) cpu(_ context.Context, ch chan<- prometheus.Metric) error {
	info, err := c.cpuInfo()
	if err != nil {
		return err
	}
	if info.Model != "" {
		sendGauge(ch, cpuInfoDesc, 1, hostinfo.CleanLabel(info.Model))
	}
	if info.Cores > 0 {
		sendGauge(ch, cpuCoresDesc, float64(info.Cores))
	}
	return nil
}

// cpuInfo parses /proc/cpuinfo, or returns the last parse while the
// online-CPU list is the one it was read under.
func (c *inventoryCollector) cpuInfo() (inventory.CPUInfo, error) {
	online, _ := absentIsNil(c.online.Read())
	c.mu.Lock()
	seen := c.cpuSeen
	c.mu.Unlock()
	if len(online) > 0 && string(online) == seen.online {
		return seen.info, nil
	}
	b, err := invRead(filepath.Join(c.proc, "cpuinfo"), 4<<20)
	if err != nil || b == nil {
		return inventory.CPUInfo{}, err
	}
	seen = cpuSeen{online: string(online), info: inventory.ParseCPUInfo(b)}
	c.mu.Lock()
	c.cpuSeen = seen
	c.mu.Unlock()
	return seen.info, nil
}

// processNames are the names of the services poller's last pass, or of
// a pass of our own, at most one per poll interval.
func (c *inventoryCollector) processNames() ([]string, error) {
	now := time.Now()
	if names, ok := c.procs.latest(2*c.poll, now); ok {
		return names, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ownAt.IsZero() && now.Sub(c.ownAt) < c.poll {
		return c.ownNames, nil
	}
	if c.scanner == nil {
		s, err := proctrack.NewScanner(c.proc)
		if err != nil {
			return nil, fmt.Errorf("--path.procfs: %w", err)
		}
		c.scanner = s
	}
	snap, err := c.scanner.Scan()
	if err != nil {
		return nil, err
	}
	c.ownNames, c.ownAt = snap.Names(), now
	return c.ownNames, nil
}

func nameMatches(name, pattern string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	if len(pattern) > 15 { // the kernel keeps 15 bytes of a name
		pattern = pattern[:15]
	}
	return name == pattern
}

func anyRunning(names []string, patterns ...string) bool {
	for _, n := range names {
		for _, p := range patterns {
			if nameMatches(n, p) {
				return true
			}
		}
	}
	return false
}

func (c *inventoryCollector) apps(_ context.Context, ch chan<- prometheus.Metric) error {
	if len(c.cfg.Apps) == 0 && c.cfg.ClamdConf == "" {
		return nil
	}
	names, err := c.processNames()
	if err != nil {
		return fmt.Errorf("processes: %w", err)
	}
	for _, a := range c.cfg.Apps {
		if anyRunning(names, a.Processes...) {
			sendGauge(ch, invAppDesc, 1, a.Name)
		}
	}
	return nil
}

func (c *inventoryCollector) sockets(_ context.Context, ch chan<- prometheus.Metric) error {
	if len(c.cfg.Ports) == 0 {
		return nil
	}
	type key struct {
		proto    string
		port     uint16
		loopback bool
	}
	counts := map[key]int{}
	var errs []error
	for _, t := range []struct {
		file, proto string
		udp         bool
	}{{"tcp", "tcp", false}, {"tcp6", "tcp", false}, {"udp", "udp", true}, {"udp6", "udp", true}} {
		path := filepath.Join(c.proc, "net", t.file)
		b, err := invRead(path, 64<<20)
		if err == nil && b != nil {
			var ls []inventory.Listener
			ls, err = inventory.ParseSockets(b, t.udp)
			for _, l := range ls {
				if slices.Contains(c.cfg.Ports, int(l.Port)) {
					counts[key{t.proto, l.Port, l.Loopback}]++
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		}
	}
	for k, n := range counts {
		sendGauge(ch, invSocketDesc, float64(n), k.proto, strconv.Itoa(int(k.port)), strconv.FormatBool(k.loopback))
	}
	return errors.Join(errs...)
}

// networkFSTypes are the file sharing mounts the heartbeat asks about.
var networkFSTypes = map[string]bool{"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true}

func (c *inventoryCollector) fileSystems(_ context.Context, ch chan<- prometheus.Metric) error {
	table, _, err := c.mounts.ReadFirst(filepath.Join(c.proc, "1", "mountinfo"), filepath.Join(c.proc, "self", "mountinfo"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	type key struct{ fstype, version string }
	counts := map[key]int{}
	rootType := ""
	for _, m := range table {
		if m.Mountpoint == "/" {
			rootType = m.FSType // the last mount on / is the one seen
		}
		if networkFSTypes[m.FSType] {
			counts[key{m.FSType, mountVersion(m)}]++
		}
	}
	if rootType != "" {
		sendGauge(ch, invRootFSDesc, 1, hostinfo.CleanLabel(rootType))
	}
	for k, n := range counts {
		sendGauge(ch, invMountDesc, float64(n), k.fstype, k.version)
	}
	if err != nil {
		return fmt.Errorf("mountinfo: %w", err)
	}
	return nil
}

// mountVersion is the vers= option the kernel shows for NFS and CIFS.
func mountVersion(m mounts.Mount) string {
	for _, o := range append(slices.Clone(m.SuperOptions), m.Options...) {
		if v, ok := strings.CutPrefix(o, "vers="); ok && len(v) <= 8 {
			return hostinfo.CleanLabel(v)
		}
	}
	if m.FSType == "nfs4" {
		return "4"
	}
	return ""
}

// packages parses dpkg's status file again only when it changed: it is
// megabytes on a full server.
func (c *inventoryCollector) packages(_ context.Context, ch chan<- prometheus.Metric) error {
	if len(c.cfg.Packages) == 0 {
		return nil
	}
	path := c.onRoot("/var/lib/dpkg/status")
	f, fi, err := fileid.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if id := fileid.Of(fi); c.dpkgPkgs == nil || !id.SameFile(c.dpkgID) {
		want := map[string]bool{}
		for _, p := range c.cfg.Packages {
			want[p] = true
		}
		pkgs, err := dpkg.ParseStatus(f, func(name string) bool { return want[name] })
		c.dpkgID, c.dpkgPkgs, c.dpkgErr = id, map[string]bool{}, err
		for _, p := range pkgs {
			c.dpkgPkgs[p.Name] = true
		}
	}
	if c.dpkgErr != nil {
		return fmt.Errorf("%s: %w", path, c.dpkgErr)
	}
	for _, p := range c.cfg.Packages {
		sendGauge(ch, invPackageDesc, invBool(c.dpkgPkgs[p]), p)
	}
	return nil
}

// maxCgroupDepth is how deep container cgroups are looked for:
// system.slice/docker-ID.scope, machine.slice/libpod-ID.scope,
// lxc.payload.NAME, and cgroup v1's docker/ID under a controller.
const maxCgroupDepth = 3

func (c *inventoryCollector) containers(_ context.Context, ch chan<- prometheus.Metric) error {
	base := filepath.Join(c.sys, "fs", "cgroup")
	if _, err := os.Stat(filepath.Join(base, "cgroup.controllers")); err != nil {
		base = filepath.Join(base, "memory") // cgroup v1: one hierarchy is enough
	}
	counts := map[string]int{}
	var walk func(dir, parent string, depth int) error
	walk = func(dir, parent string, depth int) error {
		names, err := fileid.SubdirNames(dir) // each folder holds ~30 control files
		if err != nil {
			return err
		}
		for _, name := range names {
			if rt := inventory.ContainerRuntime(parent, name); rt != "" {
				counts[rt]++ // its own sub-cgroups are not containers
				continue
			}
			if depth < maxCgroupDepth {
				if err := walk(filepath.Join(dir, name), name, depth+1); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		return nil
	}
	err := walk(base, "", 1)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	runtimes := make([]string, 0, len(counts))
	for rt := range counts {
		runtimes = append(runtimes, rt)
	}
	sort.Strings(runtimes)
	for _, rt := range runtimes {
		sendGauge(ch, invContainerDesc, float64(counts[rt]), rt)
	}
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	return nil
}
