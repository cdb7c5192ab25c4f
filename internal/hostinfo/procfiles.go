package hostinfo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ParseLoadAvg reads the three load averages at the start of
// /proc/loadavg ("0.42 0.35 0.30 1/123 4567").
func ParseLoadAvg(b []byte) (load [3]float64, err error) {
	fields := bytes.Fields(b)
	if len(fields) < 3 {
		return load, fmt.Errorf("loadavg: %d fields, want at least 3", len(fields))
	}
	for i := range load {
		v, err := strconv.ParseFloat(string(fields[i]), 64)
		if err != nil || !(v >= 0) || math.IsInf(v, 0) { // NaN fails v >= 0
			return load, fmt.Errorf("loadavg: field %d %q is not a load average", i+1, fields[i])
		}
		load[i] = v
	}
	return load, nil
}

// ParseMeminfo returns the /proc/meminfo values of the wanted keys, in
// bytes ("MemTotal:  24683620 kB"; a value with no unit is a count and is
// kept as it is). Keys not wanted are skipped unparsed; a wanted line
// that does not parse is an error, as is no MemTotal line.
func ParseMeminfo(b []byte, wanted ...string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(wanted))
	var errs []error
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		key, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok || !isWanted(key, wanted) {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			errs = append(errs, fmt.Errorf("meminfo: %s: %q is not a value", key, rest))
			continue
		}
		v, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("meminfo: %s: %q is not a number", key, fields[0]))
			continue
		}
		if len(fields) == 2 {
			if string(fields[1]) != "kB" || v > (1<<64-1)/1024 {
				errs = append(errs, fmt.Errorf("meminfo: %s: %q is not a size", key, rest))
				continue
			}
			v *= 1024
		}
		out[string(key)] = v
	}
	if _, ok := out["MemTotal"]; !ok && len(errs) == 0 {
		errs = append(errs, errors.New("meminfo: no MemTotal line"))
	}
	return out, errors.Join(errs...)
}

func isWanted(key []byte, wanted []string) bool {
	for _, w := range wanted {
		if string(key) == w {
			return true
		}
	}
	return false
}
