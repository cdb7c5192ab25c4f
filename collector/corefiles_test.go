package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

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
