// Package testenv lets tests that need a real outside program (promtool,
// prometheus, clamd...) find it, and decides what happens when it is
// missing: a skip with a clear message on a developer's machine, a failure
// under CI=true, where a skipped test would hide a gap.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// RequireToolIn is RequireTool for a program that may live outside PATH
// (Debian puts systemd's helpers in /lib/systemd): dirs are tried after
// PATH.
func RequireToolIn(t testing.TB, name, debianPackage string, dirs ...string) string {
	t.Helper()
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return RequireTool(t, name, debianPackage)
}

// RerunAsNobody runs the named test again, in a copy of the test binary
// that user nobody can execute, as user nobody, with env added; it fails
// t unless that run passes. For what root is allowed and a daemon's
// unprivileged user is not (mode 000 folders, other users' /proc/PID/exe).
// The caller must be root; files the rerun reads must be open to nobody.
func RerunAsNobody(t testing.TB, test string, env ...string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "rerun-as-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "test.bin")
	data, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(bin, data, 0o755)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("%s as user nobody: %v\n%s", test, err, out)
	}
}

// RequireRoot skips (fails under CI, which runs as root) unless the test
// runs as root; why says what needs it.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	msg := "needs root: " + why
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// AppendFile appends text to an existing file, as a daemon's log write
// would; a missing file fails the test.
func AppendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
