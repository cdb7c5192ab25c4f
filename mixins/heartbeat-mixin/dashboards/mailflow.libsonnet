// Mail flow: verdicts, viruses, spam share and log errors across gateways.
local g = import 'lib.libsonnet';
{
  local c = self._config,
  local sel = g.sel,
  local t = g.target,
  local ts = g.timeseries,

  grafanaDashboards+:: {
    'heartbeat-mailflow.json': g.dashboard(c, 'heartbeat-mailflow', 'Heartbeat / Mail flow', [
      ts('Messages by verdict', 'short', [
        t('sum by (instance, source, verdict) (rate(heartbeat_messages_total{%s}[$__rate_interval])) * 60' % sel, '{{instance}} {{source}} {{verdict}}'),
      ], description='Messages a minute.'),
      ts('MTA messages by status', 'short', [
        t('sum by (instance, status) (rate(heartbeat_mta_messages_total{%s}[$__rate_interval])) * 60' % sel, '{{instance}} {{status}}'),
      ], description='Postfix messages a minute.'),
      ts('Messages processed in the last hour', 'short', [
        t('heartbeat_instance:messages_processed:increase1h{%s}' % sel, '{{instance}}'),
      ], description='Busiest source per gateway (several scanners see the same message).'),
      ts('Viruses found in the last hour', 'short', [
        t('heartbeat_instance:viruses_found:increase1h{%s}' % sel, '{{instance}}'),
        t('%g * avg_over_time(heartbeat_instance:viruses_found:increase1h{%s}[%s])' % [c.virusOutbreakRatio, sel, c.baselineWindow], '{{instance}} outbreak threshold'),
      ]),
      ts('Spam share (1h)', 'percentunit', [
        t('heartbeat_instance_source:spam_share:ratio1h{%s}' % sel, '{{instance}} {{source}}'),
      ]),
      ts('Spam share (24h)', 'percentunit', [
        t('heartbeat_instance:spam_share:ratio24h{%s}' % sel, '{{instance}}'),
      ]),
      ts('Viruses by source', 'short', [
        t('sum by (instance, source) (rate(heartbeat_viruses_found_total{%s}[$__rate_interval])) * 60' % sel, '{{instance}} {{source}}'),
      ], description='Detections a minute.'),
      ts('Log errors', 'short', [
        t('heartbeat_instance_log:log_errors:rate5m{%s} * 60' % sel, '{{instance}} {{log}}'),
      ], description='Errors a minute, per log.'),
      ts('Log lines read', 'short', [
        t('sum by (instance, log) (rate(heartbeat_log_lines_total{%s}[$__rate_interval]))' % sel, '{{instance}} {{log}}'),
      ], description='Lines a second.'),
      ts('Definition updates', 'short', [
        t('sum by (instance, source, result) (increase(heartbeat_module_updates_total{%s}[1h]))' % sel, '{{instance}} {{source}} {{result}}'),
      ], description='Update attempts in the hour before each point.'),
    ]),
  },
}
