import { describe, expect, it } from 'vitest';
import type { FlowDef } from '../api/types';
import { normalizeCatalog, schemaOf } from './catalog';
import { buildFilter, encodeFilter } from './filter';
import { canConnect, fromCanvas, nextNodeId, portsOf, toCanvas } from './flow';
import { chartOption, cleanReport } from './report';
import { describeChanges } from './history';
import { teamTree, togglePermission } from '../api/admin';
import { defList, unwrapDefinition } from '../api/defs';

describe('flow canvas conversion', () => {
  const flow: FlowDef = {
    slug: 'route',
    trigger: { type: 'record.created', entity: 'lead' },
    nodes: [
      { id: 'check', type: 'condition', params: { expr: 'trigger.record.amount > 1000' } },
      { id: 'big', type: 'task', params: { title: 'call' } },
      { id: 'small', type: 'script', params: { code: 'return 1' }, position: { x: 5, y: 6 } },
    ],
    edges: [{ from: 'check', to: 'big', port: 'true' }, { from: 'check', to: 'small', port: 'false' }],
  };
  it('round-trips a definition', () => {
    const c = toCanvas(flow);
    expect(c.nodes[2].position).toEqual({ x: 5, y: 6 });
    expect(c.edges[0].sourceHandle).toBe('true');
    const back = fromCanvas(flow, c.nodes, c.edges);
    expect(back.trigger).toEqual(flow.trigger);
    expect(back.edges).toEqual(flow.edges);
    expect(back.nodes.map((n) => [n.id, n.type, n.params])).toEqual(flow.nodes.map((n) => [n.id, n.type, n.params]));
  });
  it('drops edges to deleted nodes', () => {
    const c = toCanvas(flow);
    const back = fromCanvas(flow, c.nodes.filter((n) => n.id !== 'big'), c.edges);
    expect(back.edges).toEqual([{ from: 'check', to: 'small', port: 'false' }]);
  });
  it('knows ports and rejects cycles', () => {
    expect(portsOf('condition')).toEqual(['true', 'false']);
    expect(portsOf('switch', { cases: [{ value: 'a' }, { port: 'b' }] })).toEqual(['a', 'b', 'default']);
    expect(portsOf('script')).toEqual([]);
    const edges = toCanvas(flow).edges;
    expect(canConnect(edges, 'big', 'check')).toBe(false);
    expect(canConnect(edges, 'big', 'big')).toBe(false);
    expect(canConnect(edges, 'check', 'big', 'true')).toBe(false);
    expect(canConnect(edges, 'big', 'small')).toBe(true);
    expect(nextNodeId('record.create', ['record_create_1'])).toBe('record_create_2');
  });
});

describe('catalog', () => {
  it('normalises connectors and fills in core nodes', () => {
    const c = normalizeCatalog({
      nodes: [{ type: 'script', params: { type: 'object', properties: { code: { type: 'string' } } } }],
      connectors: [{ name: 'email', operations: [{ name: 'send', params: { type: 'object', properties: { to: { type: 'string' } } } }] }],
    });
    expect(schemaOf(c.nodes.find((n) => n.type === 'script'))?.properties?.code).toBeTruthy();
    expect(c.nodes.some((n) => n.type === 'condition')).toBe(true);
    expect(c.operations).toHaveLength(1);
    expect(c.operations[0]).toMatchObject({ connector: 'email', operation: 'send' });
    expect(schemaOf(c.operations[0])?.properties?.to).toBeTruthy();
    const listed = normalizeCatalog({
      nodes: [{ type: 'condition', ports: ['true', 'false'], params: [{ key: 'expr', type: 'expr', required: true }] }],
      connectors: [{ id: 'wecom', operations: [{ id: 'send', params: [{ key: 'type', type: 'select', default: 'text', options: [{ value: 'text', label: { en: 'Text', 'zh-CN': '文本' } }] }, { key: 'content', type: 'text', required: true }] }] }],
    });
    const cond = schemaOf(listed.nodes.find((n) => n.type === 'condition'))!;
    expect(cond.properties!.expr).toMatchObject({ type: 'string', format: 'expr' });
    expect(cond.required).toEqual(['expr']);
    expect(listed.operations[0]).toMatchObject({ connector: 'wecom', operation: 'send' });
    const op = schemaOf(listed.operations[0])!;
    expect(op.properties!.type).toMatchObject({ enum: ['text'], default: 'text' });
    expect(op.properties!.content).toMatchObject({ format: 'textarea' });
    expect(op.required).toEqual(['content']);
    const flat = normalizeCatalog({ operations: [{ name: 'sms.send' }] });
    expect(flat.operations[0]).toMatchObject({ connector: 'sms', operation: 'send' });
    expect(flat.triggers).toEqual([]);
  });

  it('lists connectors\' polling triggers with their parameter schemas', () => {
    const c = normalizeCatalog({
      connectors: [{ id: 'http', operations: [{ id: 'request', params: [] }],
        triggers: [{ id: 'json_items', label: { en: 'New items', 'zh-CN': '新条目' }, params: [{ key: 'url', type: 'string', required: true }, { key: 'max_items', type: 'number', default: 100 }] }] }],
    });
    expect(c.operations).toHaveLength(1);
    expect(c.triggers).toHaveLength(1);
    expect(c.triggers[0]).toMatchObject({ connector: 'http', operation: 'json_items' });
    const s = schemaOf(c.triggers[0])!;
    expect(s.required).toEqual(['url']);
    expect(s.properties!.max_items).toMatchObject({ type: 'number', default: 100 });
  });
});

describe('record filter builder', () => {
  it('builds AND and OR filters', () => {
    expect(buildFilter([{ field: 'stage', op: 'eq', value: 'new' }, { field: 'amount', op: 'gte', value: '1000' }], 'and', ['amount'])).toEqual({ stage: { eq: 'new' }, amount: { gte: 1000 } });
    expect(buildFilter([{ field: 'a', op: 'eq', value: 'x' }, { field: 'b', op: 'in', value: 'p, q' }], 'or')).toEqual({ or: [{ a: { eq: 'x' } }, { b: { in: ['p', 'q'] } }] });
    expect(buildFilter([{ field: 'amount', op: 'gt', value: '1' }, { field: 'amount', op: 'lt', value: '5' }], 'and', ['amount'])).toEqual({ amount: { gt: 1, lt: 5 } });
    expect(buildFilter([{ field: '', op: 'eq', value: 'x' }])).toBeNull();
    expect(encodeFilter(null)).toBeUndefined();
  });
});

describe('reports', () => {
  it('cleans incomplete dimensions and measures', () => {
    const r = cleanReport({ slug: 'r', entity: 'lead', kind: 'pivot', dimensions: [{ field: '' }, { field: 'stage' }], measures: [{ agg: 'sum' }, { agg: 'count' }] });
    expect(r.dimensions).toEqual([{ field: 'stage' }]);
    expect(r.measures).toEqual([{ agg: 'count' }]);
  });
  it('builds chart options from tabular data', () => {
    const data = { columns: [{ key: 'stage' }, { key: 'count', label: { en: 'Count', 'zh-CN': '数量' } }], rows: [['new', 3], ['won', 1]] };
    const bar = chartOption(data, 'bar', 'zh-CN') as { xAxis: { data: string[] }; series: { name: string; data: unknown[] }[] };
    expect(bar.xAxis.data).toEqual(['new', 'won']);
    expect(bar.series[0]).toMatchObject({ name: '数量', data: [{ value: 3, row: 0 }, { value: 1, row: 1 }] });
    const funnel = chartOption(data, 'funnel', 'en') as { series: { type: string; data: unknown[] }[] };
    expect(funnel.series[0].type).toBe('funnel');
    expect(chartOption(data, 'table', 'en')).toBeNull();
    expect(chartOption({ columns: [], rows: [] }, 'bar', 'en')).toBeNull();
  });
});

describe('definitions and admin helpers', () => {
  it('unwraps definition answers', () => {
    expect(unwrapDefinition({ slug: 'lead', fields: [] }).def).toEqual({ slug: 'lead', fields: [] });
    // a report's own kind is part of its body, not server metadata
    expect(unwrapDefinition({ slug: 'f', entity: 'deal', kind: 'funnel', published_version: 1, modified: false }).def).toEqual({ slug: 'f', entity: 'deal', kind: 'funnel' });
    const w = unwrapDefinition<{ slug: string }>({ draft: { slug: 'lead' }, published_version: 2 });
    expect(w.def).toEqual({ slug: 'lead' });
    expect(w.meta.published_version).toBe(2);
    const flat = unwrapDefinition<Record<string, unknown>>({ slug: 'lead', fields: [], kind: 'entities', modified: true, published_version: 1, updated_at: 'x' });
    expect(flat.def).toEqual({ slug: 'lead', fields: [] });
    expect(flat.meta.published_version).toBe(1);
  });
  it('lists definitions from several app shapes', () => {
    expect(defList({ slug: 'a', name: 'A', entities: [{ slug: 'lead' }, 'deal'] } as never, 'entities').map((d) => d.slug)).toEqual(['lead', 'deal']);
    expect(defList({ slug: 'a', name: 'A', definitions: { forms: [{ slug: 'f' }] } } as never, 'forms').map((d) => d.slug)).toEqual(['f']);
    expect(defList(undefined, 'flows')).toEqual([]);
    const fromDraft = defList({ slug: 'a', name: 'A', forms: [{ slug: 'web', draft: { slug: 'web', entity: 'lead', title: '官网' }, published_version: 1 }] } as never, 'forms');
    expect(fromDraft[0]).toMatchObject({ slug: 'web', entity: 'lead', label: '官网', published_version: 1 });
  });
  it('toggles permissions', () => {
    let p = togglePermission([], 'entity:lead', 'read', true);
    p = togglePermission(p, 'entity:lead', 'update', true, 'all');
    expect(p).toEqual([{ resource: 'entity:lead', actions: ['read', 'update'], scope: 'own' }]);
    p = togglePermission(p, 'entity:lead', 'read', false);
    p = togglePermission(p, 'entity:lead', 'update', false);
    expect(p).toEqual([]);
  });
  it('builds the team tree', () => {
    const tree = teamTree([{ id: 'b', name: '上海', parent_id: 'a' }, { id: 'a', name: '华东' }, { id: 'c', name: 'Orphan', parent_id: 'zz' }]);
    expect(tree.map((n) => n.title)).toEqual(['Orphan', '华东']);
    expect(tree[1].children.map((n) => n.title)).toEqual(['上海']);
  });
});

describe('record history', () => {
  it('formats [old, new] pairs and other shapes', () => {
    expect(describeChanges({ stage: [null, 'proposal'], amount: [80000, 99] })).toEqual(['stage: ∅ → proposal', 'amount: 80000 → 99']);
    expect(describeChanges({ files: [[], [{ id: '1', name: '报价单.pdf' }]] }, (k) => (k === 'files' ? '附件' : k))).toEqual(['附件: ∅ → 报价单.pdf']);
    expect(describeChanges({ stage: { from: 'a', to: 'b' } })).toEqual(['stage: a → b']);
    expect(describeChanges(null)).toEqual([]);
  });
});
