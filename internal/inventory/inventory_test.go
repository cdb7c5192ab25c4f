package inventory

import (
	"reflect"
	"strings"
	"testing"
)

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 100 0 0 10 0
   2: 0A00000A:0016 0B00000A:C350 01 00000000:00000000 02:000A7B2C 00000000     0        0 1003 4 0000000000000000 20 4 30 10 -1
`

const tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0801 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0CEE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2003 1 0000000000000000 100 0 0 10 0
`

const udpTable = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0801 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3001 2 0000000000000000 0
  101: 0100007F:0035 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 3002 2 0000000000000000 0
`

func TestParseSockets(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		udp  bool
		want []Listener
	}{
		// A connection (state 01) is no listener.
		{"tcp", tcpTable, false, []Listener{{25, true}, {22, false}}},
		// ::1, ::, and ::ffff:127.0.0.1.
		{"tcp6", tcp6Table, false, []Listener{{443, true}, {2049, false}, {3310, true}}},
		// A connected UDP socket is left out.
		{"udp", udpTable, true, []Listener{{2049, false}}},
	} {
		got, err := ParseSockets([]byte(c.data), c.udp)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseSocketsErrors(t *testing.T) {
	for _, bad := range []string{
		"header\n 0: 0100007F\n",
		"header\n 0: 0100007F:0019 00000000:0000 ZZ\n",
		"header\n 0: 0100007:0019 00000000:0000 0A\n",
		"header\n 0: 0100007G:0019 00000000:0000 0A\n",
		"header\n 0: 0100007F:10019 00000000:0000 0A\n",
	} {
		if _, err := ParseSockets([]byte(bad), false); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseClamConf(t *testing.T) {
	conf := ParseClamConf([]byte(`# comment
Example
DatabaseMirror db.local.clamav.net
DatabaseMirror database.clamav.net
PrivateMirror "mirror.example.net"
HTTPProxyServer	proxy.example.net
OnAccessPrevention no
ScanArchive yes
MaxFileSize=25M
` + "Bad \xff\n"))
	if got := conf["DatabaseMirror"]; !reflect.DeepEqual(got, []string{"db.local.clamav.net", "database.clamav.net"}) {
		t.Errorf("DatabaseMirror %v", got)
	}
	for key, want := range map[string]string{"PrivateMirror": "mirror.example.net", "HTTPProxyServer": "proxy.example.net",
		"Example": "yes", "MaxFileSize": "25M", "Bad": ""} {
		if got := conf.Last(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if conf.Bool("OnAccessPrevention", true) || !conf.Bool("ScanArchive", false) || !conf.Bool("Unset", true) {
		t.Error("Bool")
	}
	long := ParseClamConf([]byte("LocalSocket " + strings.Repeat("é", 100)))
	if v := long.Last("LocalSocket"); len(v) > maxValue || !validUTF8(v) {
		t.Errorf("long value kept as %d bytes", len(v))
	}
}

func TestParseCPUInfo(t *testing.T) {
	x86 := "processor\t: 0\nmodel name\t: Intel Xeon\nphysical id\t: 0\ncore id\t: 0\n\n" +
		"processor\t: 1\nmodel name\t: Intel Xeon\nphysical id\t: 0\ncore id\t: 0\n\n" + // its hyper-thread
		"processor\t: 2\nmodel name\t: Intel Xeon\nphysical id\t: 0\ncore id\t: 1\n\n" +
		"processor\t: 3\nmodel name\t: Intel Xeon\nphysical id\t: 1\ncore id\t: 0\n"
	if got := ParseCPUInfo([]byte(x86)); got != (CPUInfo{"Intel Xeon", 3}) {
		t.Errorf("x86: %+v", got)
	}
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n"
	if got := ParseCPUInfo([]byte(arm)); got != (CPUInfo{"", 2}) {
		t.Errorf("arm: %+v", got)
	}
}

func TestContainerRuntime(t *testing.T) {
	id := strings.Repeat("ab", 32)
	for _, c := range []struct{ parent, name, want string }{
		{"system.slice", "docker-" + id + ".scope", "docker"},
		{"docker", id, "docker"},
		{"docker", "buildkit", ""},
		{"machine.slice", "libpod-" + id + ".scope", "podman"},
		{"machine.slice", "libpod-conmon-" + id + ".scope", ""},
		{"system.slice", "cri-containerd-" + id + ".scope", "containerd"},
		{"/", "lxc.payload.web", "lxc"},
		{"/", "lxc.monitor.web", ""},
		{"lxc", "web", "lxc"},
		{"system.slice", "docker.service", ""},
		{"system.slice", "containerd.service", ""},
	} {
		if got := ContainerRuntime(c.parent, c.name); got != c.want {
			t.Errorf("%s/%s: %q, want %q", c.parent, c.name, got, c.want)
		}
	}
}

func TestParseCVDTXT(t *testing.T) {
	p, err := ParseCVDTXT("1.4.2:62:27490:1732957200:1:90:49192:336")
	if err != nil {
		t.Fatal(err)
	}
	if p.Engine != "1.4.2" || !reflect.DeepEqual(p.Versions, map[string]int{"main": 62, "daily": 27490, "bytecode": 336}) {
		t.Errorf("%+v", p)
	}
	for _, bad := range []string{"", "1.4.2:62", "1.4.2:x:27490", "1.4.2:62:-1", "1.4.2:62:1:2:3:4:5:b"} {
		if _, err := ParseCVDTXT(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLastMirror(t *testing.T) {
	log := `Mon Nov 30 09:00:01 2026 -> Trying to retrieve CVD header from https://old.example.net/daily.cvd
Mon Nov 30 10:00:01 2026 -> ClamAV update process started at Mon Nov 30 10:00:01 2026
Mon Nov 30 10:00:02 2026 -> Trying to retrieve CVD header from https://database.clamav.net/daily.cvd
Mon Nov 30 10:00:03 2026 -> daily.cld updated (version: 27101, sigs: 2046391, f-level: 90, builder: raynman)
`
	if got := LastMirror([]byte(log)); got != "database.clamav.net" {
		t.Errorf("got %q", got)
	}
	if got := LastMirror([]byte("Database updated (2000 signatures) from db.de.clamav.net (IP: 1.2.3.4)")); got != "db.de.clamav.net" {
		t.Errorf("old format: got %q", got)
	}
	if got := LastMirror([]byte("Giving up on https://db.local.clamav.net...\n")); got != "db.local.clamav.net" {
		t.Errorf("trailing dots: got %q", got)
	}
	if got := LastMirror([]byte("nothing\n")); got != "" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("a", 300)
	if got := LastMirror([]byte("Trying host " + long + "\n")); got != long[:253] {
		t.Errorf("a host past 253 bytes: got %d bytes", len(got))
	}
}
