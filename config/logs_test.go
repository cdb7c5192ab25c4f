package config

import (
	"strings"
	"testing"
	"time"
)

func TestLogsDefaultAndDefaults(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Logs) != 3 || cfg.Logs[0].Path != "/var/log/mail.log" {
		t.Fatalf("default logs = %+v", cfg.Logs)
	}
	l := cfg.Logs[1]
	if l.StartAt != LogStartAtEnd || l.MaxLineBytes != DefaultLogMaxLineBytes || l.PollInterval != time.Second {
		t.Fatalf("defaults not applied: %+v", l)
	}
	rules, err := cfg.Logs[0].RuleSet()
	if err != nil || len(rules) < 8 {
		t.Fatalf("mail.log rules: %d %v", len(rules), err)
	}
}

func TestLogsValidation(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"logs: [{path: /x}, {path: /x}]", "logs[1].path: \"/x\" is listed twice"},
		{"logs: [{path: var/log/x}]", "logs[0].path: path \"var/log/x\" is not absolute"},
		{"logs: [{path: /x, presets: [nope]}]", "logs[0].presets[0]: unknown preset \"nope\""},
		{"logs: [{path: /x, start_at: middle}]", "logs[0].start_at: must be"},
		{"logs: [{path: /x, poll_interval: 1ms}]", "logs[0].poll_interval"},
		{"logs: [{path: /x, max_line_bytes: 10}]", "logs[0].max_line_bytes"},
		{"logs: [{path: /x, rotate_grace: 100ms}]", "logs[0].rotate_grace: must be between 1s and 24h"},
		{"logs: [{path: /x, rotate_grace: 48h}]", "logs[0].rotate_grace"},
		{"logs: [{path: /x, rules: [{name: r, regex: '('}]}]", "logs[0].rules[0].regex"},
		{"logs: [{path: /x, rules: [{name: 'bad name', regex: a}]}]", "logs[0].rules[0].name"},
		{"logs: [{path: /x, rules: [{name: r, regex: a}, {name: r, regex: b}]}]", "logs[0].rules[1].name: rule \"r\" is defined twice"},
		{"logs: [{path: /x, rules: [{name: r, regex: a, counter: heartbeat_log_lines_total}]}]", "logs[0].rules[0].counter"},
		{"logs: [{path: /x, rules: [{name: r, regex: a, labels: {log: x}}]}]", "logs[0].rules[0].labels"},
		{"logs: [{path: /x, rules: [{name: r, regex: a, label_from: [{label: l, group: '1'}]}]}]", "logs[0].rules[0].regex"},
		{"logs: [{path: /x, presets: [amavis], rules: [{name: r, regex: a, counter: heartbeat_messages_total, labels: {source: x}}]}]", "one metric has one set of label names"},
		// Without the amavis preset too: snf serves heartbeat_messages_total{source,verdict}.
		{"logs: [{path: /x, rules: [{name: r, regex: a, counter: heartbeat_messages_total, labels: {source: x}}]}]", "one metric has one set of label names"},
		{"logs: [{path: /x, rules: [{name: r, regex: a, counter: heartbeat_service_restarts_total}]}]", "logs[0].rules[0].counter: \"heartbeat_service_restarts_total\" belongs to another collector"},
		{"logs: [{path: /x, journal: {}}]", "logs[0].journal: path and journal exclude each other"},
		{"logs: [{journal: {matches: [unit=postfix]}}]", "logs[0].journal.matches[0]: \"unit=postfix\" is not a journal match"},
		{"logs: [{journal: {directory: var/log/journal}}]", "logs[0].journal.directory: path \"var/log/journal\" is not absolute"},
		{"logs: [{journal: {}}, {journal: {}}]", "logs[1].path: \"journal\" is listed twice"},
		{"logs: [{}]", "logs[0].path: path is empty"},
	} {
		_, err := Parse("t.yml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
	ok := `logs:
  - path: /var/log/app/*.log
    presets: [errors]
    start_at: beginning
    rules:
      - name: dcc_errors
        regex: 'dccproc\[\d+\]: (?P<kind>\w+) error'
        label_from: [{label: kind, group: kind, values: [timeout, parse]}]
      - name: own_scanner
        regex: 'myscan: (?P<verdict>clean|spam)'
        counter: heartbeat_messages_total
        labels: {source: myscan}
        label_from: [{label: verdict, group: verdict, values: [clean, spam]}]
`
	if _, err := Parse("ok.yml", []byte(ok)); err != nil {
		t.Fatal(err)
	}
	journal := `logs:
  - journal: {matches: [_SYSTEMD_UNIT=postfix@-.service, +, SYSLOG_IDENTIFIER=amavis]}
    presets: [postfix, amavis]
  - journal: {directory: /var/log/journal/remote}
    presets: [errors]
`
	cfg, err := Parse("journal.yml", []byte(journal))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Logs[0].Name(); got != "journal _SYSTEMD_UNIT=postfix@-.service + SYSLOG_IDENTIFIER=amavis" {
		t.Errorf("log label %q", got)
	}
	if got := cfg.Logs[1].Name(); got != "journal:/var/log/journal/remote" {
		t.Errorf("log label %q", got)
	}
}
