// The heartbeat itself: the exporter answering, and each of its collectors.
local alert = import 'alert.libsonnet';
{
  local c = self._config,
  prometheusAlerts+:: {
    groups+: [{
      name: 'heartbeat-exporter',
      rules: [
        alert.new(
          c, 'HeartbeatExporterDown', 'critical',
          'up{%s} == 0' % c.heartbeatSelector,
          c.exporterDownFor,
          'heartbeat_exporter does not answer: no heartbeat from the gateway.',
          'Prometheus has failed to scrape {{ $labels.instance }} (job {{ $labels.job }}) for more than %s.' % c.exporterDownFor,
        ),
        alert.new(
          c, 'HeartbeatExporterAbsent', 'critical',
          'absent(up{%s})' % c.heartbeatSelector,
          c.exporterAbsentFor,
          'No heartbeat_exporter target is known to Prometheus.',
          'Prometheus has had no target matching {%s} for more than %s: the scrape configuration lost the gateways.' % [c.heartbeatSelector, c.exporterAbsentFor],
        ),
        alert.new(
          c, 'HeartbeatCollectorFailing', 'warning',
          'heartbeat_scrape_collector_success{%s} == 0' % c.heartbeatSelector,
          c.collectorFailingFor,
          'A heartbeat_exporter collector is failing.',
          'The {{ $labels.collector }} collector on {{ $labels.instance }} has failed every scrape for %s: its metrics are missing. The exporter log names the broken source.' % c.collectorFailingFor,
        ),
        alert.new(
          c, 'HeartbeatTextfileScrapeError', 'warning',
          'heartbeat_textfile_scrape_error{%s} == 1' % c.heartbeatSelector,
          c.textfileScrapeErrorFor,
          'A textfile *.prom file cannot be read.',
          'heartbeat_exporter on {{ $labels.instance }} has failed to read or parse a *.prom file in its textfile directories for %s; the metrics it should provide are missing.' % c.textfileScrapeErrorFor,
        ),
        alert.new(
          c, 'HeartbeatPushStale', 'warning',
          'time() - heartbeat_push_last_success_timestamp_seconds{%s} > %d' % [c.heartbeatSelector, c.pushStaleSeconds],
          c.pushStaleFor,
          'A gateway in push mode has not delivered its heartbeat.',
          'heartbeat_exporter on {{ $labels.instance }} last pushed successfully {{ $value | humanizeDuration }} ago; heartbeat_push_failures_total says why.',
        ),
      ],
    }],
  },
}
