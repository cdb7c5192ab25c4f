// Host detail: everything the heartbeat carries, over time, for one gateway.
local g = import 'lib.libsonnet';
{
  local c = self._config,
  local sel = g.sel,
  local t = g.target,
  local ts = g.timeseries,

  grafanaDashboards+:: {
    'heartbeat-host.json': g.dashboard(c, 'heartbeat-host', 'Heartbeat / Host detail', [
      g.stat('Uptime', 's', 'time() - heartbeat_boot_time_seconds{%s}' % sel),
      g.stat('Virus definitions age', 's', 'max(time() - heartbeat_module_last_update_timestamp_seconds{%s, module="virus"})' % sel, [[null, 'green'], [c.definitionsMaxAgeSeconds, 'red']]),
      g.stat('Spam definitions age', 's', 'max(time() - heartbeat_module_last_update_timestamp_seconds{%s, module="spam"})' % sel, [[null, 'green'], [c.definitionsMaxAgeSeconds, 'red']]),
      g.stat('Core files', 'short', 'sum(heartbeat_core_files{%s})' % sel, [[null, 'green'], [1, 'orange']]),
      g.stat('Services down', 'short', 'sum(1 - heartbeat_service_up{%s})' % sel, [[null, 'green'], [1, 'red']]),
      g.stat('Collectors failing', 'short', 'sum(1 - heartbeat_scrape_collector_success{%s})' % sel, [[null, 'green'], [1, 'red']]),

      ts('Load', 'short', [
        t('heartbeat_load1{%s}' % sel, '1m'),
        t('heartbeat_load5{%s}' % sel, '5m'),
        t('heartbeat_load15{%s}' % sel, '15m'),
        t('heartbeat_cpus{%s}' % sel, 'cpus'),
      ]),
      ts('Memory', 'bytes', [
        t('heartbeat_memory_total_bytes{%s}' % sel, 'total'),
        t('heartbeat_memory_available_bytes{%s}' % sel, 'available'),
        t('heartbeat_memory_swap_total_bytes{%s} - heartbeat_memory_swap_free_bytes{%s}' % [sel, sel], 'swap used'),
      ]),
      ts('Disk space available', 'percent', [
        t('heartbeat_filesystem_avail_bytes{%s} / heartbeat_filesystem_size_bytes{%s} * 100' % [sel, sel], '{{mountpoint}}'),
      ]),
      ts('Inodes free', 'percent', [
        t('heartbeat_filesystem_files_free{%s} / heartbeat_filesystem_files{%s} * 100' % [sel, sel], '{{mountpoint}}'),
      ]),
      ts('Quarantine on disk', 'bytes', [
        t('heartbeat_quarantine_disk_bytes{%s}' % sel, '{{quarantine}}'),
      ]),
      ts('Quarantine messages', 'short', [
        t('heartbeat_quarantine_messages{%s}' % sel, '{{quarantine}} {{category}}'),
      ]),
      ts('Quarantine share of its filesystem', 'percentunit', [
        t('heartbeat_quarantine:filesystem_usage:ratio{%s}' % sel, '{{quarantine}} on {{mountpoint}}'),
      ]),
      ts('Oldest quarantined message age', 's', [
        t('time() - heartbeat_quarantine_oldest_message_timestamp_seconds{%s}' % sel, '{{quarantine}}'),
      ]),
      ts('Definitions age', 's', [
        t('time() - heartbeat_module_last_update_timestamp_seconds{%s}' % sel, '{{module}}'),
      ]),
      ts('Signatures', 'short', [
        t('heartbeat_module_signatures{%s}' % sel, '{{module}} {{database}}'),
      ]),
      ts('Messages processed', 'short', [
        t('sum by (source, verdict) (rate(heartbeat_messages_total{%s}[$__rate_interval])) * 60' % sel, '{{source}} {{verdict}}'),
      ], description='Messages a minute, per source and verdict.'),
      ts('Viruses found', 'short', [
        t('sum by (source) (rate(heartbeat_viruses_found_total{%s}[$__rate_interval])) * 60' % sel, '{{source}}'),
      ], description='Detections a minute, per source.'),
      ts('Services up', 'short', [
        t('heartbeat_service_up{%s}' % sel, '{{service}}'),
      ]),
      ts('Service restarts', 'short', [
        t('increase(heartbeat_service_restarts_total{%s}[1h])' % sel, '{{service}}'),
      ], description='Restarts in the hour before each point.'),
      ts('Service resident memory', 'bytes', [
        t('heartbeat_service_resident_memory_bytes{%s}' % sel, '{{service}}'),
      ]),
      ts('Service CPU', 'percentunit', [
        t('sum by (service) (rate(heartbeat_service_cpu_seconds_total{%s}[$__rate_interval]))' % sel, '{{service}}'),
      ]),
      ts('Core files', 'short', [
        t('heartbeat_core_files{%s}' % sel, '{{dir}} {{executable}}'),
      ]),
      ts('Log errors', 'short', [
        t('sum by (log) (rate(heartbeat_log_errors_total{%s}[$__rate_interval])) * 60' % sel, '{{log}}'),
      ], description='Errors a minute, per log.'),
      ts('clamd queue and threads', 'short', [
        t('heartbeat_clamd_queue_length{%s}' % sel, 'queue'),
        t('heartbeat_clamd_threads{%s}' % sel, 'threads {{state}}'),
      ]),
      ts('Collector duration', 's', [
        t('heartbeat_scrape_collector_duration_seconds{%s}' % sel, '{{collector}}'),
      ]),
      ts('Collector and textfile errors', 'short', [
        t('1 - heartbeat_scrape_collector_success{%s}' % sel, '{{collector}} failing'),
        t('heartbeat_textfile_scrape_error{%s}' % sel, 'textfile error'),
      ]),
    ], multiInstance=false),
  },
}
