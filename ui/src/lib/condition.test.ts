import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../api/types';
import { ALL_OPS, type CondGroup, fromExpr, fromFilter, toExpr, toFilter } from './condition';

// The same file is evaluated by the server (runtime/exprfn/conditions_test.go): every expression
// written here must give "want" there, for both roots.
const file = join(process.cwd(), 'src/lib/testdata/conditions.json');
const data = JSON.parse(readFileSync(file, 'utf8')) as {
  cases: { name: string; rows: CondGroup; expr?: string; flow?: string; want: boolean; gate_only?: boolean }[];
};

describe('condition expressions', () => {
  if (process.env.GOLDEN) {
    for (const c of data.cases) {
      c.expr = toExpr(c.rows, 'record');
      c.flow = toExpr(c.rows, 'trigger.record');
    }
    writeFileSync(file, JSON.stringify(data, null, 1) + '\n');
  }

  it.each(data.cases.map((c) => [c.name, c] as const))('%s: rows -> expression -> rows', (_n, c) => {
    expect(toExpr(c.rows, 'record')).toBe(c.expr);
    expect(toExpr(c.rows, 'trigger.record')).toBe(c.flow);
    expect(fromExpr(c.expr, 'record')).toEqual(c.rows);
    expect(fromExpr(c.flow, 'trigger.record')).toEqual(c.rows);
  });

  it('covers every expression operator', () => {
    const used = new Set<string>();
    const walk = (g: CondGroup) => g.items.forEach((x) => ('items' in x ? walk(x) : used.add(x.op)));
    data.cases.forEach((c) => walk(c.rows));
    const exprOps = ALL_OPS.filter((o) => !['between', 'period'].includes(o));
    expect(exprOps.filter((o) => !used.has(o))).toEqual([]);
  });

  it('reads an empty expression as no rows and writes no rows as ""', () => {
    expect(fromExpr('', 'record')).toEqual({ mode: 'and', items: [] });
    expect(toExpr({ mode: 'or', items: [] }, 'record')).toBe('');
  });

  it('reads flow variables outside the root as dotted fields', () => {
    const g = fromExpr('steps.find.count > 0 && trigger.record.stage == "won"', 'trigger.record');
    expect(g).toEqual({ mode: 'and', items: [{ field: 'steps.find.count', op: 'gt', value: 0 }, { field: 'stage', op: 'eq', value: 'won' }] });
    expect(toExpr(g!, 'trigger.record')).toBe('(steps.find.count != nil && steps.find.count > 0) && trigger.record.stage == "won"');
  });

  it.each([
    ['a function it does not know', 'len(record.files) > 2'],
    ['arithmetic', 'record.amount * 2 > 100'],
    ['a negated group', '!(record.a == 1 || record.b == 2)'],
    ['a comparison of two fields', 'record.a == record.b'],
    ['a ternary', 'record.a ? true : false'],
    ['broken syntax', 'record.a == '],
    ['an unknown variable alone', 'foo == 1'],
    ['a nested path under the root', 'record.a.b == 1'],
  ])('returns null for %s so the text stays as written', (_n, src) => {
    expect(fromExpr(src, 'record')).toBeNull();
  });
});

const fields: FieldDef[] = [
  { key: 'stage', type: 'select', options: ['new', 'won'] },
  { key: 'amount', type: 'money' },
  { key: 'due', type: 'date' },
  { key: 'vip', type: 'boolean' },
  { key: 'tags', type: 'multiselect' },
  { key: 'files', type: 'attachment' },
  { key: 'name', type: 'text' },
];

describe('condition filters', () => {
  it.each<[string, CondGroup, unknown]>([
    ['and merges fields', { mode: 'and', items: [{ field: 'stage', op: 'eq', value: 'new' }, { field: 'amount', op: 'gte', value: 1000 }] }, { stage: { eq: 'new' }, amount: { gte: 1000 } }],
    ['or', { mode: 'or', items: [{ field: 'stage', op: 'eq', value: 'new' }, { field: 'amount', op: 'gt', value: 5 }] }, { or: [{ stage: { eq: 'new' } }, { amount: { gt: 5 } }] }],
    ['same field, two operators', { mode: 'and', items: [{ field: 'amount', op: 'gte', value: 1 }, { field: 'amount', op: 'lte', value: 9 }] }, { amount: { gte: 1, lte: 9 } }],
    ['same field and operator twice uses and', { mode: 'and', items: [{ field: 'name', op: 'contains', value: 'a' }, { field: 'name', op: 'contains', value: 'b' }] }, { and: [{ name: { contains: 'a' } }, { name: { contains: 'b' } }] }],
    ['relative period', { mode: 'and', items: [{ field: 'due', op: 'period', value: 'last_7_days' }] }, { due: { period: 'last_7_days' } }],
    ['dates', { mode: 'and', items: [{ field: 'due', op: 'before', value: '2026-01-01' }, { field: 'created_at', op: 'after', value: '2025-01-01' }] }, { due: { lt: '2026-01-01' }, created_at: { gt: '2025-01-01' } }],
    ['between', { mode: 'and', items: [{ field: 'amount', op: 'between', value: 1, value2: 5 }] }, { amount: { between: [1, 5] } }],
    ['booleans', { mode: 'and', items: [{ field: 'vip', op: 'is_true' }] }, { vip: { eq: true } }],
    ['boolean false', { mode: 'and', items: [{ field: 'vip', op: 'is_false' }] }, { vip: { ne: true } }],
    ['negations', { mode: 'and', items: [{ field: 'name', op: 'not_contains', value: 'x' }, { field: 'stage', op: 'not_in', value: ['won'] }] }, { and: [{ not: { name: { contains: 'x' } } }, { not: { stage: { in: ['won'] } } }] }],
    ['multi and empty', { mode: 'and', items: [{ field: 'tags', op: 'has', value: 'a' }, { field: 'name', op: 'empty' }, { field: 'stage', op: 'not_empty' }] }, { tags: { contains: 'a' }, name: { is_empty: true }, stage: { is_empty: false } }],
    ['multi any of', { mode: 'and', items: [{ field: 'tags', op: 'has_any', value: ['a', 'b'] }] }, { tags: { in: ['a', 'b'] } }],
    ['attachment name', { mode: 'and', items: [{ field: 'files', op: 'file', value: { name: '报价单' } }] }, { files: { contains: '报价单' } }],
    ['nested group', { mode: 'and', items: [{ field: 'vip', op: 'is_true' }, { mode: 'or', items: [{ field: 'stage', op: 'eq', value: 'new' }, { field: 'amount', op: 'lt', value: 3 }] }] }, { and: [{ vip: { eq: true } }, { or: [{ stage: { eq: 'new' } }, { amount: { lt: 3 } }] }] }],
  ])('%s round trips', (_n, g, json) => {
    expect(toFilter(g)).toEqual(json);
    expect(fromFilter(json, fields)).toEqual(g);
  });

  it('skips incomplete rows and gives null for nothing', () => {
    expect(toFilter({ mode: 'and', items: [{ field: 'stage', op: 'eq' }, { field: '', op: 'eq', value: 1 }] })).toBeNull();
  });

  it('reads the shorthand and JSON text', () => {
    expect(fromFilter('{"stage":"new"}', fields)).toEqual({ mode: 'and', items: [{ field: 'stage', op: 'eq', value: 'new' }] });
  });

  it('returns null for filters it cannot show', () => {
    expect(fromFilter({ not: { or: [] } }, fields)).toBeNull();
    expect(fromFilter({ amount: { like: 1 } }, fields)).toBeNull();
    expect(fromFilter('{bad', fields)).toBeNull();
  });
});
