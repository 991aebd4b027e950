// Alert rules. Raw-series PromQL only (no recording rules), so that the alerts work on their
// own; the slopes are computed here with deriv() and avg_over_time(), never by the exporter.
// Every alert gets summary, description and runbook_url (see lib/runbook.libsonnet).
local u = import '../lib/util.libsonnet';

{
  local c = $._config,
  local by = u.by(c.targetLabels),
  local sel = c.goroutineSelector,
  local nonBenign = 'category!~"%s"' % u.alternation(c.benignCategories),

  // Window arithmetic: a growth window of W minutes is cut into four blocks of W/4 minutes.
  assert c.leakWindowMinutes % 4 == 0 : 'leakWindowMinutes must be a multiple of 4',
  assert c.leakStepWindowMinutes == 0 || (c.leakStepWindowMinutes % 4 == 0 && c.leakStepWindowMinutes > c.leakWindowMinutes) :
         'leakStepWindowMinutes must be 0, or a multiple of 4 longer than leakWindowMinutes',
  local window = u.minutes(c.leakWindowMinutes),
  local stepWindow = u.minutes(c.leakStepWindowMinutes),

  // avg_over_time of block i (0 = the latest W/4 minutes, 3 = the oldest).
  local blockAvg(series, W, i) =
    local E = W / 4;
    'avg_over_time(%s[%s]%s)' % [series, u.minutes(E), if i == 0 then '' else ' offset %s' % u.minutes(i * E)],

  // The leak signature on one gauge over W minutes: a least-squares slope over the window above
  // the threshold, AND block averages that rise block after block. A burst that drains, or a
  // single step up, fails the second part: its blocks do not rise three times in a row. (For a
  // count that never falls, a block's average exceeds the one before it exactly when the count
  // grew somewhere in the two blocks: so steps up to two blocks apart pass.)
  local growthSignature(series, minPerHour, W) = u.dedent(|||
    (
      deriv(%(s)s[%(window)s]) * 3600 > %(min)s
      and %(b0)s > %(b1)s
      and %(b1)s > %(b2)s
      and %(b2)s > %(b3)s
    )
  ||| % {
    s: series,
    window: u.minutes(W),
    min: minPerHour,
    b0: blockAvg(series, W, 0),
    b1: blockAvg(series, W, 1),
    b2: blockAvg(series, W, 2),
    b3: blockAvg(series, W, 3),
  }),

  // The target's request rate over the last block of a W-minute window, or over its first
  // block (`first`), summed per target.
  local trafficRate(W, first=false) =
    'sum by (%s) (rate(%s{%s}[%s]%s))' % [
      by,
      c.trafficMetric,
      c.trafficSelector,
      u.minutes(W / 4),
      if first then ' offset %s' % u.minutes(W - W / 4) else '',
    ],

  // Traffic that grew more than the tolerance between the first and the last block of W
  // minutes (`op` '>'), or did not (`op` '<='): growth in goroutines then follows load.
  // Targets without the traffic metric are in neither set.
  local trafficCompare(op, W) =
    '%s\n  %s %s * %s' % [trafficRate(W), op, 1 + c.trafficGrowthTolerance, trafficRate(W, true)],
  local indent(s) = std.join('\n', ['  ' + l for l in std.split(s, '\n')]),
  local trafficClause(W) =
    if c.leakRequireTraffic then
      'and on (%s)\n(\n%s\n)' % [by, indent(trafficCompare('<=', W))]
    else
      'unless on (%s)\n(\n%s\n)' % [by, indent(trafficCompare('>', W))],

  // Traffic that rose, if by less than the tolerance (a morning ramp), explains goroutine
  // growth up to the same relative amount: a series that grew no faster than its target's
  // request rate (times 1 + tolerance) kept its goroutines per request, which is load, not a
  // leak. Rises under trafficRiseMin are noise, judged by the tolerance clause alone. Targets
  // without the traffic metric are not in the right-hand side, so never suppressed here.
  local proportionalClause(series, W) = u.dedent(|||
    unless
    (
      %(b0)s / %(b3)s - 1
        <= on (%(by)s) group_left ()
      (
        (
          %(last)s
            / %(first)s
          > %(rise)s
        ) - 1
      ) * %(margin)s
    )
  ||| % {
    b0: blockAvg(series, W, 0),
    b3: blockAvg(series, W, 3),
    by: by,
    last: trafficRate(W),
    first: trafficRate(W, true),
    rise: 1 + c.trafficRiseMin,
    margin: 1 + c.trafficGrowthTolerance,
  }),

  // A restart resets the count; warm-up growth after it is not a leak. The process's own
  // start time, not changes() of it: a new pod (a rollout, a scale-up) is a new series whose
  // start time never changes, yet it warms up just the same.
  local restartClause(graceMinutes) =
    'unless on (%s)\n(\n  time() - process_start_time_seconds{%s} < %d\n)'
    % [by, c.processSelector, graceMinutes * 60],

  // The whole growth condition: the signature over the growth window, or over the step window.
  local growing(series, minPerHour) =
    local over(W, grace) = std.join('\n', [
      growthSignature(series, minPerHour, W),
      trafficClause(W),
      proportionalClause(series, W),
      restartClause(grace),
    ]);
    if c.leakStepWindowMinutes == 0 then
      over(c.leakWindowMinutes, c.restartGraceMinutes)
    else
      '(\n%s\n)\nor\n(\n%s\n)' % [
        indent(over(c.leakWindowMinutes, c.restartGraceMinutes)),
        indent(over(c.leakStepWindowMinutes, c.restartGraceStepMinutes)),
      ],
  // "over the last 60m" or "over the last 60m (or 6h, for growth in steps)".
  local windows =
    if c.leakStepWindowMinutes == 0 then window else '%s (or %s, for growth in steps)' % [window, u.humanMinutes(c.leakStepWindowMinutes)],

  // Go-template snippets for descriptions. Annotation templates may run PromQL (`query`);
  // the matchers for the alert's own target come from $labels.
  local tm = u.templateMatchers(c.targetLabels),
  local ta = u.templateArgs(c.targetLabels),
  local hintJoin =
    '* on (%s, category) group_left (hint) max by (%s, category, hint) (goroutine_category_info{%s})'
    % [by, by, sel],
  // ", created by F" when the last debug=2 fetch named the creator of stack `id` (a template
  // expression), else nothing: the creator is an info series, joined here by stack_id.
  local creatorOf(id) =
    '{{ with printf `max by (created_by) (goroutine_stack_creator_info{%s, %s, stack_id=%%q})` %s %s | query }}'
    % [sel, tm, ta, id]
    + '{{ with first . }}, created by {{ .Labels.created_by }}{{ end }}{{ end }}',
  // The stack growing fastest over the growth window at the per-stack threshold, else (growth
  // in steps, flat right now) over the step window; any growth over the last window asked.
  local topGrowingQuery(w, human, min, categories='%s' % nonBenign, what='Top growing stack') =
    '{{ with printf `topk(1, (deriv(goroutine_stack_goroutines{%s, stack_id!="other", %s, %s}[%s]) * 3600 > %s) %s)` %s | query }}'
    % [sel, categories, tm, w, min, hintJoin, ta]
    + '{{ with first . }}%s: {{ .Labels.function }} (category {{ .Labels.category }}%s, stack_id {{ .Labels.stack_id }}) at +{{ .Value | humanize }}/h over %s. First fix: {{ .Labels.hint }}{{ end }}' % [what, creatorOf('.Labels.stack_id'), human],
  // The total counts benign goroutines too: when only they grow (idle_server: clients holding
  // more and more connections open), say so rather than "nothing stands out".
  local benignGrowing =
    topGrowingQuery(window, window, 0, 'category=~"%s"' % u.alternation(c.benignCategories), 'Only benign stacks grow; the top one') + '{{ else }}',
  local noTopStack = benignGrowing + 'No single exported stack stands out; the growth may be spread over the stacks folded into stack_id="other".{{ end }}',
  local topGrowingStack =
    if c.leakStepWindowMinutes == 0 then
      topGrowingQuery(window, window, 0) + '{{ else }}' + noTopStack + '{{ end }}'
    else
      topGrowingQuery(window, window, c.stackMinGrowthPerHour) + '{{ else }}' + topGrowingQuery(stepWindow, u.humanMinutes(c.leakStepWindowMinutes), 0) + '{{ else }}' + noTopStack + '{{ end }}{{ end }}',
  // Like the alert, the stacks' last reading holds while the target is over the goroutineleak
  // cap: a leak that grows past the cap still names its largest stack.
  local topLeakedStack =
    '{{ with printf `topk(1, (goroutine_gc_leaked_stack_goroutines{%s, %s} or (last_over_time(goroutine_gc_leaked_stack_goroutines{%s, %s}[%s]) and on (%s) goroutine_fetch_skipped{%s, %s, profile="goroutineleak", reason="over_goroutine_cap"} == 1)) %s)` %s %s %s | query }}'
    % [sel, tm, sel, tm, c.gcLeakHoldFor, by, sel, tm, hintJoin, ta, ta, ta]
    + '{{ with first . }}Largest: {{ .Labels.function }} (category {{ .Labels.category }}, stack_id {{ .Labels.stack_id }}) with {{ .Value }} goroutines. First fix: {{ .Labels.hint }}{{ end }}'
    + '{{ end }}',
  local stackHint =
    '{{ with printf `max by (hint) (goroutine_category_info{%s, %s, category=%%q})` %s $labels.category | query }}'
    % [sel, tm, ta]
    + '{{ with first . }}First fix: {{ .Labels.hint }}{{ end }}{{ end }}',

  // Puts the configured target label into annotation templates.
  local fill(annotations) = {
    [k]: std.strReplace(annotations[k], '@TARGET@', c.targetLabel)
    for k in std.objectFields(annotations)
  },

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'goroutine-exporter',
        rules: [
          {
            alert: 'GoroutineLeakSuspected',
            expr: growing('goroutine_goroutines{%s}' % sel, c.leakMinGrowthPerHour),
            'for': u.minutes(c.leakForMinutes),
            keep_firing_for: c.leakKeepFiringFor,
            labels: { severity: c.leakSeverity },
            annotations: fill({
              summary: 'Goroutines on {{ $labels.@TARGET@ }} keep growing while traffic is flat.',
              description: std.join('\n', [
                'The goroutine count of {{ $labels.@TARGET@ }} (job {{ $labels.job }}) rose at {{ $value | humanize }}/h over the last %s, block after block, while its request rate (where exported) grew by less than %d%% and less than the goroutines did, and the process is past its warm-up (not restarted or new within the window): the leak signature, not load.' % [windows, std.floor(c.trafficGrowthTolerance * 100 + 0.5)],
                topGrowingStack,
                "Triage: %s/report?target={{ or $labels.%s $labels.@TARGET@ }}&from=%dm%s (what grew over the alert's window, each stack with its first fix); confirm with two captures 10-15 minutes apart (goroutine_triage watch)." % [c.exporterURL, c.probedTargetLabel, c.leakWindowMinutes, if c.exporterURL == '' then ' on the exporter' else ''],
              ]),
            }),
          },
          {
            alert: 'GoroutineStackGrowing',
            expr: growing(
              'goroutine_stack_goroutines{%s, stack_id!="other", %s}' % [sel, nonBenign],
              c.stackMinGrowthPerHour
            ),
            'for': u.minutes(c.leakForMinutes),
            keep_firing_for: c.leakKeepFiringFor,
            labels: { severity: c.stackSeverity },
            annotations: fill({
              summary: 'Goroutine stack {{ $labels.function }} ({{ $labels.category }}) keeps growing on {{ $labels.@TARGET@ }}.',
              description: std.join('\n', [
                'Stack {{ $labels.stack_id }} (category {{ $labels.category }}, function {{ $labels.function }}%s) on {{ $labels.@TARGET@ }} grew at {{ $value | humanize }}/h over the last %s, block after block, under flat traffic.' % [creatorOf('$labels.stack_id'), windows],
                stackHint,
              ]),
            }),
          },
          {
            alert: 'GoroutineGCProvenLeak',
            // A leak grows: once the target passes the exporter's goroutineleak cap, the
            // profile is no longer fetched and its series go away after two intervals. The
            // last reading then holds while the fetch is skipped for that cap.
            expr: u.dedent(|||
              goroutine_gc_leaked_goroutines{%(sel)s} > 0
              or
              (
                last_over_time(goroutine_gc_leaked_goroutines{%(sel)s}[%(hold)s]) > 0
                and on (%(by)s)
                goroutine_fetch_skipped{%(sel)s, profile="goroutineleak", reason="over_goroutine_cap"} == 1
              )
            ||| % { sel: sel, by: by, hold: c.gcLeakHoldFor }),
            'for': c.gcLeakFor,
            labels: { severity: c.gcLeakSeverity },
            annotations: fill({
              summary: 'The Go GC proved {{ $value }} goroutines leaked on {{ $labels.@TARGET@ }}.',
              description: std.join('\n', [
                'The goroutineleak profile of {{ $labels.@TARGET@ }} (job {{ $labels.job }}) reports {{ $value }} goroutines blocked on objects that no running goroutine can reach: they can never resume.%s' % [
                  '{{ with printf `goroutine_fetch_skipped{%s, %s, profile="goroutineleak", reason="over_goroutine_cap"} == 1` %s | query }} That is its last reading: the target has since grown past the exporter\'s goroutineleak cap, so the profile is no longer fetched.{{ end }}' % [sel, tm, ta],
                ],
                topLeakedStack,
              ]),
            }),
          },
          {
            alert: 'GoroutineProbeFailing',
            // `up`: when the exporter itself is down or answers after the scrape timeout,
            // goroutine_probe_success is absent rather than 0, and only `up` says so. Not when
            // no target has a probe result at all: that is one GoroutineProbesAbsent for the
            // exporter's owners, not one alert per target for every service team. Not the
            // `up` of the exporter's own /metrics either (the chart's ServiceMonitor scrapes
            // it under the probes' job): those series are the ones that have carried
            // goroutine_exporter_build_info, and a failing self-scrape is not a target's.
            expr: 'avg_over_time(goroutine_probe_success{%s}[%s]) < %s or (avg_over_time(up{%s}[%s]) < %s unless on (%s) last_over_time(goroutine_exporter_build_info{%s}[%s]) unless on () absent(goroutine_probe_success{%s}))' % [sel, c.probeFailWindow, c.probeMinSuccessRatio, sel, c.probeFailWindow, c.probeMinSuccessRatio, by, c.exporterSelector, c.exporterSelfLookback, sel],
            'for': c.probeFailFor,
            labels: { severity: c.probeSeverity },
            annotations: fill({
              summary: 'Goroutine profile probes of {{ $labels.@TARGET@ }} are failing.',
              // $value is the probes' success ratio, or the scrapes' (`up`) when the exporter's
              // answers themselves failed.
              description: 'Only {{ $value | humanizePercentage }} of the probes of {{ $labels.@TARGET@ }} (job {{ $labels.job }}) succeeded over the last %s. Its goroutine series are missing or stale, so the leak alerts cannot see this target. If up{job="{{ $labels.job }}"} is 0, the scrape of /probe itself failed: Prometheus\' Status > Targets shows why (the exporter down or past the scrape timeout; HTTP 403: the target is not in probe.allowed_targets; 400: an unknown module or a bad target; 503: the probe waited for a worker past its deadline). Otherwise see goroutine_exporter_fetch_errors_total by reason and the exporter log.' % c.probeFailWindow,
            }),
          },
          {
            // When the exporter is down or its scrape job is gone, every goroutine series
            // disappears and every alert above resolves: this one says they went blind.
            alert: 'GoroutineProbesAbsent',
            expr: 'absent(goroutine_probe_success{%s})' % sel,
            'for': c.probesAbsentFor,
            labels: { severity: c.probeSeverity },
            annotations: fill({
              summary: 'No goroutine probe results at all: the goroutine alerts are blind.',
              description: 'No goroutine_probe_success series matched {%s} for %s. The exporter is down or not scraped (its scrape job, ScrapeConfig or Probe objects are gone or select nothing), or it has no targets: every goroutine leak alert resolved because its data vanished, not because a leak was fixed.' % [sel, c.probesAbsentFor],
            }),
          },
          {
            alert: 'GoroutineExporterConfigReloadFailed',
            expr: 'goroutine_exporter_config_last_reload_successful{%s} == 0' % c.exporterSelector,
            'for': c.reloadFailFor,
            labels: { severity: c.reloadSeverity },
            annotations: fill({
              summary: 'goroutine-exporter {{ $labels.instance }} failed to reload its configuration.',
              description: 'The last configuration reload of {{ $labels.instance }} (job {{ $labels.job }}) failed; the exporter keeps running with the previous configuration, so new targets, modules or classification rules are not in effect. Fix the file and reload (POST /-/reload or SIGHUP).',
            }),
          },
        ],
      },
    ],
  },
}
