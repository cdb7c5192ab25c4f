package main

import (
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The bench scripts parse, listen on free ports only (bench/lib.sh's
// free_addr, never a fixed 127.0.0.1:PORT that may be taken) and remove
// the data they generate on exit.
func TestBenchScripts(t *testing.T) {
	scripts, err := filepath.Glob("bench/*.sh")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no bench scripts: %v", err)
	}
	fixed := regexp.MustCompile(`127\.0\.0\.1:\d{2,5}\b`)
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
		text := string(readFile(t, s))
		for _, line := range strings.Split(text, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") && fixed.MatchString(line) {
				t.Errorf("%s uses a fixed port: %s", s, line)
			}
		}
		if strings.Contains(text, "/tmp/") && !strings.Contains(text, "rm -rf") {
			t.Errorf("%s writes under /tmp and removes nothing", s)
		}
	}

	// free_addr skips a port in use: hold one and ask many times.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, err := exec.Command("bash", "-c", ". bench/lib.sh; for i in $(seq 50); do free_addr; done").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range strings.Fields(string(out)) {
		if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(addr) || addr == l.Addr().String() {
			t.Errorf("free_addr gave %q", addr)
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("free_addr gave %s, which is in use", addr)
		}
	}
}
