// Small helpers shared by the alerts, rules and dashboards. No configuration lives here.
{
  // '15m' from 15.
  minutes(n):: '%dm' % n,
  // The same for people: '6h' rather than '360m'.
  humanMinutes(n):: if n % 60 == 0 && n >= 120 then '%dh' % (n / 60) else '%dm' % n,

  // 'instance, cluster' from ['instance', 'cluster'].
  by(labels):: std.join(', ', labels),

  // 'idle_server|runtime|ignored' from the list, for =~ / !~ matchers.
  alternation(values):: std.join('|', values),

  // Metric base name for recording-rule names: http_requests_total -> http_requests.
  stripTotal(name)::
    if std.endsWith(name, '_total') then std.substr(name, 0, std.length(name) - 6) else name,

  // http_request_duration_seconds_bucket -> http_request_duration_seconds.
  stripBucket(name)::
    if std.endsWith(name, '_bucket') then std.substr(name, 0, std.length(name) - 7) else name,

  // Go-template matchers for the alert's own target labels, used inside annotation queries:
  // ['instance'] -> ['instance=%q'] and ['$labels.instance'].
  templateMatchers(labels):: std.join(', ', ['%s=%%q' % l for l in labels]),
  templateArgs(labels):: std.join(' ', ['$labels.%s' % l for l in labels]),

  // Adds the created_by label to the series of `expr` (which carry `by` and stack_id) from
  // goroutine_stack_creator_info, keeping the series whose creator is not known unchanged.
  // One creator per stack (topk): two exporters' debug=2 captures may name different ones.
  withCreator(expr, by, sel)::
    '(%(e)s) * on (%(by)s, stack_id) group_left (created_by) topk by (%(by)s, stack_id) (1, goroutine_stack_creator_info{%(sel)s}) or on (%(by)s, stack_id) (%(e)s)'
    % { e: expr, by: by, sel: sel },

  // Removes the common leading indentation of a multi-line PromQL string and trailing
  // whitespace, so that generated YAML block scalars are tidy.
  dedent(s)::
    local lines = std.split(s, '\n');
    local nonEmpty = [l for l in lines if std.length(std.stripChars(l, ' ')) > 0];
    local indentOf(l) = std.length(l) - std.length(std.lstripChars(l, ' '));
    local minIndent = std.foldl(std.min, [indentOf(l) for l in nonEmpty], 1000);
    local cut = [
      if std.length(std.stripChars(l, ' ')) == 0 then '' else std.rstripChars(std.substr(l, minIndent, std.length(l) - minIndent), ' ')
      for l in lines
    ];
    std.stripChars(std.join('\n', cut), '\n'),
}
