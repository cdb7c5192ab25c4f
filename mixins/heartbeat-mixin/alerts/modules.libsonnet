// Definitions and rulebases: age, failing updates, MessageSniffer.
local alert = import 'alert.libsonnet';
{
  local c = self._config,
  local sel = c.heartbeatSelector,
  local by = c.instanceLabels,
  prometheusAlerts+:: {
    groups+: [{
      name: 'heartbeat-modules',
      rules: [
        alert.new(
          c, 'HeartbeatDefinitionsStale', 'warning',
          'time() - heartbeat_module_last_update_timestamp_seconds{%s, module=~"%s"} > %d' % [sel, c.definitionsModules, c.definitionsMaxAgeSeconds],
          c.definitionsStaleFor,
          'Virus or spam definitions are out of date.',
          'The {{ $labels.module }} definitions on {{ $labels.instance }} were last updated {{ $value | humanizeDuration }} ago.',
        ),
        alert.new(
          c, 'HeartbeatModuleUpdateFailing', 'warning',
          // The modules collector knows the last success and failure
          // times; the logs collector counts update attempts.
          |||
            heartbeat_module_update_last_failure_timestamp_seconds{%(sel)s}
              > on (%(by)s, module)
            heartbeat_module_update_last_success_timestamp_seconds{%(sel)s}
            or
            (
              sum by (%(by)s, source) (increase(heartbeat_module_updates_total{%(sel)s, result="failure"}[%(w)s])) > 0
                unless on (%(by)s, source)
              sum by (%(by)s, source) (increase(heartbeat_module_updates_total{%(sel)s, result="success"}[%(w)s])) > 0
            )
          ||| % { sel: sel, by: by, w: c.moduleUpdateFailureWindow },
          c.moduleUpdateFailingFor,
          'Definition updates are failing.',
          'Updates of {{ $labels.module }}{{ $labels.source }} on {{ $labels.instance }} keep failing: no update has succeeded since the last failure.',
        ),
        alert.new(
          c, 'HeartbeatSNFRulebaseUpdateNotApplied', 'warning',
          'heartbeat_snf_rulebase_update_ready{%s} == 1' % sel,
          c.snfUpdateReadyFor,
          'A MessageSniffer rulebase update is ready but not applied.',
          'MessageSniffer node {{ $labels.node }} on {{ $labels.instance }} has had a rulebase update ready for more than %s without loading it.' % c.snfUpdateReadyFor,
        ),
        alert.new(
          c, 'HeartbeatSNFGBUdbNearlyFull', 'warning',
          'heartbeat_snf_gbudb_utilization_ratio{%s} > %g' % [sel, c.snfGbudbUtilizationThreshold],
          c.snfGbudbFor,
          'The MessageSniffer GBUdb is nearly full.',
          'The GBUdb of MessageSniffer node {{ $labels.node }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full.',
        ),
      ],
    }],
  },
}
