{{/* vim: set filetype=mustache: */}}
{{/*
Expand the name of the chart.
*/}}
{{- define "goroutine-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name (63 characters at most: some Kubernetes name fields
are limited to this). If the release name contains the chart name it is used as the full name.
*/}}
{{- define "goroutine-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version as used by the chart label.
*/}}
{{- define "goroutine-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Namespace of the namespaced objects.
*/}}
{{- define "goroutine-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "goroutine-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "goroutine-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "goroutine-exporter.labels" -}}
{{- $common := .Values.commonLabels | default dict }}
{{- range $key := list "app.kubernetes.io/name" "app.kubernetes.io/instance" "helm.sh/chart" "app.kubernetes.io/managed-by" }}
{{- if hasKey $common $key }}
{{- fail (printf "commonLabels.%s: the chart sets this label itself (the selector uses the name and instance labels)" $key) }}
{{- end }}
{{- end -}}
helm.sh/chart: {{ include "goroutine-exporter.chart" . }}
{{ include "goroutine-exporter.selectorLabels" . }}
{{- /* commonLabels may replace these three, not repeat them (a key twice is invalid YAML). */}}
{{- $defaults := dict "app.kubernetes.io/version" (.Values.image.tag | default .Chart.AppVersion | trunc 63) "app.kubernetes.io/component" "exporter" "app.kubernetes.io/part-of" "goroutine-exporter" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with merge (deepCopy $common) $defaults }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
ServiceAccount name.
*/}}
{{- define "goroutine-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "goroutine-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: registry/repository:tag or @digest.
*/}}
{{- define "goroutine-exporter.image" -}}
{{- $repo := .Values.image.repository }}
{{- if .Values.image.registry }}
{{- $repo = printf "%s/%s" .Values.image.registry .Values.image.repository }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Whether a config file is mounted, and the name of its ConfigMap.
*/}}
{{- define "goroutine-exporter.hasConfig" -}}
{{- if or .Values.existingConfigMap .Values.config }}true{{ end }}
{{- end }}
{{/*
Whether the exporter polls targets itself (a `watch:` section in `config`, or `watchMode` for
an existing ConfigMap the chart cannot read): "true" or "".
*/}}
{{- define "goroutine-exporter.watchMode" -}}
{{- if or .Values.watchMode (and .Values.config (kindIs "map" .Values.config) .Values.config.watch) }}true{{ end }}
{{- end }}
{{- define "goroutine-exporter.configMapName" -}}
{{- .Values.existingConfigMap | default (include "goroutine-exporter.fullname" .) }}
{{- end }}

{{/*
Web config (TLS / basic auth): whether there is one, its Secret, the scheme, basic auth.
*/}}
{{- define "goroutine-exporter.hasWebConfig" -}}
{{- if or .Values.webConfig.existingSecret .Values.webConfig.config }}true{{ end }}
{{- end }}
{{- define "goroutine-exporter.webConfigSecretName" -}}
{{- .Values.webConfig.existingSecret | default (printf "%s-web-config" (include "goroutine-exporter.fullname" .)) }}
{{- end }}
{{- define "goroutine-exporter.webScheme" -}}
{{- if .Values.webConfig.scheme }}
{{- .Values.webConfig.scheme }}
{{- else if and .Values.webConfig.config (hasKey .Values.webConfig.config "tls_server_config") }}
{{- "https" }}
{{- else }}
{{- "http" }}
{{- end }}
{{- end }}
{{- define "goroutine-exporter.webBasicAuth" -}}
{{- if kindIs "bool" .Values.webConfig.basicAuth }}
{{- if .Values.webConfig.basicAuth }}true{{ end }}
{{- else if and .Values.webConfig.config (hasKey .Values.webConfig.config "basic_auth_users") }}
{{- "true" }}
{{- end }}
{{- end }}

{{/*
In-cluster address of the exporter Service, host:port.
*/}}
{{- define "goroutine-exporter.serviceAddress" -}}
{{- printf "%s.%s.svc:%d" (include "goroutine-exporter.fullname" .) (include "goroutine-exporter.namespace" .) (int .Values.service.port) }}
{{- end }}

{{- /* "true" when the web config makes every client present a certificate (the kubelet's probes have none); RequireAndVerifyClientCert is the exporter's only such policy. */}}
{{- define "goroutine-exporter.webRequiresClientCert" -}}
{{- $tls := dig "tls_server_config" dict (.Values.webConfig.config | default dict) }}
{{- if eq (dig "client_auth_type" "" $tls) "RequireAndVerifyClientCert" }}true
{{- else if and .Values.webConfig.existingSecret .Values.webConfig.clientCertRequired }}true
{{- end }}
{{- end }}

{{/*
A liveness or readiness probe: httpGet with the web scheme, or tcpSocket when basic auth is on
or every client must present a certificate (the kubelet sends neither).
Call with (dict "probe" .Values.livenessProbe "root" $).
*/}}
{{- define "goroutine-exporter.healthProbe" -}}
{{- $probe := deepCopy .probe }}
{{- if and (hasKey $probe "httpGet") (or (include "goroutine-exporter.webBasicAuth" .root) (include "goroutine-exporter.webRequiresClientCert" .root)) }}
{{- $port := $probe.httpGet.port }}
{{- $_ := unset $probe "httpGet" }}
{{- $_ := set $probe "tcpSocket" (dict "port" $port) }}
{{- else if hasKey $probe "httpGet" }}
{{- $_ := set $probe.httpGet "scheme" (include "goroutine-exporter.webScheme" .root | upper) }}
{{- end }}
{{- toYaml $probe }}
{{- end }}

{{/*
The pod template shared by the Deployment, StatefulSet and DaemonSet.
*/}}
{{- define "goroutine-exporter.podTemplate" -}}
metadata:
  labels:
    {{- include "goroutine-exporter.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if and .Values.config (not .Values.existingConfigMap) }}
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- end }}
    {{- if and .Values.webConfig.config (not .Values.webConfig.existingSecret) }}
    checksum/web-config: {{ include (print $.Template.BasePath "/web-config-secret.yaml") . | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "goroutine-exporter.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  containers:
    - name: exporter
      image: {{ include "goroutine-exporter.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - --web.listen-address=:{{ .Values.containerPort }}
        - --web.max-requests={{ .Values.maxRequests }}
        - --timeout-offset={{ .Values.timeoutOffset }}
        - --web.shutdown-delay={{ .Values.shutdownDelay }}
        - --probe.memory-budget={{ .Values.memoryBudget }}
        - --log.level={{ .Values.logLevel }}
        - --log.format={{ .Values.logFormat }}
        {{- if include "goroutine-exporter.hasConfig" . }}
        - --config.file=/etc/goroutine-exporter/config/config.yml
        {{- end }}
        {{- if include "goroutine-exporter.hasWebConfig" . }}
        - --web.config.file=/etc/goroutine-exporter/web/web-config.yml
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      {{- with .Values.extraEnv }}
      env:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        - name: http
          containerPort: {{ .Values.containerPort }}
          protocol: TCP
          {{- if and (eq .Values.mode "daemonset") .Values.daemonset.hostPort }}
          hostPort: {{ .Values.daemonset.hostPort }}
          {{- end }}
      livenessProbe:
        {{- include "goroutine-exporter.healthProbe" (dict "probe" .Values.livenessProbe "root" .) | nindent 8 }}
      readinessProbe:
        {{- include "goroutine-exporter.healthProbe" (dict "probe" .Values.readinessProbe "root" .) | nindent 8 }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if include "goroutine-exporter.hasConfig" . }}
        - name: config
          mountPath: /etc/goroutine-exporter/config
          readOnly: true
        {{- end }}
        {{- if include "goroutine-exporter.hasWebConfig" . }}
        - name: web-config
          mountPath: /etc/goroutine-exporter/web
          readOnly: true
        {{- end }}
        {{- if .Values.webConfig.tlsSecretName }}
        - name: web-tls
          mountPath: /etc/goroutine-exporter/tls
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if include "goroutine-exporter.hasConfig" . }}
    - name: config
      configMap:
        name: {{ include "goroutine-exporter.configMapName" . }}
    {{- end }}
    {{- if include "goroutine-exporter.hasWebConfig" . }}
    - name: web-config
      secret:
        secretName: {{ include "goroutine-exporter.webConfigSecretName" . }}
    {{- end }}
    {{- if .Values.webConfig.tlsSecretName }}
    - name: web-tls
      secret:
        secretName: {{ .Values.webConfig.tlsSecretName }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and .Values.topologySpreadConstraints (ne .Values.mode "daemonset") }}
  topologySpreadConstraints:
    {{- toYaml .Values.topologySpreadConstraints | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
Relabelings shared by every ScrapeConfig shard: keep annotated running pods, build
__param_target from the pod IP and port annotation, __param_module from the module annotation,
instance/namespace/pod/job labels. Call with the root context.
*/}}
{{- define "goroutine-exporter.scrapeRelabelings" -}}
{{- $sc := .Values.scrapeConfig }}
{{- $scrape := regexReplaceAll "[^a-zA-Z0-9_]" $sc.annotations.scrape "_" }}
{{- $port := regexReplaceAll "[^a-zA-Z0-9_]" $sc.annotations.port "_" }}
{{- $module := regexReplaceAll "[^a-zA-Z0-9_]" $sc.annotations.module "_" }}
{{- $metricsPort := regexReplaceAll "[^a-zA-Z0-9_]" $sc.annotations.metricsPort "_" }}
- sourceLabels: [__meta_kubernetes_pod_annotation_{{ $scrape }}]
  regex: "true"
  action: keep
- sourceLabels: [__meta_kubernetes_pod_phase]
  regex: Pending|Succeeded|Failed|Unknown
  action: drop
# The pprof port: the annotation, else scrapeConfig.defaultPort.
- targetLabel: __tmp_pprof_port
  replacement: {{ $sc.defaultPort | quote }}
- sourceLabels: [__meta_kubernetes_pod_annotation_{{ $port }}]
  regex: "([0-9]+)"
  targetLabel: __tmp_pprof_port
  replacement: "$1"
# target = podIP:port (IPv4), [podIP]:port (IPv6).
- sourceLabels: [__meta_kubernetes_pod_ip, __tmp_pprof_port]
  separator: ";"
  regex: "([^:;]+);([0-9]+)"
  targetLabel: __param_target
  replacement: "$1:$2"
- sourceLabels: [__meta_kubernetes_pod_ip, __tmp_pprof_port]
  separator: ";"
  regex: "([^;]*:[^;]*);([0-9]+)"
  targetLabel: __param_target
  replacement: "[$1]:$2"
- sourceLabels: [__meta_kubernetes_pod_annotation_{{ $module }}]
  regex: "(.+)"
  targetLabel: __param_module
  replacement: "$1"
- sourceLabels: [__param_target]
  targetLabel: instance
# target = the probed pprof address, kept when instance moves to the metrics port below: the
# alerts' /report?target= link and `goroutine_triage` need it (as in watch mode).
- sourceLabels: [__param_target]
  targetLabel: target
# instance = podIP:<metrics port> when annotated: the address of the pod's own /metrics, so
# that the mixin joins goroutine series with the service's traffic and process series.
- sourceLabels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_{{ $metricsPort }}]
  separator: ";"
  regex: "([^:;]+);([0-9]+)"
  targetLabel: instance
  replacement: "$1:$2"
- sourceLabels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_{{ $metricsPort }}]
  separator: ";"
  regex: "([^;]*:[^;]*);([0-9]+)"
  targetLabel: instance
  replacement: "[$1]:$2"
- sourceLabels: [__meta_kubernetes_namespace]
  targetLabel: namespace
- sourceLabels: [__meta_kubernetes_pod_name]
  targetLabel: pod
- targetLabel: job
  replacement: {{ .Values.jobLabel | quote }}
{{- end }}

{{/*
A file of the monitoring mixin (files/) with this release's settings put in: the job the
mixin selects (jobLabel; the files say job="goroutine-exporter", in YAML and in JSON-escaped
form) and the runbook location (prometheusRule.runbookBaseURL). Call with
(dict "root" $ "path" "files/alerts.yaml").
*/}}
{{- define "goroutine-exporter.mixinFile" -}}
{{- $text := .root.Files.Get .path }}
{{- $job := .root.Values.jobLabel }}
{{- range $op := list "=" "!=" }}
{{- $text = replace (printf "job%s\"goroutine-exporter\"" $op) (printf "job%s%q" $op $job) $text }}
{{- $text = replace (printf "job%s\\\"goroutine-exporter\\\"" $op) (printf "job%s\\\"%s\\\"" $op $job) $text }}
{{- end }}
{{- with .root.Values.prometheusRule.runbookBaseURL }}
{{- $text = replace "https://github.com/goroutine-exporter/goroutine-exporter/blob/main/docs/runbook.md" . $text }}
{{- end }}
{{- $text }}
{{- end }}
