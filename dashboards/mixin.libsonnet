// The goroutine-exporter monitoring mixin: config + recording rules + alerts + dashboards,
// in the layout of kubernetes-mixin and node-mixin. Use it from your own jsonnet as
//   (import 'mixin.libsonnet') + { _config+:: { goroutineSelector: 'job="goroutines"' } }
// or run ./generate.sh to write the checked-in outputs in out/.
(import 'config.libsonnet')
+ (import 'rules/rules.libsonnet')
+ (import 'alerts/alerts.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
+ (import 'lib/add-runbook-links.libsonnet')
