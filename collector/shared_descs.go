package collector

import "github.com/prometheus/client_golang/prometheus"

// messagesHelp is heartbeat_messages_total's HELP, also used by the logs
// collector, which builds that family from its presets.
const messagesHelp = "Messages processed, by verdict."

// Families served by more than one collector. A family's HELP and labels
// must be identical wherever it is emitted, or the registry refuses the
// whole family at gather time: so they are declared once, here.
var (
	// moduleInfoDesc: modules (clamav, file, dpkg) and snf (its versions).
	moduleInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "module", "info"),
		"Version of a module's engine or database; always 1.",
		[]string{"module", "engine", "database", "version"}, nil)
	// moduleLastUpdateDesc: modules and snf (the active rulebase).
	moduleLastUpdateDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "module", "last_update_timestamp_seconds"),
		"When the module was last updated, in Unix time.",
		[]string{"module"}, nil)
	// messagesDesc: snf and the logs presets (amavis, spamd).
	messagesDesc = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "messages_total"),
		messagesHelp, []string{"source", "verdict"}, nil)
)
