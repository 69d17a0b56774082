// Definition and resource shapes of the Tessera HTTP contract (DESIGN sections 4, 6, 6a).
// Servers may send more keys; every shape stays open.

export type Label = string | Record<string, string>;

export interface User {
  id: string;
  email: string;
  name?: string;
  is_admin?: boolean;
  team_id?: string | null;
  locale?: string;
  disabled?: boolean;
  [k: string]: unknown;
}

export interface Me extends User {
  user?: User;
  csrf_token?: string;
}

export interface AppSummary {
  id?: string;
  slug: string;
  name: string;
  description?: string;
  created_at?: string;
  [k: string]: unknown;
}

export interface DefSummary {
  slug: string;
  label?: Label;
  title?: Label;
  entity?: string;
  version?: number;
  published_version?: number | null;
  status?: string;
  [k: string]: unknown;
}

export interface AppDetail extends AppSummary {
  /** what the caller may do with the app itself */
  can?: { design?: boolean; manage?: boolean; export?: boolean };
  /** actions the caller holds per resource, e.g. {"entity:lead": ["read","create"]} */
  permissions?: Record<string, string[]>;
  entities?: DefSummary[];
  forms?: DefSummary[];
  flows?: DefSummary[];
  reports?: DefSummary[];
  dashboards?: DefSummary[];
}

export type OptionDef = string | { value: string; label?: Label; color?: string };

export interface FieldDef {
  key: string;
  type: string;
  label?: Label;
  help?: Label;
  required?: boolean;
  unique?: boolean;
  indexed?: boolean;
  multiple?: boolean;
  options?: OptionDef[];
  default?: unknown;
  min?: number;
  max?: number;
  max_length?: number;
  pattern?: string;
  precision?: number;
  currency?: string;
  region?: string;
  target?: string;
  formula?: string;
  prefix?: string;
  accept?: string[];
  max_size?: number;
  sensitive?: boolean;
  description?: string;
  /** lines: the columns of every row, and the most rows */
  fields?: FieldDef[];
  max_rows?: number;
  /** relation column of a lines field: copies fields of the chosen record into the row ({column: target field}) */
  fill?: Record<string, string>;
  /** column of a lines field that only the server (fill) writes */
  readonly?: boolean;
  [k: string]: unknown;
}

export interface Transition {
  from: string;
  to: string;
  require?: string;
  message?: string;
  allow?: boolean;
}

export interface StagesDef {
  field: string;
  order: string[];
  transitions?: Transition[];
  terminal?: string[];
  probability?: Record<string, number>;
  strict?: boolean;
}

export interface DedupeDef {
  keys: string[][];
  on_duplicate?: 'merge' | 'reject' | string;
}

export interface EntityDef {
  slug: string;
  label?: Label;
  description?: string;
  fields: FieldDef[];
  stages?: StagesDef;
  dedupe?: DedupeDef;
  title_field?: string;
  [k: string]: unknown;
}

export interface FormItem {
  field?: string;
  section?: Label;
  items?: FormItem[];
  label?: Label;
  placeholder?: Label;
  help?: Label;
  required?: boolean;
  hidden?: boolean;
  width?: number;
  /** a condition (expression over record.<key>); the item shows while it holds */
  visible?: string;
  default?: unknown;
  read_only?: boolean;
  validation?: FormValidation;
  /** relation fields of public forms: the linked entity's fields visitors may see and search */
  lookup?: string[];
  /** sections: 1..3 columns */
  columns?: number;
  collapsible?: boolean;
  collapsed?: boolean;
  /** sections: "" (panel) or "tab" */
  display?: string;
}

export interface FormValidation {
  min?: number;
  max?: number;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  message?: Label;
}

export interface FormDef {
  slug: string;
  entity: string;
  title?: Label;
  public?: boolean;
  public_id?: string;
  layout: FormItem[];
  rules?: { field: string; when: string; then: string }[];
  defaults?: Record<string, unknown>;
  hidden?: string[];
  success?: { message?: Label; redirect?: string };
  consent?: Label;
  [k: string]: unknown;
}

export interface FlowNode {
  id: string;
  type: string;
  name?: string;
  params?: Record<string, unknown>;
  position?: { x: number; y: number };
  retry?: { max_attempts?: number; backoff?: string };
}

export interface FlowEdge {
  from: string;
  to: string;
  port?: string;
}

export interface TriggerDef {
  type: string;
  entity?: string;
  form?: string;
  fields?: string[];
  condition?: string;
  from?: string;
  to?: string;
  key?: string;
  mode?: string;
  schedule?: string;
  timezone?: string;
  [k: string]: unknown;
}

/** A flow draft's pinned test-run sample (never published). */
export interface TestSample {
  record?: string;
  label?: string;
  body?: unknown;
}

export interface FlowDef {
  slug: string;
  label?: Label;
  trigger: TriggerDef;
  nodes: FlowNode[];
  edges?: FlowEdge[];
  test_sample?: TestSample;
  [k: string]: unknown;
}

export interface ReportDef {
  slug: string;
  entity: string;
  label?: Label;
  kind: string;
  dimensions?: { field: string; bucket?: string; label?: Label }[];
  measures?: { agg: string; field?: string; label?: Label }[];
  filters?: unknown;
  sort?: string[];
  limit?: number;
  compare?: { field?: string; period: string };
  chart?: { type?: string; [k: string]: unknown };
  params?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface Widget {
  id?: string;
  report: string;
  x: number;
  y: number;
  w: number;
  h: number;
  title?: Label;
}

export interface DashboardDef {
  slug: string;
  label?: Label;
  widgets: Widget[];
  [k: string]: unknown;
}

export interface RecordItem {
  id: string;
  data: Record<string, unknown>;
  version: number;
  owner_id?: string;
  team_id?: string;
  created_at?: string;
  updated_at?: string;
  merged?: boolean;
  /** names of the relation, user and team ids the record holds (GET answers) */
  display?: Record<string, string>;
  [k: string]: unknown;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
  /** names of the relation, user and team ids the page holds; ids the caller may not read have none */
  display?: Record<string, string>;
}

export interface ReportData {
  /** options: display labels of the stored values (select fields, stages), in the answer's language. */
  columns: { key: string; label?: Label; type?: string; options?: Record<string, string> }[];
  rows: unknown[][];
}

export interface RunStep {
  node: string;
  status: string;
  output?: unknown;
  error?: unknown;
  attempt?: number;
  started_at?: string;
  finished_at?: string;
}

export interface Run {
  id: string;
  status: string;
  flow?: string;
  version?: number;
  created_at?: string;
  started_at?: string;
  finished_at?: string;
  /** when the latest working became ready, and the total time spent waiting for a worker */
  queued_at?: string | null;
  queued_ms?: number;
  error?: unknown;
  output?: unknown;
  steps?: RunStep[];
  [k: string]: unknown;
}

export interface Task {
  id: string;
  title?: string;
  name?: string;
  kind?: string;
  status?: string;
  due?: string | null;
  due_at?: string | null;
  reminded_at?: string | null;
  app?: string;
  entity?: string;
  record_id?: string;
  run_id?: string;
  outcome?: string;
  comment?: string;
  created_at?: string;
  [k: string]: unknown;
}

/** A JSON-schema-like parameter schema from the catalog. */
export interface ParamSchema {
  type?: string;
  title?: Label;
  description?: Label;
  properties?: Record<string, ParamSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  items?: ParamSchema;
  format?: string;
  [k: string]: unknown;
}

export interface CatalogNode {
  type: string;
  label?: Label;
  title?: Label;
  category?: string;
  description?: Label;
  ports?: string[];
  params?: ParamSchema | unknown[];
  schema?: ParamSchema;
  [k: string]: unknown;
}

export interface CatalogOperation {
  connector?: string;
  operation?: string;
  name?: string;
  label?: Label;
  params?: ParamSchema | unknown[];
  schema?: ParamSchema;
  [k: string]: unknown;
}
