// Adds runbook_url to every alert: runbookBaseURL + '#' + the lower-case alert name, which is
// the GitHub anchor of the alert's heading in docs/runbook.md (kubernetes-mixin does the same
// with its runbookURLPattern).
{
  prometheusAlerts+:: {
    local c = $._config,
    groups: [
      group {
        rules: [
          if std.objectHas(rule, 'alert') then
            rule { annotations+: { runbook_url: '%s#%s' % [c.runbookBaseURL, std.asciiLower(rule.alert)] } }
          else rule
          for rule in group.rules
        ],
      }
      for group in super.groups
    ],
  },
}
