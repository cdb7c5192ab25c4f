package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

const exampleUnit = "examples/heartbeat_exporter.service"

// syscalls expands a SystemCallFilter= list (names and @groups) with
// systemd's own tables.
func syscalls(t *testing.T, analyze string, items []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, it := range items {
		if !strings.HasPrefix(it, "@") {
			out[it] = true
			continue
		}
		b, err := exec.Command(analyze, "syscall-filter", it).Output()
		if err != nil {
			t.Fatalf("systemd-analyze syscall-filter %s: %v", it, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") || line == it {
				continue
			}
			if strings.HasPrefix(line, "@") {
				for k := range syscalls(t, analyze, []string{line}) {
					out[k] = true
				}
				continue
			}
			out[line] = true
		}
	}
	return out
}

// The unit's system-call filter lets the quarantine walk lower its
// threads' priority (setpriority), as systemd evaluates the lines: the
// first sets an allow-list, "~" lines take away, later lines add back.
func TestUnitAllowsSetpriority(t *testing.T) {
	analyze := testenv.RequireTool(t, "systemd-analyze", "systemd")
	allowed := map[string]bool{}
	first := true
	for _, m := range regexp.MustCompile(`(?m)^SystemCallFilter=(.*)$`).FindAllStringSubmatch(string(readFile(t, exampleUnit)), -1) {
		deny := strings.HasPrefix(m[1], "~")
		set := syscalls(t, analyze, strings.Fields(strings.TrimPrefix(m[1], "~")))
		if first && deny {
			t.Fatal("the unit's filter starts as a deny-list; this test expects an allow-list")
		}
		first = false
		for k := range set {
			allowed[k] = !deny
		}
	}
	for _, call := range []string{"setpriority", "read", "openat", "getdents64"} {
		if !allowed[call] {
			t.Errorf("the unit's SystemCallFilter denies %s", call)
		}
	}
}

// The README quotes the unit's current systemd-analyze security score.
func TestUnitSecurityScoreInReadme(t *testing.T) {
	analyze := testenv.RequireTool(t, "systemd-analyze", "systemd")
	out, err := exec.Command(analyze, "security", "--offline=true", exampleUnit).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+) (\w+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if want := "exposure level " + m[1] + " (" + m[2] + ")"; !strings.Contains(string(readFile(t, "README.md")), want) {
		t.Errorf("README does not quote %q", want)
	}
}
