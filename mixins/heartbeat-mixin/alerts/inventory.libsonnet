// What the server runs, exposes and protects (the inventory collector).
local alert = import 'alert.libsonnet';
{
  local c = self._config,
  local sel = c.heartbeatSelector,
  prometheusAlerts+:: {
    groups+: [{
      name: 'heartbeat-inventory',
      rules: [
        alert.new(
          c, 'HeartbeatSignaturesBehind', 'warning',
          'max by (%s, database) (heartbeat_module_database_versions_behind{%s}) > %d' % [c.instanceLabels, sel, c.signaturesVersionsBehindThreshold],
          c.signaturesBehindFor,
          'Virus signatures are behind the published version.',
          'The ClamAV {{ $labels.database }} database on {{ $labels.instance }} is {{ $value }} versions behind the one ClamAV publishes (more than %d for %s).' % [c.signaturesVersionsBehindThreshold, c.signaturesBehindFor],
        ),
        alert.new(
          c, 'HeartbeatFirewallRulesDropped', 'critical',
          // Only a count that was read: without CAP_NET_ADMIN the series
          // is absent, never 0.
          |||
            heartbeat_inventory_firewall_rules{%(sel)s} == 0
            and
            max_over_time(heartbeat_inventory_firewall_rules{%(sel)s}[%(w)s]) > 0
          ||| % { sel: sel, w: c.firewallRulesLookback },
          c.firewallRulesDroppedFor,
          'The firewall ruleset was emptied.',
          '{{ $labels.instance }} has no nftables rules loaded, and had some within the last %s.' % c.firewallRulesLookback,
        ),
        alert.new(
          c, 'HeartbeatOnAccessScanningOff', 'warning',
          // Configured but clamonacc is not running, or the configuration
          // was removed after having been there.
          |||
            (
              heartbeat_inventory_onaccess_configured{%(sel)s} == 1
              and on (%(by)s)
              heartbeat_inventory_onaccess_running{%(sel)s} == 0
            )
            or
            (
              heartbeat_inventory_onaccess_configured{%(sel)s} == 0
              and
              max_over_time(heartbeat_inventory_onaccess_configured{%(sel)s}[%(w)s]) == 1
            )
          ||| % { sel: sel, by: c.instanceLabels, w: c.onAccessLookback },
          c.onAccessOffFor,
          'On-access virus scanning is off.',
          'On {{ $labels.instance }} clamd.conf configures on-access scanning but clamonacc is not running, or the on-access configuration was removed within the last %s.' % c.onAccessLookback,
        ),
        alert.new(
          c, 'HeartbeatUnexpectedListener', 'warning',
          'heartbeat_inventory_listening_sockets{%s, loopback="false", port!~"%s"} > 0' % [sel, std.join('|', [std.toString(p) for p in c.listenerAllowedPorts])],
          c.unexpectedListenerFor,
          'A service listens on a port not in the allow-list.',
          '{{ $labels.instance }} has {{ $value }} {{ $labels.protocol }} socket(s) listening on port {{ $labels.port }} on a non-loopback address, not in listenerAllowedPorts.',
        ),
      ],
    }],
  },
}
