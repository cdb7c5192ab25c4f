package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
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
)

func init() { registerCollector("system", true, newSystemCollector) }

func systemDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

var (
	osInfoDesc = systemDesc("os_info", "Operating system from os-release (/etc/os-release, else /usr/lib/os-release); always 1.",
		"id", "id_like", "name", "pretty_name", "version_id", "version_codename")
	kernelInfoDesc = systemDesc("kernel_info", "Running kernel from /proc/sys/kernel/{osrelease,version,arch} (arch from uname when absent); always 1.",
		"release", "version", "arch")
	bootTimeDesc = systemDesc("boot_time_seconds", "When the host booted, in seconds since the epoch (btime in /proc/stat).")
	load1Desc    = systemDesc("load1", "1-minute load average from /proc/loadavg.")
	load5Desc    = systemDesc("load5", "5-minute load average from /proc/loadavg.")
	load15Desc   = systemDesc("load15", "15-minute load average from /proc/loadavg.")
	memDescs     = map[string]*prometheus.Desc{
		"MemTotal":     systemDesc("memory_total_bytes", "Usable RAM in bytes (MemTotal in /proc/meminfo)."),
		"MemAvailable": systemDesc("memory_available_bytes", "Memory available for new work without swapping, in bytes (MemAvailable in /proc/meminfo)."),
		"MemFree":      systemDesc("memory_free_bytes", "Unused memory in bytes (MemFree in /proc/meminfo)."),
		"SwapTotal":    systemDesc("memory_swap_total_bytes", "Swap space in bytes (SwapTotal in /proc/meminfo)."),
		"SwapFree":     systemDesc("memory_swap_free_bytes", "Unused swap space in bytes (SwapFree in /proc/meminfo)."),
	}
	cpusDesc = systemDesc("cpus", "Online CPUs (/sys/devices/system/cpu/online, else the cpuN lines of /proc/stat).")
	tzDesc   = systemDesc("time_zone_offset_seconds", "Offset from UTC of the exporter's local time zone (TZ, else /etc/localtime), labelled with the zone's abbreviation.",
		"time_zone")
	virtDesc = systemDesc("virtualization_info", `Virtualization the host runs under, systemd-detect-virt style (DMI, /sys/hypervisor, cpuinfo for kind="vm"; PID 1's environment and cgroup, marker files for kind="container"); type="none" when not detected; always 1.`,
		"kind", "type")
	selinuxEnabledDesc   = systemDesc("selinux_enabled", "1 if SELinux is enabled (/sys/fs/selinux/enforce exists).")
	selinuxEnforcingDesc = systemDesc("selinux_enforcing", "1 if SELinux is enforcing, 0 if permissive (/sys/fs/selinux/enforce).")
	apparmorEnabledDesc  = systemDesc("apparmor_enabled", "1 if AppArmor is enabled (/sys/module/apparmor/parameters/enabled).")
	apparmorProfDesc     = systemDesc("apparmor_profiles", "Loaded AppArmor profiles per mode (/sys/kernel/security/apparmor/profiles; absent when not readable).",
		"mode")
)

// systemCollector reports what the host is and how it is doing.
type systemCollector struct {
	logger      log.Logger
	paths       Paths
	nodeID      string   // configured; empty derives it from machine-id
	labelValues []string // config labels' values, sorted by name
	nodeInfo    *prometheus.Desc

	virtOnce        sync.Once // virtualization does not change while running
	vmType, ctrType string
}

func newSystemCollector(d Deps) (Collector, error) {
	c := &systemCollector{logger: d.Logger, paths: d.Paths}
	names := []string{"node_id", "hostname"}
	if d.Config != nil {
		c.nodeID = d.Config.Node.ID
		keys := make([]string, 0, len(d.Config.Node.Labels))
		for k := range d.Config.Node.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			names = append(names, k)
			c.labelValues = append(c.labelValues, d.Config.Node.Labels[k])
		}
	}
	c.nodeInfo = systemDesc("node_info", "Identity of the host: node_id (node.id from the config, else a keyed hash of /etc/machine-id), hostname (/proc/sys/kernel/hostname) and the config's node.labels; always 1.", names...)
	return c, nil
}

func (c *systemCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	var errs []error
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
		if err != nil {
			errs = append(errs, err)
			return
		}
		ch <- m
	}
	proc := func(p ...string) string { return filepath.Join(append([]string{c.paths.Proc}, p...)...) }
	sys := func(p ...string) string { return filepath.Join(append([]string{c.paths.Sys}, p...)...) }
	root := func(p ...string) string { return filepath.Join(append([]string{c.paths.Root}, p...)...) }

	// Core sources: present but broken is an error.
	core := func(name string, err error) bool {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			if _, isPath := errors.AsType[*fs.PathError](err); !isPath && name != "" {
				err = fmt.Errorf("%s: %w", proc(name), err)
			}
			errs = append(errs, err)
		}
		return err == nil
	}
	pfs, err := procfs.NewFS(c.paths.Proc)
	var stat procfs.Stat
	if core("", err) {
		if la, err := pfs.LoadAvg(); core("loadavg", err) {
			gauge(load1Desc, la.Load1)
			gauge(load5Desc, la.Load5)
			gauge(load15Desc, la.Load15)
		}
		if mi, err := pfs.Meminfo(); core("meminfo", err) {
			if mi.MemTotalBytes == nil {
				core("meminfo", errors.New("no MemTotal line"))
			}
			for key, v := range map[string]*uint64{"MemTotal": mi.MemTotalBytes, "MemAvailable": mi.MemAvailableBytes,
				"MemFree": mi.MemFreeBytes, "SwapTotal": mi.SwapTotalBytes, "SwapFree": mi.SwapFreeBytes} {
				if v != nil {
					gauge(memDescs[key], float64(*v))
				}
			}
		}
		if stat, err = pfs.Stat(); core("stat", err) {
			if stat.BootTime == 0 {
				core("stat", errors.New("no btime line"))
			} else {
				gauge(bootTimeDesc, float64(stat.BootTime))
			}
		}
	}
	if n, err := hostinfo.ParseCPUList(c.read(sys("devices/system/cpu/online"))); err == nil {
		gauge(cpusDesc, float64(n))
	} else if len(stat.CPU) > 0 {
		gauge(cpusDesc, float64(len(stat.CPU)))
	}

	osr, ok := c.readOK(root("etc/os-release"))
	if !ok {
		osr, ok = c.readOK(root("usr/lib/os-release"))
	}
	if ok {
		o := hostinfo.ParseOSRelease([]byte(osr))
		gauge(osInfoDesc, 1, o["ID"], o["ID_LIKE"], o["NAME"], o["PRETTY_NAME"], o["VERSION_ID"], o["VERSION_CODENAME"])
	}
	release, relOK := c.readOK(proc("sys/kernel/osrelease"))
	version, verOK := c.readOK(proc("sys/kernel/version"))
	if relOK || verOK {
		arch, ok := c.readOK(proc("sys/kernel/arch"))
		var uts unix.Utsname
		switch {
		case ok:
		case filepath.Clean(c.paths.Proc) == "/proc" && unix.Uname(&uts) == nil:
			arch = unix.ByteSliceToString(uts.Machine[:])
		default:
			arch = hostinfo.UnameArch(runtime.GOARCH)
		}
		gauge(kernelInfoDesc, 1, hostinfo.CleanLabel(release), hostinfo.CleanLabel(version), hostinfo.CleanLabel(arch))
	}

	zone, offset := time.Now().Zone()
	gauge(tzDesc, float64(offset), zone)

	c.virtOnce.Do(func() {
		vm := hostinfo.VMFacts{
			ProductName:    c.read(sys("class/dmi/id/product_name")),
			SysVendor:      c.read(sys("class/dmi/id/sys_vendor")),
			BoardVendor:    c.read(sys("class/dmi/id/board_vendor")),
			BiosVendor:     c.read(sys("class/dmi/id/bios_vendor")),
			HypervisorType: c.read(sys("hypervisor/type")),
			Clocksource:    c.read(sys("devices/system/clocksource/clocksource0/available_clocksource")),
			CPUInfo:        []byte(c.read(proc("cpuinfo"))),
		}
		c.vmType = hostinfo.DetectVM(vm)
		c.ctrType = hostinfo.DetectContainer(hostinfo.ContainerFacts{
			OpenVZ:           exists(proc("vz")) && !exists(proc("bc")),
			OSRelease:        release,
			PID1Environ:      []byte(c.read(proc("1/environ"))),
			SystemdContainer: c.read(root("run/systemd/container")),
			ContainerEnv:     exists(root("run/.containerenv")),
			DockerEnv:        exists(root(".dockerenv")),
			PID1Cgroup:       []byte(c.read(proc("1/cgroup"))),
		})
	})
	gauge(virtDesc, 1, "vm", c.vmType)
	gauge(virtDesc, 1, "container", c.ctrType)

	enforce, selinux := c.readOK(sys("fs/selinux/enforce"))
	gauge(selinuxEnabledDesc, b2f(selinux))
	if selinux {
		gauge(selinuxEnforcingDesc, b2f(strings.TrimSpace(enforce) == "1"))
	}
	gauge(apparmorEnabledDesc, b2f(strings.TrimSpace(c.read(sys("module/apparmor/parameters/enabled"))) == "Y"))
	if profiles, ok := c.readOK(sys("kernel/security/apparmor/profiles")); ok {
		counts := hostinfo.ParseAppArmorProfiles([]byte(profiles))
		for _, m := range []string{"enforce", "complain", "kill", "unconfined"} {
			counts[m] += 0
		}
		for _, m := range slices.Sorted(maps.Keys(counts)) {
			gauge(apparmorProfDesc, float64(counts[m]), m)
		}
	}

	nodeID := c.nodeID
	if nodeID == "" {
		nodeID = hostinfo.NodeID([]byte(c.read(root("etc/machine-id"))))
	}
	gauge(c.nodeInfo, 1, append([]string{nodeID, hostinfo.CleanLabel(c.read(proc("sys/kernel/hostname")))}, c.labelValues...)...)
	return errors.Join(errs...)
}

// readOK reads an optional file (at most 1 MiB). Absent is quiet; any other
// failure (EACCES for an unprivileged exporter, say) is logged at debug.
func (c *systemCollector) readOK(path string) (string, bool) {
	f, err := os.Open(path)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
	}
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
