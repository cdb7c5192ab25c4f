package logrules

import (
	"fmt"
	"maps"
	"slices"
)

// Counter names the presets feed (see coord/metrics.md for the contract).
const (
	MessagesTotal      = "heartbeat_messages_total"
	MTAMessagesTotal   = "heartbeat_mta_messages_total"
	VirusesFoundTotal  = "heartbeat_viruses_found_total"
	ModuleUpdatesTotal = "heartbeat_module_updates_total"
	LogErrorsTotal     = "heartbeat_log_errors_total"
	RuleMatchesTotal   = "heartbeat_log_rule_matches_total"
)

// PerLog says whether a counter carries the log label. The mail-flow
// counters are host-wide (the same message must not count once per file
// it is logged in, and snf feeds heartbeat_messages_total too); the
// operator's own counters and the error counters are per log.
func PerLog(counter string) bool {
	switch counter {
	case MessagesTotal, MTAMessagesTotal, VirusesFoundTotal, ModuleUpdatesTotal:
		return false
	}
	return true
}

// amavisVerdicts maps amavisd-new's content categories (the word after
// Passed/Blocked; amavisd-new's README.customize and RELEASE_NOTES list
// CLEAN, SPAMMY, SPAM, INFECTED, BANNED, BAD-HEADER, UNCHECKED,
// MTA-BLOCKED, OVERSIZED, OTHER, TEMPFAIL) to verdict label values.
var amavisVerdicts = map[string]string{
	"CLEAN": "clean", "SPAM": "spam", "SPAMMY": "spammy", "INFECTED": "virus",
	"BANNED": "banned", "BAD-HEADER": "bad_header", "UNCHECKED": "unchecked",
	"MTA-BLOCKED": "mta_blocked", "OVERSIZED": "oversized", "OTHER": "other",
	"TEMPFAIL": "tempfail",
}

// Preset anchors: the syslog tags their regexes start at (see plan).
var (
	amavisAnchor = []string{"amavis[", "amavisd["}
	agentAnchor  = []string{"/smtp[", "/lmtp[", "/local[", "/virtual[", "/pipe[", "/error[", "/retry["}
)

// amavisLine is the head of amavisd-new's main log line: program[pid],
// the log id "(PID-NN)" or "(PID-NN-N)", then Passed or Blocked.
const amavisLine = `amavisd?\[\d+\]: \([\w-]+\) (?:Passed|Blocked) `

var presets = map[string][]Rule{
	"amavis": {
		{Name: "amavis_verdict", Counter: MessagesTotal, Labels: map[string]string{"source": "amavis"},
			Regex: amavisLine + `(CLEAN|SPAMMY|SPAM|INFECTED|BANNED|BAD-HEADER|UNCHECKED|MTA-BLOCKED|OVERSIZED|OTHER|TEMPFAIL)\b`,
			find:  amavisVerdict, anchor: amavisAnchor,
			LabelFrom: []LabelFrom{{Label: "verdict", Group: "1", Map: amavisVerdicts}}},
		{Name: "amavis_virus", Counter: VirusesFoundTotal, Labels: map[string]string{"source": "amavis"},
			Regex: amavisLine + `INFECTED\b`, match: amavisVirus, anchor: []string{"INFECTED"}},
	},
	"postfix": {
		// qmgr logs "from=<...>, size=N, nrcpt=N (queue active)" when a
		// message enters the active queue: once per message, again after
		// each deferral retry.
		{Name: "postfix_received", Counter: MTAMessagesTotal, Labels: map[string]string{"source": "postfix", "status": "received"},
			Regex: `/qmgr\[\d+\]: \w+: from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)`, match: postfixReceived, anchor: []string{"/qmgr["}},
		// One line per recipient and delivery attempt by a delivery agent
		// ("postfix-out/smtp" too, for a second instance). The fields
		// before status= are skipped as "name=value, " runs: several
		// times cheaper for Go's regexp than ".*\bstatus=".
		{Name: "postfix_delivery", Counter: MTAMessagesTotal, Labels: map[string]string{"source": "postfix"},
			Regex: `postfix[\w.-]*/(?:smtp|lmtp|local|virtual|pipe|error|retry)\[\d+\]: \w+: to=<[^>]*>, (?:[^,]*, )*?status=(sent|deferred|bounced)\b`,
			find:  postfixDelivery, anchor: agentAnchor,
			LabelFrom: []LabelFrom{{Label: "status", Group: "1",
				Map: map[string]string{"sent": "delivered", "deferred": "deferred", "bounced": "bounced"}}}},
		{Name: "postfix_rejected", Counter: MTAMessagesTotal, Labels: map[string]string{"source": "postfix", "status": "rejected"},
			Regex: `/smtpd\[\d+\]: NOQUEUE: reject: `, match: postfixRejected, anchor: []string{"NOQUEUE: reject: "}},
	},
	"clamd": {
		// syslog: "clamd[PID]: /path: Name FOUND"; LogFile: "date -> /path: Name(hash:size) FOUND".
		{Name: "clamd_found", Counter: VirusesFoundTotal, Labels: map[string]string{"source": "clamd"},
			Regex: `(?:clamd\[\d+\]:| ->) .+: \S+ FOUND$`, match: clamdFound, suffix: " FOUND"},
		{Name: "clamd_error", Counter: RuleMatchesTotal, Labels: map[string]string{"rule": "clamd_error"},
			Regex: `(?:clamd\[\d+\]:| ->) ERROR: `, match: clamdError},
	},
	"spamd": {
		{Name: "spamd_result", Counter: MessagesTotal, Labels: map[string]string{"source": "spamd"},
			Regex: `spamd\[\d+\]: (?:spamd: )?(identified spam|clean message) \(`, find: spamdResult, anchor: []string{"spamd["},
			LabelFrom: []LabelFrom{{Label: "verdict", Group: "1",
				Map: map[string]string{"identified spam": "spam", "clean message": "clean"}}}},
	},
	"freshclam": {
		// 0.103+: "daily.cld updated (version: N, sigs: ...)"; before:
		// "Database updated (N signatures) from HOST".
		{Name: "freshclam_success", Counter: ModuleUpdatesTotal, Labels: map[string]string{"source": "freshclam", "result": "success"},
			Regex: `(?:\.c[lv]d updated \(version: |Database updated \(\d+ signatures\))`, match: freshclamSuccess},
		// Logged once at the end of a failed run (0.102+), after the
		// per-database retries, which are not counted.
		{Name: "freshclam_failure", Counter: ModuleUpdatesTotal, Labels: map[string]string{"source": "freshclam", "result": "failure"},
			Regex: `Database update process failed`, match: freshclamFailure},
	},
	"errors": {
		{Name: "errors", Counter: LogErrorsTotal, Regex: ErrorsRegex, unless: ErrorAgentStatusRegex, match: errorWord, next: nextErrorWord},
	},
}

// Preset returns a copy of the named preset's rules.
func Preset(name string) ([]Rule, error) {
	rules, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q (known: %v)", name, PresetNames())
	}
	return append([]Rule(nil), rules...), nil
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	return slices.Sorted(maps.Keys(presets))
}
