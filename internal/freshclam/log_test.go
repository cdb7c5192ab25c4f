package freshclam

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation(ctimeLayout, s, time.UTC)
	if err != nil {
		panic(err)
	}
	return t
}

// testdata/freshclam.log: a successful session (1.4 wording) and a failed
// one as freshclam 1.4.6 wrote it here without network.
func TestReadTail(t *testing.T) {
	r, err := ReadTail("testdata/freshclam.log", DefaultTail, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{LastSuccess: at("Mon Nov 23 09:00:09 2026"), LastFailure: at("Mon Nov 23 19:45:47 2026")}
	if r != want {
		t.Errorf("got %+v, want %+v", r, want)
	}
}

// Only the tail is read: a success further back than tail bytes is not
// seen, and the cut first line is not misread.
func TestReadTailBounded(t *testing.T) {
	data, err := os.ReadFile("testdata/freshclam.log")
	if err != nil {
		t.Fatal(err)
	}
	failed := strings.Index(string(data), "Mon Nov 23 19:45:46 2026 -> ------")
	r, err := ReadTail("testdata/freshclam.log", int64(len(data)-failed+10), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if !r.LastSuccess.IsZero() || !r.LastFailure.Equal(at("Mon Nov 23 19:45:47 2026")) {
		t.Errorf("got %+v", r)
	}
}

// Without LogTime, lines take the session's start time; the old
// "Database updated" and "is up to date" wordings count as success; the
// time is the host's local time, read in loc.
func TestParseWithoutLogTime(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	log := strings.Join([]string{
		"--------------------------------------",
		"ClamAV update process started at Tue May 16 08:01:00 2006",
		"main.cvd is up to date (version: 38, sigs: 51206, f-level: 7, builder: tkojm)",
		"daily.cvd updated (version: 1463, sigs: 4343, f-level: 8, builder: ccordes)",
		"Database updated (55549 signatures) from db.local.clamav.net (IP: 213.92.8.5)",
		"--------------------------------------",
		"freshclam daemon 0.88.2 (OS: linux-gnu, ARCH: i386, CPU: i486) started at Wed May 17 08:01:00 2006",
		"ERROR: Can't connect to port 80 of host db.local.clamav.net",
		"!Update failed. Your network may be down or none of the mirrors listed in freshclam.conf is working.",
	}, "\n")
	r := Parse([]byte(log), tokyo)
	if want := time.Date(2006, 5, 15, 23, 1, 0, 0, time.UTC); !r.LastSuccess.Equal(want) {
		t.Errorf("success %v, want %v", r.LastSuccess.UTC(), want)
	}
	if want := time.Date(2006, 5, 16, 23, 1, 0, 0, time.UTC); !r.LastFailure.Equal(want) {
		t.Errorf("failure %v, want %v", r.LastFailure.UTC(), want)
	}
}

// Lines before any time (a log cut mid-session, LogTime off) and lines
// freshclam never writes are not guessed at.
func TestParseIgnoresUntimedAndUnknown(t *testing.T) {
	r := Parse([]byte("ERROR: Update failed.\ndaily.cld updated (version: 1)\n\xff\xfe garbage\nMon Nov 23 09:00:09 2026 -> something else\n"), time.UTC)
	if !r.LastSuccess.IsZero() || !r.LastFailure.IsZero() {
		t.Errorf("got %+v", r)
	}
}

func TestReadTailAbsent(t *testing.T) {
	_, err := ReadTail(filepath.Join(t.TempDir(), "freshclam.log"), DefaultTail, time.UTC)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want ErrNotExist", err)
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/freshclam.log")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("ClamAV update process started at Tue May 16 08:01:00 2006\n!Update failed\n"))
	f.Add([]byte("Mon Nov 23 09:00:09 2026 -> \xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := Parse(b, time.UTC)
		if (!r.LastSuccess.IsZero() || !r.LastFailure.IsZero()) && !strings.Contains(string(b), ":") {
			t.Fatalf("a time from a log without one: %+v", r)
		}
	})
}
