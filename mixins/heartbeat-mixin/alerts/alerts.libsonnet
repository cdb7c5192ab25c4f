(import 'exporter.libsonnet') +
(import 'filesystem.libsonnet') +
(import 'modules.libsonnet') +
(import 'services.libsonnet') +
(import 'mailflow.libsonnet') +
(import 'inventory.libsonnet')
