package dpkg

import (
	"reflect"
	"strings"
	"testing"
)

const status = `Package: adduser
Status: install ok installed
Priority: important
Architecture: all
Version: 3.134
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands.
 .
 Adding users with 'adduser' is much easier.

Package: clamav
Status: install ok installed
Architecture: amd64
Version: 1.4.6+dfsg-0+deb12u1
Conffiles:
 /etc/clamav/onerrorexecute.d/x 0123

Package: spamassassin
Status: deinstall ok config-files
Architecture: all
Version: 4.0.1-1~deb12u1

Package: libc6
Status: install ok installed
Multi-Arch: same
Architecture: amd64
Version: 2.36-9+deb12u14
`

func all(string) bool { return true }

func TestParseStatus(t *testing.T) {
	got, err := ParseStatus(strings.NewReader(status), all)
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{"adduser", "all", "3.134", "install ok installed"},
		{"clamav", "amd64", "1.4.6+dfsg-0+deb12u1", "install ok installed"},
		{"libc6", "amd64", "2.36-9+deb12u14", "install ok installed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v (removed spamassassin left out)", got, want)
	}
}

func TestParseStatusWanted(t *testing.T) {
	got, err := ParseStatus(strings.NewReader(status), func(n string) bool { return n == "clamav" || n == "postfix" })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "clamav" {
		t.Errorf("got %+v", got)
	}
}

func TestParseStatusErrors(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"not a field":  {"Package: clamav\ngarbage\n", "status line 2 is not"},
		"no version":   {"Package: clamav\nStatus: install ok installed\n", "has no Version"},
		"bad status":   {"Package: clamav\nStatus: installed\nVersion: 1\n", `Status "installed"`},
		"no name":      {"Status: install ok installed\nVersion: 1\n\n", "no Package field"},
		"non-UTF-8":    {"Package: clamav\nStatus: install ok installed\nVersion: 1\xff\n", "not UTF-8"},
		"line too big": {"Package: clamav\nDescription: " + strings.Repeat("x", maxLine) + "\n", "status line 2: bufio.Scanner: token too long"},
	} {
		_, err := ParseStatus(strings.NewReader(c.in), all)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func TestListFiles(t *testing.T) {
	got := ListFiles(Package{Name: "libc6", Architecture: "amd64"})
	if want := []string{"libc6.list", "libc6:amd64.list"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(status))
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: \xff\n"))
	f.Add([]byte("Package: a\n\n\n Version: 1\n:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseStatus(strings.NewReader(string(b)), all)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || removed(p.Status) {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}
