package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

// openFilesUnder counts this process's descriptors open on files whose
// path starts with prefix.
func openFilesUnder(t *testing.T, prefixes ...string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil {
			continue
		}
		for _, p := range prefixes {
			if target == p {
				n++
			}
		}
	}
	return n
}

// On the host's /proc and /sys, the files every scrape reads stay open
// between scrapes (fileid.Kept: one pread instead of five system calls),
// one descriptor each however many scrapes, closed with the collector
// (a reload's old set).
func TestScrapeFilesKeptOpenUntilClose(t *testing.T) {
	kept := []string{"/proc/loadavg", "/proc/meminfo", "/sys/devices/system/cpu/online"}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Skip(err)
		}
	}
	before := openFilesUnder(t, kept...)
	sys := newSystem(t, Paths{Proc: "/proc", Sys: "/sys", Root: "/"}, nil, nil)
	inv, err := newInventoryCollector(Deps{Logger: log.NewNopLogger(), Paths: Paths{Proc: "/proc", Sys: "/sys", Root: "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		out, _ := collectText(t, sys, "heartbeat_load1", "heartbeat_memory_total_bytes", "heartbeat_cpus")
		for _, m := range []string{"heartbeat_load1 ", "heartbeat_memory_total_bytes ", "heartbeat_cpus "} {
			if !strings.Contains(out, m) {
				t.Errorf("no %s in:\n%s", m, out)
			}
		}
		if _, err := collectText(t, &adapter{c: inv}); err != nil {
			t.Logf("inventory: %v", err) // this host may lack a source; the descriptors are what counts
		}
	}
	// loadavg and meminfo once (system), cpu/online twice (system, inventory)
	if got := openFilesUnder(t, kept...) - before; got != 4 {
		t.Errorf("%d descriptors open on %v after three scrapes, want 4", got, kept)
	}
	sys.c.(Closer).Close()
	inv.(Closer).Close()
	if got := openFilesUnder(t, kept...) - before; got != 0 {
		t.Errorf("%d descriptors left open after Close", got)
	}
}
