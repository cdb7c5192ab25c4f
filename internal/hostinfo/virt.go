package hostinfo

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
)

// None is the type reported when no virtualization is detected; Other when
// there is one but it is not recognised.
const (
	None  = "none"
	Other = "other"
)

// VMFacts are the files a VM is recognised by, read by the caller; an
// absent file is left empty.
type VMFacts struct {
	ProductName, SysVendor, BoardVendor, BiosVendor string // /sys/class/dmi/id/*
	HypervisorType                                  string // /sys/hypervisor/type
	Clocksource                                     string // /sys/devices/system/clocksource/clocksource0/available_clocksource
	CPUInfo                                         []byte // /proc/cpuinfo
}

// dmiVendors maps DMI string prefixes to systemd-detect-virt names, in the
// spirit of systemd's table.
var dmiVendors = []struct{ prefix, name string }{
	{"KVM", "kvm"},
	{"OpenStack", "kvm"}, // OpenStack Nova guests are KVM, as systemd says
	{"KubeVirt", "kvm"},
	{"Amazon EC2", "amazon"},
	{"QEMU", "qemu"},
	{"VMware", "vmware"},
	{"VMW", "vmware"},
	{"innotek GmbH", "oracle"},
	{"VirtualBox", "oracle"},
	{"Oracle Corporation", "oracle"},
	{"Xen", "xen"},
	{"Bochs", "bochs"},
	{"Parallels", "parallels"},
	{"BHYVE", "bhyve"},
	{"Hyper-V", "microsoft"},
	{"Apple Virtualization", "apple"},
	{"Google", "google"},
}

// DetectVM names the hypervisor the host runs under, like
// systemd-detect-virt --vm but from files only: DMI strings first
// (product_name, sys_vendor, board_vendor, bios_vendor), then
// /sys/hypervisor/type, then the "hypervisor" CPU flag (Other).
func DetectVM(f VMFacts) string {
	for _, s := range []string{f.ProductName, f.SysVendor, f.BoardVendor, f.BiosVendor} {
		s = strings.TrimSpace(s)
		for _, v := range dmiVendors {
			if strings.HasPrefix(s, v.prefix) {
				// QEMU with KVM acceleration shows the paravirtual clock.
				if v.name == "qemu" && slices.Contains(strings.Fields(f.Clocksource), "kvm-clock") {
					return "kvm"
				}
				return v.name
			}
		}
	}
	// Microsoft's own hardware (Surface) says "Microsoft Corporation" too:
	// only its Hyper-V guests are a "Virtual Machine".
	if strings.HasPrefix(strings.TrimSpace(f.SysVendor), "Microsoft Corporation") &&
		strings.HasPrefix(strings.TrimSpace(f.ProductName), "Virtual Machine") {
		return "microsoft"
	}
	if strings.TrimSpace(f.HypervisorType) == "xen" {
		return "xen"
	}
	if CPUInfoHasHypervisorFlag(f.CPUInfo) {
		return Other
	}
	return None
}

// CPUInfoHasHypervisorFlag reports whether a "flags" line of /proc/cpuinfo
// lists "hypervisor", which x86 CPUs set when running under one.
func CPUInfoHasHypervisorFlag(cpuinfo []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "flags" {
			return slices.Contains(strings.Fields(value), "hypervisor")
		}
	}
	return false
}

// ContainerFacts are the files a container is recognised by, read by the
// caller; an absent file is left empty or false.
type ContainerFacts struct {
	OpenVZ           bool   // /proc/vz exists and /proc/bc does not
	OSRelease        string // /proc/sys/kernel/osrelease
	PID1Environ      []byte // /proc/1/environ (NUL-separated)
	SystemdContainer string // /run/systemd/container
	ContainerEnv     bool   // /run/.containerenv exists
	DockerEnv        bool   // /.dockerenv exists
	PID1Cgroup       []byte // /proc/1/cgroup
}

// containerNames are the container= values systemd knows.
var containerNames = []string{
	"lxc", "lxc-libvirt", "systemd-nspawn", "docker", "podman", "rkt", "wsl", "proot", "pouch",
}

// DetectContainer names the container manager the host runs under, like
// systemd-detect-virt --container, plus a look at PID 1's cgroup.
func DetectContainer(f ContainerFacts) string {
	if f.OpenVZ {
		return "openvz"
	}
	if rel := strings.ToLower(f.OSRelease); strings.Contains(rel, "microsoft") || strings.Contains(rel, "wsl") {
		return "wsl"
	}
	value, _ := EnvironValue(f.PID1Environ, "container")
	if value == "" {
		value = f.SystemdContainer
	}
	if value = strings.ToLower(strings.TrimSpace(value)); value != "" {
		if slices.Contains(containerNames, value) {
			return value
		}
		if value != "oci" {
			return Other
		}
		// "oci": let the files below say more, else Other.
	}
	switch {
	case f.ContainerEnv:
		return "podman"
	case f.DockerEnv:
		return "docker"
	}
	if c := CgroupContainer(f.PID1Cgroup); c != None {
		return c
	}
	if value == "oci" {
		return Other
	}
	return None
}

// EnvironValue returns the value of key in a NUL-separated environment
// block such as /proc/1/environ; the first assignment wins.
func EnvironValue(environ []byte, key string) (string, bool) {
	prefix := key + "="
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, prefix); ok {
			return v, true
		}
	}
	return "", false
}

// CgroupContainer guesses a container manager from /proc/1/cgroup: a PID 1
// placed under docker, lxc, kubepods or containerd cgroups is in one.
func CgroupContainer(cgroup []byte) string {
	s := strings.ToLower(string(cgroup))
	switch {
	case strings.Contains(s, "docker"):
		return "docker"
	case strings.Contains(s, "/lxc/") || strings.Contains(s, "lxc.payload"):
		return "lxc"
	case strings.Contains(s, "kubepods"), strings.Contains(s, "containerd"):
		return Other
	}
	return None
}
