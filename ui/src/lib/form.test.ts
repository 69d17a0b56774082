import { describe, expect, it } from 'vitest';
import type { FormItem } from '../api/types';
import { addSection, dropIndex, formatDefaults, insertAt, itemAt, moveTo, parseDefaults, pathOf, placedFields, pruneLayout, removeAt, spanOf, updateAt } from './form';
import { keyFromLabels, slugKey } from './fieldKey';
import { pinyin } from 'pinyin-pro';

const py = (s: string) => pinyin(s, { toneType: 'none', type: 'array', nonZh: 'consecutive', v: true }).join(' ');
const T = { 'zh-CN': '联系方式', en: 'Contact' };

function sample(): FormItem[] {
  return [{ field: 'name' }, { section: T, columns: 2, items: [{ field: 'phone' }, { field: 'email' }] }, { field: 'note' }];
}

describe('form layout model', () => {
  it('inserts at a drop position; an index past the end appends (a drop at the bottom)', () => {
    const table: { at: { section: number | null; index: number }; want: string[] }[] = [
      { at: { section: null, index: 0 }, want: ['x', 'name', 'phone', 'email', 'note'] },
      { at: { section: null, index: 3 }, want: ['name', 'phone', 'email', 'note', 'x'] },
      { at: { section: null, index: 99 }, want: ['name', 'phone', 'email', 'note', 'x'] },
      { at: { section: 1, index: 0 }, want: ['name', 'x', 'phone', 'email', 'note'] },
      { at: { section: 1, index: 2 }, want: ['name', 'phone', 'email', 'x', 'note'] },
      { at: { section: 1, index: 99 }, want: ['name', 'phone', 'email', 'x', 'note'] },
    ];
    for (const { at, want } of table) expect(placedFields(insertAt(sample(), at, { field: 'x' }))).toEqual(want);
    // a field is placed once
    const l = sample();
    expect(insertAt(l, { section: null, index: 0 }, { field: 'email' })).toBe(l);
  });

  it('drops before or after an item by the pointer position', () => {
    expect(dropIndex(2, 100, 40, 110)).toBe(2);
    expect(dropIndex(2, 100, 40, 130)).toBe(3);
  });

  it('moves items between the top level and sections', () => {
    const table: { from: [number] | [number, number]; at: { section: number | null; index: number }; want: string[] }[] = [
      { from: [0], at: { section: null, index: 3 }, want: ['phone', 'email', 'note', 'name'] }, // to the bottom
      { from: [2], at: { section: null, index: 0 }, want: ['note', 'name', 'phone', 'email'] },
      { from: [0], at: { section: 1, index: 1 }, want: ['phone', 'name', 'email', 'note'] }, // into a section
      { from: [1, 0], at: { section: null, index: 3 }, want: ['name', 'email', 'note', 'phone'] }, // out of it
      { from: [1, 0], at: { section: 1, index: 2 }, want: ['name', 'email', 'phone', 'note'] }, // within it
      { from: [1, 1], at: { section: 1, index: 0 }, want: ['name', 'email', 'phone', 'note'] },
      { from: [0], at: { section: null, index: 1 }, want: ['name', 'phone', 'email', 'note'] }, // in place
    ];
    for (const { from, at, want } of table) expect(placedFields(moveTo(sample(), from, at)), JSON.stringify({ from, at })).toEqual(want);
    // a section dragged into a section lands after it, with its fields
    const l = addSection(sample(), { 'zh-CN': '其他', en: 'Other' }, 3);
    const moved = moveTo(l, [3], { section: 1, index: 0 });
    expect(moved.map((it) => it.field ?? (it.section as { en: string }).en)).toEqual(['name', 'Contact', 'Other', 'note']);
  });

  it('addresses, updates and removes items by path', () => {
    const l = sample();
    expect(pathOf(l, 'email')).toEqual([1, 1]);
    expect(pathOf(l, 'note')).toEqual([2]);
    expect(pathOf(l, 'nope')).toBeNull();
    expect(itemAt(l, [1, 0])?.field).toBe('phone');
    const u = updateAt(l, [1, 0], { required: true, help: { 'zh-CN': '手机', en: 'Mobile' } });
    expect(itemAt(u, [1, 0])).toEqual({ field: 'phone', required: true, help: { 'zh-CN': '手机', en: 'Mobile' } });
    expect(itemAt(updateAt(u, [1, 0], { required: undefined }), [1, 0])).toEqual({ field: 'phone', help: { 'zh-CN': '手机', en: 'Mobile' } });
    expect(updateAt(l, [1], { columns: 3 })[1].columns).toBe(3);
    expect(placedFields(removeAt(l, [1, 1]))).toEqual(['name', 'phone', 'note']);
    expect(placedFields(removeAt(l, [1]))).toEqual(['name', 'note']);
    expect(l).toEqual(sample()); // nothing mutated
  });

  it('sections: columns as spans, new sections, pruning unknown fields', () => {
    expect([spanOf(undefined), spanOf(1), spanOf(2), spanOf(3), spanOf(7)]).toEqual([24, 24, 12, 8, 24]);
    const l = addSection([], T);
    expect(l).toEqual([{ section: T, columns: 2, items: [] }]);
    expect(placedFields(pruneLayout(sample(), ['name', 'email']))).toEqual(['name', 'email']);
    expect(pruneLayout(sample(), ['name'])[1]).toEqual({ section: T, columns: 2, items: [] });
  });

  it('parses server-set defaults', () => {
    expect(parseDefaults('source=web\n utm = ad=1 \nbad')).toEqual({ source: 'web', utm: 'ad=1' });
    expect(formatDefaults({ source: 'web', n: 1 })).toBe('source=web\nn=1');
  });
});

describe('field keys of controls dropped on a form', () => {
  it('come from Chinese labels as pinyin, unique among the entity keys', () => {
    const table: [string, string][] = [
      ['手机号', 'shou_ji_hao'],
      ['客户电话', 'ke_hu_dian_hua'],
      ['是否喜欢茶', 'shi_fou_xi_huan_cha'],
      ['绿茶 2 号', 'lv_cha_2_hao'],
      ['1号楼', 'f_1_hao_lou'],
    ];
    for (const [label, key] of table) expect(slugKey(label, py), label).toBe(key);
    expect(keyFromLabels({ 'zh-CN': '电话' }, ['dian_hua'], py)).toBe('dian_hua_2');
    expect(keyFromLabels({ 'zh-CN': '电话', en: 'Phone' }, [], py)).toBe('phone');
    expect(keyFromLabels({ 'zh-CN': '？？' }, ['field'], py)).toBe('field_2');
  });
});
