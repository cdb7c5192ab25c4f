package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

// Run by hand, without systemd's StateDirectory=, the state folder is
// created (0700) where its parent exists, and used; where it cannot be
// created or written, a warning (not an info line) says positions are kept
// in memory only.
func TestStateDirCreatedOrWarned(t *testing.T) {
	parent := t.TempDir()
	notADir := filepath.Join(parent, "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		usable    bool
		level     string
	}{
		{"missing, parent exists", filepath.Join(parent, "heartbeat_exporter"), true, "level=info"},
		{"parent missing", filepath.Join(parent, "no/such/heartbeat_exporter"), false, "level=warn"},
		{"a file in the way", notADir, false, "level=warn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &tfLog{}
			store := openStateStore(log.NewLogfmtLogger(logs), tc.dir)
			if (store != nil) != tc.usable {
				t.Fatalf("store %v, want usable %v; log:\n%s", store, tc.usable, logs)
			}
			if !strings.Contains(logs.String(), tc.level) {
				t.Errorf("log lacks %s:\n%s", tc.level, logs)
			}
			if !tc.usable {
				return
			}
			fi, err := os.Stat(tc.dir)
			if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
				t.Fatalf("state folder %v, %v; want a 0700 folder", fi, err)
			}
			if openStateStore(log.NewNopLogger(), tc.dir) == nil {
				t.Fatal("the created folder is not usable the next time")
			}
		})
	}
}
