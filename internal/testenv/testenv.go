// Package testenv lets tests that need a real outside program (promtool,
// prometheus, clamd...) find it, and decides what happens when it is
// missing: a skip with a clear message on a developer's machine, a failure
// under CI=true, where a skipped test would hide a gap.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireTool returns the path of the named program, or skips (fails
// under CI) when it is not installed.
func RequireTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " not found: install the Debian package " + debianPackage + " (make test does so when run as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
