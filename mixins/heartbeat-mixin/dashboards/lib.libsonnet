// A small self-contained dashboard builder: plain Grafana JSON, no
// grafonnet. Panels get their ids and grid positions from dashboard().
local ds = { type: 'prometheus', uid: '${datasource}' };
// A variable's selection when the dashboard opens: Grafana's schema wants
// text and value; an empty one lets Grafana pick the default data source
// or the first value, 'All' selects every value.
local none = { text: '', value: '' };
local all = { text: ['All'], value: ['$__all'] };
{
  // The selector every panel query uses.
  sel:: 'job=~"$job", instance=~"$instance"',

  target(expr, legend='', instant=false):: {
    expr: expr,
    legendFormat: legend,
    datasource: ds,
    [if instant then 'instant']: true,
    [if instant then 'range']: false,
    [if instant then 'format']: 'table',
  },

  // steps: [[value, colour], ...]; the first value is ignored (base).
  thresholds(steps):: {
    mode: 'absolute',
    steps: [
      { value: if i == 0 then null else steps[i][0], color: steps[i][1] }
      for i in std.range(0, std.length(steps) - 1)
    ],
  },

  panel(type, title, unit, targets, w=12, h=8, description=''):: {
    type: type,
    title: title,
    [if description != '' then 'description']: description,
    datasource: ds,
    w:: w,
    h:: h,
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    options: {},
    targets: [
      targets[i] { refId: std.char(std.codepoint('A') + i) }
      for i in std.range(0, std.length(targets) - 1)
    ],
  },

  timeseries(title, unit, targets, w=12, h=8, description='')::
    self.panel('timeseries', title, unit, targets, w, h, description) {
      options: {
        legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
        tooltip: { mode: 'multi', sort: 'none' },
      },
    },

  stat(title, unit, expr, steps=[[null, 'green']], w=4, h=4, description='')::
    self.panel('stat', title, unit, [self.target(expr)], w, h, description) {
      fieldConfig+: { defaults+: { thresholds: $.thresholds(steps) } },
      // Grafana's defaults, spelled out: its schema requires every one.
      options: {
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'auto',
        textMode: 'auto',
        orientation: 'auto',
        wideLayout: true,
        showPercentChange: false,
        percentChangeColorMode: 'standard',
        reduceOptions: { calcs: ['lastNotNull'] },
      },
    },

  table(title, unit, targets, transformations=[], overrides=[], w=24, h=10, description='')::
    self.panel('table', title, unit, targets, w, h, description) {
      fieldConfig+: { overrides: overrides },
      transformations: transformations,
      options: { showHeader: true, frameIndex: 0 },
    },

  // A column override: its unit and colour thresholds.
  column(name, unit, steps=null):: {
    matcher: { id: 'byName', options: name },
    properties: [{ id: 'unit', value: unit }] + (
      if steps == null then [] else [
        { id: 'thresholds', value: $.thresholds(steps) },
        { id: 'custom.cellOptions', value: { type: 'color-background' } },
      ]
    ),
  },

  // Lays panels out left to right, 24 units wide, numbering them 1..n.
  local layout(panels) = std.foldl(
    function(acc, p)
      local wraps = acc.x + p.w > 24;
      local x = if wraps then 0 else acc.x;
      local y = if wraps then acc.y + acc.rowH else acc.y;
      {
        x: x + p.w,
        y: y,
        rowH: if wraps then p.h else std.max(acc.rowH, p.h),
        panels: acc.panels + [p { id: std.length(acc.panels) + 1, gridPos: { x: x, y: y, w: p.w, h: p.h } }],
      },
    panels,
    { x: 0, y: 0, rowH: 0, panels: [] },
  ).panels,

  dashboard(c, uid, title, panels, multiInstance=true):: {
    uid: uid,
    title: title,
    tags: c.dashboardTags,
    timezone: c.dashboardTimezone,
    refresh: c.dashboardRefresh,
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-24h', to: 'now' },
    // Grafana's built-in annotations (alerts and annotations made by hand).
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      }],
    },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: none,
          hide: 0,
        },
        {
          name: 'job',
          label: 'Job',
          type: 'query',
          datasource: ds,
          query: { query: 'label_values(heartbeat_node_info, job)', refId: 'job' },
          definition: 'label_values(heartbeat_node_info, job)',
          refresh: 2,
          multi: true,
          includeAll: true,
          current: all,
          sort: 1,
        },
        {
          name: 'instance',
          label: 'Instance',
          type: 'query',
          datasource: ds,
          query: { query: 'label_values(heartbeat_node_info{job=~"$job"}, instance)', refId: 'instance' },
          definition: 'label_values(heartbeat_node_info{job=~"$job"}, instance)',
          refresh: 2,
          multi: multiInstance,
          includeAll: multiInstance,
          current: if multiInstance then all else none,
          sort: 1,
        },
      ],
    },
    panels: layout(panels),
  },
}
