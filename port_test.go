package main

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// mailGatewayPorts are the TCP ports that programs found on a Debian mail
// gateway listen on by default, or that their own documentation and the common
// how-tos give them. The exporter is for exactly those hosts, so its default
// must not be one of them (10025, the old default, is amavis' re-injection
// port in README.postfix: the exporter failed to start there).
var mailGatewayPorts = map[int]string{
	22: "ssh", 24: "dovecot lmtp", 25: "postfix smtpd", 53: "unbound/bind (local resolver)",
	80: "http", 110: "dovecot pop3", 143: "dovecot imap", 443: "https", 465: "postfix smtps",
	587: "postfix submission", 783: "spamd", 993: "dovecot imaps", 995: "dovecot pop3s",
	2424: "dspam lmtp", 2501: "sqlgrey", 2525: "smtp alternative", 2703: "razor",
	3306: "mariadb", 3310: "clamd", 3903: "mtail", 4190: "dovecot managesieve",
	5432: "postgresql", 6379: "redis", 8001: "mailman3 REST", 8024: "mailman3 lmtp",
	8080: "proxies and admin UIs", 8891: "opendkim", 8892: "opendkim (how-tos)",
	8893: "opendmarc", 8894: "openarc", 9001: "SNFServer XCI", 9100: "node_exporter",
	9154: "postfix_exporter", 9900: "dovecot openmetrics", 9998: "amavisd AM.PDP (amavisd-release)",
	10000: "webmin", 10023: "postgrey", 10024: "amavisd-new", 10025: "postfix re-injection from amavis",
	10026: "amavisd-new ORIGINATING", 10027: "amavis (how-tos)", 10028: "amavis (Zimbra)",
	10029: "postjournal (Zimbra)", 10030: "postfix return (Zimbra)", 10031: "cbpolicyd",
	10032: "amavis (Zimbra)", 10040: "postfwd", 10050: "zabbix agent", 10051: "zabbix trapper",
	10663: "Zimbra logger", 11211: "memcached", 11332: "rspamd proxy", 11333: "rspamd normal",
	11334: "rspamd controller", 12301: "opendkim (how-tos)", 12340: "dovecot quota-status",
	12525: "policyd-weight", 19531: "systemd-journal-gatewayd", 23232: "amavis-services",
	23233: "amavis-mc", 24441: "pyzor", 26379: "redis sentinel",
}

// prometheusOutsideRange are the ports the Prometheus wiki's "Default port
// allocations" page lists outside its own ranges 9090-9094 and 9100-9999
// (newest copy read for this change; the page grows at its ends).
var prometheusOutsideRange = []int{
	2112, 2223, 3105, 3903, 4040, 5006, 5555, 6060, 7300, 7355, 8000, 8080, 8082, 8088,
	8089, 8292, 8404, 9001, 9042, 9043, 9045, 9087, 9095, 9097, 9099,
	10001, 10002, 10003, 10004, 10005, 10006, 10007, 10008, 10009, 10010, 10011, 10012,
	10013, 10014, 10015, 10016, 10017, 10018, 10019, 10020, 10021, 10022, 10023, 10024,
	10026, 10080, 10100, 10101, 10200, 10201, 10998, 11111, 11112, 12345, 15692, 15693,
	16995, 17871, 18899, 19091, 19854, 19999, 24231, 28272, 29091, 30042, 36123, 36333,
	39100, 42004, 44322, 44323, 61091,
}

func defaultPort(t *testing.T) int {
	t.Helper()
	_, p, err := net.SplitHostPort(defaultListenAddress)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// The default port collides with nothing a mail gateway runs and with no
// allocation on the Prometheus wiki page.
func TestDefaultPort(t *testing.T) {
	port := defaultPort(t)
	if who, ok := mailGatewayPorts[port]; ok {
		t.Errorf("default port %d is taken on a mail gateway by %s", port, who)
	}
	if (port >= 9090 && port <= 9094) || (port >= 9100 && port <= 9999) {
		t.Errorf("default port %d is inside the Prometheus wiki's allocated ranges", port)
	}
	for _, p := range prometheusOutsideRange {
		if p == port {
			t.Errorf("default port %d is allocated on the Prometheus wiki page", port)
		}
	}
	// The wiki list grows by one from its last entries: keep a margin.
	for _, front := range []int{10026, 10101, 10201, 10998, 11112, 12345} {
		if port > front && port <= front+20 {
			t.Errorf("default port %d is within 20 of where the wiki list grows (%d)", port, front)
		}
	}
	// In Linux's ephemeral range an outgoing connection may hold the port.
	if port >= 32768 {
		t.Errorf("default port %d is in the ephemeral range", port)
	}
}

// Every place that names the port names the default: the README's first
// lines and its flags table, make demo, the unit, the example scrape config.
func TestDefaultPortEverywhere(t *testing.T) {
	port := strconv.Itoa(defaultPort(t))
	for file, want := range map[string][]string{
		"README.md":                        {"http://127.0.0.1:" + port + "/metrics", "| `:" + port + "` |"},
		"Makefile":                         {"DEMO_ADDR ?= 127.0.0.1:" + port},
		"examples/prometheus.yml":          {":" + port + "'"},
		"mixins/heartbeat-mixin/README.md": {"exporter's port (" + port + ")"},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s does not contain %q", file, w)
			}
		}
	}
	// The unit either leaves the built-in default alone or names it.
	unit, err := os.ReadFile("examples/heartbeat_exporter.service")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(unit), "--web.listen-address") && !strings.Contains(string(unit), "--web.listen-address=:"+port) {
		t.Errorf("the unit listens elsewhere than the default port %s", port)
	}
	readme, _ := os.ReadFile("README.md")
	if first := strings.SplitN(string(readme), "\n", 6); !strings.Contains(strings.Join(first, "\n"), ":"+port+"/metrics") {
		t.Errorf("README's first lines do not name port %s", port)
	}
}
