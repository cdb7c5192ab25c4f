package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/hostinfo"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/fileid"
)

func init() { registerCollector("system", true, newSystemCollector) }

func systemDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

var (
	osInfoDesc = systemDesc("os_info", "Operating system from os-release; always 1.",
		"id", "id_like", "name", "pretty_name", "version_id", "version_codename")
	kernelInfoDesc = systemDesc("kernel_info", "Running kernel release, version and arch; always 1.",
		"release", "version", "arch")
	bootTimeDesc = systemDesc("boot_time_seconds", "Boot time, in Unix time.")
	load1Desc    = systemDesc("load1", "1-minute load average.")
	load5Desc    = systemDesc("load5", "5-minute load average.")
	load15Desc   = systemDesc("load15", "15-minute load average.")
	memDescs     = map[string]*prometheus.Desc{
		"MemTotal":     systemDesc("memory_total_bytes", "Usable RAM in bytes (MemTotal)."),
		"MemAvailable": systemDesc("memory_available_bytes", "Memory available without swapping, in bytes (MemAvailable)."),
		"MemFree":      systemDesc("memory_free_bytes", "Unused memory in bytes (MemFree)."),
		"SwapTotal":    systemDesc("memory_swap_total_bytes", "Swap space in bytes (SwapTotal)."),
		"SwapFree":     systemDesc("memory_swap_free_bytes", "Unused swap space in bytes (SwapFree)."),
	}
	memKeys  = []string{"MemTotal", "MemAvailable", "MemFree", "SwapTotal", "SwapFree"}
	cpusDesc = systemDesc("cpus", "Online CPUs.")
	tzDesc   = systemDesc("time_zone_offset_seconds", "Offset of the local time zone from UTC, in seconds.",
		"time_zone")
	virtDesc = systemDesc("virtualization_info", `Hypervisor or container runtime, or none; always 1.`,
		"kind", "type")
	selinuxEnabledDesc   = systemDesc("selinux_enabled", "1 if SELinux is enabled.")
	selinuxEnforcingDesc = systemDesc("selinux_enforcing", "1 if SELinux is enforcing, 0 if permissive.")
	apparmorEnabledDesc  = systemDesc("apparmor_enabled", "1 if AppArmor is enabled.")
	apparmorProfDesc     = systemDesc("apparmor_profiles", "Loaded AppArmor profiles by mode.",
		"mode")
)

// factsTTL bounds how stale the slow-changing facts may be: they change
// with a reboot, an upgrade or a policy reload, and re-reading /proc/stat
// and a dozen small files at every scrape would double the scrape's cost.
const factsTTL = time.Minute

// systemCollector reports what the host is and how it is doing.
type systemCollector struct {
	logger      log.Logger
	paths       Paths
	nodeID      string   // configured; empty derives it from machine-id
	labelValues []string // config labels' values, sorted by name
	nodeInfo    *prometheus.Desc

	// read every scrape, kept open (fileid.Kept)
	loadavg, meminfo, online *fileid.Kept

	mu      sync.Mutex
	facts   *hostFacts
	factsAt time.Time
}

// hostFacts are the slow-changing facts, cached for factsTTL.
type hostFacts struct {
	bootTime         uint64
	statCPUs         int               // cpuN lines of /proc/stat, the fallback CPU count
	osRelease        map[string]string // nil when absent
	kernel           []string          // release, version, arch; nil when absent
	vmType, ctrType  string
	selinux          bool
	selinuxEnforcing bool
	apparmor         bool
	apparmorProfiles map[string]int // nil when not readable
	nodeID, hostname string
}

func newSystemCollector(d Deps) (Collector, error) {
	c := &systemCollector{logger: d.Logger, paths: d.Paths}
	c.loadavg = fileid.Keep(c.proc("loadavg"), 64<<10)
	c.meminfo = fileid.Keep(c.proc("meminfo"), 1<<20)
	c.online = fileid.Keep(c.sys("devices/system/cpu/online"), 64<<10)
	names := []string{"node_id", "hostname"}
	if d.Config != nil {
		c.nodeID = d.Config.Node.ID
		for _, k := range slices.Sorted(maps.Keys(d.Config.Node.Labels)) {
			names = append(names, k)
			c.labelValues = append(c.labelValues, d.Config.Node.Labels[k])
		}
	}
	c.nodeInfo = systemDesc("node_info", "Host identity: node ID, hostname, config labels; always 1.", names...)
	return c, nil
}

// Close closes the files kept open.
func (c *systemCollector) Close() {
	c.loadavg.Close()
	c.meminfo.Close()
	c.online.Close()
}

// metricSink sends gauges through sendGauge and keeps the errors of broken
// sources.
type metricSink struct {
	ch   chan<- prometheus.Metric
	errs []error
}

func (s *metricSink) gauge(d *prometheus.Desc, v float64, labels ...string) {
	sendGauge(s.ch, d, v, labels...)
}

// broken records err unless the source is merely absent; it says whether
// the source was read.
func (s *metricSink) broken(path string, err error) bool {
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if _, isPath := errors.AsType[*fs.PathError](err); !isPath {
			err = fmt.Errorf("%s: %w", path, err)
		}
		s.errs = append(s.errs, err)
	}
	return err == nil
}

func (c *systemCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	s := &metricSink{ch: ch}
	c.sendLoad(s)
	c.sendMemory(s)
	if f := c.hostFacts(s); f != nil {
		c.sendFacts(s, f)
	}
	zone, offset := time.Now().Zone()
	s.gauge(tzDesc, float64(offset), zone)
	return errors.Join(s.errs...)
}

// Load and memory are read every scrape, with our own small parsers:
// procfs's cost four more system calls a file (its *os.File) and a stat
// of /proc, and parse all of meminfo's fifty lines.
func (c *systemCollector) sendLoad(s *metricSink) {
	b, err := c.loadavg.Read()
	if !s.broken(c.loadavg.Path(), err) {
		return
	}
	load, err := hostinfo.ParseLoadAvg(b)
	if s.broken(c.loadavg.Path(), err) {
		s.gauge(load1Desc, load[0])
		s.gauge(load5Desc, load[1])
		s.gauge(load15Desc, load[2])
	}
}

func (c *systemCollector) sendMemory(s *metricSink) {
	b, err := c.meminfo.Read()
	if !s.broken(c.meminfo.Path(), err) {
		return
	}
	mi, err := hostinfo.ParseMeminfo(b, memKeys...)
	s.broken(c.meminfo.Path(), err) // a bad line costs its key only
	for _, key := range memKeys {
		if v, ok := mi[key]; ok {
			s.gauge(memDescs[key], float64(v))
		}
	}
}

// hostFacts returns the cached facts, re-reading them once factsTTL has
// passed. Facts read with errors are not cached, so a fixed source is
// seen at the next scrape. nil when /proc/stat could not be read.
func (c *systemCollector) hostFacts(s *metricSink) *hostFacts {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.facts != nil && time.Since(c.factsAt) < factsTTL {
		return c.facts
	}
	before := len(s.errs)
	f := c.readFacts(s)
	if len(s.errs) == before {
		c.facts, c.factsAt = f, time.Now()
	}
	return f
}

func (c *systemCollector) readFacts(s *metricSink) *hostFacts {
	f := &hostFacts{}
	if pfs, err := procfs.NewFS(c.paths.Proc); s.broken(c.paths.Proc, err) {
		if stat, err := pfs.Stat(); s.broken(c.proc("stat"), err) {
			if stat.BootTime == 0 {
				s.broken(c.proc("stat"), errors.New("no btime line"))
			}
			f.bootTime, f.statCPUs = stat.BootTime, len(stat.CPU)
		}
	}
	if osr, ok := c.readOK(c.root("etc/os-release")); ok {
		f.osRelease = hostinfo.ParseOSRelease([]byte(osr))
	} else if osr, ok := c.readOK(c.root("usr/lib/os-release")); ok {
		f.osRelease = hostinfo.ParseOSRelease([]byte(osr))
	}
	f.kernel = c.readKernel()
	f.vmType, f.ctrType = c.detectVirtualization(f.kernel)
	c.readSecurity(f)
	f.nodeID = c.nodeID
	if f.nodeID == "" {
		f.nodeID = hostinfo.NodeID([]byte(c.read(c.root("etc/machine-id"))))
	}
	f.hostname = hostinfo.CleanLabel(c.read(c.proc("sys/kernel/hostname")))
	return f
}

// readKernel returns release, version and arch, or nil when the kernel
// files are absent.
func (c *systemCollector) readKernel() []string {
	release, relOK := c.readOK(c.proc("sys/kernel/osrelease"))
	version, verOK := c.readOK(c.proc("sys/kernel/version"))
	if !relOK && !verOK {
		return nil
	}
	arch, ok := c.readOK(c.proc("sys/kernel/arch"))
	var uts unix.Utsname
	switch {
	case ok:
	case filepath.Clean(c.paths.Proc) == "/proc" && unix.Uname(&uts) == nil:
		arch = unix.ByteSliceToString(uts.Machine[:])
	default:
		arch = hostinfo.UnameArch(runtime.GOARCH)
	}
	return []string{hostinfo.CleanLabel(release), hostinfo.CleanLabel(version), hostinfo.CleanLabel(arch)}
}

func (c *systemCollector) detectVirtualization(kernel []string) (vm, container string) {
	release := ""
	if kernel != nil {
		release = kernel[0]
	}
	vm = hostinfo.DetectVM(hostinfo.VMFacts{
		ProductName:    c.read(c.sys("class/dmi/id/product_name")),
		SysVendor:      c.read(c.sys("class/dmi/id/sys_vendor")),
		BoardVendor:    c.read(c.sys("class/dmi/id/board_vendor")),
		BiosVendor:     c.read(c.sys("class/dmi/id/bios_vendor")),
		HypervisorType: c.read(c.sys("hypervisor/type")),
		Clocksource:    c.read(c.sys("devices/system/clocksource/clocksource0/available_clocksource")),
		CPUInfo:        []byte(c.read(c.proc("cpuinfo"))),
	})
	container = hostinfo.DetectContainer(hostinfo.ContainerFacts{
		OpenVZ:           exists(c.proc("vz")) && !exists(c.proc("bc")),
		OSRelease:        release,
		PID1Environ:      []byte(c.read(c.proc("1/environ"))),
		SystemdContainer: c.read(c.root("run/systemd/container")),
		ContainerEnv:     exists(c.root("run/.containerenv")),
		DockerEnv:        exists(c.root(".dockerenv")),
		PID1Cgroup:       []byte(c.read(c.proc("1/cgroup"))),
	})
	return vm, container
}

func (c *systemCollector) readSecurity(f *hostFacts) {
	enforce, selinux := c.readOK(c.sys("fs/selinux/enforce"))
	f.selinux, f.selinuxEnforcing = selinux, strings.TrimSpace(enforce) == "1"
	f.apparmor = strings.TrimSpace(c.read(c.sys("module/apparmor/parameters/enabled"))) == "Y"
	if profiles, ok := c.readOK(c.sys("kernel/security/apparmor/profiles")); ok {
		f.apparmorProfiles = hostinfo.ParseAppArmorProfiles([]byte(profiles))
		for _, m := range []string{"enforce", "complain", "kill", "unconfined"} {
			f.apparmorProfiles[m] += 0 // always exported, so a drop to 0 is seen
		}
	}
}

func (c *systemCollector) sendFacts(s *metricSink, f *hostFacts) {
	if f.bootTime != 0 {
		s.gauge(bootTimeDesc, float64(f.bootTime))
	}
	b, err := c.online.Read()
	online, _ := c.optional(c.online.Path(), b, err)
	if n, err := hostinfo.ParseCPUList(online); err == nil {
		s.gauge(cpusDesc, float64(n)) // read each scrape: CPUs can be hot-plugged
	} else if f.statCPUs > 0 {
		s.gauge(cpusDesc, float64(f.statCPUs))
	}
	if o := f.osRelease; o != nil {
		s.gauge(osInfoDesc, 1, o["ID"], o["ID_LIKE"], o["NAME"], o["PRETTY_NAME"], o["VERSION_ID"], o["VERSION_CODENAME"])
	}
	if f.kernel != nil {
		s.gauge(kernelInfoDesc, 1, f.kernel...)
	}
	s.gauge(virtDesc, 1, "vm", f.vmType)
	s.gauge(virtDesc, 1, "container", f.ctrType)
	s.gauge(selinuxEnabledDesc, b2f(f.selinux))
	if f.selinux {
		s.gauge(selinuxEnforcingDesc, b2f(f.selinuxEnforcing))
	}
	s.gauge(apparmorEnabledDesc, b2f(f.apparmor))
	for _, m := range slices.Sorted(maps.Keys(f.apparmorProfiles)) {
		s.gauge(apparmorProfDesc, float64(f.apparmorProfiles[m]), m)
	}
	s.gauge(c.nodeInfo, 1, append([]string{f.nodeID, f.hostname}, c.labelValues...)...)
}

func (c *systemCollector) proc(p string) string { return filepath.Join(c.paths.Proc, p) }
func (c *systemCollector) sys(p string) string  { return filepath.Join(c.paths.Sys, p) }
func (c *systemCollector) root(p string) string { return filepath.Join(c.paths.Root, p) }

// readOK reads an optional file (at most 1 MiB). Absent is quiet; any other
// failure (EACCES for an unprivileged exporter, say) is logged at debug.
func (c *systemCollector) readOK(path string) (string, bool) {
	b, err := fileid.ReadRegular(path, 1<<20) // /etc files under --path.rootfs are outside files
	return c.optional(path, b, err)
}

// optional is readOK's answer for a read already made.
func (c *systemCollector) optional(path string, b []byte, err error) (string, bool) {
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			_ = level.Debug(c.logger).Log("msg", "skipping unreadable file", "path", path, "err", err)
		}
		return "", false
	}
	return string(b), true
}

func (c *systemCollector) read(path string) string { s, _ := c.readOK(path); return s }

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
