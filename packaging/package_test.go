// Package packaging holds the .deb/.rpm definition (nfpm.yaml, maintainer
// scripts, the unit's drop-in, /etc/default) and its test: build, lint,
// install, run as the unit would, scrape, remove, purge.
package packaging

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

const (
	pkgName  = "heartbeat-exporter"
	unitPath = "/lib/systemd/system/heartbeat_exporter.service"
	stateDir = "/var/lib/heartbeat_exporter"
	// The real-stack test also runs the exporter on the default port and
	// changes system state: one at a time.
	lockPath = "/run/heartbeat-realstack.lock"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func installed() bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", pkgName).Output()
	return err == nil && string(out) != "not-installed"
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestPackage builds the .deb, lints it, installs it, runs the installed
// binary the way heartbeat_exporter.service would, scrapes it, then
// removes and purges the package and checks what is left.
func TestPackage(t *testing.T) {
	testenv.RequireRoot(t, "installs the .deb with dpkg and runs the exporter as the user it creates")
	for tool, pkg := range map[string]string{"dpkg": "dpkg", "lintian": "lintian", "setpriv": "util-linux", "make": "make"} {
		testenv.RequireTool(t, tool, pkg)
	}
	if installed() {
		msg := pkgName + " is installed on this host; this test would remove it"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if installed() {
			_ = exec.Command("dpkg", "--purge", pkgName).Run()
		}
	})

	run(t, "make", "-C", "..", "package")
	debs, _ := filepath.Glob("../dist/" + pkgName + "_*.deb")
	rpms, _ := filepath.Glob("../dist/" + pkgName + "-*.rpm")
	if len(debs) != 1 || len(rpms) != 1 {
		t.Fatalf("make package made %v and %v, want one .deb and one .rpm", debs, rpms)
	}
	lint, _ := exec.Command("lintian", "--no-tag-display-limit", debs[0]).CombinedOutput()
	for _, line := range strings.Split(string(lint), "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian: %s", line)
		}
	}

	run(t, "dpkg", "--install", debs[0])
	checkUser(t)
	checkRun(t)

	run(t, "dpkg", "--remove", pkgName)
	for _, gone := range []string{"/usr/bin/heartbeat_exporter", unitPath, unitPath + ".d"} {
		if exists(gone) {
			t.Errorf("%s is left after dpkg --remove", gone)
		}
	}
	// Policy: a removed package keeps its conffiles (and its state) until
	// purged.
	for _, kept := range []string{"/etc/heartbeat_exporter/heartbeat.yml", "/etc/default/heartbeat_exporter", stateDir} {
		if !exists(kept) {
			t.Errorf("%s is gone after dpkg --remove; policy keeps it until purge", kept)
		}
	}

	run(t, "dpkg", "--purge", pkgName)
	if installed() {
		t.Errorf("dpkg still knows %s after --purge", pkgName)
	}
	for _, gone := range []string{"/etc/heartbeat_exporter", "/etc/default/heartbeat_exporter", stateDir} {
		if exists(gone) {
			t.Errorf("%s is left after dpkg --purge", gone)
		}
	}
	for _, pattern := range []string{"/etc/systemd/system/*heartbeat*", "/etc/systemd/system/*/*heartbeat*", "/var/lib/systemd/deb-systemd-helper-*/*heartbeat*", "/var/lib/systemd/deb-systemd-helper-*/*/*heartbeat*"} {
		if left, _ := filepath.Glob(pattern); len(left) > 0 {
			t.Errorf("left after dpkg --purge: %v", left)
		}
	}
	// The system user stays (Debian keeps system users, so that its id is
	// never reused for files it may still own).
	if _, err := user.Lookup(pkgName); err != nil {
		t.Errorf("the user %s is gone after purge: %v", pkgName, err)
	}
}

// postinstGroups is the list of mail-stack groups in the postinst.
func postinstGroups(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("postinst")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GROUPS="([^"]*)"$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("postinst has no GROUPS= line")
	}
	return strings.Fields(string(m[1]))
}

// checkUser: the user exists, is in every listed group the host has, and
// owns the state and textfile folders.
func checkUser(t *testing.T) {
	t.Helper()
	u, err := user.Lookup(pkgName)
	if err != nil {
		t.Fatalf("postinst made no user: %v", err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range postinstGroups(t) {
		g, err := user.LookupGroup(name)
		if err != nil {
			continue // not on this host: rightly not added
		}
		if !slices.Contains(gids, g.Gid) {
			t.Errorf("%s is not in group %s", pkgName, name)
		}
	}
	for _, dir := range []string{stateDir, stateDir + "/textfile"} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Errorf("postinst made no %s: %v", dir, err)
			continue
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; !fi.IsDir() || u.Uid != strconv.FormatUint(uint64(uid), 10) {
			t.Errorf("%s: owner uid %d, want %s's %s", dir, uid, pkgName, u.Uid)
		}
	}
}

// TestGroupsMatchReadme: the groups the postinst gives the user are the
// ones the README's table names.
func TestGroupsMatchReadme(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Groups the exporter needs\n")
	if !ok {
		t.Fatal("README has no section \"Groups the exporter needs\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var want []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 2 {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z][a-z0-9_-]*)`").FindAllStringSubmatch(cells[len(cells)-1], -1) {
			if !slices.Contains(want, m[1]) {
				want = append(want, m[1])
			}
		}
	}
	got := postinstGroups(t)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("postinst adds the user to %v, the README's table names %v", got, want)
	}
}

// unitCommand returns the User= and the command the installed unit runs:
// the last ExecStart= of the unit and its drop-ins (an empty one resets),
// $VAR expanded from the EnvironmentFile= as systemd does (unquoted: split
// into words).
func unitCommand(t *testing.T) (string, []string) {
	t.Helper()
	files := []string{unitPath}
	dropins, _ := filepath.Glob(unitPath + ".d/*.conf")
	files = append(files, dropins...)
	var userName, exec string
	var envFiles []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "\\\n", " ")
		for _, line := range strings.Split(text, "\n") {
			key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || strings.HasPrefix(key, "#") {
				continue
			}
			switch key {
			case "User":
				userName = val
			case "ExecStart":
				exec = val
			case "EnvironmentFile":
				envFiles = append(envFiles, strings.TrimPrefix(val, "-"))
			}
		}
	}
	env := map[string]string{}
	for _, f := range envFiles {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatalf("the unit's EnvironmentFile: %v", err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				env[k] = strings.Trim(v, `"'`)
			}
		}
		fh.Close()
	}
	var argv []string
	for _, w := range strings.Fields(exec) {
		if strings.HasPrefix(w, "$") {
			argv = append(argv, strings.Fields(env[strings.TrimPrefix(w, "$")])...)
			continue
		}
		argv = append(argv, w)
	}
	if userName == "" || len(argv) == 0 {
		t.Fatalf("no User= or ExecStart= in %v", files)
	}
	return userName, argv
}

// lockedBuffer collects the exporter's log from the reading goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listening = regexp.MustCompile(`msg="Listening on" address=(\S+)`)

// checkRun runs the installed binary as the unit would (CI has no
// systemd): as its user with that user's groups, the installed config and
// the flags of /etc/default; it must serve every collector successfully.
func checkRun(t *testing.T) {
	t.Helper()
	userName, argv := unitCommand(t)
	if !slices.Contains(argv, "--config.file=/etc/heartbeat_exporter/heartbeat.yml") {
		t.Errorf("the unit does not run the installed config: %v", argv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "setpriv", append([]string{"--reuid=" + userName, "--regid=" + userName, "--init-groups", "--"}, argv...)...)
	cmd.Dir = "/"
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	var log lockedBuffer
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		pw.Close()
		if t.Failed() {
			t.Logf("%v as %s:\n%s", argv, userName, log.String())
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(15 * time.Second):
		t.Fatal("the installed exporter did not start listening")
	}
	a = strings.Replace(strings.Replace(a, "[::]", "127.0.0.1", 1), "0.0.0.0", "127.0.0.1", 1)
	resp, err := http.Get("http://" + a + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "heartbeat_exporter_build_info{") {
		t.Fatalf("/metrics answered %d:\n%.2000s", resp.StatusCode, body)
	}
	failed := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "heartbeat_scrape_collector_success{") && !strings.HasSuffix(line, " 1") {
			t.Logf("installed exporter: %s", line)
			failed++
		}
	}
	if failed > 0 {
		checkErrors(t, log.String(), userName)
	}
	if strings.Contains(log.String(), "state folder unusable") {
		t.Errorf("the installed exporter cannot use %s", stateDir)
	}
}

var deniedPath = regexp.MustCompile(`open (/\S+): permission denied`)

// checkErrors accepts a failing collector only when the exporter's error
// lines are all "permission denied" on files whose group the user is not
// in (the host's own modes, e.g. a log clamd created clamav:clamav 0640):
// anything else, or a file of one of the user's groups, is the package's
// fault.
func checkErrors(t *testing.T, log, userName string) {
	t.Helper()
	u, err := user.Lookup(userName)
	if err != nil {
		t.Fatal(err)
	}
	gids, _ := u.GroupIds()
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "level=error") {
			continue
		}
		m := deniedPath.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("installed exporter: %s", line)
			continue
		}
		fi, err := os.Stat(m[1])
		if err != nil {
			t.Errorf("installed exporter: %s (%v)", line, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if gid := strconv.FormatUint(uint64(st.Gid), 10); slices.Contains(gids, gid) && fi.Mode().Perm()&0o040 != 0 {
			t.Errorf("installed exporter cannot read %s although its user is in the file's group: %s", m[1], line)
			continue
		}
		t.Logf("not the package's fault: %s is %v, group %d, which %s is not in", m[1], fi.Mode(), st.Gid, userName)
	}
}
