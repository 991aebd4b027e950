// jsonnet -S lib/rules.jsonnet > out/rules.yaml
local mixin = import '../mixin.libsonnet';
(import 'yaml.libsonnet').manifest(mixin.prometheusRules, header=(import 'header.libsonnet'))
