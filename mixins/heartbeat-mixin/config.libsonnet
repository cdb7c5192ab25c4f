// Everything a user may want to change without editing our files: merge
// an object over the mixin, e.g.
//   (import 'heartbeat-mixin/mixin.libsonnet') + { _config+:: { heartbeatSelector: 'job="mail"' } }
{
  _config+:: {
    // Selects the heartbeat_exporter targets in every rule and alert.
    heartbeatSelector: 'job="heartbeat"',
    // Labels that identify one gateway; every aggregation keeps them.
    instanceLabels: 'job, instance',

    // Where each alert's runbook lives: %s is the alert name in lower case
    // (the anchor of its section in this mixin's README).
    runbookURLPattern: 'https://github.com/heartbeat-exporter/heartbeat_exporter/blob/main/mixins/heartbeat-mixin/README.md#%s',

    // Exporter.
    exporterDownFor: '5m',
    exporterAbsentFor: '15m',
    collectorFailingFor: '15m',
    textfileScrapeErrorFor: '15m',
    // Push mode: the last accepted push older than this (seconds).
    pushStaleSeconds: 3600,
    pushStaleFor: '5m',

    // Filesystems (percent of the filesystem left, as node-mixin does it).
    fsSpaceFillingUpWarningThreshold: 40,
    fsSpaceFillingUpCriticalThreshold: 20,
    fsSpaceFillingUpPredictionWindow: '6h',
    fsSpaceFillingUpFor: '1h',
    fsSpaceAvailableWarningThreshold: 5,
    fsSpaceAvailableCriticalThreshold: 3,
    fsSpaceAvailableFor: '30m',
    fsInodesFreeWarningThreshold: 5,
    fsInodesFreeCriticalThreshold: 3,
    fsInodesFreeFor: '1h',

    // Quarantine: share of its filesystem it may take, and growth per hour
    // as a share of that filesystem.
    quarantineFilesystemShareThreshold: 0.5,
    quarantineFilesystemShareFor: '30m',
    quarantineGrowthPerHourThreshold: 0.05,
    quarantineGrowthFor: '30m',

    // Modules: definitions older than this are stale.
    definitionsModules: 'virus|spam',
    definitionsMaxAgeSeconds: 2 * 24 * 3600,
    definitionsStaleFor: '15m',
    // An update counted as failing: the last failure newer than the last
    // success, or failures and no success within the window.
    moduleUpdateFailureWindow: '6h',
    moduleUpdateFailingFor: '1h',

    // Services and core files.
    serviceDownFor: '5m',
    serviceRestartWindow: '1h',
    serviceRestartThreshold: 3,
    coreFileRecentSeconds: 3600,

    // Mail flow. Baselines ("the usual level") are the average of the
    // hourly recorded values over this window.
    baselineWindow: '7d',
    mailFlowStoppedFor: '30m',
    // Virus outbreak: this many times the usual hourly rate, and at least
    // virusOutbreakFloor detections in the last hour.
    virusOutbreakRatio: 5,
    virusOutbreakFloor: 20,
    virusOutbreakFor: '15m',
    // Spam share (0..1) off its usual level by more than this, when at
    // least spamShareMinMessages messages were seen in the last hour.
    spamShareDeviationThreshold: 0.3,
    spamShareMinMessages: 100,
    spamShareFor: '1h',
    // Log errors: more than this many per minute and errorRatio times the
    // usual rate over the last day.
    logErrorsPerMinuteThreshold: 1,
    logErrorsRatio: 3,
    logErrorsBaselineWindow: '1d',
    logErrorsFor: '15m',

    // MessageSniffer.
    snfUpdateReadyFor: '1h',
    snfGbudbUtilizationThreshold: 0.9,
    snfGbudbFor: '30m',

    // Inventory: the published ClamAV databases this many versions ahead
    // of the local ones (needs inventory.published_versions in the
    // exporter's config).
    signaturesVersionsBehindThreshold: 3,
    signaturesBehindFor: '6h',
    // Firewall rules at zero after having been loaded within the lookback.
    firewallRulesLookback: '1d',
    firewallRulesDroppedFor: '5m',
    // On-access scanning configured but not running, or unconfigured.
    onAccessLookback: '1d',
    onAccessOffFor: '15m',
    // Ports a gateway may listen on beyond loopback; any other listening
    // well-known port alerts. SSH, SMTP, submission, SMTPS.
    listenerAllowedPorts: [22, 25, 465, 587],
    unexpectedListenerFor: '15m',

    // Rule groups.
    rulesInterval: '1m',
    dailyRulesInterval: '5m',

    // Dashboards.
    dashboardTags: ['heartbeat'],
    dashboardRefresh: '1m',
    dashboardTimezone: 'utc',
  },
}
