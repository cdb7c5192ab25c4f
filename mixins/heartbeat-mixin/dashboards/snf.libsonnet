// MessageSniffer: event rates, GBUdb, result codes, rulebase age.
local g = import 'lib.libsonnet';
{
  local c = self._config,
  local sel = g.sel,
  local t = g.target,
  local ts = g.timeseries,

  grafanaDashboards+:: {
    'heartbeat-snf.json': g.dashboard(c, 'heartbeat-snf', 'Heartbeat / MessageSniffer', [
      g.stat('Rulebase age', 's', 'max(time() - heartbeat_snf_rulebase_timestamp_seconds{%s})' % sel, w=6),
      g.stat('Update ready', 'short', 'max(heartbeat_snf_rulebase_update_ready{%s})' % sel, [[null, 'green'], [1, 'orange']], w=6),
      g.stat('GBUdb utilization', 'percentunit', 'max(heartbeat_snf_gbudb_utilization_ratio{%s})' % sel, [[null, 'green'], [c.snfGbudbUtilizationThreshold, 'red']], w=6),
      g.stat('Latest rule id', 'none', 'max(heartbeat_snf_latest_rule_id{%s})' % sel, w=6),
      ts('Events', 'short', [
        t('sum by (instance, node, event) (rate(heartbeat_snf_events_total{%s}[$__rate_interval])) * 60' % sel, '{{instance}} {{node}} {{event}}'),
      ], description='Events a minute, from the counters.'),
      ts('Event rates as SNF reports them', 'short', [
        t('heartbeat_snf_event_rate{%s}' % sel, '{{instance}} {{node}} {{event}} {{window}}'),
      ], description='Events a minute.'),
      ts('GBUdb utilization', 'percentunit', [
        t('heartbeat_snf_gbudb_utilization_ratio{%s}' % sel, '{{instance}} {{node}}'),
      ]),
      ts('GBUdb size', 'bytes', [
        t('heartbeat_snf_gbudb_size_bytes{%s}' % sel, '{{instance}} {{node}}'),
      ]),
      ts('GBUdb records', 'short', [
        t('heartbeat_snf_gbudb_records{%s}' % sel, '{{instance}} {{node}}'),
      ]),
      ts('Result codes', 'short', [
        t('sum by (instance, node, code) (rate(heartbeat_snf_results_total{%s}[$__rate_interval])) * 60' % sel, '{{instance}} {{node}} {{code}}'),
      ], description='Results a minute, per code.'),
      ts('Rulebase age', 's', [
        t('time() - heartbeat_snf_rulebase_timestamp_seconds{%s}' % sel, '{{instance}} {{node}} rulebase'),
        t('time() - heartbeat_snf_rulebase_active_timestamp_seconds{%s}' % sel, '{{instance}} {{node}} active'),
      ]),
      ts('Snapshot age', 's', [
        t('time() - heartbeat_snf_snapshot_basetime_timestamp_seconds{%s}' % sel, '{{instance}} {{node}}'),
        t('heartbeat_snf_snapshot_elapsed_seconds{%s}' % sel, '{{instance}} {{node}} elapsed'),
        t('time() - heartbeat_snf_rulebase_update_timestamp_seconds{%s}' % sel, '{{instance}} {{node}} since update'),
      ]),
      ts('Snapshots read', 'short', [
        t('sum by (instance, result) (increase(heartbeat_snf_snapshots_total{%s}[1h]))' % sel, '{{instance}} {{result}}'),
      ], description='Status snapshots read in the last hour: counted, duplicate (seen before) or bad (see the exporter log).'),
      ts('Maintenance timers', 's', [
        t('time() - heartbeat_snf_timer_timestamp_seconds{%s}' % sel, '{{instance}} {{node}} since {{timer}}'),
      ], description='Time since each SNF maintenance timer last fired; "run" is the time since SNF started.'),
      ts('Top rules', 'short', [
        t('topk(10, sum by (instance, node, rule) (rate(heartbeat_snf_rule_hits_total{%s}[$__rate_interval]))) * 60' % sel, '{{instance}} {{node}} rule {{rule}}'),
      ], description='Hits a minute of the ten busiest rules (when the rule histogram is enabled).'),
    ]),
  },
}
