package hostinfo

import (
	"maps"
	"testing"
)

func TestParseAppArmorProfiles(t *testing.T) {
	in := "/usr/sbin/clamd (enforce)\n" +
		"/usr/bin/freshclam (enforce)\n" +
		"nvidia_modprobe//kmod (enforce)\n" +
		"/usr/sbin/amavisd-new (complain)\n" +
		"/opt/with space/bin (kill)\n" +
		":ns://usr/bin/x (Unconfined)\n" +
		"firefox (prompt)  \n" +
		"\n" +
		"no mode here\n" +
		"(enforce)\n" +
		"bad (en force)\n" +
		"bad ()\n" +
		"bad (enforce\n"
	want := map[string]int{"enforce": 3, "complain": 1, "kill": 1, "unconfined": 1, "prompt": 1}
	if got := ParseAppArmorProfiles([]byte(in)); !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := ParseAppArmorProfiles(nil); len(got) != 0 {
		t.Errorf("empty file: got %v", got)
	}
}

func FuzzParseAppArmorProfiles(f *testing.F) {
	f.Add([]byte("/usr/sbin/clamd (enforce)\n/usr/bin/freshclam (complain)\n"))
	f.Add([]byte("a (b)\n(c)\n d (e\n f ()\n g (H-1_x)\r\n"))
	f.Add([]byte("x (\xff)\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		for mode, n := range ParseAppArmorProfiles(data) {
			if !isModeName(mode) || n < 1 {
				t.Errorf("mode %q counted %d", mode, n)
			}
			total += n
		}
		if total > len(data)/4 { // a counted line has at least "x (m)"
			t.Errorf("%d profiles from %d bytes", total, len(data))
		}
	})
}
