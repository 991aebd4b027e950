// Short-window variant of the mixin for the end-to-end test (tests/e2e) and the demo
// (scripts/demo.sh). NOT for production: it only overrides `_config` (windows, thresholds and
// selectors), never the rule or dashboard logic, so that a Prometheus that has been running for
// a few minutes can show the leak signature that the real config needs an hour and a half for.
//
//   jsonnet -S -m OUTDIR dashboards/lib/e2e.jsonnet                      # rules.yaml, alerts.yaml
//   jsonnet -m OUTDIR --tla-str part=dashboards dashboards/lib/e2e.jsonnet   # <dashboard>.json
//
// Job names: --tla-str goroutineJob=goroutine-probe --tla-str exporterJob=goroutine-exporter
// --tla-str targetJob=shop (the defaults). Dashboards are written as plain JSON (-m without -S):
// std.manifestJsonEx would take seconds.
function(part='rules', goroutineJob='goroutine-probe', exporterJob='goroutine-exporter', targetJob='shop')
  local mixin = (import '../mixin.libsonnet') + {
    _config+:: {
      // Probe pattern: one job calls /probe per target, one scrapes the exporter's /metrics,
      // one scrapes the targets themselves; all three give a target the same `instance`.
      goroutineSelector: 'job="%s"' % goroutineJob,
      exporterSelector: 'job="%s"' % exporterJob,
      trafficSelector: 'job="%s"' % targetJob,
      processSelector: 'job="%s"' % targetJob,

      // Four blocks of one minute: the smallest window the block logic allows (whole minutes,
      // a multiple of 4). The alert can be pending 4 minutes after Prometheus' first scrape,
      // not earlier: the traffic clause compares the request rate of the last block with the
      // block 3 minutes before, and while that block is only partly scraped, rate() reads it
      // low, so "traffic grew" holds and suppresses the alert (correctly: no baseline yet).
      leakWindowMinutes: 4,
      // The step window (6h by default) cannot fill in a test of minutes: off here; the
      // promtool tests (dashboards/tests/alerts_test.yaml) cover it.
      leakStepWindowMinutes: 0,
      // The test leaks 5 goroutines/s (18000/h). Bursts of N goroutines held for H seconds
      // every P seconds give a least-squares slope of at most 6*N*H*(P-H)/(P*W^2) per second
      // over a window of W seconds (about 480/h for 500 goroutines, 3 s, every 20 s, 4 min);
      // the thresholds sit well between the two.
      leakMinGrowthPerHour: 3600,
      stackMinGrowthPerHour: 1800,
      // Pending as soon as the signature holds; firing one minute later.
      leakForMinutes: 1,
      // The grace period counts from the target process's start, and the test's targets
      // start just before Prometheus: the default (window + for = 5 minutes) would hold the
      // alert past the test's 5 minutes. No target restarts in the test; 2 minutes still
      // keeps the clause in the expression (the promtool tests cover it).
      restartGraceMinutes: 2,
      gcLeakFor: '1m',
      probeFailWindow: '1m',
      probeFailFor: '1m',
      reloadFailFor: '1m',
    },
  };
  local yaml = import 'yaml.libsonnet';
  local header =
    '# Generated from dashboards/lib/e2e.jsonnet: short windows for the end-to-end test and\n'
    + '# the demo. Not for production; use dashboards/out/ or your own _config overrides.\n';
  assert part == 'rules' || part == 'dashboards' : 'part must be rules or dashboards';
  if part == 'rules' then {
    'rules.yaml': yaml.manifest(mixin.prometheusRules, header=header),
    'alerts.yaml': yaml.manifest(mixin.prometheusAlerts, header=header),
  } else mixin.grafanaDashboards
