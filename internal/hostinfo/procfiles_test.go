package hostinfo

import (
	"math"
	"strings"
	"testing"
)

const meminfo = `MemTotal:       24683620 kB
MemFree:         1234567 kB
MemAvailable:   20000000 kB
Buffers:          100000 kB
HugePages_Total:       0
SwapTotal:       2097148 kB
SwapFree:        2097148 kB
`

var memKeys = []string{"MemTotal", "MemFree", "MemAvailable", "SwapTotal", "SwapFree", "HugePages_Total"}

func TestParseMeminfo(t *testing.T) {
	got, err := ParseMeminfo([]byte(meminfo), memKeys...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"MemTotal": 24683620 * 1024, "MemFree": 1234567 * 1024,
		"MemAvailable": 20000000 * 1024, "SwapTotal": 2097148 * 1024, "SwapFree": 2097148 * 1024, "HugePages_Total": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	if _, ok := got["Buffers"]; ok {
		t.Error("a key not asked for was parsed")
	}
	for _, bad := range []string{
		"MemTotal: lots kB\n",
		"MemTotal: 1 MB\n",
		"MemTotal: 1 kB extra\n",
		"MemTotal:\n",
		"MemTotal: 18446744073709551615 kB\n", // overflows in bytes
		"MemFree: 1 kB\n",                     // no MemTotal
		"",
	} {
		if _, err := ParseMeminfo([]byte(bad), memKeys...); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// A bad line costs its key only.
	got, err = ParseMeminfo([]byte("MemTotal: 2 kB\nMemFree: x kB\nSwapFree: 1 kB\n"), memKeys...)
	if err == nil || got["MemTotal"] != 2048 || got["SwapFree"] != 1024 {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestParseLoadAvg(t *testing.T) {
	got, err := ParseLoadAvg([]byte("0.42 0.35 0.30 1/123 4567\n"))
	if err != nil || got != [3]float64{0.42, 0.35, 0.30} {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "0.1 0.2\n", "0.1 x 0.3 1/2 3\n", "0.1 -1 0.3\n", "NaN 0 0\n", "0 +Inf 0\n"} {
		if _, err := ParseLoadAvg([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add(meminfo)
	f.Add("MemTotal: 1 kB\nMemTotal: 2 kB\n")
	f.Add("MemTotal:18446744073709551615\n")
	f.Add(":\n::\nMemTotal::: 1 kB")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseMeminfo([]byte(in), memKeys...)
		for k, v := range got {
			if !strings.Contains(in, k+":") {
				t.Fatalf("%s=%d from an input without that key", k, v)
			}
		}
		if err == nil {
			if _, ok := got["MemTotal"]; !ok {
				t.Fatal("no error and no MemTotal")
			}
		}
	})
}

func FuzzParseLoadAvg(f *testing.F) {
	f.Add("0.42 0.35 0.30 1/123 4567\n")
	f.Add("1e308 1e309 NaN")
	f.Add("  \t")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseLoadAvg([]byte(in))
		if err != nil {
			return
		}
		for _, v := range got {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted %v from %q", v, in)
			}
		}
	})
}
