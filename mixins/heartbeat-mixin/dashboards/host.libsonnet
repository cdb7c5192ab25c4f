// Host detail: everything the heartbeat carries, over time, for one gateway.
local g = import 'lib.libsonnet';
{
  local c = self._config,
  local sel = g.sel,
  local t = g.target,
  local ts = g.timeseries,
  // A table of an info metric's labels, one row per series.
  local info(title, expr) = g.table(title, 'none', [t(expr, instant=true)],
                                    transformations=[{ id: 'labelsToFields', options: {} }], w=12, h=6),

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

      // Everything else the exporter knows about the host, less often looked at.
      info('Modules', 'heartbeat_module_info{%s}' % sel),
      info('Packages', 'heartbeat_module_package_info{%s}' % sel),
      info('clamd', 'heartbeat_clamd_info{%s}' % sel),
      info('Host', 'heartbeat_node_info{%s}' % sel),
      info('Virtualization', 'heartbeat_virtualization_info{%s}' % sel),
      info('Exporter', 'heartbeat_exporter_build_info{%s}' % sel),
      info('systemd units', 'heartbeat_service_systemd_unit_active{%s} == 1' % sel),
      ts('Database versions', 'none', [
        t('heartbeat_module_database_version{%s}' % sel, '{{module}} {{database}}'),
        t('heartbeat_module_functionality_level{%s}' % sel, '{{module}} {{database}} functionality level'),
      ]),
      ts('Database build age', 's', [
        t('time() - heartbeat_module_database_build_timestamp_seconds{%s}' % sel, '{{module}} {{database}}'),
        t('time() - heartbeat_clamd_database_timestamp_seconds{%s}' % sel, '{{module}} loaded by clamd'),
      ]),
      ts('Package age', 's', [
        t('time() - heartbeat_module_package_last_update_timestamp_seconds{%s}' % sel, '{{package}}'),
      ]),
      ts('Definition update results', 's', [
        t('time() - heartbeat_module_update_last_success_timestamp_seconds{%s}' % sel, '{{module}} since last success'),
        t('time() - heartbeat_module_update_last_failure_timestamp_seconds{%s}' % sel, '{{module}} since last failure'),
      ]),
      ts('clamd up', 'short', [
        t('heartbeat_clamd_up{%s}' % sel, '{{module}}'),
      ]),
      ts('clamd memory', 'bytes', [
        t('heartbeat_clamd_memory_bytes{%s}' % sel, '{{module}} {{kind}}'),
      ]),
      ts('Service processes', 'short', [
        t('heartbeat_service_processes{%s}' % sel, '{{service}}'),
      ]),
      ts('Service uptime', 's', [
        t('time() - heartbeat_service_start_time_seconds{%s}' % sel, '{{service}}'),
      ]),
      ts('systemd restarts', 'short', [
        t('increase(heartbeat_service_systemd_restarts_total{%s}[1h])' % sel, '{{service}} {{unit}}'),
      ], description='NRestarts increase in the hour before each point.'),
      ts('Core file bytes', 'bytes', [
        t('heartbeat_core_file_bytes{%s}' % sel, '{{dir}}'),
        t('time() - heartbeat_core_file_newest_timestamp_seconds{%s}' % sel, '{{dir}} newest age (s)'),
      ]),
      ts('Quarantine apparent size', 'bytes', [
        t('heartbeat_quarantine_bytes{%s}' % sel, '{{quarantine}} {{category}}'),
      ]),
      ts('Quarantine scans', 's', [
        t('time() - heartbeat_quarantine_last_scan_timestamp_seconds{%s}' % sel, '{{quarantine}} since last scan'),
        t('heartbeat_quarantine_scan_duration_seconds{%s}' % sel, '{{quarantine}} scan duration'),
      ]),
      ts('Quarantine scan problems', 'short', [
        t('increase(heartbeat_quarantine_scan_errors_total{%s}[1h])' % sel, '{{quarantine}} errors in the hour'),
        t('heartbeat_quarantine_scan_pending{%s}' % sel, '{{quarantine}} first scan pending'),
      ]),
      ts('Log reading', 'Bps', [
        t('sum by (log) (rate(heartbeat_log_read_bytes_total{%s}[$__rate_interval]))' % sel, '{{log}}'),
      ]),
      ts('Log lines truncated and log age', 'short', [
        t('sum by (log) (increase(heartbeat_log_lines_truncated_total{%s}[1h]))' % sel, '{{log}} truncated lines in the hour'),
        t('time() - heartbeat_log_last_read_timestamp_seconds{%s}' % sel, '{{log}} seconds since last read'),
      ]),
      ts('Own log rules', 'short', [
        t('sum by (log, rule) (rate(heartbeat_log_rule_matches_total{%s}[$__rate_interval])) * 60' % sel, '{{log}} {{rule}}'),
      ], description='Matches a minute of the operator\'s own log rules.'),
      ts('Filesystem free and stuck', 'bytes', [
        t('heartbeat_filesystem_free_bytes{%s}' % sel, '{{mountpoint}} free (root included)'),
        t('heartbeat_filesystem_stuck{%s}' % sel, '{{mountpoint}} stuck (1)'),
      ]),
      ts('Memory free and security', 'bytes', [
        t('heartbeat_memory_free_bytes{%s}' % sel, 'free'),
        t('heartbeat_selinux_enabled{%s}' % sel, 'SELinux enabled (1)'),
        t('heartbeat_apparmor_enabled{%s}' % sel, 'AppArmor enabled (1)'),
        t('heartbeat_apparmor_profiles{%s}' % sel, 'AppArmor profiles {{mode}}'),
        t('heartbeat_time_zone_offset_seconds{%s}' % sel, 'time zone offset (s)'),
      ]),
      ts('Exporter', 'short', [
        t('heartbeat_exporter_config_last_reload_successful{%s}' % sel, 'last reload successful'),
        t('time() - heartbeat_exporter_config_last_reload_success_timestamp_seconds{%s}' % sel, 'seconds since last reload'),
        t('increase(heartbeat_exporter_scrapes_rejected_total{%s}[1h])' % sel, 'scrapes rejected in the hour'),
        t('time() - heartbeat_textfile_mtime_seconds{%s}' % sel, '{{file}} age (s)'),
      ]),
      // Inventory: what the server runs, exposes and protects.
      g.stat('Firewall rules', 'short', 'sum(heartbeat_inventory_firewall_rules{%s})' % sel, [[null, 'red'], [1, 'green']],
             description='nftables rules loaded; no value without CAP_NET_ADMIN (see firewall readable).'),
      g.stat('On-access scanning', 'short', 'max(heartbeat_inventory_onaccess_running{%s})' % sel, [[null, 'orange'], [1, 'green']],
             description='1 when clamonacc runs.'),
      g.stat('Containers', 'short', 'sum(heartbeat_inventory_containers{%s})' % sel),
      g.stat('CPU cores', 'short', 'max(heartbeat_cpu_cores{%s})' % sel),
      info('Applications running (server type)', 'heartbeat_inventory_process_running{%s}' % sel),
      info('Listening sockets on well-known ports', 'heartbeat_inventory_listening_sockets{%s}' % sel),
      info('Network file systems and root file system', 'heartbeat_inventory_mounts{%s} or heartbeat_inventory_root_filesystem_info{%s}' % [sel, sel]),
      info('Security tools installed', 'heartbeat_inventory_package_installed{%s}' % sel),
      info('Containers by runtime', 'heartbeat_inventory_containers{%s}' % sel),
      info('CPU', 'heartbeat_cpu_info{%s}' % sel),
      info('Update sources', 'heartbeat_inventory_update_mirror_info{%s} or heartbeat_inventory_update_last_mirror_info{%s} or heartbeat_inventory_spamassassin_channel_info{%s}' % [sel, sel, sel]),
      info('clamd protection settings', 'heartbeat_inventory_clamd_config_info{%s}' % sel),
      ts('Firewall and on-access', 'short', [
        t('heartbeat_inventory_firewall_readable{%s}' % sel, 'firewall ruleset readable'),
        t('heartbeat_inventory_firewall_legacy_tables{%s}' % sel, 'iptables-legacy tables'),
        t('heartbeat_inventory_onaccess_configured{%s}' % sel, 'on-access configured'),
        t('heartbeat_inventory_update_proxy_configured{%s}' % sel, 'freshclam proxy configured'),
      ]),
      ts('Signatures behind the published version', 'short', [
        t('heartbeat_module_database_versions_behind{%s}' % sel, '{{database}}'),
      ], description='Only with inventory.published_versions enabled in the exporter.'),
      ts('Push mode', 'short', [
        t('time() - heartbeat_push_last_success_timestamp_seconds{%s}' % sel, 'seconds since the last accepted push'),
        t('heartbeat_push_duration_seconds{%s}' % sel, 'last push duration (s)'),
        t('sum by (reason) (increase(heartbeat_push_failures_total{%s}[1h]))' % sel, 'failures in the hour: {{reason}}'),
      ], description='Only with --push.url: the exporter pushing to a Pushgateway or remote-write receiver.'),
    ], multiInstance=false),
  },
}
