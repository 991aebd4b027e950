// Recording rules, named level:metric:operations (https://prometheus.io/docs/practices/rules/).
// They feed the dashboards; the alerts use raw series so that they stand on their own.
// Slopes are per second, as deriv() returns them; dashboards multiply by 3600.
local u = import '../lib/util.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local by = u.by(c.targetLabels),
    local sel = c.goroutineSelector,
    local traffic = u.stripTotal(c.trafficMetric),
    local latency = u.stripBucket(c.latencyBucketMetric),
    local nonBenign = 'category!~"%s"' % u.alternation(c.benignCategories),

    groups+: [
      {
        name: 'goroutine-exporter.rules',
        rules: [
          {
            // Goroutine slope per target, short window: the "is it still climbing" line.
            record: 'instance:goroutine_goroutines:deriv5m',
            expr: 'sum by (%s) (deriv(goroutine_goroutines{%s}[5m]))' % [by, sel],
          },
          {
            // Goroutine slope per target over one hour: the trend a leak shows.
            record: 'instance:goroutine_goroutines:deriv1h',
            expr: 'sum by (%s) (deriv(goroutine_goroutines{%s}[1h]))' % [by, sel],
          },
          {
            // Goroutines outside the benign categories (idle keep-alive connections, GC
            // workers, ignore rules): the part of the count that can be a leak.
            record: 'instance:goroutine_category_goroutines:sum_nonbenign',
            expr: 'sum by (%s) (goroutine_category_goroutines{%s, %s})' % [by, sel, nonBenign],
          },
          {
            // Work: the target's own request rate.
            record: 'instance:%s:rate5m' % traffic,
            expr: 'sum by (%s) (rate(%s{%s}[5m]))' % [by, c.trafficMetric, c.trafficSelector],
          },
          {
            // Goroutines per unit of work (goroutines per request/s). Flat under changing
            // load when goroutines follow traffic; rises under flat load when they leak.
            record: 'instance:goroutine_goroutines_per_request:ratio_rate5m',
            expr: u.dedent(|||
              sum by (%(by)s) (goroutine_goroutines{%(sel)s})
                / on (%(by)s)
              (instance:%(traffic)s:rate5m > 0)
            ||| % { by: by, sel: sel, traffic: traffic }),
          },
          {
            // Tail latency of the same target, for the goroutines-vs-latency panels.
            record: 'instance_quantile:%s:histogram_quantile_rate5m' % latency,
            expr: 'histogram_quantile(0.99, sum by (%s, le) (rate(%s{%s}[5m])))' % [by, c.latencyBucketMetric, c.trafficSelector],
            labels: { quantile: '0.99' },
          },
          {
            // Per-stack slope across the fleet: stack ids are stable across replicas,
            // restarts and builds, so this sums one code path over every instance.
            record: 'stack_id:goroutine_stack_goroutines:deriv15m',
            expr: 'sum by (stack_id, category, function) (deriv(goroutine_stack_goroutines{%s, stack_id!="other"}[15m]))' % sel,
          },
          {
            // Per-stack slope per target.
            record: 'instance_stack_id:goroutine_stack_goroutines:deriv15m',
            expr: 'sum by (%s, stack_id, category, function) (deriv(goroutine_stack_goroutines{%s, stack_id!="other"}[15m]))' % [by, sel],
          },
          {
            // Per-category slope across the fleet.
            record: 'category:goroutine_category_goroutines:deriv15m',
            expr: 'sum by (category) (deriv(goroutine_category_goroutines{%s}[15m]))' % sel,
          },
          {
            // Per-category slope per target.
            record: 'instance_category:goroutine_category_goroutines:deriv15m',
            expr: 'sum by (%s, category) (deriv(goroutine_category_goroutines{%s}[15m]))' % [by, sel],
          },
        ],
      },
    ],
  },
}
