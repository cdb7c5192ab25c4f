package hostinfo

import (
	"maps"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseOSRelease(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
			map[string]string{"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm", "ID": "debian"}},
		{"comments and blanks", "# a comment\n\n   \nID=ubuntu\n  # indented comment\nID_LIKE=debian\n",
			map[string]string{"ID": "ubuntu", "ID_LIKE": "debian"}},
		{"single quotes are literal", `NAME='Fancy \"$OS\"'`, map[string]string{"NAME": `Fancy \"$OS\"`}},
		{"double-quote escapes", `NAME="say \"hi\" \$HOME \\ \` + "`" + ` \n"`, map[string]string{"NAME": `say "hi" $HOME \ ` + "`" + ` \n`}},
		{"unquoted escapes", `NAME=Foo\ Bar\"`, map[string]string{"NAME": `Foo Bar"`}},
		{"concatenated words", `NAME="Red Hat"' Enterprise'\ Linux`, map[string]string{"NAME": "Red Hat Enterprise Linux"}},
		{"trailing comment", `ID=fedora # the distro`, map[string]string{"ID": "fedora"}},
		{"unterminated quote", `NAME="Open`, map[string]string{"NAME": "Open"}},
		{"empty value", "VARIANT=\nID=arch", map[string]string{"VARIANT": "", "ID": "arch"}},
		{"later wins", "ID=a\nID=b", map[string]string{"ID": "b"}},
		{"export and CRLF", "export ID=alpine\r\nVERSION_ID=3.20.3\r\n", map[string]string{"ID": "alpine", "VERSION_ID": "3.20.3"}},
		{"bad lines skipped", "no equals sign\n1ID=x\nBAD-KEY=y\n=z\nGOOD_1=ok", map[string]string{"GOOD_1": "ok"}},
		{"invalid utf-8", "NAME=\"caf\xe9\"", map[string]string{"NAME": "caf\uFFFD"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseOSRelease([]byte(tc.in)); !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCleanLabel(t *testing.T) {
	if got := CleanLabel("  mx1\xff \n"); got != "mx1\uFFFD" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("é", 200) // 400 bytes
	if got := CleanLabel(long); len(got) > 256 || !utf8.ValidString(got) {
		t.Errorf("long value cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"))
	f.Add([]byte("# c\n\nNAME='x y'\nA=\"\\\"q\\\\\"\nB=c\\ d # e\n"))
	f.Add([]byte("X=\"unterminated\nY='also\nZ=\\"))
	f.Add([]byte("export ID=alpine\r\n\xff\xfe=\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, v := range ParseOSRelease(data) {
			if !isShellName(k) {
				t.Errorf("key %q is not a shell name", k)
			}
			if !utf8.ValidString(v) || strings.ContainsRune(v, '\n') {
				t.Errorf("value %q of %s is not a valid one-line string", v, k)
			}
		}
		if s := CleanLabel(string(data)); len(s) > 256 || !utf8.ValidString(s) {
			t.Errorf("CleanLabel gave %q", s)
		}
	})
}
