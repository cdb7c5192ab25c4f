// make mixin: go tool jsonnet -S -c -m . mixins/heartbeat-mixin/render.jsonnet
(import 'render.libsonnet')(import 'mixin.libsonnet')
