// "Exporter health": are the probes working, what did they fetch and skip (the do-no-harm
// caps on debug=2 and goroutineleak), is the exporter's configuration loaded.
local g = import '../lib/grafana.libsonnet';
local u = import '../lib/util.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local T = c.targetLabel,
    local by = u.by(c.targetLabels),
    local legend = '{{%s}}' % T,
    local sel = '%s, job=~"$job", %s=~"$instance"' % [c.goroutineSelector, T],
    local xsel = c.exporterSelector,

    'goroutine-exporter-health.json': g.dashboard(
      title='Goroutine exporter health',
      uid='%sexporter-health' % c.dashboardUIDPrefix,
      description="Probe success, duration and bytes per target, expensive fetches performed and skipped (and why), data age, and the exporter's own configuration reloads, probes and errors.",
      tags=c.dashboardTags,
      refresh=c.dashboardRefresh,
      timezone=c.dashboardTimezone,
      links=g.tagLinks(c.dashboardTags),
      variables=[
        g.datasourceVariable,
        g.queryVariable('job', 'Job', 'label_values(goroutine_probe_success{%s}, job)' % c.goroutineSelector),
        g.queryVariable('instance', 'Target', 'label_values(goroutine_probe_success{%s, job=~"$job"}, %s)' % [c.goroutineSelector, T]),
      ],
      sections=[
        {
          row: g.row('Probes'),
          lines: [
            {
              h: 6,
              panels: [
                [6, g.stat(
                  'Targets probed',
                  'Targets with a goroutine_probe_success series.',
                  [g.target('count(goroutine_probe_success{%s})' % sel, '', instant=true)],
                )],
                [6, g.stat(
                  'Targets failing',
                  "Targets whose last probe did not fetch and decode a goroutine profile, or whose scrape failed (up == 0: the exporter down, or its answer past the scrape timeout, when goroutine_probe_success is absent). The exporter's own /metrics scrape is not counted (series that carried goroutine_exporter_build_info), as in the GoroutineProbeFailing alert.",
                  // The chart's ServiceMonitor scrapes the exporter's /metrics under the probes'
                  // job, so its `up` matches `sel`; it is not a target.
                  [g.target('count(goroutine_probe_success{%s} == 0 or (up{%s} == 0 unless on (%s) last_over_time(goroutine_exporter_build_info{%s}[%s]))) or vector(0)' % [sel, sel, by, xsel, c.exporterSelfLookback], '', instant=true)],
                  steps=[{ color: 'green', value: null }, { color: 'red', value: 1 }],
                  colorMode='background',
                )],
                [12, g.timeseries(
                  'Probe success',
                  'goroutine_probe_success per target (1 = fetched and decoded).',
                  [g.target('min by (%s) (goroutine_probe_success{%s})' % [by, sel], legend)],
                  min=0,
                  fill=0,
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Probe duration',
                  'goroutine_probe_duration_seconds: wall time of the whole probe. It must stay under the scrape timeout.',
                  [g.target('max by (%s) (goroutine_probe_duration_seconds{%s})' % [by, sel], legend)],
                  unit='s',
                  fill=0,
                )],
                [12, g.timeseries(
                  'Response bytes',
                  'goroutine_probe_response_bytes per fetch made by the probe, by profile and debug level.',
                  [g.target('sum by (%s, profile, debug) (goroutine_probe_response_bytes{%s})' % [by, sel], legend + ' {{profile}} debug={{debug}}')],
                  unit='bytes',
                  fill=0,
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Expensive fetches'),
          lines: [
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Fetches performed',
                  'Targets whose last probe fetched each profile (goroutine_fetch_performed). debug=2 and goroutineleak are fetched only under the goroutine cap and the minimum interval.',
                  [g.target('sum by (profile, debug) (goroutine_fetch_performed{%s})' % sel, '{{profile}} debug={{debug}}')],
                  fill=0,
                )],
                [12, g.timeseries(
                  'Fetches skipped by reason',
                  "goroutine_fetch_skipped: over_goroutine_cap (target too big for the profile's cost), min_interval (fetched recently, result reused), unsupported (the target answered 404: it has no such profile; asked again an hour later), disabled (module option), deadline (no time left in the probe), cheap_profile_failed (the cheap debug=0 fetch failed, so the size is unknown).",
                  [g.target('sum by (profile, debug, reason) (goroutine_fetch_skipped{%s})' % sel, '{{profile}} debug={{debug}}: {{reason}}')],
                  stack=true,
                  fill=30,
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [12, g.timeseries(
                  'Data age',
                  'goroutine_fetch_age_seconds: age of the data behind the series from each profile. Wait ages and GC-proven leaks are as old as their last fetch.',
                  [g.target('max by (%s, profile, debug) (goroutine_fetch_age_seconds{%s})' % [by, sel], legend + ' {{profile}} debug={{debug}}')],
                  unit='s',
                  fill=0,
                )],
                [12, g.timeseries(
                  'Distinct and folded stacks, partial data',
                  'goroutine_stacks (distinct normalized stacks) and goroutine_stack_folded_stacks (stacks folded into stack_id="other" beyond the exported top-K); and goroutine_fetch_partial summed per target: how many of its profiles in use are partial (a cut body, or a decoder or aggregator cap reached), so their counts are lower bounds: /report says why.',
                  [
                    g.target('sum by (%s) (goroutine_stacks{%s})' % [by, sel], legend + ' stacks'),
                    g.target('sum by (%s) (goroutine_stack_folded_stacks{%s})' % [by, sel], legend + ' folded'),
                    g.target('sum by (%s) (goroutine_fetch_partial{%s})' % [by, sel], legend + ' partial profiles'),
                  ],
                  fill=0,
                )],
              ],
            },
          ],
        },
        {
          row: g.row('Exporter'),
          lines: [
            {
              h: 6,
              panels: [
                [6, g.stat(
                  'Config reload',
                  'goroutine_exporter_config_last_reload_successful of every exporter (worst shown).',
                  [g.target('min(goroutine_exporter_config_last_reload_successful{%s})' % xsel, '', instant=true)],
                  steps=[{ color: 'red', value: null }, { color: 'green', value: 1 }],
                  mappings=[{
                    type: 'value',
                    options: {
                      '0': { text: 'Failed', color: 'red', index: 0 },
                      '1': { text: 'OK', color: 'green', index: 1 },
                    },
                  }],
                  colorMode='background',
                )],
                [6, g.stat(
                  'Last successful reload',
                  'goroutine_exporter_config_last_reload_success_timestamp_seconds (oldest across exporters).',
                  [g.target('min(goroutine_exporter_config_last_reload_success_timestamp_seconds{%s}) * 1000' % xsel, '', instant=true)],
                  unit='dateTimeFromNow',
                )],
                [12, g.table(
                  'Exporters',
                  'goroutine_exporter_build_info: version and revision of each exporter.',
                  [g.target('goroutine_exporter_build_info{%s}' % xsel, '', instant=true, format='table')],
                  transformations=g.mergeAndOrganize(
                    exclude=['Time', 'Value', '__name__'],
                    order=['job', 'instance', 'version', 'revision'],
                    rename={},
                  ),
                )],
              ],
            },
            {
              h: 8,
              panels: [
                [8, g.timeseries(
                  'Probes by result',
                  'rate(goroutine_exporter_probes_total) by result.',
                  [g.target('sum by (result) (rate(goroutine_exporter_probes_total{%s}[$__rate_interval]))' % xsel, '{{result}}')],
                  unit='ops',
                  stack=true,
                  fill=30,
                )],
                [8, g.timeseries(
                  'Fetch errors and cut requests',
                  'rate(goroutine_exporter_fetch_errors_total) by reason: fetches from targets that failed; and rate(goroutine_exporter_http_requests_cut_total) by reason: requests to the exporter cut short (too large, or not sent in time: a client other than a well-behaved Prometheus).',
                  [
                    g.target('sum by (reason) (rate(goroutine_exporter_fetch_errors_total{%s}[$__rate_interval]))' % xsel, '{{reason}}'),
                    g.target('sum by (reason) (rate(goroutine_exporter_http_requests_cut_total{%s}[$__rate_interval]))' % xsel, 'request cut: {{reason}}'),
                  ],
                  unit='ops',
                  stack=true,
                  fill=30,
                )],
                [8, g.timeseries(
                  'Exporter memory and CPU',
                  "The exporter's own process_resident_memory_bytes (left) and CPU cores used (right).",
                  [
                    g.target('process_resident_memory_bytes{%s}' % xsel, '{{instance}} RSS'),
                    g.target('rate(process_cpu_seconds_total{%s}[$__rate_interval])' % xsel, '{{instance}} CPU'),
                  ],
                  unit='bytes',
                  fill=0,
                  overrides=[g.overrideByRegex('.* CPU', { unit: 'percentunit', 'custom.axisPlacement': 'right' })],
                )],
              ],
            },
          ],
        },
      ],
    ),
  },
}
