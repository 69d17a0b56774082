import { describe, expect, it } from 'vitest';
import { autoLayout, flowErrors, toCanvas } from './flow';

describe('autoLayout', () => {
  it('puts branches side by side one layer below their source', () => {
    const pos = autoLayout(
      [{ id: 'submit' }, { id: 'approve' }, { id: 'yes' }, { id: 'no' }],
      [{ from: 'submit', to: 'approve' }, { from: 'approve', to: 'yes' }, { from: 'approve', to: 'no' }],
    );
    expect(pos.submit.y).toBeLessThan(pos.approve.y);
    expect(pos.yes.y).toBe(pos.no.y);
    expect(pos.yes.y).toBeGreaterThan(pos.approve.y);
    expect(pos.yes.x).not.toBe(pos.no.x);
  });

  it('ranks a join below its longest path and survives a cycle', () => {
    const pos = autoLayout([{ id: 'a' }, { id: 'b' }, { id: 'c' }], [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'a', to: 'c' }, { from: 'c', to: 'a' }]);
    expect(Object.keys(pos).sort()).toEqual(['a', 'b', 'c']);
    expect(pos.c.y).toBeGreaterThan(pos.b.y);
  });

  it('is used by toCanvas only when positions are missing', () => {
    const c = toCanvas({ slug: 'f', trigger: { type: 'manual' }, nodes: [{ id: 'a', type: 'set', position: { x: 5, y: 6 } }], edges: [] });
    expect(c.nodes[0].position).toEqual({ x: 5, y: 6 });
    const d = toCanvas({ slug: 'f', trigger: { type: 'manual' }, nodes: [{ id: 'a', type: 'condition' }, { id: 'b', type: 'set' }, { id: 'c', type: 'set' }], edges: [{ from: 'a', to: 'b', port: 'true' }, { from: 'a', to: 'c', port: 'false' }] });
    expect(d.nodes[1].position.y).toBe(d.nodes[2].position.y);
  });
});

describe('flowErrors', () => {
  const def = {
    nodes: [{ id: 'check', type: 'condition' }, { id: 'mail', type: 'notify' }, { id: 'rep', type: 'report' }],
    edges: [{ from: 'check', to: 'mail', port: 'maybe' }],
  };
  it('maps node params, edges and trigger keys of a 422', () => {
    const e = flowErrors(
      [
        { field: 'nodes[0].params.expr', message: 'unexpected token EOF' },
        { field: 'nodes[2].params.period', message: 'period must be one of today, …' },
        { field: 'nodes[1]', message: 'unknown node type' },
        { field: 'edges[0].port', message: 'node "check" has ports true, false' },
        { field: 'trigger.entity', message: 'no such entity' },
        { field: 'slug', message: 'ignored' },
      ],
      def,
    );
    expect(e.nodes.check.expr).toBe('unexpected token EOF');
    expect(e.nodes.check['']).toContain('check → mail');
    expect(e.nodes.rep.period).toContain('period must be');
    expect(e.nodes.mail['']).toBe('unknown node type');
    expect(e.trigger.entity).toBe('no such entity');
  });
  it('accepts JSON-pointer paths and nested params', () => {
    const e = flowErrors([{ field: '/nodes/1/params/to/0', message: 'bad assignee' }, { field: 'nodes[9].params.x', message: 'gone' }], def);
    expect(e.nodes.mail.to).toBe('bad assignee');
    expect(Object.keys(e.nodes)).toEqual(['mail']);
  });
});

describe('portsOf', () => {
  it('knows the ports of branching nodes without the catalog and prefers the catalog', async () => {
    const { portsOf } = await import('./flow');
    expect(portsOf('wait_event')).toEqual(['event', 'timeout']);
    expect(portsOf('approval')).toEqual(['approved', 'rejected']);
    expect(portsOf('switch', { cases: [{ port: 'big' }, { equals: 'x' }] })).toEqual(['big', 'case_2', 'default']);
    expect(portsOf('wait_event', {}, ['a'])).toEqual(['a']);
    expect(portsOf('set')).toEqual([]);
  });
});

describe('canvas placement and names', () => {
  it('places a dropped node where released unless it would overlap', async () => {
    const { placeFree } = await import('./flow');
    expect(placeFree({ x: 100, y: 100 }, [])).toEqual({ x: 100, y: 100 });
    const p = placeFree({ x: 100, y: 100 }, [{ x: 110, y: 110 }]);
    expect(Math.abs(p.y - 110) >= 64 || Math.abs(p.x - 110) >= 180).toBe(true);
  });
  it('numbers duplicate names and finds upstream nodes', async () => {
    const { uniqueName, upstreamOf } = await import('./flow');
    expect(uniqueName('审批', ['审批', '审批 2'])).toBe('审批 3');
    expect(uniqueName('Approval', [])).toBe('Approval');
    expect(upstreamOf('c', [{ source: 'a', target: 'b' }, { source: 'b', target: 'c' }, { source: 'x', target: 'y' }])).toEqual(['b', 'a']);
  });
});
