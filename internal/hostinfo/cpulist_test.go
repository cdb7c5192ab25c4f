package hostinfo

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // -1: error
	}{
		{"0", 1},
		{"0-3\n", 4},
		{"0-3,5,7-8", 7},
		{"0,2,4,6", 4},
		{"0-63", 64},
		{"0-3,2-5", 6}, // overlaps counted once
		{"5,0-7", 8},
		{"3-3", 1},
		{"", -1},
		{" \n", -1},
		{"3-1", -1},
		{"a", -1},
		{"0-", -1},
		{"-1", -1},
		{"+1", -1},
		{"0,,1", -1},
		{"0-3:2", -1},
		{"0-4294967296", -1},
		{"0 - 3", -1},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, err := ParseCPUList(tc.in)
			if tc.want < 0 {
				if err == nil {
					t.Errorf("got %d, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0", "0-3,5,7-8", "0-3,2-5", "3-1", "", "0-1048576", "1,,2", "0-3:2/4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCPUList(s)
		if err != nil {
			return
		}
		// The list parsed: count it again the slow way, by expanding it.
		seen := map[int]bool{}
		for _, part := range strings.Split(strings.TrimSpace(s), ",") {
			lo, hi, isRange := strings.Cut(part, "-")
			a, errA := strconv.Atoi(lo)
			b := a
			var errB error
			if isRange {
				b, errB = strconv.Atoi(hi)
			}
			if errA != nil || errB != nil || a < 0 || b < a || b > maxCPUID {
				t.Fatalf("%q accepted but entry %q is bad", s, part)
			}
			for i := a; i <= b; i++ {
				seen[i] = true
			}
		}
		if n != len(seen) {
			t.Errorf("%q: counted %d CPUs, want %d", s, n, len(seen))
		}
	})
}
