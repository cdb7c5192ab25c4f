package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// TestRelease: `make release` for this platform makes the tarball promu
// would, with .promu.yml's files and a binary stamped with VERSION, the
// checkout's revision and a branch, and a checksum file that verifies.
func TestRelease(t *testing.T) {
	testenv.RequireTool(t, "make", "make")
	tar := testenv.RequireTool(t, "tar", "tar")
	sha := testenv.RequireTool(t, "sha256sum", "coreutils")
	platform := "linux-" + runtime.GOARCH
	run(t, "make", "-C", "..", "release", "RELEASE_PLATFORMS="+platform)
	version, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	name := "heartbeat_exporter-" + strings.TrimSpace(string(version)) + "." + platform
	archive := "../.tarballs/" + name + ".tar.gz"
	cmd := exec.Command(sha, "--check", "sha256sums.txt")
	cmd.Dir = "../.tarballs"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sums.txt: %v\n%s", err, out)
	}
	dir := t.TempDir()
	run(t, tar, "-xzf", archive, "-C", dir)
	for _, f := range []string{"heartbeat_exporter", "LICENSE", "README.md", "CHANGELOG.md", "heartbeat_exporter.service",
		"prometheus.yml", "alerts/alerts.yaml", "alerts/rules.yaml", "dashboards/heartbeat-fleet.json"} {
		if !exists(filepath.Join(dir, name, f)) {
			t.Errorf("%s lacks %s", archive, f)
		}
	}
	out := run(t, filepath.Join(dir, name, "heartbeat_exporter"), "--version")
	m := regexp.MustCompile(`version (\S*) \(branch: (\S*), revision: (\S*)\)`).FindStringSubmatch(out)
	if m == nil || m[1] != strings.TrimSpace(string(version)) || m[2] == "" || m[2] == "unknown" {
		t.Errorf("the release binary's --version: %s", out)
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil && m != nil && m[3] != strings.TrimSpace(string(head)) {
		t.Errorf("the release binary's revision is %s, HEAD is %s", m[3], head)
	}
}
