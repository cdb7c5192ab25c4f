package cvd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pad makes a 512-byte header of s, space-padded as sigtool writes it.
func pad(s string) []byte {
	return []byte(s + strings.Repeat(" ", HeaderSize-len(s)))
}

// sigtoolHeader is the header sigtool 1.4.6 wrote for a test .cud.
const sigtoolHeader = "ClamAV-VDB:23 Nov 2026 19-44 +0000:27123:2:216:33014784c5e248ae7c9e46e23564c9ea:X:builder:1795463089"

func TestParseSigtoolHeader(t *testing.T) {
	h, err := Parse(pad(sigtoolHeader))
	if err != nil {
		t.Fatal(err)
	}
	want := Header{
		BuildTimeText:      "23 Nov 2026 19-44 +0000",
		BuildTime:          time.Unix(1795463089, 0).UTC(),
		Version:            27123,
		Signatures:         2,
		FunctionalityLevel: 216,
		MD5:                "33014784c5e248ae7c9e46e23564c9ea",
		DigitalSignature:   "X",
		Builder:            "builder",
	}
	if h != want {
		t.Errorf("got %+v\nwant %+v", h, want)
	}
}

// Databases from before ClamAV 0.91 have no build time in seconds: the
// human time, with its offset, is used.
func TestParseOldHeaderWithoutSeconds(t *testing.T) {
	h, err := Parse(pad("ClamAV-VDB:07 Mar 2017 08-02 -0500:23183:1716032:63:d3b6d8e1b4a3c7d8e9f0a1b2c3d4e5f6:dsig:neo"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2017, 3, 7, 13, 2, 0, 0, time.UTC); !h.BuildTime.Equal(want) {
		t.Errorf("build time %v, want %v", h.BuildTime, want)
	}
	if h.Version != 23183 || h.Signatures != 1716032 || h.FunctionalityLevel != 63 || h.Builder != "neo" {
		t.Errorf("got %+v", h)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"empty":          {nil, "truncated header: 0 bytes"},
		"truncated":      {[]byte(sigtoolHeader), "truncated header: 100 bytes, want 512"},
		"wrong magic":    {pad("ClamAV-VDX:" + sigtoolHeader[11:]), "not a ClamAV database"},
		"gzip, no magic": {pad("\x1f\x8b\x08\x00"), "not a ClamAV database"},
		"non-UTF-8":      {pad("ClamAV-VDB:23 Nov 2026 19-44 +0000:27123:2:216:\xff\xfe:X:b:1"), "header byte 47 is 0xff"},
		"few fields":     {pad("ClamAV-VDB:23 Nov 2026 19-44 +0000:27123:2"), "4 colon-separated fields"},
		"bad version":    {pad("ClamAV-VDB:t:v27123:2:216:md5:X:b:1"), `version "v27123" is not a number`},
		"bad sigs":       {pad("ClamAV-VDB:t:1:-2:216:md5:X:b:1"), `signatures "-2" is not a number`},
		"bad level":      {pad("ClamAV-VDB:t:1:2::md5:X:b:1"), `functionality level "" is not a number`},
		"bad seconds":    {pad("ClamAV-VDB:t:1:2:3:md5:X:b:soon"), `build time in seconds "soon"`},
		"huge seconds":   {pad("ClamAV-VDB:t:1:2:3:md5:X:b:99999999999999"), "out of range"},
		"bad time":       {pad("ClamAV-VDB:yesterday:1:2:3:md5:X:b"), `build time "yesterday"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// A NUL ends the header, as in C: what follows is not read.
func TestParseStopsAtNUL(t *testing.T) {
	b := pad(sigtoolHeader)
	b[len(sigtoolHeader)] = 0
	b[len(sigtoolHeader)+1] = 0xff
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}

func TestReadFileReadsTheHeaderOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "daily.cld")
	body := append(pad(sigtoolHeader), []byte("\x1f\x8b not a header, the compressed database")...)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := ReadFile(path)
	if err != nil || h.Version != 27123 {
		t.Fatalf("got %+v, %v", h, err)
	}
	short := filepath.Join(dir, "short.cvd")
	if err := os.WriteFile(short, []byte("ClamAV-VDB:"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(short); !errors.Is(err, ErrTruncated) {
		t.Errorf("short file: %v, want ErrTruncated", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "absent.cvd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v, want ErrNotExist", err)
	}
}

func TestIsDatabase(t *testing.T) {
	for name, want := range map[string]bool{
		"daily.cvd": true, "daily.cld": true, "local.cud": true,
		"local.hdb": false, "freshclam.dat": false, "cvd": false,
	} {
		if got := IsDatabase(name); got != want {
			t.Errorf("IsDatabase(%q) = %v", name, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(pad(sigtoolHeader))
	f.Add(pad("ClamAV-VDB:07 Mar 2017 08-02 -0500:23183:1716032:63:md5:dsig:neo"))
	f.Add([]byte(sigtoolHeader))                                        // truncated
	f.Add(pad("ClamAV-VDX:" + sigtoolHeader[11:]))                      // wrong magic
	f.Add(pad("ClamAV-VDB:\xff\xfe\xfd:1:2:3:md5:X:b:1"))               // non-UTF-8
	f.Add(pad("ClamAV-VDB::::::::::::"))                                // empty fields
	f.Add(pad("ClamAV-VDB:07 Mar 2017 08-02 -0500:1:2:3:md5:X:b:\x00")) // NUL
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Parse(b)
		if err != nil {
			return
		}
		if len(b) < HeaderSize || !strings.HasPrefix(string(b), Magic) {
			t.Fatalf("accepted a header without magic or 512 bytes: %q", b)
		}
		for _, s := range []string{h.BuildTimeText, h.MD5, h.DigitalSignature, h.Builder} {
			if strings.ContainsAny(s, ":\x00\n") {
				t.Fatalf("field %q holds a separator", s)
			}
		}
	})
}
