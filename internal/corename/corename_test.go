package corename

import (
	"regexp"
	"testing"
	"unicode/utf8"
)

func TestExecutable(t *testing.T) {
	for name, want := range map[string]string{
		"core.clamd.0.5f8bd1a3a7c94b0cb3a3f2b1a8e2e0f1.1234.1700000000000000.zst":                       "clamd",
		"core.amavisd\\x20\\x28master\\x29.110.5f8bd1a3a7c94b0cb3a3f2b1a8e2e0f1.99.1700000000000000.xz": "amavisd (master)",
		"core.a\\x2eout.0.5f8bd1a3a7c94b0cb3a3f2b1a8e2e0f1.7.1700000000000000":                          "a.out",
		"_usr_sbin_clamd.0.crash":      "clamd",
		"_usr_bin_freshclam.110.crash": "freshclam",
		"core._usr_sbin_spamd.0.5f8bd1a3-a7c9-4b0c-b3a3-f2b1a8e2e0f1.4242.1700000000": "spamd",
		"core":                Unknown,
		"core.1234":           Unknown,
		"crash.txt":           Unknown,
		"core.x.0.nothex.1.2": Unknown,
	} {
		if got := Executable(name, nil); got != want {
			t.Errorf("Executable(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCounted(t *testing.T) {
	for name, want := range map[string]bool{
		"_usr_sbin_clamd.0.crash": true, "_usr_sbin_clamd.0.upload": false,
		"_usr_sbin_clamd.0.uploaded": false, ".lock": false, "core": true, "": false,
	} {
		if Counted(name) != want {
			t.Errorf("Counted(%q) = %v", name, !want)
		}
	}
}

func TestPattern(t *testing.T) {
	cases := []struct {
		pattern, dir string
		ok           bool
		names        map[string]string
	}{
		{"/var/cores/core.%e.%p.%t", "/var/cores", true, map[string]string{
			"core.clamd.1234.1700000000":    "clamd",
			"core.clamd.1234.1700000000.gz": "clamd",
			"core.my.prog.1.2":              "my.prog",
			"other":                         Unknown,
		}},
		{"/var/crash/%E-%p.core", "/var/crash", true, map[string]string{
			"!usr!sbin!clamd-77.core": "clamd",
		}},
		{"/cores/core", "/cores", true, map[string]string{"core": Unknown, "core.991": Unknown}},
		{"/tmp/%e/%e.core", "", false, nil},
		{"|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h", "", false, nil},
		{"core", "", false, nil},
		{"/var/cores/100%%-%e", "/var/cores", true, map[string]string{"100%-clamd": "clamd"}},
	}
	for _, tc := range cases {
		dir, re, ok := Pattern(tc.pattern + "\n")
		if ok != tc.ok || dir != tc.dir {
			t.Errorf("Pattern(%q) = %q, %v; want %q, %v", tc.pattern, dir, ok, tc.dir, tc.ok)
			continue
		}
		for name, want := range tc.names {
			if got := Executable(name, re); got != want {
				t.Errorf("pattern %q: Executable(%q) = %q, want %q", tc.pattern, name, got, want)
			}
		}
	}
}

func FuzzPatternAndExecutable(f *testing.F) {
	for _, s := range []string{"/var/cores/core.%e.%p", "/x/%E%", "/a/%", "|/pipe", "/c/%e%e%f%E%E"} {
		f.Add(s, "core.clamd.1.2")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		_, re, ok := Pattern(pattern)
		if ok && re == nil {
			t.Fatal("ok without a regexp")
		}
		got := Executable(name, re)
		if got == "" || len(got) > 64 || !utf8.ValidString(got) || !regexp.MustCompile(`^[^\x00-\x1f\x7f]+$`).MatchString(got) {
			t.Fatalf("Executable(%q) = %q: not a clean label", name, got)
		}
	})
}
