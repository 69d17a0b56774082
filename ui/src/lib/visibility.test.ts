import { describe, expect, it } from 'vitest';
import type { FormItem } from '../api/types';
import { toExpr } from './condition';
import { conditionHolds, hiddenFields, rowHolds } from './visibility';

const now = new Date('2026-12-06T12:00:00Z').getTime();

describe('rowHolds', () => {
  const cases: [string, Parameters<typeof rowHolds>[0], Record<string, unknown>, boolean][] = [
    ['eq text', { field: 'a', op: 'eq', value: 'yes' }, { a: 'yes' }, true],
    ['eq missing', { field: 'a', op: 'eq', value: 'yes' }, {}, false],
    ['eq number vs text', { field: 'n', op: 'eq', value: 5 }, { n: '5' }, true],
    ['ne', { field: 'a', op: 'ne', value: 'yes' }, { a: 'no' }, true],
    ['gt missing is false', { field: 'n', op: 'gt', value: 1 }, {}, false],
    ['gte', { field: 'n', op: 'gte', value: 3 }, { n: 3 }, true],
    ['lt', { field: 'n', op: 'lt', value: 3 }, { n: 4 }, false],
    ['contains', { field: 'a', op: 'contains', value: '报价' }, { a: '正式报价单' }, true],
    ['not_contains missing', { field: 'a', op: 'not_contains', value: 'x' }, {}, true],
    ['in', { field: 'a', op: 'in', value: ['x', 'y'] }, { a: 'y' }, true],
    ['not_in', { field: 'a', op: 'not_in', value: ['x', 'y'] }, { a: 'y' }, false],
    ['has', { field: 'm', op: 'has', value: 'b' }, { m: ['a', 'b'] }, true],
    ['not_has', { field: 'm', op: 'not_has', value: 'c' }, { m: ['a', 'b'] }, true],
    ['has_any', { field: 'm', op: 'has_any', value: ['c', 'a'] }, { m: ['a'] }, true],
    ['empty blank', { field: 'a', op: 'empty' }, { a: '  ' }, true],
    ['empty list', { field: 'm', op: 'empty' }, { m: [] }, true],
    ['not_empty', { field: 'a', op: 'not_empty' }, { a: 'x' }, true],
    ['is_true', { field: 'b', op: 'is_true' }, { b: true }, true],
    ['is_false missing', { field: 'b', op: 'is_false' }, {}, true],
    ['before', { field: 'd', op: 'before', value: '2026-12-01' }, { d: '2026-11-30' }, true],
    ['after (dayjs-like)', { field: 'd', op: 'after', value: '2026-12-01' }, { d: { toISOString: () => '2026-12-02T00:00:00Z' } }, true],
    ['within_last days', { field: 'd', op: 'within_last', value: 7, value2: 'days' }, { d: '2026-12-01T12:00:00Z' }, true],
    ['within_last too old', { field: 'd', op: 'within_last', value: 3, value2: 'days' }, { d: '2026-12-01T12:00:00Z' }, false],
    ['file image', { field: 'f', op: 'file', value: { type: 'image' } }, { f: [{ name: 'a.png', type: 'image/png' }] }, true],
    ['file name', { field: 'f', op: 'file', value: { name: '报价单' } }, { f: [{ name: 'a.png', type: 'image/png' }] }, false],
  ];
  for (const [name, row, values, want] of cases) it(name, () => expect(rowHolds(row, values, now)).toBe(want));
});

describe('conditionHolds', () => {
  it('reads the expressions the condition builder writes', () => {
    const src = toExpr({ mode: 'or', items: [{ field: 'likes_tea', op: 'eq', value: 'yes' }, { mode: 'and', items: [{ field: 'n', op: 'gt', value: 2 }, { field: 'x', op: 'not_empty' }] }] });
    expect(conditionHolds(src, { likes_tea: 'yes' }, now)).toBe(true);
    expect(conditionHolds(src, { likes_tea: 'no', n: 3, x: 'a' }, now)).toBe(true);
    expect(conditionHolds(src, { likes_tea: 'no', n: 3 }, now)).toBe(false);
    expect(conditionHolds('', {}, now)).toBe(true);
  });
  it('answers null for expressions it cannot read', () => {
    expect(conditionHolds('len(record.a) > 2 ? true : false', { a: 'abc' }, now)).toBeNull();
  });
});

describe('hiddenFields', () => {
  const layout: FormItem[] = [
    { field: 'likes_tea' },
    { field: 'tea', visible: 'record.likes_tea == "yes"' },
    { section: { 'zh-CN': '详情', en: 'Details' }, visible: 'record.likes_tea != "yes"', items: [{ field: 'why' }, { field: 'other', visible: 'isEmpty(record.why)' }] },
    { field: 'free', visible: 'len(record.a) > 2 ? true : false' },
  ];
  it('hides fields whose own or section condition fails, live as values change', () => {
    expect([...hiddenFields(layout, [], {}, now)].sort()).toEqual(['tea']);
    expect([...hiddenFields(layout, [], { likes_tea: 'yes' }, now)].sort()).toEqual(['other', 'why']);
    expect([...hiddenFields(layout, [], { likes_tea: 'no', why: 'x' }, now)].sort()).toEqual(['other', 'tea']);
  });
  it('applies show and hide rules', () => {
    const rules = [
      { field: 'why', when: 'record.likes_tea == "no"', then: 'show' },
      { field: 'likes_tea', when: 'record.tea == "green"', then: 'hide' },
      { field: 'tea', when: 'record.likes_tea == "yes"', then: 'require' },
    ];
    expect([...hiddenFields(layout, rules, { likes_tea: 'maybe' }, now)].sort()).toEqual(['tea', 'why']);
    expect([...hiddenFields(layout, rules, { likes_tea: 'yes', tea: 'green' }, now)].sort()).toEqual(['likes_tea', 'other', 'why']);
  });
});
