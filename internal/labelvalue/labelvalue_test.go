package labelvalue

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"virus", "virus"},
		{"\xff\xfeevil", "\uFFFDevil"},
		{"a\xffb", "a\uFFFDb"},
		{strings.Repeat("x", MaxBytes), strings.Repeat("x", MaxBytes)},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{long, strings.Repeat("x", 1<<20), "\xff" + long, long + "\xff"} {
		got := Clean(in)
		if len(got) > MaxBytes || !utf8.ValidString(got) {
			t.Errorf("Clean(%d bytes) = %d bytes, valid %v", len(in), len(got), utf8.ValidString(got))
		}
	}
	if Clean(long+"a") == Clean(long+"b") {
		t.Error("two long values differing in their tail became one")
	}
	if a, b := Clean(long+"a"), Clean(strings.Clone(long+"a")); a != b {
		t.Error("Clean is not deterministic")
	}
}

func TestCleanValidDoesNotAllocate(t *testing.T) {
	s := "clamav-daemon 1.4.3"
	if n := testing.AllocsPerRun(100, func() { _ = Clean(s) }); n != 0 {
		t.Errorf("%v allocations for a valid value", n)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "ok", "\xff\xfe", strings.Repeat("\xe9", 300), strings.Repeat("é", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if !utf8.ValidString(got) || len(got) > MaxBytes {
			t.Fatalf("Clean(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && len(s) <= MaxBytes && got != s {
			t.Fatalf("a valid short value changed: %q -> %q", s, got)
		}
		if Clean(got) != got {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
	})
}

func TestCleanAllCopies(t *testing.T) {
	in := []string{"ok", "\xff", "x"}
	out := CleanAll(in)
	if in[1] != "\xff" || out[1] != Replacement || out[0] != "ok" || out[2] != "x" {
		t.Errorf("CleanAll(%q) = %q, input now %q", []string{"ok", "\xff", "x"}, out, in)
	}
}
