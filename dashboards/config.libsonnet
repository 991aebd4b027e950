// The one place to adapt this mixin to an installation. Everything else (alerts, recording
// rules, dashboards) reads these values; nothing below this file hard-codes a selector, a
// threshold or a window. Override with `(import 'mixin.libsonnet') + { _config+:: { ... } }`.
//
// Selectors are inserted between {} in PromQL, so they must be non-empty matcher lists.
{
  _config+:: {
    // Selects the per-target series the exporter produces (goroutine_goroutines,
    // goroutine_stack_goroutines, goroutine_probe_success, ...). In probe mode this is the job
    // of the scrape config (or Probe/ServiceMonitor) that calls /probe?target=...
    goroutineSelector: 'job="goroutine-exporter"',

    // Selects the exporter's own /metrics (goroutine_exporter_* self-metrics). Often a separate
    // scrape job from the probes; in watch mode it is the same job as goroutineSelector.
    exporterSelector: 'job="goroutine-exporter"',

    // The label that names one Go target on every series, and on which goroutine series are
    // joined with the target's own traffic, latency and process series. With the probe
    // pattern relabelling sets `instance` to the target address; make sure the target's own
    // scrape job produces the same `instance` (same host:port, or relabel it). In watch mode
    // (series carry `target`) use 'target' and relabel the service's own metrics to match.
    // Dashboards filter on it through their $instance variable.
    targetLabel: 'instance',
    // Labels above the target that every aggregation keeps, e.g. ['cluster', 'namespace'] for
    // multi-cluster setups. They must be on both goroutine and traffic series.
    groupLabels: [],
    // Derived: the grouping and join labels of every rule.
    targetLabels: self.groupLabels + [self.targetLabel],

    // The target service's request counter: "work" for the leak signature. Growth in
    // goroutines that follows growth in this rate is load, not a leak.
    trafficMetric: 'http_requests_total',
    // Extra matchers for the traffic metric and the latency histogram (for example
    // 'job="my-service"' or 'code!~"5.."'). Must stay a valid matcher list.
    trafficSelector: 'job!="goroutine-exporter"',
    // The target service's request latency histogram (classic buckets), for the p99 panel.
    latencyBucketMetric: 'http_request_duration_seconds_bucket',
    // Which process_* series belong to the targets themselves (restart detection, RSS panel).
    processSelector: 'job!="goroutine-exporter"',

    // The label holding the address the exporter probed, where it differs from targetLabel
    // (the Helm chart's ScrapeConfig moves `instance` to the pod's metrics port and keeps the
    // pprof address in `target`; watch mode's target_label): the alerts' report link uses it.
    probedTargetLabel: 'target',

    // Categories that are not leaks (closed set in docs/metrics.md). Excluded from the
    // per-stack alert and from the "top growing stack" shown in alert descriptions.
    benignCategories: ['idle_server', 'runtime', 'ignored'],

    // --- GoroutineLeakSuspected / GoroutineStackGrowing -----------------------------------
    // The growth window, in minutes. It is cut into four equal blocks; the leak signature
    // needs the block averages to rise block after block (linear growth or repeated steps),
    // which a burst that rises and then drains, or a single step, does not do. Must be a
    // multiple of 4. Longer windows catch slower leaks in noisier targets, later.
    leakWindowMinutes: 60,
    // The same signature over a longer window, for leaks that step up repeatedly with quiet
    // stretches in between (a cron job, a batch that leaks per run): four blocks of 15
    // minutes need growth in nearly every half hour, four blocks of 90 minutes only in every
    // three hours. Either window raising the signature fires the alert. Must be a multiple
    // of 4 and longer than leakWindowMinutes; 0 turns it off.
    leakStepWindowMinutes: 360,
    // Minimum slope (least-squares, deriv()) over the window, in goroutines per hour.
    leakMinGrowthPerHour: 60,
    // Per-stack minimum slope, goroutines per hour.
    stackMinGrowthPerHour: 30,
    // "Traffic is flat": the request rate in the last block did not exceed the rate in the
    // first block by more than this fraction. Falling traffic counts as flat (a growing
    // goroutine count under falling load is even more suspicious).
    trafficGrowthTolerance: 0.2,
    // Traffic that rose by more than this fraction, but within the tolerance, explains the
    // goroutine growth of a series unless the series grew faster, relatively, than traffic
    // times (1 + trafficGrowthTolerance): goroutines per request must rise. Smaller rises are
    // taken as noise.
    trafficRiseMin: 0.05,
    // true: targets without the traffic metric never raise GoroutineLeakSuspected.
    // false: they are judged on goroutine growth alone (batch workers, queue consumers).
    leakRequireTraffic: false,
    // How long the signature must hold before the growth alerts fire, in minutes.
    leakForMinutes: 30,
    // How long a firing growth alert stays firing after the signature stops holding: a noisy
    // leak breaks "every block above the last" now and then, and each break would resolve
    // the alert and restart `for` (Prometheus >= 2.42).
    leakKeepFiringFor: '30m',
    // A target process started within this many minutes (process_start_time_seconds: a
    // restart in place, or a new pod of a rollout or scale-up) is not judged by the growth
    // alerts: the count starts afresh and warm-up growth is not a leak. The default,
    // window + for, means a warm-up that lasts up to a whole window never fires, while a leak
    // that survives the restart fires again one grace period + `for` later.
    // Restarts hide leaks without fixing them, so keep this short; the dashboards annotate
    // restarts so that a saw-tooth of restarts stays visible.
    restartGraceMinutes: self.leakWindowMinutes + self.leakForMinutes,
    // The same for the step window: its warm-up after a restart lasts as long as that window.
    restartGraceStepMinutes: self.leakStepWindowMinutes + self.leakForMinutes,

    // --- other alerts --------------------------------------------------------------------
    // GoroutineGCProvenLeak: goroutine_gc_leaked_goroutines > 0 for this long. The GC's proof
    // is exact, but the leak profile is fetched rarely; this guards against a single
    // transient reading around a deploy.
    gcLeakFor: '15m',
    // ... and its last reading holds for up to this long while the target is over the
    // exporter's goroutineleak cap (the profile is then no longer fetched).
    gcLeakHoldFor: '6h',
    // GoroutineProbeFailing: fraction of successful probes over the window below this value.
    probeFailWindow: '15m',
    probeMinSuccessRatio: 0.5,
    probeFailFor: '10m',
    // How far back a scrape target counts as the exporter's own /metrics (it exposed
    // goroutine_exporter_build_info), so that GoroutineProbeFailing leaves its `up` out.
    exporterSelfLookback: '1d',
    // GoroutineProbesAbsent: no probe result of any target for this long.
    probesAbsentFor: '15m',
    // GoroutineExporterConfigReloadFailed.
    reloadFailFor: '10m',

    // Severity labels put on the alerts.
    leakSeverity: 'warning',
    stackSeverity: 'info',
    gcLeakSeverity: 'warning',
    probeSeverity: 'warning',
    reloadSeverity: 'warning',

    // runbook_url = runbookBaseURL + '#' + lower-case alert name (GitHub heading anchors of
    // docs/runbook.md). Point it at wherever your copy of the runbook is rendered.
    runbookBaseURL: 'https://github.com/goroutine-exporter/goroutine-exporter/blob/main/docs/runbook.md',

    // Base URL of the exporter as on-call engineers reach it (e.g.
    // 'http://goroutine-exporter.monitoring.svc:9867'): the leak alert then links its /report
    // page for the target. Empty: the description says "/report?target=... on the exporter".
    exporterURL: '',

    // --- dashboards ----------------------------------------------------------------------
    dashboardTags: ['goroutine-exporter', 'go'],
    dashboardTimezone: 'utc',
    dashboardRefresh: '1m',
    dashboardUIDPrefix: 'goroutine-',
    // Rows in the "top growing stacks" table.
    topStacks: 20,
  },
}
