// Recording rules for the heartbeat's derived fields, per instance.
//
// Several scanners may see the same message (amavis, spamd, SNF each count
// it; clamd and amavis both count a virus), so summing over sources would
// count mail twice. Each source is summed on its own and the busiest
// source stands for the instance: max by (instance) of the per-source
// sums. Verdicts of one source are assumed to partition its messages.
{
  local c = self._config,
  local by = c.instanceLabels,

  // Messages, spam share and viruses over one window ('1h' or '24h').
  local windowRules(w) = [
    {
      record: 'heartbeat_instance_source:messages:increase' + w,
      expr: 'sum by (%s, source) (increase(heartbeat_messages_total{%s}[%s]))' % [by, c.heartbeatSelector, w],
    },
    {
      record: 'heartbeat_instance_source:spam_messages:increase' + w,
      expr: 'sum by (%s, source) (increase(heartbeat_messages_total{%s, verdict=~"spam|spammy"}[%s]))' % [by, c.heartbeatSelector, w],
    },
    {
      record: 'heartbeat_instance_source:spam_share:ratio' + w,
      expr: |||
        heartbeat_instance_source:spam_messages:increase%(w)s
          / on (%(by)s, source)
        (heartbeat_instance_source:messages:increase%(w)s > 0)
      ||| % { w: w, by: by },
    },
    {
      record: 'heartbeat_instance:messages_processed:increase' + w,
      expr: 'max by (%s) (heartbeat_instance_source:messages:increase%s)' % [by, w],
    },
    {
      // The spam share seen by the busiest source.
      record: 'heartbeat_instance:spam_share:ratio' + w,
      expr: |||
        max by (%(by)s) (
          heartbeat_instance_source:spam_share:ratio%(w)s
            and on (%(by)s, source)
          (
            heartbeat_instance_source:messages:increase%(w)s
              == on (%(by)s) group_left ()
            heartbeat_instance:messages_processed:increase%(w)s
          )
        )
      ||| % { w: w, by: by },
    },
    {
      record: 'heartbeat_instance_source:viruses_found:increase' + w,
      expr: 'sum by (%s, source) (increase(heartbeat_viruses_found_total{%s}[%s]))' % [by, c.heartbeatSelector, w],
    },
    {
      record: 'heartbeat_instance:viruses_found:increase' + w,
      expr: 'max by (%s) (heartbeat_instance_source:viruses_found:increase%s)' % [by, w],
    },
  ],

  prometheusRules+:: {
    groups+: [
      {
        name: 'heartbeat.rules',
        interval: c.rulesInterval,
        rules: windowRules('1h') + [
          {
            record: 'heartbeat_instance_log:log_errors:rate5m',
            expr: 'sum by (%s, log) (rate(heartbeat_log_errors_total{%s}[5m]))' % [by, c.heartbeatSelector],
          },
          {
            // Quarantine bytes on disk as a share of the filesystem that
            // holds it: quarantine -> configured path -> mount point -> size.
            record: 'heartbeat_quarantine:filesystem_usage:ratio',
            expr: |||
              (
                heartbeat_quarantine_disk_bytes{%(sel)s}
                  * on (%(by)s, quarantine) group_left (path, mountpoint)
                (
                  heartbeat_quarantine_info{%(sel)s}
                    * on (%(by)s, path) group_left (mountpoint)
                  heartbeat_filesystem_path_info{%(sel)s}
                )
              )
                / on (%(by)s, mountpoint) group_left ()
              heartbeat_filesystem_size_bytes{%(sel)s}
            ||| % { sel: c.heartbeatSelector, by: by },
          },
        ],
      },
      {
        // The 24 h windows read a day of samples: evaluated less often.
        name: 'heartbeat-daily.rules',
        interval: c.dailyRulesInterval,
        rules: windowRules('24h'),
      },
    ],
  },
}
