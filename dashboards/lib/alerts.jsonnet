// jsonnet -S lib/alerts.jsonnet > out/alerts.yaml
local mixin = import '../mixin.libsonnet';
(import 'yaml.libsonnet').manifest(mixin.prometheusAlerts, header=(import 'header.libsonnet'))
