package spamassassin

import (
	"os"
	"testing"
	"unicode/utf8"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

func TestEngineVersion(t *testing.T) {
	for _, tc := range []struct{ src, raw, dotted string }{
		{"package Mail::SpamAssassin;\n\nour $VERSION = \"4.000001\";      # update after release\n", "4.000001", "4.0.1"},
		{"our $VERSION = \"3.004006\";\n", "3.004006", "3.4.6"},
		{"  our $VERSION = '4.000010' ;\n", "4.000010", "4.0.10"},
	} {
		v, err := EngineVersion([]byte(tc.src))
		if err != nil || v.Raw != tc.raw || v.Dotted != tc.dotted {
			t.Errorf("%q: %+v, %v; want %s %s", tc.src, v, err, tc.raw, tc.dotted)
		}
	}
	for _, src := range []string{"", "our $VERSION = \"4.0.1\";", "# our $VERSION = \"4.000001\";", "my $VERSION = \"4.000001\";"} {
		if v, err := EngineVersion([]byte(src)); err == nil {
			t.Errorf("%q: %+v, want an error", src, v)
		}
	}
}

// The module as Debian 12's spamassassin 4.0.1 installs it, where present.
func TestEngineVersionInstalled(t *testing.T) {
	testenv.RequireTool(t, "spamassassin", "spamassassin")
	const path = "/usr/share/perl5/Mail/SpamAssassin.pm"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := EngineVersion(src[:min(len(src), MaxModuleBytes)])
	if err != nil || v.Dotted == "" {
		t.Fatalf("%s: %+v, %v", path, v, err)
	}
	t.Logf("installed SpamAssassin %s (%s)", v.Dotted, v.Raw)
}

func TestChannelVersion(t *testing.T) {
	if v, ok := ChannelVersion([]byte("# UPDATE version 1916549\nbody X /y/\n")); !ok || v != "1916549" {
		t.Errorf("got %q %v", v, ok)
	}
	if _, ok := ChannelVersion([]byte("#UPDATE version 1\n")); ok {
		t.Error("a malformed line was taken")
	}
}

func FuzzEngineVersion(f *testing.F) {
	f.Add([]byte("our $VERSION = \"4.000001\";"))
	f.Add([]byte("x\n our $VERSION='999.999999' ;\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := EngineVersion(src)
		if err != nil {
			return
		}
		if !utf8.ValidString(v.Raw) || !utf8.ValidString(v.Dotted) || v.Dotted == "" {
			t.Fatalf("%q: %+v", src, v)
		}
		again, err := EngineVersion([]byte("our $VERSION = \"" + v.Raw + "\";"))
		if err != nil || again != v {
			t.Fatalf("%q: %+v does not read back (%+v, %v)", src, v, again, err)
		}
	})
}
