// Types the generated dashboards are checked against. Grafana ships no JSON schema for
// dashboards, only the TypeScript types in @grafana/schema; wrap.mjs turns every generated
// dashboard into `export const d: Dashboard = <json>;` plus one constant per panel typed by the
// panel's own plugin types, and tsc checks them.
import type * as schema from '@grafana/schema';
import type {
  Options as TimeSeriesOptions,
  FieldConfig as TimeSeriesFieldConfig,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type {
  Options as TableOptions,
  FieldConfig as TableFieldConfig,
} from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type {
  Options as HeatmapOptions,
  FieldConfig as HeatmapFieldConfig,
} from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';

// JSON spells a string enum member as its value ("absolute"), TypeScript only accepts the
// member (ThresholdsMode.Absolute). Json<T> replaces every string enum in T by the union of
// its values and leaves everything else as strict as it was: a misspelled value or a wrong
// field type is still an error, and excess property checks still apply to object literals.
export type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

// The whole dashboard model, as Grafana's own types describe it, except that annotations may
// also be Prometheus annotations (see PromAnnotation below).
export type Dashboard = Omit<Json<schema.Dashboard>, 'annotations'> & {
  annotations?: { list?: Annotation[] };
};

// A Prometheus query as the dashboards write it. @grafana/schema has no Prometheus
// DataQuery type (the plugin ships its own), so this lists the fields Grafana's Prometheus
// query editor reads; anything else is an excess property and an error.
export interface PromQuery {
  datasource: schema.DataSourceRef;
  refId: string;
  expr: string;
  legendFormat?: string;
  editorMode?: 'code' | 'builder';
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  hide?: boolean;
}

// A panel whose options and field config are typed by its plugin's types.
type TypedPanel<Type extends string, Options, Custom> = Omit<
  Json<schema.Panel>,
  'type' | 'options' | 'fieldConfig' | 'targets'
> & {
  type: Type;
  title: string;
  description: string;
  datasource: schema.DataSourceRef;
  gridPos: schema.GridPos;
  id: number;
  targets: PromQuery[];
  options: Json<Options>;
  fieldConfig: {
    defaults: Omit<Json<schema.FieldConfig>, 'custom'> & { custom?: Json<Custom> };
    overrides: Json<schema.FieldConfigSource['overrides']>;
  };
};

export type TimeSeriesPanel = TypedPanel<'timeseries', TimeSeriesOptions, TimeSeriesFieldConfig>;
export type StatPanel = TypedPanel<'stat', StatOptions, never>;
export type TablePanel = TypedPanel<'table', TableOptions, TableFieldConfig>;
export type HeatmapPanel = TypedPanel<'heatmap', HeatmapOptions, HeatmapFieldConfig>;
export type RowPanel = Json<schema.RowPanel> & { type: 'row'; gridPos: schema.GridPos; id: number };

// Every panel of a generated dashboard must be one of these (a misspelled panel type fails).
export type Panel = TimeSeriesPanel | StatPanel | TablePanel | HeatmapPanel | RowPanel;

// Prometheus annotations keep the query in the fields Grafana's Prometheus data source
// migrates from (expr, step, titleFormat, ...): declared here because schema.AnnotationQuery
// only knows the generic `target`.
export type PromAnnotation = Json<schema.AnnotationQuery> & {
  expr: string;
  step: string;
  titleFormat: string;
  textFormat: string;
  tagKeys: string;
  useValueForTime: boolean;
};
export type Annotation = Json<schema.AnnotationQuery> | PromAnnotation;
