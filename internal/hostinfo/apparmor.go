package hostinfo

import (
	"bufio"
	"bytes"
	"strings"
)

// ParseAppArmorProfiles counts loaded AppArmor profiles per mode from
// /sys/kernel/security/apparmor/profiles, whose lines read
// "/usr/sbin/clamd (enforce)". Lines that do not end in a plausible
// "(mode)" are skipped; modes are lowercased.
func ParseAppArmorProfiles(data []byte) map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		open := strings.LastIndex(line, " (")
		if open <= 0 || !strings.HasSuffix(line, ")") {
			continue
		}
		mode := strings.ToLower(line[open+2 : len(line)-1])
		if isModeName(mode) {
			out[mode]++
		}
	}
	return out
}

// isModeName accepts the short lowercase words the kernel uses for modes
// (enforce, complain, kill, unconfined, prompt, mixed...).
func isModeName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
