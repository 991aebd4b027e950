// A small YAML emitter for Prometheus rule files. std.manifestYamlDoc sorts keys
// alphabetically (annotations before expr) and quotes multi-line PromQL into one line; this
// keeps the conventional key order and writes multi-line strings as `|-` block scalars, so the
// generated files read like hand-written rule files and diff well.
local keyOrder = [
  'name',
  'interval',
  'limit',
  'rules',
  'record',
  'alert',
  'expr',
  'for',
  'keep_firing_for',
  'labels',
  'annotations',
  'summary',
  'description',
  'runbook_url',
];

local orderedKeys(o) =
  local fields = std.objectFields(o);
  [k for k in keyOrder if std.objectHas(o, k)]
  + [k for k in fields if !std.member(keyOrder, k)];

local isMultiline(v) = std.isString(v) && std.length(std.findSubstr('\n', v)) > 0;

// Strings are single-quoted (PromQL is full of double quotes) unless they contain a single
// quote or a control character, then JSON-style double-quoted (valid YAML).
local hasControl(v) = std.length([ch for ch in std.stringChars(v) if std.codepoint(ch) < 32]) > 0;
local scalar(v) =
  if std.isString(v) then
    if std.length(std.findSubstr("'", v)) == 0 && !hasControl(v) then "'" + v + "'"
    else std.escapeStringJson(v)
  else if std.isBoolean(v) then (if v then 'true' else 'false')
  else if v == null then 'null'
  else std.toString(v);

// One `local` with several bindings: they may refer to each other (mutual recursion).
local
  objLines(o, ind) = std.flattenArrays([entry(k, o[k], ind) for k in orderedKeys(o)]),

  arrLines(a, ind) = std.flattenArrays([itemLines(x, ind) for x in a]),

  itemLines(x, ind) =
    if std.isObject(x) then
      local ls = objLines(x, ind + '  ');
      [ind + '- ' + std.lstripChars(ls[0], ' ')] + ls[1:]
    else if isMultiline(x) || std.isArray(x) then
      error 'yaml.libsonnet: unsupported list item'
    else [ind + '- ' + scalar(x)],

  entry(k, v, ind) =
    if std.isObject(v) then
      if std.length(v) == 0 then [ind + k + ': {}'] else [ind + k + ':'] + objLines(v, ind + '  ')
    else if std.isArray(v) then
      if std.length(v) == 0 then [ind + k + ': []'] else [ind + k + ':'] + arrLines(v, ind + '  ')
    else if isMultiline(v) then
      [ind + k + ': |-'] + [if l == '' then '' else ind + '  ' + l for l in std.split(v, '\n')]
    else [ind + k + ': ' + scalar(v)];

{
  // Renders an object as a YAML document (ends with a newline).
  manifest(o, header=''):: header + std.join('\n', objLines(o, '')) + '\n',
}
