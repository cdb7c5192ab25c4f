// heartbeat-mixin: the alerts, recording rules and dashboards for
// heartbeat_exporter. Render with `make mixin`.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
