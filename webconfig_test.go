package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// runBinary runs the exporter with args, bounded, and returns its exit
// code and output.
func runBinary(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%v did not exit:\n%s", args, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// --config.check checks the web configuration too, and a bad one stops
// the exporter before it listens, naming the file and the line.
func TestWebConfigChecked(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("example-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yml")
	writeFile(t, good, "basic_auth_users:\n  prometheus: "+string(hash)+"\n")
	cfg := "--config.file=" + demoTree + "/heartbeat.yml"
	if code, out := runBinary(t, "--config.check", cfg, "--web.config.file="+good); code != 0 || !strings.Contains(out, "good.yml: web configuration is valid") {
		t.Errorf("a good web config: exit %d\n%s", code, out)
	}

	for name, c := range map[string]struct{ yml, want string }{
		// The README's placeholder, as an operator would copy it.
		"placeholder.yml": {"# TLS and auth\nbasic_auth_users:\n  prometheus: $2y$10$...\n", "placeholder.yml:3: basic_auth_users.prometheus: not a bcrypt hash"},
		"missing.yml":     {"tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n", "missing.yml:2: tls_server_config.cert_file: stat "},
		"unknown.yml":     {"basic_auth_users: {}\ntls_server_confg:\n  cert_file: x\n", "unknown.yml: yaml: unmarshal errors:\n  line 2: field tls_server_confg not found"},
		"syntax.yml":      {"basic_auth_users:\n  a: [\n", "syntax.yml: yaml: line "},
	} {
		path := filepath.Join(dir, name)
		writeFile(t, path, c.yml)
		code, out := runBinary(t, "--config.check", cfg, "--web.config.file="+path)
		if code != 1 || !strings.Contains(out, c.want) || !strings.Contains(out, name+": web configuration is NOT valid") {
			t.Errorf("--config.check with %s: exit %d, want 1 and %q:\n%s", name, code, c.want, out)
		}
		code, out = runBinary(t, cfg, "--web.listen-address="+freeAddr(t), "--web.config.file="+path,
			"--path.procfs="+demoTree+"/proc", "--path.sysfs="+demoTree+"/sys", "--path.rootfs="+demoTree+"/root", "--state.dir=")
		if code != 1 || strings.Contains(out, "Listening on") || !strings.Contains(out, name) {
			t.Errorf("running with %s: exit %d, want 1 before listening, naming the file:\n%s", name, code, out)
		}
	}
}

// --config.check warns, without failing, about logs, textfile folders and
// quarantines missing on this host (under --path.rootfs), and only those.
func TestConfigCheckWarnsMissingPaths(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "heartbeat.yml")
	writeFile(t, cfg, `logs:
  - path: /var/log/mail.log
    presets: [postfix]
  - path: /var/log/nothing-here/*.log
    presets: [postfix]
textfile:
  directories: [/var/lib/heartbeat_exporter/textfile, /nowhere/textfile]
quarantine:
  - name: amavis
    path: /var/lib/amavis/virusmails
  - name: typo
    path: /var/lib/amavis/virusmail
`)
	code, out := runBinary(t, "--config.check", "--config.file="+cfg, "--path.rootfs="+demoTree+"/root")
	if code != 0 || !strings.Contains(out, "configuration is valid") {
		t.Fatalf("exit %d, want 0 (warnings do not fail):\n%s", code, out)
	}
	for _, want := range []string{
		"warning: logs[1].path: /var/log/nothing-here/*.log does not exist on this host",
		"warning: textfile.directories[1]: /nowhere/textfile does not exist",
		"warning: quarantine[1].path: /var/lib/amavis/virusmail does not exist",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "warning:"); n != 3 {
		t.Errorf("%d warnings, want 3 (the demo tree has the others):\n%s", n, out)
	}
}
