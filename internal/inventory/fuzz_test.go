package inventory

import (
	"testing"
	"unicode/utf8"
)

// The parsers of outside formats must not panic, and what they keep for
// labels must be valid UTF-8 and bounded.

func FuzzParseSockets(f *testing.F) {
	f.Add([]byte(tcpTable), false)
	f.Add([]byte(tcp6Table), false)
	f.Add([]byte(udpTable), true)
	f.Add([]byte("h\n 0: 0100007F:0019 00000000:0000 0A\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, udp bool) {
		ls, _ := ParseSockets(data, udp)
		if len(ls) > maxSocketLines {
			t.Errorf("%d listeners", len(ls))
		}
	})
}

func FuzzParseClamConf(f *testing.F) {
	f.Add([]byte("DatabaseMirror database.clamav.net\nOnAccessIncludePath /home\nScanArchive yes\n"))
	f.Add([]byte("Example\n# c\nMaxFileSize=25M\nHTTPProxyServer\t\"p\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, vs := range ParseClamConf(data) {
			for _, v := range vs {
				if len(v) > maxValue || !utf8.ValidString(v) || !utf8.ValidString(k) {
					t.Errorf("%q = %q", k, v)
				}
			}
		}
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Add([]byte("processor\t: 0\nmodel name\t: Intel Xeon\nphysical id\t: 0\ncore id\t: 0\n"))
	f.Add([]byte("processor : 0\ncpu model : \xff\xfe\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := ParseCPUInfo(data)
		if len(info.Model) > maxValue || !utf8.ValidString(info.Model) || info.Cores < 0 {
			t.Errorf("%+v", info)
		}
	})
}

func FuzzParseCVDTXT(f *testing.F) {
	f.Add("1.4.2:62:27490:1732957200:1:90:49192:336")
	f.Add("0.103.12:62:27101")
	f.Add(":::")
	f.Fuzz(func(t *testing.T, txt string) {
		p, err := ParseCVDTXT(txt)
		if err != nil {
			return
		}
		if !utf8.ValidString(p.Engine) || len(p.Engine) > 32 {
			t.Errorf("engine %q", p.Engine)
		}
		for db, v := range p.Versions {
			if v < 0 {
				t.Errorf("%s %d", db, v)
			}
		}
	})
}

func FuzzContainerRuntime(f *testing.F) {
	f.Add("system.slice", "docker-0123456789ab.scope")
	f.Add("lxc", "web")
	f.Fuzz(func(t *testing.T, parent, name string) {
		switch ContainerRuntime(parent, name) {
		case "", "docker", "podman", "containerd", "lxc":
		default:
			t.Error("unknown runtime")
		}
	})
}

func FuzzLastMirror(f *testing.F) {
	f.Add([]byte("Trying to retrieve CVD header from https://database.clamav.net/daily.cvd\n"))
	f.Add([]byte("\n\nDatabase updated (1 signatures) from a.b (IP: 1)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m := LastMirror(data); len(m) > 253 || !utf8.ValidString(m) {
			t.Errorf("%q", m)
		}
	})
}
