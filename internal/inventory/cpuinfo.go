package inventory

import (
	"bufio"
	"bytes"
	"strings"
)

// CPUInfo is what the heartbeat asks about the processor.
type CPUInfo struct {
	Model string // first "model name" (x86), else "cpu model"/"Processor"/"uarch"
	Cores int    // distinct (physical id, core id) pairs; processors when not given
}

// ParseCPUInfo reads /proc/cpuinfo. Cores counts physical cores, not the
// hyper-threads "processor" lines count; architectures that name no
// cores count processors.
func ParseCPUInfo(data []byte) CPUInfo {
	var info CPUInfo
	cores := map[[2]string]bool{}
	var physical, core string
	processors := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "processor":
			processors++
			physical, core = "", ""
		case "model name", "cpu model", "uarch", "Processor", "cpu":
			if info.Model == "" && value != "" {
				info.Model = value
			}
		case "physical id":
			physical = value
		case "core id":
			core = value
			cores[[2]string{physical, core}] = true
		}
	}
	info.Cores = len(cores)
	if info.Cores == 0 {
		info.Cores = processors
	}
	if len(info.Model) > maxValue || !validUTF8(info.Model) {
		info.Model = strings.ToValidUTF8(info.Model[:min(len(info.Model), maxValue)], "")
	}
	return info
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
