// Disk left where the products write, as node-mixin predicts it, and the
// quarantine's share of its filesystem.
local alert = import 'alert.libsonnet';
{
  local c = self._config,
  local sel = c.heartbeatSelector,
  local availPercent = 'heartbeat_filesystem_avail_bytes{%s} / heartbeat_filesystem_size_bytes{%s} * 100' % [sel, sel],
  local filesPercent = 'heartbeat_filesystem_files_free{%s} / heartbeat_filesystem_files{%s} * 100' % [sel, sel],
  local writable = 'heartbeat_filesystem_readonly{%s} == 0' % sel,

  local fillingUp(severity, threshold, hours) = alert.new(
    c, 'HeartbeatFilesystemSpaceFillingUp', severity,
    |||
      (
        %(availPercent)s < %(threshold)g
      and
        predict_linear(heartbeat_filesystem_avail_bytes{%(sel)s}[%(window)s], %(hours)d * 60 * 60) < 0
      and
        %(writable)s
      )
    ||| % { availPercent: availPercent, threshold: threshold, sel: sel, window: c.fsSpaceFillingUpPredictionWindow, hours: hours, writable: writable },
    c.fsSpaceFillingUpFor,
    'Filesystem is predicted to run out of space within the next %d hours.' % hours,
    'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has only {{ printf "%.2f" $value }}% available space left and is filling up.',
  ),

  local almostOut(name, what, percent, severity, threshold, forDuration) = alert.new(
    c, name, severity,
    |||
      (
        %(percent)s < %(threshold)g
      and
        %(writable)s
      )
    ||| % { percent: percent, threshold: threshold, writable: writable },
    forDuration,
    'Filesystem has less than %g%% %s left.' % [threshold, what],
    'Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has only {{ printf "%.2f" $value }}% ' + what + ' left.',
  ),

  prometheusAlerts+:: {
    groups+: [{
      name: 'heartbeat-filesystem',
      rules: [
        fillingUp('warning', c.fsSpaceFillingUpWarningThreshold, 24),
        fillingUp('critical', c.fsSpaceFillingUpCriticalThreshold, 4),
        almostOut('HeartbeatFilesystemAlmostOutOfSpace', 'available space', availPercent, 'warning', c.fsSpaceAvailableWarningThreshold, c.fsSpaceAvailableFor),
        almostOut('HeartbeatFilesystemAlmostOutOfSpace', 'available space', availPercent, 'critical', c.fsSpaceAvailableCriticalThreshold, c.fsSpaceAvailableFor),
        almostOut('HeartbeatFilesystemAlmostOutOfFiles', 'inodes', filesPercent, 'warning', c.fsInodesFreeWarningThreshold, c.fsInodesFreeFor),
        almostOut('HeartbeatFilesystemAlmostOutOfFiles', 'inodes', filesPercent, 'critical', c.fsInodesFreeCriticalThreshold, c.fsInodesFreeFor),
        alert.new(
          c, 'HeartbeatQuarantineFilesystemShare', 'warning',
          'heartbeat_quarantine:filesystem_usage:ratio > %g' % c.quarantineFilesystemShareThreshold,
          c.quarantineFilesystemShareFor,
          'Quarantine takes too much of its filesystem.',
          'Quarantine {{ $labels.quarantine }} ({{ $labels.path }}) on {{ $labels.instance }} takes {{ $value | humanizePercentage }} of the filesystem {{ $labels.mountpoint }}.',
        ),
        alert.new(
          c, 'HeartbeatQuarantineGrowingFast', 'warning',
          'delta(heartbeat_quarantine:filesystem_usage:ratio[1h]) > %g' % c.quarantineGrowthPerHourThreshold,
          c.quarantineGrowthFor,
          'Quarantine is growing fast.',
          'Quarantine {{ $labels.quarantine }} ({{ $labels.path }}) on {{ $labels.instance }} grew by {{ $value | humanizePercentage }} of the filesystem {{ $labels.mountpoint }} in the last hour.',
        ),
      ],
    }],
  },
}
