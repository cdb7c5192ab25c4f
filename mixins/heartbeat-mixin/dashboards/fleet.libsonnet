// Fleet heartbeat: one row per gateway, the vendor heartbeat's fields side
// by side, coloured at the alerts' thresholds.
local g = import 'lib.libsonnet';
{
  local c = self._config,
  local sel = g.sel,
  // [column name, unit, expression (one value per instance), thresholds]
  local columns = [
    ['Up', 'none', 'max by (instance) (up{%s})' % sel, [[null, 'red'], [1, 'green']]],
    ['Last seen', 's', 'time() - max by (instance) (max_over_time(timestamp(up{%s} == 1)[1d:]))' % sel, [[null, 'green'], [300, 'red']]],
    ['Uptime', 's', 'max by (instance) (time() - heartbeat_boot_time_seconds{%s})' % sel, null],
    ['Virus definitions age', 's', 'max by (instance) (time() - heartbeat_module_last_update_timestamp_seconds{%s, module="virus"})' % sel, [[null, 'green'], [c.definitionsMaxAgeSeconds, 'red']]],
    ['Spam definitions age', 's', 'max by (instance) (time() - heartbeat_module_last_update_timestamp_seconds{%s, module="spam"})' % sel, [[null, 'green'], [c.definitionsMaxAgeSeconds, 'red']]],
    ['Disk left (least)', 'percent', 'min by (instance) (heartbeat_filesystem_avail_bytes{%s} / heartbeat_filesystem_size_bytes{%s} * 100)' % [sel, sel], [[null, 'red'], [c.fsSpaceAvailableCriticalThreshold, 'orange'], [c.fsSpaceAvailableWarningThreshold, 'green']]],
    ['Quarantine', 'bytes', 'sum by (instance) (heartbeat_quarantine_disk_bytes{%s})' % sel, null],
    ['Quarantine share', 'percentunit', 'max by (instance) (heartbeat_quarantine:filesystem_usage:ratio{%s})' % sel, [[null, 'green'], [c.quarantineFilesystemShareThreshold, 'red']]],
    ['Messages 24h', 'short', 'max by (instance) (heartbeat_instance:messages_processed:increase24h{%s})' % sel, null],
    ['Viruses 24h', 'short', 'max by (instance) (heartbeat_instance:viruses_found:increase24h{%s})' % sel, null],
    ['Spam 24h', 'percentunit', 'max by (instance) (heartbeat_instance:spam_share:ratio24h{%s})' % sel, null],
    ['Core files', 'short', 'sum by (instance) (heartbeat_core_files{%s})' % sel, [[null, 'green'], [1, 'orange']]],
    ['Restarts 24h', 'short', 'sum by (instance) (increase(heartbeat_service_restarts_total{%s}[24h]))' % sel, [[null, 'green'], [c.serviceRestartThreshold + 1, 'orange']]],
    ['Services down', 'short', 'sum by (instance) (1 - heartbeat_service_up{%s})' % sel, [[null, 'green'], [1, 'red']]],
    ['Apps running', 'short', 'count by (instance) (heartbeat_inventory_process_running{%s})' % sel, null],
    ['Open ports', 'short', 'sum by (instance) (heartbeat_inventory_listening_sockets{%s, loopback="false"})' % sel, null],
    ['Firewall rules', 'short', 'sum by (instance) (heartbeat_inventory_firewall_rules{%s})' % sel, [[null, 'red'], [1, 'green']]],
    ['On-access', 'none', 'max by (instance) (heartbeat_inventory_onaccess_running{%s})' % sel, [[null, 'orange'], [1, 'green']]],
  ],
  // Versions are labels: one query per label set, its value column hidden.
  local versions = [
    ['OS', 'max by (instance, pretty_name) (heartbeat_os_info{%s})' % sel],
    ['Kernel', 'max by (instance, release) (heartbeat_kernel_info{%s})' % sel],
    ['Virus engine', 'max by (instance, engine_version, database_version) (heartbeat_clamd_info{%s})' % sel],
  ],
  local n = std.length(columns),
  local refId(i) = std.char(std.codepoint('A') + i),

  grafanaDashboards+:: {
    'heartbeat-fleet.json': g.dashboard(c, 'heartbeat-fleet', 'Heartbeat / Fleet', [
      g.table(
        'Fleet heartbeat', 'short',
        [g.target(col[2], instant=true) for col in columns] + [g.target(v[1], instant=true) for v in versions],
        transformations=[
          { id: 'merge', options: {} },
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true } + {
                ['Value #' + refId(n + i)]: true
                for i in std.range(0, std.length(versions) - 1)
              },
              renameByName: {
                ['Value #' + refId(i)]: columns[i][0]
                for i in std.range(0, n - 1)
              } + { pretty_name: 'OS', release: 'Kernel', engine_version: 'Virus engine', database_version: 'Virus database' },
            },
          },
        ],
        overrides=[g.column(col[0], col[1], col[3]) for col in columns],
        h=16,
        description='One row per gateway. Colours follow the alert thresholds of the heartbeat mixin.',
      ),
      g.timeseries('Gateways up', 'short', [g.target('sum(up{%s})' % sel, 'up'), g.target('count(up{%s})' % sel, 'targets')], w=24),
    ]),
  },
}
