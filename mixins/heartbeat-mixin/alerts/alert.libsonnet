{
  // new builds one alerting rule with the labels and annotations every
  // alert of this mixin carries; the runbook is the alert's section in
  // the mixin README.
  new(c, name, severity, expr, forDuration, summary, description):: {
    alert: name,
    expr: expr,
    [if forDuration != '' then 'for']: forDuration,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: c.runbookURLPattern % std.asciiLower(name),
    },
  },
}
