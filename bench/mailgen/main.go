// Command mailgen writes a synthetic mail log shaped differently from the
// demo's, for the logs benchmarks (the generated data is never committed):
//
//   - rsyslog: Debian 12's rsyslog default, RFC 3339 stamps with
//     microseconds and offset; postfix (smtpd, cleanup, qmgr, smtp, lmtp,
//     local, anvil), amavis, spamd (child states, processing, results),
//     freshclam runs, opendkim, the odd clamd and dovecot line.
//   - classic: traditional "Mmm dd hh:mm:ss" stamps; 68 % amavis lines
//     with a spam-heavy verdict mix, postfix smtp/smtpd/qmgr, 1 % clamd
//     FOUND lines, no spamd.
//
// Both are deterministic for a seed.
//
//	go run ./bench/mailgen [-style rsyslog|classic] [-mib 256] [-seed 1] > mail.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

func main() {
	style := flag.String("style", "rsyslog", "rsyslog (RFC 3339 stamps) or classic (syslog stamps)")
	mib := flag.Int("mib", 256, "size to write, in MiB (cut at a line end)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	g := &gen{r: rand.New(rand.NewPCG(*seed, 7)), t: time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("", 3600))}
	var line func() string
	switch *style {
	case "rsyslog":
		g.stamp = func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000-07:00") }
		line = g.rsyslog
	case "classic":
		g.stamp = func(t time.Time) string { return t.Format("Jan _2 15:04:05") }
		line = g.classic
	default:
		fmt.Fprintln(os.Stderr, "unknown -style", *style)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	for n := 0; n < *mib<<20; {
		l := line()
		if n+len(l)+1 > *mib<<20 {
			break
		}
		n += len(l) + 1
		w.WriteString(l)
		w.WriteByte('\n')
	}
}

type gen struct {
	r     *rand.Rand
	t     time.Time
	stamp func(time.Time) string
}

// head advances the clock a little and returns "STAMP host prog[pid]: ".
func (g *gen) head(prog string, pid int) string {
	g.t = g.t.Add(time.Duration(g.r.IntN(40_000)) * time.Microsecond)
	return g.stamp(g.t) + " mx1 " + prog + "[" + strconv.Itoa(pid) + "]: "
}

const alnum = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

func (g *gen) id(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[g.r.IntN(len(alnum))]
	}
	return string(b)
}

func (g *gen) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 11+g.r.IntN(200), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

var users = []string{"info", "sales", "j.doe", "billing", "noreply", "support", "hr", "admin", "m.rossi", "newsletter"}
var domains = []string{"example.net", "corp.example", "shop.example.com", "mail.example.org", "lists.example", "bank.example"}

func (g *gen) addr() string {
	return users[g.r.IntN(len(users))] + "@" + domains[g.r.IntN(len(domains))]
}

func (g *gen) pick(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := g.r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (g *gen) postfixSmtpd() string {
	pid := 20000 + g.r.IntN(9000)
	switch g.r.IntN(6) {
	case 0:
		return g.head("postfix/smtpd", pid) + "connect from unknown[" + g.ip() + "]"
	case 1:
		ip := g.ip()
		return g.head("postfix/smtpd", pid) + "disconnect from unknown[" + ip + "] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
	case 2:
		return g.head("postfix/smtpd", pid) + g.id(12) + ": client=relay" + strconv.Itoa(g.r.IntN(50)) + ".example.net[" + g.ip() + "]"
	case 3:
		return g.head("postfix/smtpd", pid) + "NOQUEUE: reject: RCPT from unknown[" + g.ip() + "]: 450 4.7.1 Client host rejected: cannot find your reverse hostname; from=<" + g.addr() + "> to=<" + g.addr() + "> proto=ESMTP helo=<localhost>"
	case 4:
		return g.head("postfix/smtpd", pid) + "warning: hostname host-" + strconv.Itoa(g.r.IntN(999)) + ".example does not resolve to address " + g.ip() + ": Name or service not known"
	default:
		return g.head("postfix/smtpd", pid) + "lost connection after AUTH from unknown[" + g.ip() + "]"
	}
}

func (g *gen) postfixQueue() string {
	q := g.id(12)
	switch g.r.IntN(4) {
	case 0:
		return g.head("postfix/cleanup", 30000+g.r.IntN(500)) + q + ": message-id=<" + g.id(20) + "@" + domains[g.r.IntN(len(domains))] + ">"
	case 1:
		return g.head("postfix/qmgr", 1102) + q + ": removed"
	default:
		return g.head("postfix/qmgr", 1102) + q + ": from=<" + g.addr() + ">, size=" + strconv.Itoa(800+g.r.IntN(90000)) + ", nrcpt=" + strconv.Itoa(1+g.r.IntN(3)) + " (queue active)"
	}
}

var deliveryAgents = []string{"postfix/smtp", "postfix/smtp", "postfix/smtp", "postfix/lmtp", "postfix/local"}

func (g *gen) postfixDelivery() string {
	agent := deliveryAgents[g.r.IntN(len(deliveryAgents))]
	h := g.head(agent, 40000+g.r.IntN(3000)) + g.id(12) + ": to=<" + g.addr() + ">, "
	if g.r.IntN(3) == 0 {
		h += "orig_to=<" + g.addr() + ">, "
	}
	h += "relay=mx.example.net[" + g.ip() + "]:25, delay=" + strconv.Itoa(g.r.IntN(9)) + ".4, delays=0.1/0/0.2/0.3, "
	switch g.pick([]int{85, 10, 5}) {
	case 0:
		return h + "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as " + g.id(10) + ")"
	case 1:
		return h + "dsn=4.4.2, status=deferred (lost connection with mx.example.net[" + g.ip() + "] while receiving the initial server greeting)"
	default:
		return h + "dsn=5.1.1, status=bounced (host mx.example.net[" + g.ip() + "] said: 550 5.1.1 <" + g.addr() + ">: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))"
	}
}

var amavisMix = []struct {
	verdict string
	weight  int
}{{"Passed CLEAN", 38}, {"Blocked SPAM", 25}, {"Passed SPAMMY", 12}, {"Passed BAD-HEADER", 8}, {"Blocked BANNED", 4},
	{"Blocked INFECTED", 3}, {"Passed UNCHECKED", 3}, {"Blocked SPAMMY", 2}, {"Passed OVERSIZED", 1}, {"Blocked MTA-BLOCKED", 1}}

func (g *gen) amavisVerdict() string {
	w := make([]int, len(amavisMix))
	for i, m := range amavisMix {
		w[i] = m.weight
	}
	m := amavisMix[g.pick(w)]
	pid := 3000 + g.r.IntN(20)
	h := g.head("amavis", pid) + fmt.Sprintf("(%05d-%02d) ", pid, 1+g.r.IntN(40)) + m.verdict
	if m.verdict == "Blocked INFECTED" {
		h += " (Win.Trojan.Agent-" + strconv.Itoa(g.r.IntN(999999)) + ")"
	}
	return h + " {RelayedInbound}, [" + g.ip() + "]:" + strconv.Itoa(1024+g.r.IntN(60000)) + " [" + g.ip() + "] <" + g.addr() + "> -> <" + g.addr() +
		">, Queue-ID: " + g.id(12) + ", Message-ID: <" + g.id(24) + "@example.net>, mail_id: " + g.id(12) + ", Hits: " +
		strconv.Itoa(g.r.IntN(30)-3) + "." + strconv.Itoa(g.r.IntN(1000)) + ", size: " + strconv.Itoa(900+g.r.IntN(80000)) + ", queued_as: " + g.id(12) + ", " + strconv.Itoa(100+g.r.IntN(4000)) + " ms"
}

func (g *gen) amavisOther() string {
	pid := 3000 + g.r.IntN(20)
	switch g.r.IntN(3) {
	case 0:
		return g.head("amavis", pid) + fmt.Sprintf("(%05d-%02d) ", pid, 1+g.r.IntN(40)) + "Checking: " + g.id(12) + " [" + g.ip() + "] <" + g.addr() + "> -> <" + g.addr() + ">"
	case 1:
		return g.head("amavis", pid) + fmt.Sprintf("(%05d-%02d) ", pid, 1+g.r.IntN(40)) + "p.path BANNED:1 " + g.addr() + ": \"P=p003,L=1,M=application/x-msdownload,T=exe,N=invoice.exe\""
	default:
		return g.head("amavis", pid) + fmt.Sprintf("(%05d-%02d) ", pid, 1+g.r.IntN(40)) + "spam-tag, <" + g.addr() + "> -> <" + g.addr() + ">, Yes, score=" + strconv.Itoa(g.r.IntN(20)) + ".2 tagged_above=-999 required=6.2"
	}
}

func (g *gen) clamd() string {
	pid := 811
	switch g.r.IntN(4) {
	case 0:
		return g.head("clamd", pid) + "SelfCheck: Database status OK."
	default:
		return g.head("clamd", pid) + "/var/lib/amavis/tmp/amavis-20261123T" + strconv.Itoa(100000+g.r.IntN(899999)) + "-" + strconv.Itoa(3000+g.r.IntN(20)) + "-" + g.id(8) + "/parts/p00" + strconv.Itoa(1+g.r.IntN(9)) + ": Win.Malware.Agent-" + strconv.Itoa(g.r.IntN(9999999)) + " FOUND"
	}
}

func (g *gen) spamd() string {
	pid := 5000 + g.r.IntN(6)
	switch g.r.IntN(6) {
	case 0:
		return g.head("spamd", pid) + "spamd: connection from localhost [::1]:" + strconv.Itoa(30000+g.r.IntN(30000)) + " to port 783, fd 5"
	case 1:
		return g.head("spamd", pid) + "spamd: processing message <" + g.id(24) + "@example.net> for debian-spamd:110"
	case 2:
		return g.head("spamd", pid) + "spamd: result: " + []string{".", "Y"}[g.r.IntN(2)] + " " + strconv.Itoa(g.r.IntN(20)) + " - BAYES_50,DKIM_SIGNED,RCVD_IN_DNSWL_NONE,SPF_HELO_NONE scantime=0.9,size=4312,user=debian-spamd,uid=110,required_score=5.0,rhost=::1,raddr=::1,rport=45112,mid=<" + g.id(24) + "@example.net>,autolearn=no"
	case 3:
		return g.head("spamd", 4990) + "prefork: child states: II"
	case 4:
		return g.head("spamd", pid) + "spamd: identified spam (" + strconv.Itoa(5+g.r.IntN(20)) + ".3/5.0) for debian-spamd:110 in 1.1 seconds, " + strconv.Itoa(2000+g.r.IntN(90000)) + " bytes."
	default:
		return g.head("spamd", pid) + "spamd: clean message (" + strconv.Itoa(g.r.IntN(5)) + ".1/5.0) for debian-spamd:110 in 0.7 seconds, " + strconv.Itoa(2000+g.r.IntN(90000)) + " bytes."
	}
}

func (g *gen) freshclam() string {
	h := g.head("freshclam", 702)
	switch g.r.IntN(6) {
	case 0:
		return h + g.t.Format("Mon Jan _2 15:04:05 2006") + " -> ClamAV update process started at " + g.t.Format("Mon Jan _2 15:04:05 2006")
	case 1:
		return h + g.t.Format("Mon Jan _2 15:04:05 2006") + " -> daily.cld updated (version: " + strconv.Itoa(27000+g.r.IntN(900)) + ", sigs: 2070000, f-level: 90, builder: raynman)"
	case 2:
		return h + g.t.Format("Mon Jan _2 15:04:05 2006") + " -> main.cvd database is up-to-date (version: 62, sigs: 6647427, f-level: 90, builder: sigmgr)"
	case 3:
		return h + g.t.Format("Mon Jan _2 15:04:05 2006") + " -> bytecode.cvd database is up-to-date (version: 335, sigs: 86, f-level: 90, builder: raynman)"
	case 4:
		return h + g.t.Format("Mon Jan _2 15:04:05 2006") + " -> ERROR: Database update process failed: Connection failed"
	default:
		return h + g.t.Format("Mon Jan _2 15:04:05 2006") + " -> Clamd successfully notified about the update."
	}
}

func (g *gen) misc() string {
	switch g.r.IntN(4) {
	case 0:
		return g.head("opendkim", 900) + g.id(12) + ": DKIM-Signature field added (s=mail, d=corp.example)"
	case 1:
		return g.head("dovecot", 1300) + "lmtp(" + users[g.r.IntN(len(users))] + ")<" + strconv.Itoa(g.r.IntN(9999)) + "><" + g.id(22) + ">: msgid=<" + g.id(20) + "@example.net>: saved mail to INBOX"
	case 2:
		return g.head("postfix/anvil", 1105) + "statistics: max connection rate 3/60s for (smtp:" + g.ip() + ") at " + g.t.Format("Jan _2 15:04:05")
	default:
		return g.head("opendkim", 900) + g.id(12) + ": s=selector1 d=example.net SSL error:04091068:rsa routines:int_rsa_verify:bad signature"
	}
}

// rsyslog: a Debian 12 gateway running postfix, amavis, spamd, clamd and freshclam.
func (g *gen) rsyslog() string {
	switch g.pick([]int{18, 14, 14, 24, 16, 2, 3, 9}) {
	case 0:
		return g.postfixSmtpd()
	case 1:
		return g.postfixQueue()
	case 2:
		return g.postfixDelivery()
	case 3:
		if g.r.IntN(3) == 0 {
			return g.amavisOther()
		}
		return g.amavisVerdict()
	case 4:
		return g.spamd()
	case 5:
		return g.clamd()
	case 6:
		return g.freshclam()
	default:
		return g.misc()
	}
}

// classic: 68 % amavis, postfix smtp/smtpd/qmgr, 1 % clamd FOUND.
func (g *gen) classic() string {
	switch g.pick([]int{68, 10, 11, 10, 1}) {
	case 0:
		if g.r.IntN(5) == 0 {
			return g.amavisOther()
		}
		return g.amavisVerdict()
	case 1:
		return g.postfixSmtpd()
	case 2:
		return g.postfixQueue()
	case 3:
		return g.postfixDelivery()
	default:
		pid := 811
		return g.head("clamd", pid) + "/var/lib/amavis/tmp/amavis-20261123T" + strconv.Itoa(100000+g.r.IntN(899999)) + "/parts/p002: Win.Test.EICAR_HDB-1 FOUND"
	}
}
