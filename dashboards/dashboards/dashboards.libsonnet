// The dashboards of the mixin; each file adds one entry to grafanaDashboards, keyed by the
// output file name.
(import 'overview.libsonnet')
+ (import 'stack.libsonnet')
+ (import 'health.libsonnet')
