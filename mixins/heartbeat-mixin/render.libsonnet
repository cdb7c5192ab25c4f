// The files `make mixin` writes, relative to the repository root, from a
// mixin object (the test renders the same with its own _config).
function(mixin) {
  'alerts/alerts.yaml': std.manifestYamlDoc(mixin.prometheusAlerts, indent_array_in_object=false, quote_keys=false),
  'alerts/rules.yaml': std.manifestYamlDoc(mixin.prometheusRules, indent_array_in_object=false, quote_keys=false),
} + {
  ['dashboards/' + name]: std.manifestJsonEx(mixin.grafanaDashboards[name], '  ')
  for name in std.objectFields(mixin.grafanaDashboards)
}
