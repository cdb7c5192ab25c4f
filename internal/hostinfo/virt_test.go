package hostinfo

import "testing"

func TestDetectVM(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    VMFacts
		want string
	}{
		{"bare metal", VMFacts{SysVendor: "Dell Inc.", ProductName: "PowerEdge R650", BiosVendor: "Dell Inc.", CPUInfo: []byte("flags\t: fpu vme sse2\n")}, None},
		{"nothing at all", VMFacts{}, None},
		{"kvm product", VMFacts{SysVendor: "Red Hat", ProductName: "KVM\n"}, "kvm"},
		{"qemu tcg", VMFacts{SysVendor: "QEMU\n", ProductName: "Standard PC (i440FX + PIIX, 1996)", BiosVendor: "SeaBIOS"}, "qemu"},
		{"qemu with kvm-clock", VMFacts{SysVendor: "QEMU", ProductName: "Standard PC (Q35 + ICH9, 2009)", Clocksource: "kvm-clock tsc acpi_pm \n"}, "kvm"},
		{"openstack", VMFacts{SysVendor: "OpenStack Foundation", ProductName: "OpenStack Nova"}, "kvm"},
		{"vmware", VMFacts{SysVendor: "VMware, Inc.", ProductName: "VMware Virtual Platform"}, "vmware"},
		{"virtualbox", VMFacts{SysVendor: "innotek GmbH", ProductName: "VirtualBox"}, "oracle"},
		{"hyper-v", VMFacts{SysVendor: "Microsoft Corporation", ProductName: "Virtual Machine", BiosVendor: "Microsoft Corporation"}, "microsoft"},
		{"surface is not a vm", VMFacts{SysVendor: "Microsoft Corporation", ProductName: "Surface Pro 9"}, None},
		{"ec2 nitro", VMFacts{SysVendor: "Amazon EC2", ProductName: "m5.large", BiosVendor: "Amazon EC2"}, "amazon"},
		{"gce", VMFacts{SysVendor: "Google", ProductName: "Google Compute Engine"}, "google"},
		{"parallels", VMFacts{SysVendor: "Parallels Software International Inc."}, "parallels"},
		{"bhyve bios", VMFacts{BiosVendor: "BHYVE"}, "bhyve"},
		{"xen hvm dmi", VMFacts{SysVendor: "Xen", ProductName: "HVM domU"}, "xen"},
		{"xen pv", VMFacts{HypervisorType: "xen\n"}, "xen"},
		{"unknown hypervisor", VMFacts{SysVendor: "Acme", CPUInfo: []byte("processor\t: 0\nflags\t\t: fpu hypervisor lahf_lm\n")}, Other},
		{"hypervisor as a substring only", VMFacts{CPUInfo: []byte("flags\t: fpu nohypervisor\nmodel name\t: hypervisor\n")}, None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectVM(tc.f); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDetectContainer(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    ContainerFacts
		want string
	}{
		{"host", ContainerFacts{OSRelease: "6.1.0-26-amd64", PID1Environ: []byte("HOME=/\x00TERM=linux\x00"), PID1Cgroup: []byte("0::/init.scope\n")}, None},
		{"nothing at all", ContainerFacts{}, None},
		{"nspawn via environ", ContainerFacts{PID1Environ: []byte("PATH=/bin\x00container=systemd-nspawn\x00")}, "systemd-nspawn"},
		{"environ value is normalised", ContainerFacts{PID1Environ: []byte("container=LXC\x00")}, "lxc"},
		{"unknown environ value", ContainerFacts{PID1Environ: []byte("container=my\xffthing")}, Other},
		{"run/systemd/container", ContainerFacts{SystemdContainer: "podman\n"}, "podman"},
		{"environ wins over the file", ContainerFacts{PID1Environ: []byte("container=docker"), SystemdContainer: "lxc"}, "docker"},
		{"oci with dockerenv", ContainerFacts{PID1Environ: []byte("container=oci"), DockerEnv: true}, "docker"},
		{"oci alone", ContainerFacts{PID1Environ: []byte("container=oci")}, Other},
		{"containerenv", ContainerFacts{ContainerEnv: true}, "podman"},
		{"dockerenv", ContainerFacts{DockerEnv: true}, "docker"},
		{"cgroup v1 docker", ContainerFacts{PID1Cgroup: []byte("12:pids:/docker/0123abcd\n0::/docker/0123abcd\n")}, "docker"},
		{"cgroup kubepods", ContainerFacts{PID1Cgroup: []byte("0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-ab12.scope\n")}, Other},
		{"cgroup lxc", ContainerFacts{PID1Cgroup: []byte("0::/lxc.payload.web1/init.scope\n")}, "lxc"},
		{"openvz", ContainerFacts{OpenVZ: true, DockerEnv: true}, "openvz"},
		{"wsl2", ContainerFacts{OSRelease: "5.15.153.1-microsoft-standard-WSL2"}, "wsl"},
		{"wsl1", ContainerFacts{OSRelease: "4.4.0-19041-Microsoft"}, "wsl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectContainer(tc.f); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnvironValue(t *testing.T) {
	env := []byte("A=1\x00container=\x00container=lxc\x00B")
	if v, ok := EnvironValue(env, "container"); !ok || v != "" {
		t.Errorf("first assignment: got %q, %v", v, ok)
	}
	if v, ok := EnvironValue(env, "B"); ok {
		t.Errorf("B without '=': got %q", v)
	}
	if _, ok := EnvironValue(nil, "A"); ok {
		t.Error("empty environ has A")
	}
}

var validTypes = map[string]bool{None: true, Other: true, "kvm": true, "qemu": true, "vmware": true, "oracle": true,
	"xen": true, "bochs": true, "parallels": true, "bhyve": true, "microsoft": true, "apple": true, "google": true, "amazon": true,
	"openvz": true, "wsl": true, "lxc": true, "lxc-libvirt": true, "systemd-nspawn": true, "docker": true, "podman": true,
	"rkt": true, "proot": true, "pouch": true}

// FuzzDetect feeds arbitrary file contents to both detectors: they must
// only ever answer one of the known names.
func FuzzDetect(f *testing.F) {
	f.Add("QEMU", "Standard PC", "", []byte("flags : hypervisor\n"), []byte("container=lxc\x00"), "0::/init.scope")
	f.Add("Microsoft Corporation", "Virtual Machine", "xen", []byte("flags:"), []byte("container=oci"), "docker")
	f.Add("", "", "", []byte{}, []byte("\x00\x00container=\xff"), "kubepods")
	f.Fuzz(func(t *testing.T, vendor, product, hyper string, cpuinfo, environ []byte, cgroup string) {
		vm := DetectVM(VMFacts{SysVendor: vendor, ProductName: product, HypervisorType: hyper, Clocksource: hyper, CPUInfo: cpuinfo})
		ctr := DetectContainer(ContainerFacts{OSRelease: product, PID1Environ: environ, SystemdContainer: vendor, PID1Cgroup: []byte(cgroup)})
		if !validTypes[vm] || !validTypes[ctr] {
			t.Errorf("vm %q, container %q", vm, ctr)
		}
	})
}
