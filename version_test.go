package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

var versionLine = regexp.MustCompile(`version (\S*) \(branch: (\S*), revision: (\S*)\)`)

// checkVersion runs bin --version and returns version, branch, revision,
// failing when one is empty.
func checkVersion(t *testing.T, bin string) (string, string, string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	m := versionLine.FindStringSubmatch(string(out))
	if m == nil || m[1] == "" || m[2] == "" || m[3] == "" {
		t.Fatalf("%s --version shows an empty field:\n%s", bin, out)
	}
	return m[1], m[2], m[3]
}

// A plain `go build` (the tests' binary) still shows the VERSION file's
// version and no empty branch or revision, in --version and build_info.
func TestVersionWithoutLdflags(t *testing.T) {
	v, _, _ := checkVersion(t, binary)
	if want := strings.TrimSpace(string(readFile(t, "VERSION"))); v != want {
		t.Errorf("--version shows %q, VERSION holds %q", v, want)
	}
	info := regexp.MustCompile(`(?m)^heartbeat_exporter_build_info\{.*\} 1$`).FindString(startDemo(t).metrics(t))
	for _, label := range []string{"version", "revision", "branch"} {
		if info == "" || strings.Contains(info, label+`=""`) {
			t.Errorf("build_info has an empty %s: %q", label, info)
		}
	}
}

// `make build` compiles with .promu.yml's flags, cold packages without
// inlining included, and each of those patterns still names a package the
// exporter links (a dependency dropped or renamed leaves no dead entry).
func TestMakeBuildFlagsLikePromu(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	out, err := exec.Command("make", "-s", "-n", "build", "BIN=x").Output()
	if err != nil {
		t.Fatalf("make -n build: %v", err)
	}
	m := regexp.MustCompile(` build (.*?) -ldflags`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no go build in:\n%s", out)
	}
	mk := strings.Fields(string(m[1]))
	promu := regexp.MustCompile(`(?m)^  flags: (.*)$`).FindStringSubmatch(string(readFile(t, ".promu.yml")))
	if promu == nil || !slices.Equal(mk, strings.Fields(promu[1])) {
		t.Fatalf("make build: %v\n.promu.yml: %v", mk, promu)
	}
	deps, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	linked := strings.Fields(string(deps))
	for _, f := range mk {
		pattern, ok := strings.CutPrefix(f, "-gcflags=")
		if !ok {
			continue
		}
		pattern = strings.TrimSuffix(pattern, "=-l")
		prefix, tree := strings.CutSuffix(pattern, "/...")
		if !slices.ContainsFunc(linked, func(p string) bool { return p == prefix || tree && strings.HasPrefix(p, prefix+"/") }) {
			t.Errorf("%s: no linked package", pattern)
		}
	}
}

// `make build` stamps the same variables as promu's .promu.yml, and the
// revision and branch of the checkout.
func TestMakeBuildStampsLikePromu(t *testing.T) {
	xvars := func(s string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`-X ?(\S+)=`).FindAllStringSubmatch(s, -1) {
			out = append(out, strings.ReplaceAll(m[1], "$(VPKG)", "github.com/prometheus/common/version"))
		}
		slices.Sort(out)
		return out
	}
	mk, promu := xvars(string(readFile(t, "Makefile"))), xvars(string(readFile(t, ".promu.yml")))
	if len(promu) == 0 || !slices.Equal(mk, promu) {
		t.Errorf("make build stamps %v, .promu.yml %v", mk, promu)
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	bin := filepath.Join(t.TempDir(), "heartbeat_exporter")
	if out, err := exec.Command("make", "build", "BIN="+bin).CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	_, branch, rev := checkVersion(t, bin)
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if rev != strings.TrimSpace(string(head)) {
			t.Errorf("make build stamped revision %s, HEAD is %s", rev, head)
		}
		if branch == "unknown" {
			t.Errorf("make build in a git checkout stamped branch %q", branch)
		}
	}
	_ = os.Remove(bin)
}

// buildInfo serves what client_golang's version collector serves (name,
// label names and values, value 1), with its own HELP.
func TestBuildInfoLikeVersionCollector(t *testing.T) {
	gather := func(c prometheus.Collector) string {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
			t.Fatalf("gathered %v, %v", mfs, err)
		}
		m := mfs[0].GetMetric()[0]
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		return fmt.Sprintf("%s %s %v", mfs[0].GetName(), strings.Join(labels, ","), m.GetGauge().GetValue())
	}
	if got, want := gather(buildInfo()), gather(versioncollector.NewCollector(exporterName)); got != want {
		t.Errorf("buildInfo serves\n%s\nclient_golang's collector\n%s", got, want)
	}
}
