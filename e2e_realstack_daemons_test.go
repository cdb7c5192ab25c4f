package main

// The real mail stack TestRealStack runs: Debian's own rsyslogd, clamd,
// amavisd-new, spamd and postfix, started by hand as CI has no systemd,
// on loopback ports, each logging where Debian logs. Their configs are the
// shipped ones where the test can use them as they are, or copies changed
// only where a test must (foreground, ports, a private postfix instance).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// Where Debian's packages log and keep what the exporter's embedded
// default config reads.
const (
	mailLog       = "/var/log/mail.log"
	clamdLog      = "/var/log/clamav/clamav.log"
	clamdSocket   = "/run/clamav/clamd.ctl"
	clamavDBDir   = "/var/lib/clamav"
	amavisQDir    = "/var/lib/amavis/virusmails"
	unitFile      = "examples/heartbeat_exporter.service"
	realStackLock = "/run/heartbeat-realstack.lock"
)

// stackDaemons are the programs the test starts, by the Debian package
// that ships them; a copy already running means the host has its own mail
// stack, which the test must not touch.
var stackDaemons = []struct{ name, pkg string }{
	{"rsyslogd", "rsyslog"}, {"clamd", "clamav-daemon"}, {"sigtool", "clamav"},
	{"postfix", "postfix"}, {"amavisd", "amavisd-new"}, {"spamd", "spamd"},
	{"spamc", "spamc"}, {"logrotate", "logrotate"},
}

// requireRealStack returns the programs' paths when this host can run the
// real stack: root, the packages installed, no mail daemon of its own
// running and nothing the test would overwrite. Otherwise it skips with
// the reason, or fails under CI=true, where .ci/run installs everything.
func requireRealStack(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("real mail stack: skipped under -short")
	}
	refuse := func(format string, args ...any) {
		t.Helper()
		msg := "real mail stack: " + fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		refuse("needs root to start postfix, clamd, amavisd-new, spamd and rsyslogd as Debian does (CI runs it as root)")
	}
	bins := map[string]string{}
	for _, d := range stackDaemons {
		bins[d.name] = testenv.RequireToolIn(t, d.name, d.pkg, "/usr/sbin", "/sbin")
	}
	for _, f := range []string{"/etc/logrotate.d/rsyslog", "/etc/logrotate.d/clamav-daemon", "/etc/clamav/clamd.conf", "/etc/rsyslog.conf"} {
		if _, err := os.Stat(f); err != nil {
			refuse("%v (shipped by the Debian packages)", err)
		}
	}
	// One run at a time on this machine (the packaging test takes the
	// same lock). Outside CI a run that would wait long is skipped: a
	// second go test of the whole tree would hit its 10 min timeout, and
	// a test killed by it leaves the daemons it started behind.
	lock, err := os.OpenFile(realStackLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	for waited := time.Duration(0); syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil; waited += time.Second {
		if waited > time.Minute && os.Getenv("CI") != "true" {
			t.Skipf("real mail stack: %s has been held by another run for a minute", realStackLock)
		}
		time.Sleep(time.Second)
	}
	if running := runningMailDaemons(); len(running) > 0 {
		refuse("this host runs its own %v: the test needs the mail stack idle", running)
	}
	if _, err := os.Lstat("/dev/log"); err == nil {
		refuse("/dev/log exists: a syslog daemon owns it")
	}
	if dbs, _ := filepath.Glob(clamavDBDir + "/*.c[lvu]d"); len(dbs) > 0 {
		refuse("%s holds databases %v: the test installs its own tiny one", clamavDBDir, dbs)
	}
	if _, err := os.Stat("/var/lib/heartbeat_exporter"); err == nil {
		refuse("/var/lib/heartbeat_exporter exists: an installed exporter's state")
	}
	if l, err := net.Listen("tcp", defaultListenAddress); err != nil {
		refuse("the exporter's default port is taken: %v", err)
	} else {
		l.Close()
	}
	return bins
}

// runningMailDaemons lists the stack's daemons already running here.
func runningMailDaemons() []string {
	names := regexp.MustCompile(`^(\S*/)?(rsyslogd|clamd|freshclam|amavisd(-new)?|spamd|master|systemd-journald)( |$)`)
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		cmd := string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '}))
		if m := names.FindStringSubmatch(cmd); m != nil {
			found = append(found, m[2])
		}
	}
	return found
}

// stack is the running mail stack.
type stack struct {
	t    *testing.T
	bins map[string]string
	dir  string // private files, 0755: postfix, clamd and amavis read in it
	// loopback ports: postfix's smtpd, amavis, postfix's re-injection
	// smtpd, a closed one (deferred mail) and spamd
	smtp, amavis, reinject, closed, spamd int
	rsyslog, clamd                        *exec.Cmd
	clamdConf, postfixConf                string
	deferred                              int // messages sent to deferred.test
	// the last count check: the logs' lengths and the served counters
	checked mark
	served  counts
}

// newStack creates the private folder and picks the ports.
func newStack(t *testing.T, bins map[string]string) *stack {
	dir, err := os.MkdirTemp("", "hbrs") // short: unix socket paths
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &stack{t: t, bins: bins, dir: dir}
	ports := freePorts(t, 5)
	s.smtp, s.amavis, s.reinject, s.closed, s.spamd = ports[0], ports[1], ports[2], ports[3], ports[4]
	return s
}

// freePorts returns n distinct loopback ports nothing listens on.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func (s *stack) write(name, content string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *stack) run(name string, args ...string) string {
	s.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// daemon starts a foreground daemon whose output goes to a file in the
// private folder, stopped with SIGTERM at cleanup.
func (s *stack) daemon(name string, args ...string) *exec.Cmd {
	s.t.Helper()
	out, err := os.Create(filepath.Join(s.dir, filepath.Base(name)+".out"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	// Ends with the test binary even when a timeout kills it before the
	// cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { stopProcess(cmd); out.Close() })
	return cmd
}

// stopProcess ends a process the test started: SIGTERM, then SIGKILL.
func stopProcess(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// keepNewFiles removes at cleanup the files under the given globs that
// did not exist before the test (rotated logs, quarantined mail, the test
// database), so that the host is left as it was found.
func (s *stack) removeNewFilesAtCleanup(globs ...string) {
	before := map[string]bool{}
	list := func() []string {
		var all []string
		for _, g := range globs {
			m, _ := filepath.Glob(g)
			all = append(all, m...)
		}
		return all
	}
	for _, f := range list() {
		before[f] = true
	}
	s.t.Cleanup(func() {
		for _, f := range list() {
			if !before[f] {
				os.RemoveAll(f)
			}
		}
	})
}

// restoreAtCleanup puts a log the package created back as it was found
// (length, owner, mode): clamd appends to it and chowns it.
func (s *stack) restoreAtCleanup(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return // none before: removeNewFilesAtCleanup's job
	}
	st := fi.Sys().(*syscall.Stat_t)
	s.t.Cleanup(func() {
		_ = os.Truncate(path, fi.Size())
		_ = os.Chown(path, int(st.Uid), int(st.Gid))
		_ = os.Chmod(path, fi.Mode().Perm())
	})
}

// startRsyslog runs rsyslogd on /dev/log with the shipped rsyslog.conf's
// file modes and its mail rule: /var/log/mail.log, root:adm 0640.
func (s *stack) startRsyslog() {
	shipped, err := os.ReadFile("/etc/rsyslog.conf")
	if err != nil {
		s.t.Fatal(err)
	}
	keep := regexp.MustCompile(`^(module\(load="imuxsock"\)|\$File|\$DirCreateMode|\$Umask|mail\.\*\s)`)
	conf := "$WorkDirectory " + s.dir + "\n"
	rules := 0
	for _, line := range strings.Split(string(shipped), "\n") {
		if keep.MatchString(line) {
			conf += line + "\n"
			rules++
		}
	}
	if !strings.Contains(conf, mailLog) || rules < 5 {
		s.t.Fatalf("/etc/rsyslog.conf lacks Debian's mail rule or file modes:\n%s", conf)
	}
	s.rsyslog = s.daemon(s.bins["rsyslogd"], "-n", "-f", s.write("rsyslog.conf", conf), "-i", filepath.Join(s.dir, "rsyslogd.pid"))
	s.t.Cleanup(func() { os.Remove("/dev/log") })
	waitUntil(s.t, 20*time.Second, func() bool { _, err := os.Stat("/dev/log"); return err == nil }, "rsyslogd's /dev/log")
}

// installClamavDB builds a one-signature daily.cud with the real sigtool
// (no network, no freshclam): EICAR's string, found anywhere in a file.
func (s *stack) installClamavDB() {
	build := filepath.Join(s.dir, "sigbuild")
	if err := os.MkdirAll(build, 0o755); err != nil {
		s.t.Fatal(err)
	}
	s.write("sigbuild/COPYING", "heartbeat_exporter test database\n")
	s.write("sigbuild/daily.ndb", "Eicar-Test-Signature:0:*:"+fmt.Sprintf("%x", eicar)+"\n")
	cmd := exec.Command(s.bins["sigtool"], "--build=daily.cud", "--unsigned", "--cvd-version=27321", "--datadir="+build)
	cmd.Dir = build
	cmd.Stdin = strings.NewReader("heartbeat-test\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("sigtool --build: %v\n%s", err, out)
	}
	s.removeNewFilesAtCleanup(clamavDBDir + "/*")
	s.run("install", "-o", "clamav", "-g", "clamav", "-m", "0644", filepath.Join(build, "daily.cud"), clamavDBDir+"/daily.cud")
}

// letClamdReadAmavis adds clamav to the amavis group, as amavisd-new's
// README.Debian says: clamd reads amavis's temporary files through it.
// clamd takes its groups when it starts.
func (s *stack) letClamdReadAmavis() {
	if !inGroup(s.t, "clamav", "amavis") {
		s.run("usermod", "-aG", "amavis", "clamav")
		s.t.Cleanup(func() { _ = exec.Command("gpasswd", "-d", "clamav", "amavis").Run() })
	}
}

// startClamd runs clamd with the shipped clamd.conf, only in the
// foreground: as root it drops to clamav and, as on every start, chowns
// its LogFile to clamav:clamav.
func (s *stack) startClamd() {
	if s.clamdConf == "" {
		shipped, err := os.ReadFile("/etc/clamav/clamd.conf")
		if err != nil {
			s.t.Fatal(err)
		}
		fg := regexp.MustCompile(`(?m)^Foreground .*$`)
		s.clamdConf = s.write("clamd.conf", fg.ReplaceAllString(string(shipped), "")+"Foreground true\n")
		// What the init script and tmpfiles.d do.
		s.run("install", "-d", "-o", "clamav", "-g", "clamav", "-m", "0755", "/run/clamav")
		s.t.Cleanup(func() { os.RemoveAll("/run/clamav") })
	}
	s.clamd = s.daemon(s.bins["clamd"], "--config-file="+s.clamdConf)
	waitUntil(s.t, 60*time.Second, func() bool {
		c, err := net.Dial("unix", clamdSocket)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "clamd's socket")
}

// startSpamd runs spamd as Debian's /etc/default/spamd does (helper home
// dir, children as debian-spamd), in the foreground on a loopback port,
// logging to syslog's mail facility, with no per-user files.
func (s *stack) startSpamd() {
	s.daemon(s.bins["spamd"], "--max-children=1", "--helper-home-dir", "--nouser-config",
		"-u", "debian-spamd", "-i", "127.0.0.1", "-A", "127.0.0.1", "-p", strconv.Itoa(s.spamd),
		"--pidfile="+filepath.Join(s.dir, "spamd.pid"))
}

// spamdReady says whether spamd answers PING (no line is logged for it).
func (s *stack) spamdReady() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.spamd), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "PING SPAMC/1.5\r\n\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.Contains(line, "PONG")
}

// startAmavis runs amavisd-new with Debian's conf.d, virus and spam checks
// turned on as 15-content_filter_mode says, on loopback ports, offline
// SpamAssassin; quarantine, destinies and logging stay Debian's.
func (s *stack) startAmavis() {
	s.run("install", "-d", "-o", "amavis", "-g", "amavis", "-m", "0755", "/run/amavis")
	s.t.Cleanup(func() { os.RemoveAll("/run/amavis") })
	s.removeNewFilesAtCleanup("/var/lib/amavis/tmp/*", amavisQDir+"/*", amavisQDir+"/*/*")
	conf := fmt.Sprintf(`use strict;
include_config_files(Amavis::Util::find_config_files('/usr/share/amavis/conf.d', '/etc/amavis/conf.d'));
@bypass_virus_checks_maps = (\%%bypass_virus_checks, \@bypass_virus_checks_acl, \$bypass_virus_checks_re);
@bypass_spam_checks_maps = (\%%bypass_spam_checks, \@bypass_spam_checks_acl, \$bypass_spam_checks_re);
$myhostname = 'gw.heartbeat.test';
$mydomain = 'heartbeat.test';
@local_domains_acl = ('heartbeat.test');
$inet_socket_port = %d;
$forward_method = 'smtp:[127.0.0.1]:%d';
$notify_method = $forward_method;
$max_servers = 2;
$sa_local_tests_only = 1;
$virus_admin = undef;
$spam_admin = undef;
1;
`, s.amavis, s.reinject)
	s.daemon(s.bins["amavisd"], "-c", s.write("amavisd.conf", conf), "foreground")
}

func inGroup(t *testing.T, userName, group string) bool {
	u, err := user.Lookup(userName)
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := u.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id == g.Gid {
			return true
		}
	}
	return false
}

// startPostfix runs a private postfix instance (its own config, queue and
// mailboxes in the private folder) on loopback: smtpd with amavis as
// content_filter, the re-injection smtpd, virtual mailboxes for alice and
// bob, and deferred.test routed to a closed port.
func (s *stack) startPostfix() {
	etc := filepath.Join(s.dir, "postfix")
	for _, d := range []string{"spool", "data", "mail"} {
		if err := os.MkdirAll(filepath.Join(etc, d), 0o755); err != nil {
			s.t.Fatal(err)
		}
	}
	s.run("chown", "postfix", filepath.Join(etc, "data"))
	s.run("chown", "nobody", filepath.Join(etc, "mail"))
	s.write("postfix/main.cf", fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/spool
data_directory = %[1]s/data
myhostname = gw.heartbeat.test
mydomain = heartbeat.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
virtual_mailbox_domains = heartbeat.test
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = inline:{ {alice@heartbeat.test=alice/} {bob@heartbeat.test=bob/} }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
transport_maps = inline:{ {deferred.test=smtp:[127.0.0.1]:%[2]d} }
content_filter = smtp-amavis:[127.0.0.1]:%[3]d
smtp_dns_support_level = disabled
`, etc, s.closed, s.amavis))
	// master.cf: amavisd-new's README.postfix services, then Debian's
	// list without chroot (the private queue has no chroot tree).
	master := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
127.0.0.1:%d inet n - n - - smtpd -o content_filter= -o smtpd_recipient_restrictions=permit_mynetworks,reject -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters
smtp-amavis unix - - n - 2 smtp -o smtp_data_done_timeout=1200 -o smtp_send_xforward_command=yes
`, s.smtp, s.reinject)
	for _, svc := range []string{"pickup unix n - n 60 1", "cleanup unix n - n - 0", "qmgr unix n - n 300 1",
		"rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0", "defer unix - - n - 0 bounce",
		"trace unix - - n - 0 bounce", "verify unix - - n - 1", "flush unix n - n 1000? 0",
		"proxymap unix - - n - -", "smtp unix - - n - -", "showq unix n - n - -", "error unix - - n - -",
		"retry unix - - n - - error", "discard unix - - n - -", "virtual unix - n n - -",
		"anvil unix - - n - 1", "scache unix - - n - 1", "postlog unix-dgram n - n - 1 postlogd"} {
		if f := strings.Fields(svc); len(f) == 7 {
			svc += " " + f[0] // the command is the service's name
		}
		master += svc + "\n"
	}
	s.write("postfix/master.cf", master)
	s.postfixConf = etc
	s.run(s.bins["postfix"], "-c", etc, "start")
	s.t.Cleanup(func() { _ = exec.Command(s.bins["postfix"], "-c", etc, "abort").Run() })
}

// listening says whether a TCP socket listens on the port, from
// /proc/net/tcp: connecting would make amavis log a lost connection.
func listening(port int) bool {
	want := fmt.Sprintf(":%04X ", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) > 3 && strings.HasSuffix(fields[1]+" ", want) && fields[3] == "0A" {
				return true
			}
		}
	}
	return false
}

// queued returns how many messages postfix still holds, and how many of
// them are in the deferred queue.
// A postqueue that does not answer in 10 s (seen once on a machine at
// load 30) counts as not settled yet.
func (s *stack) queued() (all, deferred int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "postqueue", "-c", s.postfixConf, "-j").Output()
	if ctx.Err() != nil {
		s.t.Logf("postqueue -j did not answer in 10 s")
		return -1, -1
	}
	if err != nil {
		s.t.Fatalf("postqueue -j: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		all++
		if strings.Contains(line, `"queue_name": "deferred"`) {
			deferred++
		}
	}
	return all, deferred
}
