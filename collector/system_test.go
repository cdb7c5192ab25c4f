package collector

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/hostinfo"
)

const demo = "../examples/demo"

var demoPaths = Paths{Proc: demo + "/proc", Sys: demo + "/sys", Root: demo + "/root"}

// adapter makes a Collector a prometheus.Collector for testutil, keeping
// the error Update returned.
type adapter struct {
	c   Collector
	err error
}

func (a *adapter) Describe(chan<- *prometheus.Desc) {}

func (a *adapter) Collect(ch chan<- prometheus.Metric) { a.err = a.c.Update(context.Background(), ch) }

func newSystem(t *testing.T, paths Paths, cfg *config.Config, logger log.Logger) *adapter {
	t.Helper()
	if logger == nil {
		logger = log.NewNopLogger()
	}
	c, err := newSystemCollector(Deps{Logger: logger, Config: cfg, Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	return &adapter{c: c}
}

// collectText returns the text exposition of the named metrics (all if none)
// and the error Update returned.
func collectText(t *testing.T, a *adapter, names ...string) (string, error) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if len(names) == 0 || slices.Contains(names, mf.GetName()) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String(), a.err
}

// tree writes files (path -> content) under a new temporary directory and
// returns Paths for its proc, sys and root folders, which always exist.
func tree(t *testing.T, files map[string]string) Paths {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"proc", "sys", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Paths{Proc: filepath.Join(dir, "proc"), Sys: filepath.Join(dir, "sys"), Root: filepath.Join(dir, "root")}
}

// demoCopy copies the demo tree to a temporary directory, to be broken.
func demoCopy(t *testing.T) Paths {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(demo)); err != nil {
		t.Fatal(err)
	}
	return Paths{Proc: filepath.Join(dir, "proc"), Sys: filepath.Join(dir, "sys"), Root: filepath.Join(dir, "root")}
}

func TestSystemDemo(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   *config.Config
		names []string
		want  string
	}{{
		name:  "load, memory, boot time and cpus",
		names: []string{"heartbeat_load1", "heartbeat_load5", "heartbeat_load15", "heartbeat_boot_time_seconds", "heartbeat_cpus", "heartbeat_memory_total_bytes", "heartbeat_memory_available_bytes", "heartbeat_memory_free_bytes", "heartbeat_memory_swap_total_bytes", "heartbeat_memory_swap_free_bytes"},
		want: `
# HELP heartbeat_boot_time_seconds Boot time, in Unix time.
# TYPE heartbeat_boot_time_seconds gauge
heartbeat_boot_time_seconds 1.731571234e+09
# HELP heartbeat_cpus Online CPUs.
# TYPE heartbeat_cpus gauge
heartbeat_cpus 4
# HELP heartbeat_load1 1-minute load average.
# TYPE heartbeat_load1 gauge
heartbeat_load1 0.42
# HELP heartbeat_load15 15-minute load average.
# TYPE heartbeat_load15 gauge
heartbeat_load15 0.3
# HELP heartbeat_load5 5-minute load average.
# TYPE heartbeat_load5 gauge
heartbeat_load5 0.35
# HELP heartbeat_memory_available_bytes Memory available without swapping, in bytes (MemAvailable).
# TYPE heartbeat_memory_available_bytes gauge
heartbeat_memory_available_bytes 2.239860736e+09
# HELP heartbeat_memory_free_bytes Unused memory in bytes (MemFree).
# TYPE heartbeat_memory_free_bytes gauge
heartbeat_memory_free_bytes 3.1997952e+08
# HELP heartbeat_memory_swap_free_bytes Unused swap space in bytes (SwapFree).
# TYPE heartbeat_memory_swap_free_bytes gauge
heartbeat_memory_swap_free_bytes 1.979183104e+09
# HELP heartbeat_memory_swap_total_bytes Swap space in bytes (SwapTotal).
# TYPE heartbeat_memory_swap_total_bytes gauge
heartbeat_memory_swap_total_bytes 2.046816256e+09
# HELP heartbeat_memory_total_bytes Usable RAM in bytes (MemTotal).
# TYPE heartbeat_memory_total_bytes gauge
heartbeat_memory_total_bytes 4.106522624e+09
`,
	}, {
		name:  "os and kernel",
		names: []string{"heartbeat_os_info", "heartbeat_kernel_info"},
		want: `
# HELP heartbeat_kernel_info Running kernel release, version and arch; always 1.
# TYPE heartbeat_kernel_info gauge
heartbeat_kernel_info{arch="x86_64",release="6.1.0-26-amd64",version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)"} 1
# HELP heartbeat_os_info Operating system from os-release; always 1.
# TYPE heartbeat_os_info gauge
heartbeat_os_info{id="debian",id_like="",name="Debian GNU/Linux",pretty_name="Debian GNU/Linux 12 (bookworm)",version_codename="bookworm",version_id="12"} 1
`,
	}, {
		name:  "virtualization: a KVM guest, not in a container",
		names: []string{"heartbeat_virtualization_info"},
		want: `
# HELP heartbeat_virtualization_info Hypervisor or container runtime, or none; always 1.
# TYPE heartbeat_virtualization_info gauge
heartbeat_virtualization_info{kind="container",type="none"} 1
heartbeat_virtualization_info{kind="vm",type="kvm"} 1
`,
	}, {
		name:  "security: AppArmor, no SELinux",
		names: []string{"heartbeat_selinux_enabled", "heartbeat_selinux_enforcing", "heartbeat_apparmor_enabled", "heartbeat_apparmor_profiles"},
		want: `
# HELP heartbeat_apparmor_enabled 1 if AppArmor is enabled.
# TYPE heartbeat_apparmor_enabled gauge
heartbeat_apparmor_enabled 1
# HELP heartbeat_apparmor_profiles Loaded AppArmor profiles by mode.
# TYPE heartbeat_apparmor_profiles gauge
heartbeat_apparmor_profiles{mode="complain"} 1
heartbeat_apparmor_profiles{mode="enforce"} 8
heartbeat_apparmor_profiles{mode="kill"} 0
heartbeat_apparmor_profiles{mode="unconfined"} 0
# HELP heartbeat_selinux_enabled 1 if SELinux is enabled.
# TYPE heartbeat_selinux_enabled gauge
heartbeat_selinux_enabled 0
`,
	}, {
		name:  "node id hashed from machine-id",
		names: []string{"heartbeat_node_info"},
		want: `
# HELP heartbeat_node_info Host identity: node ID, hostname, config labels; always 1.
# TYPE heartbeat_node_info gauge
heartbeat_node_info{hostname="mx1.example.net",node_id="8073f5a0c5f95dea0683888fa935bf72"} 1
`,
	}, {
		name:  "node id and labels from the config",
		cfg:   &config.Config{Node: config.NodeConfig{ID: "demo-gateway-01", Labels: map[string]string{"site": "fra1", "customer": "acme"}}},
		names: []string{"heartbeat_node_info"},
		want: `
# HELP heartbeat_node_info Host identity: node ID, hostname, config labels; always 1.
# TYPE heartbeat_node_info gauge
heartbeat_node_info{customer="acme",hostname="mx1.example.net",node_id="demo-gateway-01",site="fra1"} 1
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a := newSystem(t, demoPaths, tc.cfg, nil)
			if err := testutil.CollectAndCompare(a, strings.NewReader(tc.want), tc.names...); err != nil {
				t.Error(err)
			}
			if a.err != nil {
				t.Errorf("Update: %v", a.err)
			}
		})
	}
}

func TestSystemTimeZone(t *testing.T) {
	zone, offset := time.Now().Zone()
	out, err := collectText(t, newSystem(t, demoPaths, nil, nil), "heartbeat_time_zone_offset_seconds")
	want := `heartbeat_time_zone_offset_seconds{time_zone="` + zone + `"} ` + strconv.Itoa(offset)
	if err != nil || !strings.Contains(out, want+"\n") {
		t.Errorf("err %v, output lacks %q:\n%s", err, want, out)
	}
}

// Absent sources are not errors: the collector reports what it can.
func TestSystemAbsentSources(t *testing.T) {
	const want = `
# HELP heartbeat_apparmor_enabled 1 if AppArmor is enabled.
# TYPE heartbeat_apparmor_enabled gauge
heartbeat_apparmor_enabled 0
# HELP heartbeat_node_info Host identity: node ID, hostname, config labels; always 1.
# TYPE heartbeat_node_info gauge
heartbeat_node_info{hostname="",node_id=""} 1
# HELP heartbeat_selinux_enabled 1 if SELinux is enabled.
# TYPE heartbeat_selinux_enabled gauge
heartbeat_selinux_enabled 0
# HELP heartbeat_virtualization_info Hypervisor or container runtime, or none; always 1.
# TYPE heartbeat_virtualization_info gauge
heartbeat_virtualization_info{kind="container",type="none"} 1
heartbeat_virtualization_info{kind="vm",type="none"} 1
`
	missing := filepath.Join(t.TempDir(), "missing")
	for name, paths := range map[string]Paths{
		"empty folders":  tree(t, nil),
		"missing roots":  {Proc: missing + "/proc", Sys: missing + "/sys", Root: missing + "/root"},
		"root is a file": {Proc: "system_test.go", Sys: "system_test.go", Root: "system_test.go"},
	} {
		t.Run(name, func(t *testing.T) {
			a := newSystem(t, paths, nil, nil)
			out, err := collectText(t, a)
			if name == "root is a file" {
				// procfs refuses a proc root that is not a folder: broken.
				if err == nil {
					t.Error("no error for a proc root that is a file")
				}
			} else if err != nil {
				t.Errorf("Update: %v", err)
			}
			out = dropLines(out, "heartbeat_time_zone_offset_seconds")
			if strings.TrimSpace(out) != strings.TrimSpace(want) {
				t.Errorf("got:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}

func dropLines(text, metric string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, metric) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// A core file present but broken is an error, and the rest still served.
func TestSystemBrokenCoreFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(t *testing.T, proc string)
		errHas  string
		absent  []string
		present []string
	}{{
		name: "loadavg is a directory",
		breakIt: func(t *testing.T, proc string) {
			mustRemove(t, proc+"/loadavg")
			if err := os.Mkdir(proc+"/loadavg", 0o755); err != nil {
				t.Fatal(err)
			}
		},
		errHas:  "loadavg",
		absent:  []string{"heartbeat_load1 ", "heartbeat_load5 ", "heartbeat_load15 "},
		present: []string{"heartbeat_memory_total_bytes ", "heartbeat_boot_time_seconds ", "heartbeat_cpus 4", "heartbeat_os_info{", "heartbeat_node_info{"},
	}, {
		name:    "loadavg is garbage",
		breakIt: func(t *testing.T, proc string) { mustWrite(t, proc+"/loadavg", "high\n") },
		errHas:  "loadavg",
		absent:  []string{"heartbeat_load1 "},
		present: []string{"heartbeat_memory_total_bytes "},
	}, {
		name:    "meminfo malformed",
		breakIt: func(t *testing.T, proc string) { mustWrite(t, proc+"/meminfo", "MemTotal: lots kB\n") },
		errHas:  "meminfo",
		absent:  []string{"heartbeat_memory_total_bytes "},
		present: []string{"heartbeat_load1 ", "heartbeat_boot_time_seconds "},
	}, {
		name:    "meminfo without MemTotal",
		breakIt: func(t *testing.T, proc string) { mustWrite(t, proc+"/meminfo", "MemFree: 1 kB\n") },
		errHas:  "MemTotal",
		absent:  []string{"heartbeat_memory_total_bytes "},
		present: []string{"heartbeat_memory_free_bytes 1024", "heartbeat_load1 "},
	}, {
		name: "stat without btime",
		breakIt: func(t *testing.T, proc string) {
			mustWrite(t, proc+"/stat", "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
		},
		errHas:  "btime",
		absent:  []string{"heartbeat_boot_time_seconds "},
		present: []string{"heartbeat_load1 ", "heartbeat_cpus 4"},
	}, {
		name: "several broken at once",
		breakIt: func(t *testing.T, proc string) {
			mustWrite(t, proc+"/stat", "btime x\n")
			mustWrite(t, proc+"/loadavg", "")
		},
		errHas:  "loadavg",
		absent:  []string{"heartbeat_boot_time_seconds ", "heartbeat_load1 "},
		present: []string{"heartbeat_memory_total_bytes "},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			paths := demoCopy(t)
			tc.breakIt(t, paths.Proc)
			out, err := collectText(t, newSystem(t, paths, nil, nil))
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %v does not mention %q", err, tc.errHas)
			}
			for _, s := range tc.absent {
				if strings.Contains(out, s) {
					t.Errorf("%q served from a broken file", s)
				}
			}
			for _, s := range tc.present {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// An unreadable AppArmor profile list (root-only on most systems) is not an
// error: the profile counts are left out and a debug line says why.
func TestSystemAppArmorUnreadable(t *testing.T) {
	for _, how := range []string{"directory", "mode 000"} {
		t.Run(how, func(t *testing.T) {
			paths := demoCopy(t)
			profiles := paths.Sys + "/kernel/security/apparmor/profiles"
			switch how {
			case "directory": // unreadable as a file even for root
				mustRemove(t, profiles)
				if err := os.Mkdir(profiles, 0o755); err != nil {
					t.Fatal(err)
				}
			case "mode 000":
				if os.Geteuid() == 0 {
					t.Skip("root reads a mode 000 file")
				}
				if err := os.Chmod(profiles, 0); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			out, err := collectText(t, newSystem(t, paths, nil, log.NewLogfmtLogger(log.NewSyncWriter(&logs))))
			if err != nil {
				t.Errorf("Update: %v", err)
			}
			if strings.Contains(out, "heartbeat_apparmor_profiles") || !strings.Contains(out, "heartbeat_apparmor_enabled 1") {
				t.Errorf("want apparmor_enabled 1 and no profile counts:\n%s", out)
			}
			if !strings.Contains(logs.String(), "apparmor/profiles") {
				t.Errorf("debug log does not name the file: %q", logs.String())
			}
		})
	}
}

func TestSystemSELinux(t *testing.T) {
	for content, want := range map[string]string{"1\n": "1", "0\n": "0"} {
		paths := tree(t, map[string]string{"sys/fs/selinux/enforce": content})
		out, err := collectText(t, newSystem(t, paths, nil, nil), "heartbeat_selinux_enabled", "heartbeat_selinux_enforcing")
		if err != nil || !strings.Contains(out, "heartbeat_selinux_enabled 1\n") || !strings.Contains(out, "heartbeat_selinux_enforcing "+want+"\n") {
			t.Errorf("enforce %q: err %v\n%s", content, err, out)
		}
	}
}

func virtType(t *testing.T, files map[string]string, kind string) string {
	t.Helper()
	out, err := collectText(t, newSystem(t, tree(t, files), nil, nil), "heartbeat_virtualization_info")
	if err != nil {
		t.Fatal(err)
	}
	prefix := `heartbeat_virtualization_info{kind="` + kind + `",type="`
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return rest[:strings.IndexByte(rest, '"')]
		}
	}
	t.Fatalf("no %s series in:\n%s", kind, out)
	return ""
}

func TestSystemContainerDetection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"host", map[string]string{"proc/1/environ": "HOME=/\x00TERM=linux\x00", "proc/1/cgroup": "0::/init.scope\n"}, "none"},
		{"docker marker", map[string]string{"root/.dockerenv": ""}, "docker"},
		{"podman marker", map[string]string{"root/run/.containerenv": ""}, "podman"},
		{"systemd container file", map[string]string{"root/run/systemd/container": "systemd-nspawn\n"}, "systemd-nspawn"},
		{"pid 1 environment", map[string]string{"proc/1/environ": "PATH=/bin\x00container=lxc\x00"}, "lxc"},
		{"pid 1 cgroup docker", map[string]string{"proc/1/cgroup": "13:name=systemd:/docker/4f1c\n"}, "docker"},
		{"pid 1 cgroup kubepods", map[string]string{"proc/1/cgroup": "0::/kubepods/besteffort/pod1/ab\n"}, "other"},
		{"openvz", map[string]string{"proc/vz/version": "2.6\n"}, "openvz"},
		{"openvz host has bc", map[string]string{"proc/vz/version": "", "proc/bc/0/resources": ""}, "none"},
		{"wsl", map[string]string{"proc/sys/kernel/osrelease": "5.15.153.1-microsoft-standard-WSL2\n"}, "wsl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := virtType(t, tc.files, "container"); got != tc.want {
				t.Errorf("container type %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSystemVMDetection(t *testing.T) {
	dmi := func(vendor, product string) map[string]string {
		return map[string]string{"sys/class/dmi/id/sys_vendor": vendor + "\n", "sys/class/dmi/id/product_name": product + "\n"}
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"physical", dmi("Supermicro", "SYS-5019C-M"), "none"},
		{"vmware", dmi("VMware, Inc.", "VMware Virtual Platform"), "vmware"},
		{"virtualbox", dmi("innotek GmbH", "VirtualBox"), "oracle"},
		{"hyper-v", dmi("Microsoft Corporation", "Virtual Machine"), "microsoft"},
		{"ec2", dmi("Amazon EC2", "t3.small"), "amazon"},
		{"gce", dmi("Google", "Google Compute Engine"), "google"},
		{"qemu", dmi("QEMU", "Standard PC (i440FX + PIIX, 1996)"), "qemu"},
		{"bhyve bios", map[string]string{"sys/class/dmi/id/bios_vendor": "BHYVE\n"}, "bhyve"},
		{"xen pv", map[string]string{"sys/hypervisor/type": "xen\n"}, "xen"},
		{"cpu flag only", map[string]string{"proc/cpuinfo": "processor\t: 0\nflags\t\t: fpu hypervisor\n"}, "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := virtType(t, tc.files, "vm"); got != tc.want {
				t.Errorf("vm type %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSystemCPUs(t *testing.T) {
	const stat = "cpu  1 1 1 1 1 1 1 1 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\ncpu1 1 1 1 1 1 1 1 1 0 0\nbtime 1700000000\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // "" = no metric
	}{
		{"range list", map[string]string{"sys/devices/system/cpu/online": "0-3,5,7-8\n", "proc/stat": stat}, "7"},
		{"single cpu", map[string]string{"sys/devices/system/cpu/online": "0\n"}, "1"},
		{"no online file: count /proc/stat", map[string]string{"proc/stat": stat}, "2"},
		{"malformed online file: count /proc/stat", map[string]string{"sys/devices/system/cpu/online": "zero\n", "proc/stat": stat}, "2"},
		{"neither", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := collectText(t, newSystem(t, tree(t, tc.files), nil, nil), "heartbeat_cpus")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(out, "heartbeat_cpus "); got != (tc.want != "") || (got && !strings.Contains(out, "heartbeat_cpus "+tc.want+"\n")) {
				t.Errorf("want %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestSystemOSReleaseFallbackAndKernelArch(t *testing.T) {
	paths := tree(t, map[string]string{
		"root/usr/lib/os-release":   "ID=alpine\nID_LIKE=\"\"\nNAME=\"Alpine Linux\"\nVERSION_ID=3.20.3\n",
		"proc/sys/kernel/osrelease": "6.6.58-0-lts\n",
	})
	out, err := collectText(t, newSystem(t, paths, nil, nil), "heartbeat_os_info", "heartbeat_kernel_info")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`heartbeat_os_info{id="alpine",id_like="",name="Alpine Linux",pretty_name="",version_codename="",version_id="3.20.3"} 1`,
		// No kernel/arch file and a proc root that is not /proc: GOARCH.
		`heartbeat_kernel_info{arch="` + hostinfo.UnameArch(runtime.GOARCH),
		`release="6.6.58-0-lts",version=""} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
