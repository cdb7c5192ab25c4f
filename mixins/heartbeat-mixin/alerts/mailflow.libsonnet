// Mail flow against its usual level: the recording rules' hourly values
// averaged over the baseline window.
local alert = import 'alert.libsonnet';
{
  local c = self._config,
  local by = c.instanceLabels,
  local usual(metric, window) = 'avg_over_time(%s[%s])' % [metric, window],
  prometheusAlerts+:: {
    groups+: [{
      name: 'heartbeat-mailflow',
      rules: [
        alert.new(
          c, 'HeartbeatMailFlowStopped', 'critical',
          |||
            %(usual)s > 0
              and on (%(by)s)
            heartbeat_instance:messages_processed:increase1h == 0
          ||| % { usual: usual('heartbeat_instance:messages_processed:increase1h', c.baselineWindow), by: by },
          c.mailFlowStoppedFor,
          'No mail processed on a gateway that normally has traffic.',
          'No message was processed on {{ $labels.instance }} in the last hour; it usually processes {{ $value | humanize }} messages an hour.',
        ),
        alert.new(
          c, 'HeartbeatVirusOutbreak', 'critical',
          |||
            heartbeat_instance:viruses_found:increase1h > %(floor)d
              and
            heartbeat_instance:viruses_found:increase1h > %(ratio)g * %(usual)s
          ||| % { floor: c.virusOutbreakFloor, ratio: c.virusOutbreakRatio, usual: usual('heartbeat_instance:viruses_found:increase1h', c.baselineWindow) },
          c.virusOutbreakFor,
          'Virus detections far above their usual rate.',
          '{{ $value | humanize }} viruses were found on {{ $labels.instance }} in the last hour, more than %g times the usual hourly rate.' % c.virusOutbreakRatio,
        ),
        alert.new(
          c, 'HeartbeatSpamShareUnusual', 'warning',
          |||
            abs(heartbeat_instance:spam_share:ratio1h - %(usual)s) > %(dev)g
              and on (%(by)s)
            heartbeat_instance:messages_processed:increase1h >= %(min)d
          ||| % { usual: usual('heartbeat_instance:spam_share:ratio1h', c.baselineWindow), dev: c.spamShareDeviationThreshold, by: by, min: c.spamShareMinMessages },
          c.spamShareFor,
          'The spam share is far off its usual level.',
          'The spam share on {{ $labels.instance }} over the last hour is {{ $value | humanizePercentage }} away from its average: a broken filter or a spam wave.',
        ),
        alert.new(
          c, 'HeartbeatLogErrorsRising', 'warning',
          |||
            heartbeat_instance_log:log_errors:rate5m * 60 > %(floor)g
              and
            heartbeat_instance_log:log_errors:rate5m > %(ratio)g * %(usual)s
          ||| % { floor: c.logErrorsPerMinuteThreshold, ratio: c.logErrorsRatio, usual: usual('heartbeat_instance_log:log_errors:rate5m', c.logErrorsBaselineWindow) },
          c.logErrorsFor,
          'Errors in a log are rising.',
          '{{ $labels.log }} on {{ $labels.instance }} logs {{ $value | humanize }} errors a minute, more than %g times its usual rate.' % c.logErrorsRatio,
        ),
      ],
    }],
  },
}
