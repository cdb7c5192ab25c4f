(import 'fleet.libsonnet') +
(import 'host.libsonnet') +
(import 'mailflow.libsonnet') +
(import 'snf.libsonnet')
