import { describe, expect, it } from 'vitest';
import { diffDefs } from './defDiff';

describe('version diff', () => {
  it('lists fields added, removed and changed with their labels and properties', () => {
    const a = { slug: 'lead', fields: [{ key: 'name', type: 'text', label: { en: 'Name', 'zh-CN': '姓名' } }, { key: 'fax', type: 'text' }] };
    const b = { slug: 'lead', fields: [{ key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '姓名' } }, { key: 'phone', type: 'phone', label: { en: 'Phone', 'zh-CN': '电话' } }] };
    expect(diffDefs(a, b, 'zh-CN')).toEqual([
      { op: 'removed', area: 'fields', id: 'fax', label: 'fax', from: { key: 'fax', type: 'text' } },
      { op: 'changed', area: 'fields', id: 'name', label: '姓名 (name)', props: ['required'], from: a.fields[0], to: b.fields[0] },
      { op: 'added', area: 'fields', id: 'phone', label: '电话 (phone)', to: b.fields[1] },
    ]);
  });

  it('matches flow nodes by id and edges by their ends', () => {
    const a = { nodes: [{ id: 'c', type: 'condition', params: { expr: 'x' } }], edges: [{ from: 'c', to: 'd', port: 'true' }] };
    const b = { nodes: [{ id: 'c', type: 'condition', params: { expr: 'y' } }, { id: 'e', type: 'task' }], edges: [{ from: 'c', to: 'e', port: 'false' }] };
    const d = diffDefs(a, b);
    expect(d.map((c) => [c.op, c.area, c.id, c.props])).toEqual([
      ['changed', 'nodes', 'c', ['params']],
      ['added', 'nodes', 'e', undefined],
      ['removed', 'edges', 'c → d (true)', undefined],
      ['added', 'edges', 'c → e (false)', undefined],
    ]);
  });

  it('compares form layout items, settings and nested settings', () => {
    const a = { layout: [{ field: 'name' }, { field: 'phone' }], success: { message: { 'zh-CN': '谢谢' } }, public: false };
    const b = { layout: [{ field: 'phone', width: 12 }, { field: 'name' }], success: { message: { 'zh-CN': '谢谢', en: 'Thanks' } }, public: true };
    expect(diffDefs(a, b).map((c) => [c.op, c.area, c.id, c.props])).toEqual([
      ['changed', 'layout', 'phone', ['width']],
      ['changed', 'success.message', '', undefined],
      ['changed', 'public', '', undefined],
    ]);
  });

  it('reports a pure reordering and nothing for equal versions', () => {
    expect(diffDefs({ fields: [{ key: 'a' }, { key: 'b' }] }, { fields: [{ key: 'b' }, { key: 'a' }] })).toEqual([{ op: 'changed', area: 'fields', id: '', label: 'fields', props: ['order'] }]);
    expect(diffDefs({ a: 1, l: [1] }, { a: 1, l: [1] })).toEqual([]);
  });

  it('report settings: measures by aggregate, filters as a setting', () => {
    const a = { kind: 'pivot', measures: [{ agg: 'count' }], filters: { stage: { eq: 'new' } } };
    const b = { kind: 'funnel', measures: [{ agg: 'count' }, { agg: 'sum', field: 'amount' }], filters: { stage: { eq: 'won' } } };
    expect(diffDefs(a, b).map((c) => [c.op, c.area, c.id])).toEqual([
      ['changed', 'kind', ''],
      ['added', 'measures', 'sum(amount)'],
      ['changed', 'filters.stage.eq', ''],
    ]);
  });
});
