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

/** Output ports of a node type: condition has true/false, switch has its cases + default. */
export function portsOf(nodeType: string, params: Record<string, unknown> = {}, catalogPorts?: string[]): string[] {
  if (catalogPorts && catalogPorts.length) return catalogPorts;
  if (nodeType === 'condition') return ['true', 'false'];
  if (nodeType === 'approval') return ['approved', 'rejected'];
  if (nodeType === 'switch') {
    const cases = Array.isArray(params.cases) ? (params.cases as { port?: string; value?: unknown }[]) : [];
    const ports = cases.map((c, i) => String(c.port ?? c.value ?? `case_${i + 1}`));
    return [...ports, 'default'];
  }
  return [];
}

/** Definition -> canvas, laying out nodes without a stored position in a simple column. */
export function toCanvas(flow: FlowDef): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const nodes = (flow.nodes ?? []).map((n, i) => ({
    id: n.id,
    type: 'step',
    position: n.position ?? { x: 80 + (i % 3) * 40, y: 40 + i * 120 },
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
      return { expr: 'true' };
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
export const TRIGGER_TYPES = ['manual', 'record.created', 'record.updated', 'stage.changed', 'form.submitted', 'webhook', 'cron', 'poll'];

/** Core node types used when the catalog is unavailable. */
export const CORE_NODE_TYPES = [
  'condition', 'switch', 'set', 'script', 'record.create', 'record.update', 'record.find', 'record.delete',
  'assign', 'delay', 'wait_event', 'task', 'approval', 'connector', 'subflow', 'foreach', 'report', 'notify',
];
