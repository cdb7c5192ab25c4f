package mounts

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sample = `22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
60 28 254:2 / /var rw,relatime shared:30 - ext4 /dev/vda2 rw
61 60 254:3 / /var/li rw,relatime - ext4 /dev/vda3 rw
62 60 254:17 / /var/spool/postfix rw,noatime shared:32 master:4 - xfs /dev/vdb1 rw,attr2,inode64
70 28 254:33 /backups /srv/usb\040backup ro,nosuid shared:36 - vfat /dev/vdc1 rw,fmask=0022
`

func TestParse(t *testing.T) {
	ms, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 7 {
		t.Fatalf("got %d mounts, want 7", len(ms))
	}
	want := Mount{
		ID: 62, ParentID: 60, Major: 254, Minor: 17, Root: "/", Mountpoint: "/var/spool/postfix",
		Options: []string{"rw", "noatime"}, Optional: []string{"shared:32", "master:4"},
		FSType: "xfs", Source: "/dev/vdb1", SuperOptions: []string{"rw", "attr2", "inode64"},
	}
	if !reflect.DeepEqual(ms[5], want) {
		t.Errorf("got %+v\nwant %+v", ms[5], want)
	}
	usb := ms[6]
	if usb.Mountpoint != "/srv/usb backup" || usb.Root != "/backups" || !usb.ReadOnly() {
		t.Errorf("usb mount parsed as %+v", usb)
	}
	if len(ms[0].Optional) != 1 || ms[2].ReadOnly() {
		t.Errorf("unexpected %+v / %+v", ms[0], ms[2])
	}
}

func TestParseEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		ok         bool
		check      func(Mount) bool
	}{
		{"no optional fields", "1 0 8:1 / / rw - ext4 /dev/sda1 rw", true,
			func(m Mount) bool { return len(m.Optional) == 0 && m.Source == "/dev/sda1" }},
		{"empty source keeps its place", "1 0 0:5 / /mnt rw - tmpfs  rw,size=1k", true,
			func(m Mount) bool {
				return m.Source == "" && reflect.DeepEqual(m.SuperOptions, []string{"rw", "size=1k"})
			}},
		{"no source, no super options", "1 0 0:5 / /mnt rw - tmpfs", true,
			func(m Mount) bool { return m.FSType == "tmpfs" && m.Source == "" && m.SuperOptions == nil }},
		{"super block read-only", "1 0 8:1 / /ro rw - ext4 /dev/sda1 ro", true,
			func(m Mount) bool { return m.ReadOnly() }},
		{"escapes: tab, newline, backslash", `1 0 8:1 / /a\011b\012c\134d rw - ext4 /dev/x\040y rw`, true,
			func(m Mount) bool { return m.Mountpoint == "/a\tb\nc\\d" && m.Source == "/dev/x y" }},
		{"bad escapes kept verbatim", `1 0 8:1 / /a\04\400\9 rw - ext4 s rw`, true,
			func(m Mount) bool { return m.Mountpoint == `/a\04\400\9` }},
		{"escape at end", `1 0 8:1 / /a\040 rw - ext4 s rw`, true,
			func(m Mount) bool { return m.Mountpoint == "/a " }},
		{"dash as optional field value is the separator", "1 0 8:1 / /m rw shared:1 - - src rw", true,
			func(m Mount) bool { return m.FSType == "-" && m.Source == "src" }},
		{"too few fields", "1 0 8:1 / / rw -", false, nil},
		{"no separator", "1 0 8:1 / / rw shared:1 ext4 /dev/sda1 rw", false, nil},
		{"nothing after separator", "1 0 8:1 / / rw shared:1 shared:2 -", false, nil},
		{"empty file system type", "0 0 0:0  /  - ", false, nil},
		{"bad id", "x 0 8:1 / / rw - ext4 s rw", false, nil},
		{"bad parent", "1 y 8:1 / / rw - ext4 s rw", false, nil},
		{"bad device", "1 0 81 / / rw - ext4 s rw", false, nil},
		{"bad minor", "1 0 8:z / / rw - ext4 s rw", false, nil},
		{"relative mount point", "1 0 8:1 / mnt rw - ext4 s rw", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Parse(strings.NewReader(tc.line + "\n"))
			if !tc.ok {
				if err == nil || len(ms) != 0 {
					t.Fatalf("accepted %q: %+v", tc.line, ms)
				}
				if !strings.Contains(err.Error(), "line 1") {
					t.Errorf("error does not name the line: %v", err)
				}
				return
			}
			if err != nil || len(ms) != 1 {
				t.Fatalf("Parse(%q) = %+v, %v", tc.line, ms, err)
			}
			if !tc.check(ms[0]) {
				t.Errorf("Parse(%q) = %+v", tc.line, ms[0])
			}
		})
	}
}

// A malformed line does not hide the good ones.
func TestParseKeepsGoodLines(t *testing.T) {
	ms, err := Parse(strings.NewReader("garbage\n\n" + sample + "also garbage\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "line 10") {
		t.Errorf("error = %v, want lines 1 and 10 named", err)
	}
	if len(ms) != 7 {
		t.Errorf("got %d mounts, want 7", len(ms))
	}
}

func TestLookup(t *testing.T) {
	ms, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/":                           "/",
		"/etc/postfix":                "/",
		"/var":                        "/var",
		"/var/":                       "/var",
		"/var/lib/clamav":             "/var", // not /var/li
		"/var/li":                     "/var/li",
		"/var/li/x":                   "/var/li",
		"/var/spool/postfix":          "/var/spool/postfix",
		"/var/spool/postfix/deferred": "/var/spool/postfix",
		"/var/spool/postfixx":         "/var",
		"/var/spool/../spool/postfix": "/var/spool/postfix",
		"/srv/usb backup/2024":        "/srv/usb backup",
		"/srv/usb":                    "/",
		"/proc/1":                     "/proc",
		"/variable":                   "/",
	} {
		m, ok := Lookup(ms, path)
		if !ok || m.Mountpoint != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", path, m.Mountpoint, ok, want)
		}
	}
}

func TestLookupOverMountLastWins(t *testing.T) {
	ms, _ := Parse(strings.NewReader("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n" +
		"2 1 8:2 / /data rw - ext4 /dev/sda2 rw\n3 2 0:9 / /data rw - tmpfs tmpfs rw\n"))
	if m, _ := Lookup(ms, "/data/x"); m.Source != "tmpfs" {
		t.Errorf("got %s, want the later tmpfs", m.Source)
	}
}

func TestLookupNoMatch(t *testing.T) {
	ms, _ := Parse(strings.NewReader("2 1 8:2 / /data rw - ext4 /dev/sda2 rw\n"))
	if m, ok := Lookup(ms, "/etc"); ok {
		t.Errorf("Lookup matched %+v", m)
	}
	if _, ok := Lookup(nil, "/"); ok {
		t.Error("Lookup on an empty table matched")
	}
}

func TestReadFirst(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "1", "mountinfo")
	second := filepath.Join(dir, "self", "mountinfo")
	if _, _, err := ReadFirst(first, second); err == nil || !strings.Contains(err.Error(), "no mount table") {
		t.Errorf("both missing: err = %v", err)
	}
	for _, d := range []string{"1", "self"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(second, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, from, err := ReadFirst(first, second)
	if err != nil || from != second || len(ms) != 7 {
		t.Errorf("fallback: %d mounts from %s, %v", len(ms), from, err)
	}
	if err := os.WriteFile(first, []byte("1 0 8:1 / / rw - ext4 /dev/sda1 rw\nbad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, from, err = ReadFirst(first, second)
	if from != first || len(ms) != 1 || err == nil || !strings.Contains(err.Error(), first) {
		t.Errorf("first: %d mounts from %s, %v", len(ms), from, err)
	}
}

// A Reader parses an unchanged table once, and a changed one again.
func TestReaderParsesOnlyChanges(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(file, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	var r Reader
	a, _, err := r.ReadFirst(file)
	if err != nil || len(a) != 7 {
		t.Fatalf("%d mounts, %v", len(a), err)
	}
	b, _, _ := r.ReadFirst(file)
	if &a[0] != &b[0] {
		t.Error("an unchanged table was parsed again")
	}
	changed := strings.Replace(sample, "/var/li ", "/var/lib ", 1)
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, _ := r.ReadFirst(file)
	if m, ok := Lookup(c, "/var/lib/x"); !ok || m.Mountpoint != "/var/lib" {
		t.Errorf("after a change: %v %v", m.Mountpoint, ok)
	}
	if m, _ := Lookup(a, "/var/lib/x"); m.Mountpoint != "/var" {
		t.Errorf("the earlier result changed under its holder: %v", m.Mountpoint)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n")
	f.Add("1 0 0:5 / /mnt rw - tmpfs  rw\n")
	f.Add(`1 0 8:1 / /a\040b\134 rw shared:1 master:2 - ext4 /dev/x\011 ro` + "\n")
	f.Add("1 0 8:1 / / rw -\n")
	f.Add("\n\n - - - - - - - -\n")
	f.Add(`1 0 8:1 / /\7777\0 rw - a b c`)
	f.Fuzz(func(t *testing.T, in string) {
		ms, _ := Parse(strings.NewReader(in))
		if len(ms) > strings.Count(in, "\n")+1 {
			t.Fatalf("%d mounts from %d lines", len(ms), strings.Count(in, "\n")+1)
		}
		for _, m := range ms {
			if !strings.HasPrefix(m.Mountpoint, "/") || m.FSType == "" {
				t.Fatalf("accepted an invalid mount %+v", m)
			}
			_ = m.ReadOnly()
			got, ok := Lookup(ms, m.Mountpoint)
			if !ok {
				t.Fatalf("Lookup(%q) found nothing, though it is a mount point", m.Mountpoint)
			}
			if !contains(path.Clean(got.Mountpoint), path.Clean(m.Mountpoint)) {
				t.Fatalf("Lookup(%q) = %q, which does not hold it", m.Mountpoint, got.Mountpoint)
			}
		}
		// Unescape never grows a string.
		if u := Unescape(in); len(u) > len(in) {
			t.Fatalf("Unescape grew %q to %q", in, u)
		}
	})
}
