// "Stack drill-down": one stack id over time across instances, and a before/after comparison
// against the same stack $offset ago, the runbook's "prove the fix" step (same traffic, is the
// slope flat and the stack gone or bounded?). Stack ids are stable across restarts, builds and
// replicas, so the comparison holds across a deploy.
local g = import '../lib/grafana.libsonnet';
local u = import '../lib/util.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local T = c.targetLabel,
    local by = u.by(c.targetLabels),
    local legend = '{{%s}}' % T,
    local sel = '%s, job=~"$job", %s=~"$instance"' % [c.goroutineSelector, T],
    local stackSel = sel + ', stack_id="$stack_id"',
    local tsel = '%s, %s=~"$instance"' % [c.trafficSelector, T],
    local hintJoin = '* on (%s, category) group_left (hint) max by (%s, category, hint) (goroutine_category_info{%s})' % [by, by, sel],

    'goroutine-stack.json': g.dashboard(
      title='Goroutine stack drill-down',
      uid='%sstack' % c.dashboardUIDPrefix,
      description='One normalized stack (stable stack_id) over time across instances, with a before/after comparison against $offset ago.',
      tags=c.dashboardTags,
      refresh=c.dashboardRefresh,
      timezone=c.dashboardTimezone,
      links=g.tagLinks(c.dashboardTags),
      variables=[
        g.datasourceVariable,
        g.queryVariable('job', 'Job', 'label_values(goroutine_goroutines{%s}, job)' % c.goroutineSelector),
        g.queryVariable('instance', 'Target', 'label_values(goroutine_goroutines{%s, job=~"$job"}, %s)' % [c.goroutineSelector, T]),
        g.queryVariable('category', 'Category', 'label_values(goroutine_stack_goroutines{%s}, category)' % sel),
        g.queryVariable('stack_id', 'Stack', 'label_values(goroutine_stack_goroutines{%s, category=~"$category", stack_id!="other"}, stack_id)' % sel, all=false, multi=false),
        g.customVariable('offset', 'Compare with', ['1h', '6h', '1d', '2d', '7d'], '1d'),
      ],
      sections=[
        {
          row: g.row('Stack $stack_id'),
          lines: [
            {
              h: 5,
              panels: [
                [24, g.table(
                  'Identity',
                  'Category, first application frame, creator and the first-fix hint of this stack on each instance. Full frames: /api/v1/stacks?target=... or goroutine_triage analyze.',
                  // sum: with label_keys a stack has one series per label value.
                  [g.target(u.withCreator('sum by (%s, stack_id, category, function) (goroutine_stack_goroutines{%s}) %s' % [by, stackSel, hintJoin], by, stackSel), '', instant=true, format='table')],
                  transformations=g.mergeAndOrganize(
                    exclude=['Time'],
                    order=[T, 'stack_id', 'category', 'function', 'created_by', 'Value', 'hint'],
                    rename={ Value: 'goroutines', created_by: 'created by', stack_id: 'stack id', hint: 'first fix' },
                  ),
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Goroutines in this stack',
                  'goroutine_stack_goroutines for $stack_id on each selected instance.',
                  [g.target('sum by (%s) (goroutine_stack_goroutines{%s})' % [by, stackSel], legend)],
                )],
                // The slope of the sum, not the sum of the series' slopes: a stack's series can
                // change labels (its category when a debug=2 dump says more, a label value
                // folded into "other"), and each fragment would add its own slope.
                [12, g.timeseries(
                  'Slope',
                  'Growth of this stack over 15m in goroutines per hour, per instance and over the whole fleet (every job and instance).',
                  [
                    g.target('deriv(sum by (%s) (goroutine_stack_goroutines{%s})[15m:1m]) * 3600' % [by, stackSel], legend),
                    g.target('deriv(sum(goroutine_stack_goroutines{%s, stack_id="$stack_id"})[15m:1m]) * 3600' % c.goroutineSelector, 'fleet'),
                  ],
                  fill=0,
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Before / after: now against $offset ago'),
          lines: [
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Now and $offset ago',
                  'The stack summed over the selected instances, now and shifted by $offset. After a fix the current line stays flat where the old one climbed.',
                  [
                    g.target('sum(goroutine_stack_goroutines{%s})' % stackSel, 'now'),
                    g.target('sum(goroutine_stack_goroutines{%s} offset $offset)' % stackSel, '$offset ago'),
                  ],
                  fill=0,
                )],
                [12, g.timeseries(
                  'Request rate now and $offset ago',
                  'Compare like with like: the fix is proven under the same traffic.',
                  [
                    // The traffic of the targets that have the stack (then), not of every process.
                    g.target('sum(rate(%s{%s}[$__rate_interval]) and on (%s) group by (%s) (goroutine_stack_goroutines{%s}))' % [c.trafficMetric, tsel, by, by, stackSel], 'now'),
                    g.target('sum(rate(%s{%s}[$__rate_interval] offset $offset) and on (%s) group by (%s) (goroutine_stack_goroutines{%s} offset $offset))' % [c.trafficMetric, tsel, by, by, stackSel], '$offset ago'),
                  ],
                  unit='reqps',
                  fill=0,
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [24, g.table(
                  'Per instance: now against $offset ago',
                  'Goroutines in this stack and its 1h slope, now and $offset ago. Proving a fix: the slope is flat now and the count is bounded.',
                  [
                    g.target('sum by (%s) (goroutine_stack_goroutines{%s})' % [by, stackSel], '', instant=true, format='table'),
                    g.target('sum by (%s) (goroutine_stack_goroutines{%s} offset $offset)' % [by, stackSel], '', instant=true, format='table'),
                    g.target('deriv(sum by (%s) (goroutine_stack_goroutines{%s})[1h:1m]) * 3600' % [by, stackSel], '', instant=true, format='table'),
                    g.target('deriv(sum by (%s) (goroutine_stack_goroutines{%s})[1h:1m] offset $offset) * 3600' % [by, stackSel], '', instant=true, format='table'),
                  ],
                  transformations=g.mergeAndOrganize(
                    exclude=['Time'],
                    order=[T, 'Value #A', 'Value #B', 'Value #C', 'Value #D'],
                    rename={
                      'Value #A': 'goroutines now',
                      'Value #B': 'goroutines $offset ago',
                      'Value #C': 'slope /h now',
                      'Value #D': 'slope /h $offset ago',
                    },
                  ),
                  overrides=[g.overrideByRegex('slope.*', { decimals: 1 })],
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Context'),
          lines: [
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  "Oldest wait in this stack's category",
                  'goroutine_wait_oldest_seconds of the category of $stack_id (last debug=2 fetch, lower bound).',
                  [g.target('max by (%s) (goroutine_wait_oldest_seconds{%s} and on (%s, category) goroutine_stack_goroutines{%s})' % [by, sel, by, stackSel], legend)],
                  unit='s',
                  fill=0,
                )],
                [12, g.timeseries(
                  'GC-proven leaked in this stack',
                  'goroutine_gc_leaked_stack_goroutines for $stack_id (goroutineleak profile).',
                  [g.target('sum by (%s) (goroutine_gc_leaked_stack_goroutines{%s})' % [by, stackSel], legend)],
                  fill=0,
                )],
              ],
            },
          ],
        },
      ],
    ),
  },
}
