package clamd

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// Replies recorded from clamd 1.4.6 (Debian 12) on a tiny database.
const (
	realVersion = "ClamAV 1.4.6/27123/Mon Nov 23 19:44:49 2026"
	realStats   = "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 10 idle-timeout 30\nQUEUE: 0 items\n\tSTATS 0.000002 \n\nMEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 5.883M pools_total 5.964M\nEND"
)

func TestParseVersion(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		reply string
		loc   *time.Location
		want  VersionReply
	}{
		{realVersion + "\x00", time.UTC, VersionReply{Engine: "1.4.6", HasDatabase: true, DatabaseVersion: 27123,
			DatabaseTime: time.Date(2026, 11, 23, 19, 44, 49, 0, time.UTC)}},
		// ctime pads the day with a space; the time is the clamd host's
		// local time, read in the zone given.
		{"ClamAV 0.103.8/26790/Thu Feb  2 08:31:02 2023\n", berlin, VersionReply{Engine: "0.103.8", HasDatabase: true,
			DatabaseVersion: 26790, DatabaseTime: time.Date(2023, 2, 2, 7, 31, 2, 0, time.UTC)}},
		{"ClamAV 1.4.6", time.UTC, VersionReply{Engine: "1.4.6"}},
	}
	for _, c := range cases {
		got, err := ParseVersion(c.reply, c.loc)
		if err != nil {
			t.Errorf("%q: %v", c.reply, err)
			continue
		}
		if got.Engine != c.want.Engine || got.HasDatabase != c.want.HasDatabase ||
			got.DatabaseVersion != c.want.DatabaseVersion || !got.DatabaseTime.Equal(c.want.DatabaseTime) {
			t.Errorf("%q: got %+v, want %+v", c.reply, got, c.want)
		}
	}
}

// With TZ set, time.Local is that zone: the exporter reads clamd's local
// time as its own local time.
func TestParseVersionInTimeLocal(t *testing.T) {
	t.Setenv("TZ", "America/New_York")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	saved := time.Local
	time.Local = ny // TZ is read once at start; set what it would give
	t.Cleanup(func() { time.Local = saved })
	v, err := ParseVersion(realVersion, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 24, 0, 44, 49, 0, time.UTC); !v.DatabaseTime.Equal(want) {
		t.Errorf("database time %v, want %v (19:44:49 EST)", v.DatabaseTime.UTC(), want)
	}
}

func TestParseVersionErrors(t *testing.T) {
	for reply, want := range map[string]string{
		"":                   "does not start with",
		"UNKNOWN COMMAND":    "does not start with",
		"ClamAV ":            "bad engine version",
		"ClamAV 1.4.6/27123": "without its time",
		"ClamAV 1.4.6/x/Mon Nov 23 19:44:49 2026":     `database version "x"`,
		"ClamAV 1.4.6/1/2026-11-23T19:44:49Z":         "not in ctime form",
		"ClamAV 1.4.6/1/Mon Nov 23 19:44:49 2026\xff": "not in ctime form",
	} {
		_, err := ParseVersion(reply, time.UTC)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrReply) {
			t.Errorf("%q: error %v, want ErrReply containing %q", reply, err, want)
		}
	}
}

func TestParseStats(t *testing.T) {
	s, err := ParseStats(realStats + "\x00")
	if err != nil {
		t.Fatal(err)
	}
	if s.Pools != 1 || s.State != "VALID PRIMARY" || s.Live != 1 || s.Idle != 0 || s.Max != 10 || s.Queue != 0 {
		t.Errorf("got %+v", s)
	}
	want := map[string]float64{"pools_used": 6168773, "pools_total": 6253707} // 5.883 and 5.964 MiB
	if len(s.Memory) != len(want) || s.Memory["pools_used"] != want["pools_used"] || s.Memory["pools_total"] != want["pools_total"] {
		t.Errorf("memory %v, want %v (N/A figures left out)", s.Memory, want)
	}
}

// With mallinfo, and two pools while a reload hands over: the primary
// one is reported, queued jobs are skipped.
func TestParseStatsMallinfoAndTwoPools(t *testing.T) {
	reply := "POOLS: 2\n\nSTATE: VALID\nTHREADS: live 2  idle 2 max 12 idle-timeout 30\nQUEUE: 0 items\n\n" +
		"STATE: VALID PRIMARY\nTHREADS: live 4  idle 1 max 12 idle-timeout 30\nQUEUE: 3 items\n" +
		"\tINSTREAM 0.100000 2026-11-23 19:44:49\n\tSCAN 0.200000 /tmp/a\n\n" +
		"MEMSTATS: heap 3.656M mmap 0.129M used 3.086M free 0.575M releasable 0.121M pools 2 pools_used 565.367M pools_total 565.391M\nEND\n"
	s, err := ParseStats(reply)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pools != 2 || s.Live != 4 || s.Idle != 1 || s.Max != 12 || s.Queue != 3 {
		t.Errorf("got %+v", s)
	}
	if len(s.Memory) != 7 || s.Memory["heap"] != 3833594 || s.Memory["releasable"] != 126878 {
		t.Errorf("memory %v", s.Memory)
	}
}

func TestParseStatsErrors(t *testing.T) {
	cut := realStats[:strings.Index(realStats, "MEMSTATS")]
	for name, c := range map[string]struct{ reply, want string }{
		"empty":           {"", "does not end in END"},
		"cut short":       {cut, "does not end in END"},
		"no memstats":     {cut + "END", "lacks MEMSTATS"},
		"no pools":        {strings.Replace(realStats, "POOLS: 1\n", "", 1), "lacks POOLS"},
		"no state":        {"POOLS: 1\nMEMSTATS: pools 1\nEND", "no pool"},
		"bad threads":     {strings.Replace(realStats, "live 1", "live one", 1), `THREADS live "one"`},
		"threads missing": {strings.Replace(realStats, "max 10", "", 1), "lacks live, idle or max"},
		"bad queue":       {strings.Replace(realStats, "0 items", "many items", 1), `QUEUE "many"`},
		"bad memstats":    {strings.Replace(realStats, "5.883M", "5.883G", 1), `pools_used "5.883G"`},
		"odd memstats":    {strings.Replace(realStats, "pools 1 ", "pools ", 1), "name/value pairs"},
		"not key value":   {"POOLS: 1\ngarbage\nEND", `"garbage"`},
		"clamd error":     {"POOLS: 1\nERROR: error encountered while formatting statistics\nEND", "clamd says"},
		"unknown command": {"UNKNOWN COMMAND", "does not end in END"},
	} {
		_, err := ParseStats(c.reply)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrReply) {
			t.Errorf("%s: error %v, want ErrReply containing %q", name, err, c.want)
		}
	}
}

func TestParseAddress(t *testing.T) {
	for in, want := range map[string]Address{
		"unix:///run/clamav/clamd.ctl": {"unix", "/run/clamav/clamd.ctl"},
		"tcp://127.0.0.1:3310":         {"tcp", "127.0.0.1:3310"},
		"tcp://[::1]:3310":             {"tcp", "[::1]:3310"},
	} {
		got, err := ParseAddress(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v", in, got, err)
		}
		if got.String() != in {
			t.Errorf("%q printed as %q", in, got.String())
		}
	}
	for _, bad := range []string{"", "/run/clamav/clamd.ctl", "unix://run/clamd.ctl", "unix:relative", "tcp://127.0.0.1", "tcp://h:1/x", "http://h:1", "%zz"} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{realVersion, "ClamAV 1.4.6", "ClamAV 1.4.6/27123", "ClamAV /1/Mon Jan  2 15:04:05 2006", "\xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s, time.UTC)
		if err == nil && (v.Engine == "" || strings.Contains(v.Engine, "/")) {
			t.Fatalf("accepted %q as engine %q", s, v.Engine)
		}
	})
}

func FuzzParseStats(f *testing.F) {
	for _, s := range []string{realStats, realStats[:40], "END", "POOLS: 1\nSTATE: x\nMEMSTATS: heap 1M\nEND", "POOLS: \xff\nEND"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseStats(s)
		if err != nil {
			return
		}
		for k, v := range r.Memory {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("memory %s = %v", k, v)
			}
		}
	})
}
