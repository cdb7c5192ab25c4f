package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

const mailLogLines = `Nov 23 10:00:01 gw postfix/qmgr[880]: 4Xk2Lq1zN0z9sQ: from=<alice@example.org>, size=3310, nrcpt=1 (queue active)
Nov 23 10:00:02 gw amavis[2812]: (02812-01) Passed CLEAN {RelayedInbound}, [192.0.2.10]:40312 [192.0.2.10] <alice@example.org> -> <bob@example.com>, Hits: 1.249, size: 3310, 478 ms
Nov 23 10:00:03 gw postfix/lmtp[1311]: 4Xk2Lr0Y8bz9sR: to=<bob@example.com>, relay=mail[private/dovecot-lmtp], delay=0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov 23 10:00:04 gw amavis[2814]: (02814-02) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, <v@bad.example> -> <bob@example.com>, 311 ms
Nov 23 10:00:05 gw postfix/smtpd[1201]: fatal: open database /etc/postfix/x.db: No such file or directory
`

// logsTest is a root with /var/log/mail.log and a state folder.
type logsTest struct {
	root, log, state string
	cfg              *config.Config
}

func newLogsTest(t *testing.T, startAt string) *logsTest {
	t.Helper()
	dir := t.TempDir()
	lt := &logsTest{root: dir, log: filepath.Join(dir, "var/log/mail.log"), state: filepath.Join(dir, "state")}
	for _, d := range []string{filepath.Dir(lt.log), lt.state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse("t.yml", []byte(fmt.Sprintf(`logs:
  - path: /var/log/mail.log
    presets: [amavis, postfix, errors]
    start_at: %s
    poll_interval: 100ms
`, startAt)))
	if err != nil {
		t.Fatal(err)
	}
	lt.cfg = cfg
	return lt
}

func (lt *logsTest) start(t *testing.T) *adapter {
	t.Helper()
	return lt.build(t, nil)
}

// build makes a collector from lt.cfg with prev as its predecessor; it is
// closed at the end of the test.
func (lt *logsTest) build(t *testing.T, prev *adapter) *adapter {
	t.Helper()
	var p *logsCollector
	if prev != nil {
		p = prev.c.(*logsCollector)
	}
	c, err := newLogsCollector(Deps{Logger: log.NewNopLogger(), Config: lt.cfg, Paths: Paths{Root: lt.root, State: lt.state}}, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.(Closer).Close)
	return &adapter{c: c}
}

// reload builds the successor of old, lets it take over and closes old,
// as exporter.reload does.
func (lt *logsTest) reload(t *testing.T, old *adapter) *adapter {
	t.Helper()
	a := lt.build(t, old)
	a.c.(Successor).TakeOver()
	old.c.(Closer).Close()
	return a
}

func (lt *logsTest) write(t *testing.T, text string) {
	t.Helper()
	f, err := os.OpenFile(lt.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// value reads one sample from the collector's output, -1 when absent.
func value(t *testing.T, a *adapter, series string) float64 {
	t.Helper()
	text, err := collectText(t, a)
	if err != nil {
		t.Fatalf("update failed: %v", err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestLogsCollectorCounts(t *testing.T) {
	lt := newLogsTest(t, "beginning")
	lt.write(t, mailLogLines)
	a := lt.start(t)
	text, err := collectText(t, a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`heartbeat_log_lines_total{log="/var/log/mail.log"} 5`,
		fmt.Sprintf(`heartbeat_log_read_bytes_total{log="/var/log/mail.log"} %d`, len(mailLogLines)),
		`heartbeat_log_lines_truncated_total{log="/var/log/mail.log"} 0`,
		`heartbeat_log_errors_total{log="/var/log/mail.log"} 1`,
		`heartbeat_messages_total{source="amavis",verdict="clean"} 1`,
		`heartbeat_messages_total{source="amavis",verdict="virus"} 1`,
		`heartbeat_messages_total{source="amavis",verdict="spam"} 0`, // known, not seen yet: 0
		`heartbeat_viruses_found_total{source="amavis"} 1`,
		`heartbeat_mta_messages_total{source="postfix",status="received"} 1`,
		`heartbeat_mta_messages_total{source="postfix",status="delivered"} 1`,
		`heartbeat_mta_messages_total{source="postfix",status="rejected"} 0`,
		`heartbeat_log_last_read_timestamp_seconds{log="/var/log/mail.log"} `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// A backlog bigger than one poll's cap is read round after round and
// published when read, not one cap's worth per poll interval (1m here).
func TestLogsCollectorBacklogNotHeldByTick(t *testing.T) {
	old := logsMaxBytesPerPoll
	logsMaxBytesPerPoll = 1 << 10
	t.Cleanup(func() { logsMaxBytesPerPoll = old })
	lt := newLogsTest(t, "beginning")
	lt.cfg.Logs[0].PollInterval = time.Minute
	lt.write(t, strings.Repeat(mailLogLines, 1000)) // 4 chunks of 256 KiB
	a := lt.start(t)
	const want = `heartbeat_log_lines_total{log="/var/log/mail.log"}`
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		v := value(t, a, want)
		if v == 5000 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %v after 20s, want 5000 (the backlog waits for the tick)", want, v)
		}
	}
}

func TestLogsCollectorAbsentLogIsQuiet(t *testing.T) {
	lt := newLogsTest(t, "end")
	a := lt.start(t)
	text, err := collectText(t, a)
	if err != nil || strings.Contains(text, "heartbeat_") {
		t.Fatalf("absent log: err=%v output:\n%s", err, text)
	}
}

// TestLogsCollectorRestartWithRotationWhileDown: what one run counted plus
// what the next counts equals the lines written, exactly, although the log
// was rotated while the exporter was down.
func TestLogsCollectorRestartWithRotationWhileDown(t *testing.T) {
	lt := newLogsTest(t, "end")
	lt.write(t, strings.Repeat(mailLogLines, 2)) // before the first start: skipped (start_at end)
	first := lt.start(t)
	lt.write(t, mailLogLines)
	waitFor(t, func() bool { return value(t, first, `heartbeat_log_lines_total{log="/var/log/mail.log"}`) == 5 }, "first run reads 5 lines")
	first.c.(Closer).Close()
	countedFirst := value(t, first, `heartbeat_log_lines_total{log="/var/log/mail.log"}`)

	lt.write(t, mailLogLines+"Nov 23 10:00:06 gw app: partial") // while down
	if err := os.Rename(lt.log, lt.log+".1"); err != nil {
		t.Fatal(err)
	}
	lt.write(t, mailLogLines+mailLogLines) // the new file, while down

	second := lt.start(t)
	got := countedFirst + value(t, second, `heartbeat_log_lines_total{log="/var/log/mail.log"}`)
	if want := float64(5 + 5 + 10); got != want {
		t.Fatalf("counted %v lines over two runs, %v complete ones written after the first start", got, want)
	}
	// The renamed file is still read: the daemon completes its line there.
	testenv.AppendFile(t, lt.log+".1", " done\n")
	waitFor(t, func() bool {
		return countedFirst+value(t, second, `heartbeat_log_lines_total{log="/var/log/mail.log"}`) == 21
	}, "the completed line")
	if v := value(t, second, `heartbeat_messages_total{source="amavis",verdict="clean"}`); v != 3 {
		t.Fatalf("second run counted %v clean messages, want 3", v)
	}
}

// TestLogsCollectorRenamedFileStillRead: after logrotate's rename and
// create the daemon writes to the renamed file until it is signalled; those
// lines are counted, also when the exporter restarts meanwhile.
func TestLogsCollectorRenamedFileStillRead(t *testing.T) {
	lt := newLogsTest(t, "end")
	lines := `heartbeat_log_lines_total{log="/var/log/mail.log"}`
	first := lt.start(t)
	lt.write(t, mailLogLines)
	waitFor(t, func() bool { return value(t, first, lines) == 5 }, "5 lines")
	if err := os.Rename(lt.log, lt.log+".1"); err != nil {
		t.Fatal(err)
	}
	lt.write(t, mailLogLines) // the new file
	waitFor(t, func() bool { return value(t, first, lines) == 10 }, "the new file's lines")
	testenv.AppendFile(t, lt.log+".1", mailLogLines) // the daemon, not yet signalled
	waitFor(t, func() bool { return value(t, first, lines) == 15 }, "the renamed file's new lines")
	first.c.(Closer).Close()
	counted := value(t, first, lines)

	testenv.AppendFile(t, lt.log+".1", mailLogLines) // while the exporter is down
	second := lt.start(t)
	if got := counted + value(t, second, lines); got != 20 {
		t.Fatalf("counted %v lines over two runs, want 20", got)
	}
}

// TestLogsCollectorReloadTakesOver: a new set built while the old one
// runs continues its counters and positions; nothing is read twice.
func TestLogsCollectorReloadTakesOver(t *testing.T) {
	lt := newLogsTest(t, "beginning")
	lt.write(t, mailLogLines)
	old := lt.start(t)
	lines := `heartbeat_log_lines_total{log="/var/log/mail.log"}`
	if v := value(t, old, lines); v != 5 {
		t.Fatalf("old set: %v lines", v)
	}
	renewed := lt.reload(t, old)
	lt.write(t, mailLogLines)
	waitFor(t, func() bool { return value(t, renewed, lines) >= 10 }, "the new set reads the new lines")
	time.Sleep(300 * time.Millisecond) // three more polls: nothing must be read twice
	if v := value(t, renewed, lines); v != 10 {
		t.Fatalf("after reload: %v lines, want 10", v)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLogsCollectorGlob: every plain file the glob matches is read, under
// one log label; compressed rotated files are not.
func TestLogsCollectorGlob(t *testing.T) {
	lt := newLogsTest(t, "beginning")
	dir := filepath.Dir(lt.log)
	cfg, err := config.Parse("t.yml", []byte("logs:\n  - path: /var/log/*.log*\n    presets: [errors]\n    start_at: beginning\n"))
	if err != nil {
		t.Fatal(err)
	}
	lt.cfg = cfg
	for name, content := range map[string]string{
		"a.log":      "x error\nfine\n",
		"b.log":      "FATAL: y\n",
		"a.log.2.gz": "error error error\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := lt.start(t)
	if v := value(t, a, `heartbeat_log_errors_total{log="/var/log/*.log*"}`); v != 2 {
		t.Fatalf("errors = %v, want 2 (the .gz file left alone)", v)
	}
	if v := value(t, a, `heartbeat_log_lines_total{log="/var/log/*.log*"}`); v != 3 {
		t.Fatalf("lines = %v, want 3", v)
	}
}

// TestLogsCollectorRefusedReloadKeepsOldRunning: a new set closed before
// the old one (a reload refused by another collector) leaves the old
// tailer running.
func TestLogsCollectorRefusedReloadKeepsOldRunning(t *testing.T) {
	lt := newLogsTest(t, "beginning")
	lt.write(t, mailLogLines)
	old := lt.start(t)
	refused := lt.build(t, old) // no TakeOver: another factory failed
	refused.c.(Closer).Close()
	lt.write(t, mailLogLines)
	lines := `heartbeat_log_lines_total{log="/var/log/mail.log"}`
	waitFor(t, func() bool { return value(t, old, lines) == 10 }, "the old set to go on reading")
}

// TestLogsCollectorReloadWithChangedConfig: the new source takes the open
// files, positions and counters over (a counter goes down only when the
// process restarts), nothing is re-read, and a dropped rule's series goes.
func TestLogsCollectorReloadWithChangedConfig(t *testing.T) {
	lt := newLogsTest(t, "beginning")
	lt.write(t, mailLogLines)
	old := lt.start(t)
	errs := `heartbeat_log_errors_total{log="/var/log/mail.log"}`
	if v := value(t, old, errs); v != 1 {
		t.Fatalf("before the reload: %v error lines, want 1", v)
	}
	lt.cfg.Logs[0].Presets = []string{"errors"}
	renewed := lt.reload(t, old)
	lt.write(t, mailLogLines)
	waitFor(t, func() bool { return value(t, renewed, errs) == 2 }, "the new set to count the new error line on top of the old one")
	if v := value(t, renewed, `heartbeat_log_lines_total{log="/var/log/mail.log"}`); v != 10 {
		t.Fatalf("the new set serves %v lines, want 10 (5 before the reload, 5 after)", v)
	}
	if v := value(t, renewed, `heartbeat_messages_total{source="amavis",verdict="clean"}`); v != -1 {
		t.Fatalf("the amavis preset was dropped, yet its counter is served: %v", v)
	}
}
