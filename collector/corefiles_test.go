package collector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
)

func newCorefilesTest(t *testing.T, paths Paths, yaml string) *adapter {
	t.Helper()
	cfg, err := config.Parse("test.yml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCorefilesCollector(Deps{Logger: log.NewNopLogger(), Config: cfg, Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	return &adapter{c: c}
}

// setMtimes gives every file under dir the same modification time: git
// does not keep them, and the golden output shows them.
func setMtimes(t *testing.T, dir string, mtime time.Time) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		return os.Chtimes(p, mtime, mtime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The demo's core folders: systemd-coredump and apport names, an apport
// upload marker left out, an absent folder skipped; the demo's
// core_pattern is a |pipe, so it adds no folder.
func TestCorefilesDemoGolden(t *testing.T) {
	p := demoCopy(t)
	setMtimes(t, filepath.Join(p.Root, "var"), time.Date(2024, 11, 14, 8, 0, 0, 0, time.UTC))
	a := newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/lib/systemd/coredump, /var/crash, /var/cores]\n")
	got, err := collectText(t, a)
	if err != nil {
		t.Fatal(err)
	}
	tfGolden(t, filepath.Join("fixtures", "corefiles", "demo.out"), got)
}

// A core_pattern that is a path adds its folder, with the executable
// taken from %e; the cap folds the rarest programs into "other".
func TestCorefilesCorePatternAndCap(t *testing.T) {
	p := tree(t, map[string]string{
		"proc/sys/kernel/core_pattern":           "/var/cores/core.%e.%p\n",
		"root/var/cores/core.clamd.1":            "12345",
		"root/var/cores/core.clamd.2":            "1",
		"root/var/cores/core.freshclam.3":        "1",
		"root/var/cores/core.spamd.4":            "1",
		"root/var/cores/core":                    "1",
		"root/var/cores/.hidden":                 "1",
		"root/var/crash/_usr_sbin_clamd.0.crash": "1",
	})
	a := newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/crash]\n  max_executables: 3\n")
	got, err := collectText(t, a, "heartbeat_core_files", "heartbeat_core_file_bytes")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`heartbeat_core_files{dir="/var/cores",executable="clamd"} 2`,
		`heartbeat_core_files{dir="/var/cores",executable="freshclam"} 1`,
		`heartbeat_core_files{dir="/var/cores",executable="other"} 2`,
		`heartbeat_core_file_bytes{dir="/var/cores"} 9`,
		`heartbeat_core_files{dir="/var/crash",executable="clamd"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("output lacks %s\n%s", want, got)
		}
	}
	a = newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/crash]\n  from_core_pattern: false\n")
	if got, _ := collectText(t, a); strings.Contains(got, "/var/cores") {
		t.Error("from_core_pattern: false still reads the core_pattern folder")
	}
}

// A core folder that is a file is broken: an error, success 0.
func TestCorefilesBrokenFolder(t *testing.T) {
	p := tree(t, map[string]string{"root/var/crash": "not a folder"})
	a := newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/crash, /var/lib/systemd/coredump]\n")
	if _, err := collectText(t, a); err == nil || !strings.Contains(err.Error(), "/var/crash") {
		t.Errorf("err = %v, want one naming /var/crash", err)
	}
}

// coreCount scrapes a and returns heartbeat_core_files of prog and the
// folder's bytes.
func coreCount(t *testing.T, a *adapter) string {
	t.Helper()
	got, err := collectText(t, a, "heartbeat_core_files", "heartbeat_core_file_bytes")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "heartbeat_core") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " ")
}

const coreName = "core.prog.0.0123456789abcdef0123456789abcdef.%d.1700000000000000"

// An unchanged folder is listed once, by one of several concurrent
// scrapes; a file added or removed is seen at the next scrape, a file
// that grew within coreRelistAfter.
func TestCorefilesListingKept(t *testing.T) {
	p := tree(t, nil)
	dir := filepath.Join(p.Root, "var/crash")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(i int, content string) {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(coreName, i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	age := func() { // out of the racy window, as a folder untouched for a while
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(1, "a")
	write(2, "bb")
	age()
	a := newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/crash]\n  from_core_pattern: false\n")
	c := a.c.(*corefilesCollector)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := make(chan prometheus.Metric, 16)
			go func() {
				for range ch {
				}
			}()
			_ = c.Update(context.Background(), ch)
			close(ch)
		}()
	}
	wg.Wait()
	want := `heartbeat_core_file_bytes{dir="/var/crash"} 3 heartbeat_core_files{dir="/var/crash",executable="prog"} 2`
	if got := coreCount(t, a); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if c.listed != 1 {
		t.Errorf("listed %d times for 21 scrapes of an unchanged folder, want 1", c.listed)
	}

	write(3, "ccc") // the folder changes: seen at once
	if got := coreCount(t, a); !strings.Contains(got, `executable="prog"} 3`) {
		t.Errorf("a new file not seen: %s", got)
	}
	if err := os.Remove(filepath.Join(dir, fmt.Sprintf(coreName, 1))); err != nil {
		t.Fatal(err)
	}
	age()
	if got := coreCount(t, a); !strings.Contains(got, `executable="prog"} 2`) {
		t.Errorf("a removed file still counted: %s", got)
	}
	listed := c.listed
	write(2, "grown to more bytes") // in place: the folder does not change
	age()
	if got := coreCount(t, a); !strings.Contains(got, `bytes{dir="/var/crash"} 5`) || c.listed != listed {
		t.Errorf("kept listing: %s (listed %d -> %d)", got, listed, c.listed)
	}
	for _, l := range c.listings {
		l.at = l.at.Add(-coreRelistAfter)
	}
	if got := coreCount(t, a); !strings.Contains(got, `bytes{dir="/var/crash"} 22`) {
		t.Errorf("after coreRelistAfter the growth is not seen: %s", got)
	}
}

// A FIFO in a core folder's place is an error at once, not a hang.
func TestCorefilesFIFOFolder(t *testing.T) {
	p := tree(t, nil)
	if err := os.MkdirAll(filepath.Join(p.Root, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(p.Root, "var/crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/crash]\n  from_core_pattern: false\n")
	done := make(chan error, 1)
	go func() { _, err := collectText(t, a); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a FIFO core folder blocked the scrape")
	}
}

// A core_pattern replaced by a FIFO (no writer) is refused at once; the
// configured folders are still listed, and a pattern written afterwards
// is read at the next scrape (the fixture tree is not procfs: opened at
// each read, never kept).
func TestCorefilesCorePatternFIFO(t *testing.T) {
	p := tree(t, map[string]string{"root/var/crash/_usr_sbin_clamd.0.crash": "1", "root/var/cores/core.spamd.4": "1"})
	pattern := filepath.Join(p.Proc, "sys", "kernel", "core_pattern")
	if err := os.MkdirAll(filepath.Dir(pattern), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(pattern, 0o644); err != nil {
		t.Fatal(err)
	}
	a := newCorefilesTest(t, p, "corefiles:\n  dirs: [/var/crash]\n")
	done := make(chan string, 1)
	go func() { got, _ := collectText(t, a, "heartbeat_core_files"); done <- got }()
	select {
	case got := <-done:
		if !strings.Contains(got, `heartbeat_core_files{dir="/var/crash",executable="clamd"} 1`) || strings.Contains(got, "/var/cores") {
			t.Errorf("with a FIFO for core_pattern:\n%s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a FIFO core_pattern held the scrape")
	}
	if err := os.Remove(pattern); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pattern, []byte("/var/cores/core.%e.%p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := collectText(t, a, "heartbeat_core_files"); !strings.Contains(got, `heartbeat_core_files{dir="/var/cores",executable="spamd"} 1`) {
		t.Errorf("the pattern written after the FIFO was not read:\n%s", got)
	}
}
