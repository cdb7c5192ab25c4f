// Watched daemons and the core dumps they leave.
local alert = import 'alert.libsonnet';
{
  local c = self._config,
  local sel = c.heartbeatSelector,
  prometheusAlerts+:: {
    groups+: [{
      name: 'heartbeat-services',
      rules: [
        alert.new(
          c, 'HeartbeatServiceDown', 'critical',
          'heartbeat_service_up{%s} == 0' % sel,
          c.serviceDownFor,
          'A watched service is down.',
          'Service {{ $labels.service }} on {{ $labels.instance }} has had no running process for more than %s.' % c.serviceDownFor,
        ),
        alert.new(
          c, 'HeartbeatServiceRestartLoop', 'warning',
          // Restarts seen in /proc, or counted by systemd (NRestarts):
          // whichever saw more.
          |||
            max by (%(by)s, service) (
              increase(heartbeat_service_restarts_total{%(sel)s}[%(w)s])
              or
              increase(heartbeat_service_systemd_restarts_total{%(sel)s}[%(w)s])
            ) > %(n)d
          ||| % { by: c.instanceLabels, sel: sel, w: c.serviceRestartWindow, n: c.serviceRestartThreshold },
          '',
          'A service is restarting repeatedly.',
          'Service {{ $labels.service }} on {{ $labels.instance }} restarted {{ $value | humanize }} times in the last %s: a watchdog may be restarting a crashing daemon.' % c.serviceRestartWindow,
        ),
        alert.new(
          c, 'HeartbeatCoreFilesAppeared', 'warning',
          'time() - heartbeat_core_file_newest_timestamp_seconds{%s} < %d' % [sel, c.coreFileRecentSeconds],
          '',
          'A program dumped core.',
          'A core file appeared in {{ $labels.dir }} on {{ $labels.instance }} {{ $value | humanizeDuration }} ago.',
        ),
      ],
    }],
  },
}
