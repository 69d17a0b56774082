// Pure conversion between a flow definition and the canvas model used by @xyflow/react.
import type { FlowDef, FlowEdge, FlowNode } from '../api/types';

export interface CanvasNode {
  id: string;
  type: string; // always "step" on the canvas
  position: { x: number; y: number };
  data: { nodeType: string; name?: string; params: Record<string, unknown>; retry?: FlowNode['retry'] };
}

export interface CanvasEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  label?: string;
}

/** Output ports of a node type (the catalog's when given): condition true/false, approval approved/rejected, wait_event event/timeout, switch its cases + default. */
export function portsOf(nodeType: string, params: Record<string, unknown> = {}, catalogPorts?: string[]): string[] {
  if (catalogPorts && catalogPorts.length) return catalogPorts;
  if (nodeType === 'condition') return ['true', 'false'];
  if (nodeType === 'approval') return ['approved', 'rejected'];
  if (nodeType === 'wait_event') return ['event', 'timeout'];
  if (nodeType === 'switch') {
    const cases = Array.isArray(params.cases) ? (params.cases as { port?: string; value?: unknown }[]) : [];
    const ports = cases.map((c, i) => String(c.port ?? c.value ?? `case_${i + 1}`));
    return [...ports, 'default'];
  }
  return [];
}

/** Definition -> canvas, laying out nodes without a stored position in layers (autoLayout). */
export function toCanvas(flow: FlowDef): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const auto = (flow.nodes ?? []).some((n) => !n.position) ? autoLayout(flow.nodes ?? [], flow.edges ?? []) : {};
  const nodes = (flow.nodes ?? []).map((n, i) => ({
    id: n.id,
    type: 'step',
    position: n.position ?? auto[n.id] ?? { x: 80 + (i % 3) * 40, y: 40 + i * 120 },
    data: { nodeType: n.type, name: n.name, params: { ...(n.params ?? {}) }, retry: n.retry },
  }));
  const edges = (flow.edges ?? []).map((e, i) => ({
    id: `e${i}-${e.from}-${e.to}-${e.port ?? ''}`,
    source: e.from,
    target: e.to,
    sourceHandle: e.port ?? null,
    label: e.port,
  }));
  return { nodes, edges };
}

/** Canvas -> definition (keeps trigger and other keys of base). */
export function fromCanvas(base: FlowDef, nodes: CanvasNode[], edges: CanvasEdge[]): FlowDef {
  const ids = new Set(nodes.map((n) => n.id));
  const outNodes: FlowNode[] = nodes.map((n) => {
    const node: FlowNode = {
      id: n.id,
      type: n.data.nodeType,
      params: n.data.params ?? {},
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    };
    if (n.data.name) node.name = n.data.name;
    if (n.data.retry && (n.data.retry.max_attempts || n.data.retry.backoff)) node.retry = n.data.retry;
    return node;
  });
  const outEdges: FlowEdge[] = edges
    .filter((e) => ids.has(e.source) && ids.has(e.target))
    .map((e) => (e.sourceHandle ? { from: e.source, to: e.target, port: e.sourceHandle } : { from: e.source, to: e.target }));
  return { ...base, nodes: outNodes, edges: outEdges };
}

/** A fresh node id like "script_2" unique among ids. */
export function nextNodeId(type: string, ids: string[]): string {
  const base = type.replace(/[^a-z0-9]+/gi, '_').replace(/^_+|_+$/g, '').toLowerCase() || 'node';
  const used = new Set(ids);
  for (let i = 1; ; i++) {
    const id = `${base}_${i}`;
    if (!used.has(id)) return id;
  }
}

/** Rejects a new connection that would duplicate an edge, loop to itself or create a cycle. */
export function canConnect(edges: CanvasEdge[], source: string, target: string, port?: string | null): boolean {
  if (source === target) return false;
  if (edges.some((e) => e.source === source && e.target === target && (e.sourceHandle ?? null) === (port ?? null))) return false;
  // cycle: is source reachable from target?
  const adj = new Map<string, string[]>();
  for (const e of edges) adj.set(e.source, [...(adj.get(e.source) ?? []), e.target]);
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const n = stack.pop()!;
    if (n === source) return false;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(adj.get(n) ?? []));
  }
  return true;
}

/** Default params of a node type (used when dropping a new node). */
export function defaultParams(nodeType: string): Record<string, unknown> {
  switch (nodeType) {
    case 'script':
      return { code: 'return { ok: true };' };
    case 'condition':
      return { expr: '' };
    case 'delay':
      return { duration: '1h' };
    case 'record.create':
      return { entity: '', values: {} };
    case 'record.update':
      return { entity: '', id: '{{ trigger.record.id }}', values: {} };
    case 'record.find':
      return { entity: '', filter: {}, limit: 10 };
    case 'report':
      return { report: '', period: 'last_week' };
    case 'notify':
      return { to: 'role:', title: '' };
    default:
      return {};
  }
}

/** Trigger types of DESIGN section 4. */
export const TRIGGER_TYPES = ['manual', 'record.created', 'record.updated', 'stage.changed', 'record.activity', 'form.submitted', 'webhook', 'cron', 'poll'];

/** Core node types used when the catalog is unavailable. */
export const CORE_NODE_TYPES = [
  'condition', 'switch', 'set', 'script', 'record.create', 'record.update', 'record.find', 'record.delete',
  'assign', 'delay', 'wait_event', 'task', 'approval', 'connector', 'subflow', 'foreach', 'report', 'notify',
];

/**
 * Positions for nodes of a definition that stores none (templates, API-made flows): layered top-down
 * by the longest path from a start node, siblings side by side, so branches (true/false,
 * approved/rejected) fan out instead of stacking in one column over each other's edges.
 */
export function autoLayout(nodes: { id: string }[], edges: { from: string; to: string }[]): Record<string, { x: number; y: number }> {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const preds = new Map<string, string[]>();
  for (const e of edges) if (known.has(e.from) && known.has(e.to) && e.from !== e.to) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  const rank = new Map<string, number>();
  const visiting = new Set<string>();
  const rankOf = (id: string): number => {
    const r = rank.get(id);
    if (r !== undefined) return r;
    if (visiting.has(id)) return 0; // a cycle (refused at publish): break it
    visiting.add(id);
    const v = Math.max(-1, ...(preds.get(id) ?? []).map(rankOf)) + 1;
    visiting.delete(id);
    rank.set(id, v);
    return v;
  };
  const layers = new Map<number, string[]>();
  for (const id of ids) {
    const r = rankOf(id);
    layers.set(r, [...(layers.get(r) ?? []), id]);
  }
  const out: Record<string, { x: number; y: number }> = {};
  const W = 240;
  for (const [r, layer] of layers) {
    layer.forEach((id, i) => {
      out[id] = { x: 80 + (i - (layer.length - 1) / 2) * W, y: 40 + r * 140 };
    });
  }
  return out;
}

/** Publish errors (422 field paths) grouped by where the designer shows them. */
export interface FlowErrors {
  /** Per node id: messages keyed by param (the first key under params), '' for the node itself. */
  nodes: Record<string, Record<string, string>>;
  /** Trigger messages keyed by trigger key ('' for the trigger itself). */
  trigger: Record<string, string>;
}

/** Maps 422 field errors such as `nodes[3].params.expr`, `edges[1].port` or `trigger.entity` onto nodes and params of def. */
export function flowErrors(errors: { field?: string; message?: string }[], def: Pick<FlowDef, 'nodes' | 'edges'>): FlowErrors {
  const out: FlowErrors = { nodes: {}, trigger: {} };
  const add = (id: string, key: string, msg: string) => {
    const m = (out.nodes[id] ??= {});
    m[key] = m[key] ? `${m[key]}; ${msg}` : msg;
  };
  for (const e of errors) {
    const f = (e.field ?? '').replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
    const msg = e.message ?? '';
    let m = /^nodes\[(\d+)\](?:\.params\.?([^.[]+))?/.exec(f);
    if (m) {
      const n = def.nodes?.[Number(m[1])];
      if (n) add(n.id, m[2] ?? '', msg);
      continue;
    }
    m = /^edges\[(\d+)\]/.exec(f);
    if (m) {
      const ed = def.edges?.[Number(m[1])];
      if (ed) add(ed.from, '', `${ed.from} → ${ed.to}: ${msg}`);
      continue;
    }
    m = /^trigger(?:\.([^.[]+))?/.exec(f);
    if (m) {
      const k = m[1] ?? '';
      out.trigger[k] = out.trigger[k] ? `${out.trigger[k]}; ${msg}` : msg;
    }
  }
  return out;
}

/** Size of a node on the canvas (for overlap checks). */
export const NODE_W = 180;
export const NODE_H = 64;

/** A position near want where a new node overlaps none of taken (moves down, then right). */
export function placeFree(want: { x: number; y: number }, taken: { x: number; y: number }[]): { x: number; y: number } {
  const clash = (p: { x: number; y: number }) => taken.some((o) => Math.abs(o.x - p.x) < NODE_W + 10 && Math.abs(o.y - p.y) < NODE_H + 16);
  for (let col = 0; col < 20; col++) {
    for (let row = 0; row < 40; row++) {
      const p = { x: want.x + col * (NODE_W + 30), y: want.y + row * (NODE_H + 26) };
      if (!clash(p)) return p;
    }
  }
  return want;
}

/** name, or "name 2", "name 3"… when another node already has it. */
export function uniqueName(name: string, names: (string | undefined)[]): string {
  const used = new Set(names.filter(Boolean));
  if (!used.has(name)) return name;
  for (let i = 2; ; i++) if (!used.has(`${name} ${i}`)) return `${name} ${i}`;
}

/** Ids of the nodes from which id is reachable (the steps whose outputs it may read), nearest first. */
export function upstreamOf(id: string, edges: { source: string; target: string }[]): string[] {
  const preds = new Map<string, string[]>();
  for (const e of edges) preds.set(e.target, [...(preds.get(e.target) ?? []), e.source]);
  const out: string[] = [];
  const seen = new Set([id]);
  const queue = [...(preds.get(id) ?? [])];
  while (queue.length) {
    const n = queue.shift()!;
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
    queue.push(...(preds.get(n) ?? []));
  }
  return out;
}
