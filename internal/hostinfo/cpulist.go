package hostinfo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxCPUID bounds the CPU numbers ParseCPUList accepts; the kernel's limit
// (CONFIG_NR_CPUS) is far below it.
const maxCPUID = 1 << 20

// ParseCPUList counts the CPUs in a kernel CPU list such as
// /sys/devices/system/cpu/online: comma-separated numbers and ranges,
// "0-3,5,7-8" (7 CPUs). Overlapping entries are counted once. An empty or
// malformed list is an error.
func ParseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty CPU list")
	}
	type span struct{ lo, hi int }
	var spans []span
	for _, part := range strings.Split(s, ",") {
		loS, hiS, isRange := strings.Cut(part, "-")
		lo, err := cpuID(loS)
		if err != nil {
			return 0, err
		}
		hi := lo
		if isRange {
			if hi, err = cpuID(hiS); err != nil {
				return 0, err
			}
			if hi < lo {
				return 0, fmt.Errorf("CPU range %q runs backwards", part)
			}
		}
		spans = append(spans, span{lo, hi})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	count, next := 0, 0 // next: the lowest CPU not counted yet
	for _, sp := range spans {
		lo := max(sp.lo, next)
		if sp.hi >= lo {
			count += sp.hi - lo + 1
			next = sp.hi + 1
		}
	}
	return count, nil
}

func cpuID(s string) (int, error) {
	if s == "" || s[0] < '0' || s[0] > '9' { // no signs, no blanks
		return 0, fmt.Errorf("bad CPU number %q", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > maxCPUID {
		return 0, fmt.Errorf("bad CPU number %q", s)
	}
	return int(n), nil
}
