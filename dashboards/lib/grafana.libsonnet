// Minimal Grafana dashboard builders (schemaVersion 39, Grafana 10.4+/11). Grafonnet is not
// packaged for Debian, so this covers just what the three dashboards use; every panel carries
// complete options so that the generated JSON type-checks against @grafana/schema
// (typecheck/) and renders the same in every Grafana version that reads schemaVersion 39.
{
  schemaVersion:: 39,

  // Panels and targets reference the dashboard's data source variable.
  ds:: { type: 'prometheus', uid: '${datasource}' },

  // --- queries -----------------------------------------------------------------------------
  // A Prometheus query. instant=true for tables and stats of "now"; format 'table' for tables.
  target(expr, legend='__auto', instant=false, format='time_series', refId='A', interval=''):: {
    datasource: $.ds,
    editorMode: 'code',
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
    format: format,
    refId: refId,
  } + (if interval != '' then { interval: interval } else {}),

  // Assigns refIds A, B, C... to a list of targets.
  withRefIds(targets):: [
    targets[i] { refId: std.char(std.codepoint('A') + i) }
    for i in std.range(0, std.length(targets) - 1)
  ],

  // --- variables ---------------------------------------------------------------------------
  datasourceVariable:: {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'prometheus',
    regex: '',
    hide: 0,
    refresh: 1,
    options: [],
    current: { selected: false, text: 'default', value: 'default' },
  },

  // A label_values() variable. all=true adds "All" (regex .+) and multi-select.
  queryVariable(name, label, query, all=true, multi=true, hide=0):: {
    type: 'query',
    name: name,
    label: label,
    datasource: $.ds,
    query: query,
    refresh: 2,  // on time range change: targets come and go
    regex: '',
    sort: 1,
    hide: hide,
    options: [],
    includeAll: all,
    multi: multi,
  } + (if all then {
         allValue: '.+',
         current: { selected: true, text: ['All'], value: ['$__all'] },
       } else {}),

  customVariable(name, label, values, default):: {
    type: 'custom',
    name: name,
    label: label,
    query: std.join(',', values),
    hide: 0,
    includeAll: false,
    multi: false,
    current: { selected: true, text: default, value: default },
    options: [
      { selected: v == default, text: v, value: v }
      for v in values
    ],
  },

  // --- field config ------------------------------------------------------------------------
  thresholds(steps=[{ color: 'green', value: null }]):: { mode: 'absolute', steps: steps },

  timeseriesCustom(fill=10, stack=false, draw='line', axisLabel=''):: {
    axisBorderShow: false,
    axisCenteredZero: false,
    axisColorMode: 'text',
    axisLabel: axisLabel,
    axisPlacement: 'auto',
    barAlignment: 0,
    drawStyle: draw,
    fillOpacity: fill,
    gradientMode: 'none',
    hideFrom: { legend: false, tooltip: false, viz: false },
    insertNulls: false,
    lineInterpolation: 'linear',
    lineWidth: 1,
    pointSize: 4,
    scaleDistribution: { type: 'linear' },
    showPoints: 'never',
    spanNulls: false,
    stacking: { group: 'A', mode: if stack then 'normal' else 'none' },
    thresholdsStyle: { mode: 'off' },
  },

  tableCustom:: {
    align: 'auto',
    cellOptions: { type: 'auto' },
    inspect: false,
    filterable: false,
    hideFrom: { legend: false, tooltip: false, viz: false },
  },

  // Field override: properties for the fields whose display name matches a regex.
  overrideByRegex(regex, properties):: {
    matcher: { id: 'byRegexp', options: regex },
    properties: [{ id: k, value: properties[k] } for k in std.objectFields(properties)],
  },
  overrideByName(name, properties):: {
    matcher: { id: 'byName', options: name },
    properties: [{ id: k, value: properties[k] } for k in std.objectFields(properties)],
  },

  // --- panels ------------------------------------------------------------------------------
  local panelBase(type, title, description, targets) = {
    type: type,
    title: title,
    description: description,
    datasource: $.ds,
    targets: $.withRefIds(targets),
  },

  timeseries(title, description, targets, unit='short', stack=false, fill=10, min=null, overrides=[], legendCalcs=['lastNotNull', 'max'], axisLabel=''):: panelBase('timeseries', title, description, targets) {
    fieldConfig: {
      defaults: {
        color: { mode: 'palette-classic' },
        custom: $.timeseriesCustom(fill=fill, stack=stack, axisLabel=axisLabel),
        mappings: [],
        thresholds: $.thresholds(),
        unit: unit,
      } + (if min != null then { min: min } else {}),
      overrides: overrides,
    },
    options: {
      legend: {
        calcs: legendCalcs,
        displayMode: 'table',
        placement: 'bottom',
        showLegend: true,
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  stat(title, description, targets, unit='short', steps=[{ color: 'green', value: null }], mappings=[], graph=false, colorMode='value', calc='lastNotNull'):: panelBase('stat', title, description, targets) {
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' },
        mappings: mappings,
        thresholds: $.thresholds(steps),
        unit: unit,
      },
      overrides: [],
    },
    options: {
      colorMode: colorMode,
      graphMode: if graph then 'area' else 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      percentChangeColorMode: 'standard',
      reduceOptions: { calcs: [calc], fields: '', values: false },
      showPercentChange: false,
      textMode: 'auto',
      wideLayout: true,
    },
  },

  // A table of instant queries. transformations: see mergeAndOrganize.
  table(title, description, targets, overrides=[], transformations=[], sortBy=[]):: panelBase('table', title, description, targets) {
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' },
        custom: $.tableCustom,
        mappings: [],
        thresholds: $.thresholds(),
      },
      overrides: overrides,
    },
    options: {
      cellHeight: 'sm',
      frameIndex: 0,
      showHeader: true,
      sortBy: sortBy,
    },
    transformations: transformations,
  },

  // Joins several table-format queries on their common labels, then hides, orders and
  // renames columns: indexByName and renameByName are {column: position} / {column: title}.
  mergeAndOrganize(exclude, order, rename):: [
    { id: 'merge', options: {} },
    {
      id: 'organize',
      options: {
        excludeByName: { [k]: true for k in exclude },
        indexByName: { [order[i]]: i for i in std.range(0, std.length(order) - 1) },
        renameByName: rename,
      },
    },
  ],

  heatmap(title, description, targets, unit='s'):: panelBase('heatmap', title, description, targets) {
    fieldConfig: {
      defaults: {
        custom: {
          hideFrom: { legend: false, tooltip: false, viz: false },
          scaleDistribution: { type: 'linear' },
        },
      },
      overrides: [],
    },
    options: {
      calculate: false,
      cellGap: 1,
      color: {
        exponent: 0.5,
        fill: 'dark-orange',
        mode: 'scheme',
        reverse: false,
        scale: 'exponential',
        scheme: 'Oranges',
        steps: 64,
      },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: 'auto' },
      showValue: 'auto',
      tooltip: { mode: 'single', showColorScale: false, yHistogram: false },
      yAxis: { axisPlacement: 'left', reverse: false, unit: unit },
    },
  },

  text(title, content):: {
    type: 'text',
    title: title,
    options: { mode: 'markdown', content: content, code: { language: 'plaintext', showLineNumbers: false, showMiniMap: false } },
  },

  row(title):: {
    type: 'row',
    title: title,
    collapsed: false,
    panels: [],
  },

  // --- layout ------------------------------------------------------------------------------
  // sections: [{ row: 'Title', lines: [{ h: 8, panels: [[width, panel], ...] }, ...] }, ...]
  // Assigns gridPos (24 columns, top to bottom) and stable ids (in order of appearance).
  layout(sections)::
    local lines = std.flattenArrays([
      [{ h: 1, panels: [[24, s.row]] }] + s.lines
      for s in sections
    ]);
    local step(acc, line) =
      local placed = std.foldl(
        function(a, wp) {
          x: a.x + wp[0],
          id: a.id + 1,
          panels: a.panels + [wp[1] { id: a.id, gridPos: { h: line.h, w: wp[0], x: a.x, y: acc.y } }],
        },
        line.panels,
        { x: 0, id: acc.id, panels: [] }
      );
      assert placed.x <= 24 : 'panels wider than 24 columns in one line';
      { y: acc.y + line.h, id: placed.id, panels: acc.panels + placed.panels };
    std.foldl(step, lines, { y: 0, id: 1, panels: [] }).panels,

  // --- dashboard ---------------------------------------------------------------------------
  dashboard(title, uid, description, tags, variables, sections, annotations=[], links=[], refresh='1m', timezone='utc', from='now-6h'):: {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ] + annotations,
    },
    description: description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    links: links,
    liveNow: false,
    panels: $.layout(sections),
    refresh: refresh,
    schemaVersion: $.schemaVersion,
    tags: tags,
    templating: { list: variables },
    time: { from: from, to: 'now' },
    timepicker: {},
    timezone: timezone,
    title: title,
    uid: uid,
    version: 1,
    weekStart: '',
  },

  // Links to the other dashboards of the mixin (by tag), keeping time range and variables.
  tagLinks(tags):: [{
    asDropdown: true,
    icon: 'external link',
    includeVars: true,
    keepTime: true,
    tags: tags,
    targetBlank: false,
    title: 'Goroutine dashboards',
    tooltip: '',
    type: 'dashboards',
    url: '',
  }],

  // A Prometheus annotation: one marker per series and step where expr returns a sample.
  promAnnotation(name, expr, title, text, color='red', step='1m'):: {
    datasource: $.ds,
    enable: true,
    hide: false,
    iconColor: color,
    name: name,
    expr: expr,
    step: step,
    titleFormat: title,
    textFormat: text,
    tagKeys: '',
    useValueForTime: false,
  },
}
