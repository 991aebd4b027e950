// "Goroutine leak overview": is something growing, is it load or a leak, and which stack.
// Row 1 puts the goroutine count and its slope next to the same target's request rate, p99
// latency and RSS (the leak signature of the runbook's step 1); rows 2-4 go from categories to
// stacks with their first-fix hints, wait ages and GC-proven leaks.
local g = import '../lib/grafana.libsonnet';
local u = import '../lib/util.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local T = c.targetLabel,
    local by = u.by(c.targetLabels),
    local legend = '{{%s}}' % T,
    // Series of the selected targets, and of the selected categories.
    local sel = '%s, job=~"$job", %s=~"$instance"' % [c.goroutineSelector, T],
    local catSel = sel + ', category=~"$category"',
    // The same targets' own series (traffic, latency, process).
    local tsel = '%s, %s=~"$instance"' % [c.trafficSelector, T],
    local psel = '%s, %s=~"$instance"' % [c.processSelector, T],
    // Keeps only the targets the exporter probes: with $instance at All (.+), the selectors
    // above alone would match every process in Prometheus.
    local probed(expr) = '%s and on (%s) group by (%s) (goroutine_goroutines{%s})' % [expr, by, by, sel],
    local nonBenign = 'category!~"%s"' % u.alternation(c.benignCategories),
    local hintJoin = '* on (%s, category) group_left (hint) max by (%s, category, hint) (goroutine_category_info{%s})' % [by, by, sel],
    // ${job:queryparam}: `job` is multi-value with All, and a plain ${job} in a link renders a
    // multi-value as "{a,b}", which the next dashboard then matches literally (no data).
    local stackLink = {
      title: 'Stack drill-down',
      url: '/d/%sstack?var-datasource=${datasource}&${job:queryparam}&var-stack_id=${__data.fields.stack_id}&${__url_time_range}' % c.dashboardUIDPrefix,
    },

    'goroutine-overview.json': g.dashboard(
      title='Goroutine leak overview',
      uid='%soverview' % c.dashboardUIDPrefix,
      description="Goroutine count and slope against the same target's traffic, latency and memory; categories, top growing stacks with first-fix hints, wait ages and GC-proven leaks.",
      tags=c.dashboardTags,
      refresh=c.dashboardRefresh,
      timezone=c.dashboardTimezone,
      links=g.tagLinks(c.dashboardTags),
      variables=[
        g.datasourceVariable,
        g.queryVariable('job', 'Job', 'label_values(goroutine_goroutines{%s}, job)' % c.goroutineSelector),
        g.queryVariable('instance', 'Target', 'label_values(goroutine_goroutines{%s, job=~"$job"}, %s)' % [c.goroutineSelector, T]),
        g.queryVariable('category', 'Category', 'label_values(goroutine_category_goroutines{%s}, category)' % sel),
      ],
      annotations=[
        // A process started in the last 5 minutes: a restart in place, or a new pod of a
        // rollout or scale-up (a new series, whose start time never changes), as the alerts'
        // restart grace reads it.
        g.promAnnotation(
          'Target restarts',
          probed('time() - process_start_time_seconds{%s} < 300' % psel),
          'Restart',
          'Restart or new pod of {{%s}}: the goroutine count starts afresh; restarts hide leaks without fixing them.' % T,
        ),
      ],
      sections=[
        {
          row: g.row('Leak signature: goroutines against work'),
          lines: [
            {
              h: 9,
              panels: [
                [12, g.timeseries(
                  'Goroutines and slope',
                  'goroutine_goroutines per target (left axis) and its least-squares slope over 1h in goroutines per hour (right axis, dashed). A leak is a slope that stays above zero while the request rate is flat.',
                  [
                    g.target('sum by (%s) (goroutine_goroutines{%s})' % [by, sel], legend),
                    g.target('sum by (%s) (deriv(goroutine_goroutines{%s}[1h])) * 3600' % [by, sel], legend + ' slope /h'),
                  ],
                  overrides=[g.overrideByRegex('.* slope /h', {
                    'custom.axisPlacement': 'right',
                    'custom.lineStyle': { fill: 'dash', dash: [10, 10] },
                    'custom.fillOpacity': 0,
                    'custom.axisLabel': 'goroutines per hour',
                  })],
                )],
                [12, g.timeseries(
                  'Goroutines per request/s',
                  'Goroutines divided by the request rate (recording rule instance:goroutine_goroutines_per_request:ratio_rate5m). Flat when goroutines follow load; rising under flat load when they leak.',
                  [g.target('instance:goroutine_goroutines_per_request:ratio_rate5m{%s=~"$instance"}' % T, legend)],
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [8, g.timeseries(
                  'Request rate',
                  "The same target's %s rate: the work. Goroutine growth that follows it is load." % c.trafficMetric,
                  [g.target(probed('sum by (%s) (rate(%s{%s}[$__rate_interval]))' % [by, c.trafficMetric, tsel]), legend)],
                  unit='reqps',
                )],
                [8, g.timeseries(
                  'p99 latency',
                  "The same target's p99 request latency from %s. Leaks show as tail latency creeping up." % c.latencyBucketMetric,
                  [g.target('histogram_quantile(0.99, %s)' % probed('sum by (%s, le) (rate(%s{%s}[$__rate_interval]))' % [by, c.latencyBucketMetric, tsel]), legend)],
                  unit='s',
                )],
                [8, g.timeseries(
                  'Resident memory',
                  'process_resident_memory_bytes of the target process. Leaked goroutines hold their stacks and everything they reference.',
                  [g.target(probed('sum by (%s) (process_resident_memory_bytes{%s})' % [by, psel]), legend)],
                  unit='bytes',
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Categories'),
          lines: [
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Goroutines by category',
                  'goroutine_category_goroutines, stacked. idle_server, runtime and ignored are benign.',
                  [g.target('sum by (category) (goroutine_category_goroutines{%s})' % catSel, '{{category}}')],
                  stack=true,
                  fill=30,
                )],
                [12, g.timeseries(
                  'Category slope',
                  'Slope of each category over 15m, in goroutines per hour. The category that keeps growing names the kind of bug (see the hint in the stacks table).',
                  [g.target('sum by (category) (deriv(goroutine_category_goroutines{%s}[15m])) * 3600' % catSel, '{{category}}')],
                  fill=0,
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Stacks'),
          lines: [
            {
              h: 10,
              panels: [
                [24, g.table(
                  'Top growing stacks',
                  'Stacks growing over the last hour, ranked by growth (goroutines per hour), benign categories and the folded "other" series left out, with the category\'s first-fix hint. Click a stack id for its drill-down.',
                  // B, the current counts, only for A's rows: the merge transform makes a
                  // union, and every other exported stack would show up with empty growth.
                  local growing = 'topk(%d, (sum by (%s, stack_id, category, function) (deriv(goroutine_stack_goroutines{%s, stack_id!="other", %s}[1h])) * 3600 > 0) %s)' % [c.topStacks, by, catSel, nonBenign, hintJoin];
                  [
                    g.target(u.withCreator(growing, by, sel), '', instant=true, format='table'),
                    g.target('sum by (%s, stack_id, category, function) (goroutine_stack_goroutines{%s, stack_id!="other", %s}) and on (%s, stack_id) (%s)' % [by, catSel, nonBenign, by, growing], '', instant=true, format='table'),
                  ],
                  transformations=g.mergeAndOrganize(
                    exclude=['Time'],
                    order=[T, 'stack_id', 'category', 'function', 'created_by', 'Value #A', 'Value #B', 'hint'],
                    rename={ 'Value #A': 'growth /h', 'Value #B': 'goroutines', created_by: 'created by', stack_id: 'stack id', hint: 'first fix' },
                  ),
                  overrides=[
                    g.overrideByName('stack id', { links: [stackLink] }),
                    g.overrideByName('growth /h', { decimals: 1, 'custom.cellOptions': { type: 'color-text' }, color: { mode: 'thresholds' }, thresholds: g.thresholds([{ color: 'green', value: null }, { color: 'orange', value: c.stackMinGrowthPerHour }, { color: 'red', value: c.leakMinGrowthPerHour }]) }),
                  ],
                  sortBy=[{ displayName: 'growth /h', desc: true }],
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Largest stacks',
                  'The 10 largest exported stacks over time, legend: function (category).',
                  [g.target('topk(10, sum by (stack_id, function, category) (goroutine_stack_goroutines{%s, stack_id!="other"}))' % catSel, '{{function}} ({{category}})')],
                )],
                [12, g.timeseries(
                  'Folded stacks ("other")',
                  'Goroutines in stacks outside the exported top-K (stack_id="other") and how many stacks were folded. If "other" grows, the leak is not among the exported stacks: use goroutine_triage diff or /api/v1/diff.',
                  [
                    g.target('sum by (%s) (goroutine_stack_goroutines{%s, stack_id="other"})' % [by, sel], legend + ' goroutines in other'),
                    g.target('sum by (%s) (goroutine_stack_folded_stacks{%s})' % [by, sel], legend + ' folded stacks'),
                  ],
                  fill=0,
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Wait ages and GC-proven leaks'),
          lines: [
            {
              h: 8,
              panels: [
                [8, g.timeseries(
                  'Oldest wait by category',
                  'goroutine_wait_oldest_seconds from the last debug=2 fetch (minute resolution, a lower bound). A wait that only grows is a goroutine that never resumes. Empty when debug=2 is not fetched (see Exporter health).',
                  [g.target('max by (category) (goroutine_wait_oldest_seconds{%s})' % catSel, '{{category}}')],
                  unit='s',
                  fill=0,
                )],
                [8, g.heatmap(
                  'Wait age distribution',
                  'goroutine_wait_age_seconds buckets from the last debug=2 fetch: how long goroutines have been blocked.',
                  [g.target('sum by (le) (goroutine_wait_age_seconds_bucket{%s})' % catSel, '{{le}}', format='heatmap')],
                )],
                [8, g.timeseries(
                  'GC-proven leaked goroutines',
                  'goroutine_gc_leaked_goroutines: goroutines the Go GC proved can never resume (goroutineleak profile, Go 1.26+). Any value above zero is a leak.',
                  [g.target('sum by (%s) (goroutine_gc_leaked_goroutines{%s})' % [by, sel], legend)],
                  fill=0,
                )],
              ],
            },
            {
              h: 7,
              panels: [
                [24, g.table(
                  'GC-proven leaked stacks',
                  "goroutine_gc_leaked_stack_goroutines with the first-fix hint of their category. Past the exporter's goroutineleak cap the profile is no longer fetched: a target's last reading (of up to %s ago) is shown while goroutine_fetch_skipped says so, as in the GoroutineGCProvenLeak alert." % c.gcLeakHoldFor,
                  [g.target('sum by (%s, stack_id, category, function) ((goroutine_gc_leaked_stack_goroutines{%s} or (last_over_time(goroutine_gc_leaked_stack_goroutines{%s}[%s]) and on (%s) goroutine_fetch_skipped{%s, profile="goroutineleak", reason="over_goroutine_cap"} == 1)) > 0) %s' % [by, catSel, catSel, c.gcLeakHoldFor, by, sel, hintJoin], '', instant=true, format='table')],
                  transformations=g.mergeAndOrganize(
                    exclude=['Time'],
                    order=[T, 'stack_id', 'category', 'function', 'Value', 'hint'],
                    rename={ Value: 'leaked goroutines', stack_id: 'stack id', hint: 'first fix' },
                  ),
                  overrides=[g.overrideByName('stack id', { links: [stackLink] })],
                  sortBy=[{ displayName: 'leaked goroutines', desc: true }],
                )],
              ],
            },
          ],
        },
      ],
    ),
  },
}
