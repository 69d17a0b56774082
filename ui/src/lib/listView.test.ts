import { describe, expect, it } from 'vitest';
import type { EntityDef } from '../api/types';
import { allColumns, cleanColumns, configKey, defaultColumns, exportQuery, groupFilter, groupableFields, moveColumn, rowErrors, sameConfig, toggleColumn, viewBody } from './listView';

const deal: EntityDef = {
  slug: 'deal',
  fields: [
    { key: 'name', type: 'text' },
    { key: 'notes', type: 'textarea' },
    { key: 'amount', type: 'money' },
    { key: 'stage', type: 'select', options: ['new', 'won'] },
    { key: 'account', type: 'relation', target: 'account' },
    { key: 'tags', type: 'multiselect' },
    { key: 'helpers', type: 'user', multiple: true },
  ],
};

describe('list view columns', () => {
  it('defaults to the short fields, the owner and the update time', () => {
    expect(defaultColumns(deal)).toEqual(['name', 'amount', 'stage', 'account', 'tags', 'helpers', 'owner_id', 'updated_at']);
  });
  it('shows a column again at its place in the entity order and hides it', () => {
    const all = allColumns(deal);
    expect(toggleColumn(['name', 'stage'], 'amount', true, all)).toEqual(['name', 'amount', 'stage']);
    expect(toggleColumn(['stage', 'name'], 'owner_id', true, all)).toEqual(['stage', 'name', 'owner_id']);
    expect(toggleColumn(['name', 'stage'], 'name', false, all)).toEqual(['stage']);
    expect(toggleColumn(['name'], 'name', true, all)).toEqual(['name']);
  });
  it('moves a column by drag and drop', () => {
    expect(moveColumn(['a', 'b', 'c', 'd'], 'd', 'b')).toEqual(['a', 'd', 'b', 'c']);
    expect(moveColumn(['a', 'b', 'c'], 'a', 'c')).toEqual(['b', 'c', 'a']);
    expect(moveColumn(['a', 'b'], 'x', 'a')).toEqual(['a', 'b']);
  });
  it('drops columns the entity no longer has and repeats', () => {
    expect(cleanColumns(['gone', 'name', 'name', 'created_at'], deal)).toEqual(['name', 'created_at']);
  });
  it('groups by single-valued select, user and relation fields', () => {
    expect(groupableFields(deal).map((f) => f.key)).toEqual(['stage', 'account']);
  });
});

describe('saved view configuration', () => {
  it('compares configurations ignoring empty filters and the default sort', () => {
    expect(sameConfig({ columns: ['a'], filter: {}, sort: '' }, { columns: ['a'], filter: null, sort: '-created_at', group: '' })).toBe(true);
    expect(sameConfig({ columns: ['a', 'b'] }, { columns: ['b', 'a'] })).toBe(false);
    expect(configKey({ columns: [], group: 'stage' })).toContain('"group":"stage"');
  });
  it('saves only what is set', () => {
    expect(viewBody(' 大单 ', false, { columns: ['name'], filter: {}, sort: '-amount', group: '' })).toEqual({ name: '大单', shared: false, config: { columns: ['name'], sort: '-amount' } });
  });
  it('filters a group by its value or by emptiness, within the view filter', () => {
    expect(groupFilter(null, 'stage', 'won')).toEqual({ stage: { eq: 'won' } });
    expect(groupFilter({ amount: { gte: 1 } }, 'stage', null)).toEqual({ and: [{ amount: { gte: 1 } }, { stage: { is_empty: true } }] });
  });
  it('exports the view: filter, sort and columns in order', () => {
    expect(exportQuery({ columns: ['stage', 'name'], filter: { stage: 'won' }, sort: 'name' })).toEqual({ filter: '{"stage":"won"}', sort: 'name', columns: 'stage,name' });
    expect(exportQuery({ columns: [] })).toEqual({ filter: undefined, sort: undefined, columns: undefined });
  });
});

describe('import errors', () => {
  it('maps the errors of a request to file rows', () => {
    expect(rowErrors([{ field: 'rows[1].title', message: 'required' }, { field: 'rows[0]', code: 'duplicate', message: 'dup' }, { field: 'header', message: 'x' }], 500)).toEqual([
      { row: 501, field: 'title', code: undefined, message: 'required' },
      { row: 500, field: '', code: 'duplicate', message: 'dup' },
    ]);
  });
});

describe('server messages', () => {
  it('shows one language of a bilingual message', async () => {
    const { localMessage } = await import('./listView');
    expect(localMessage('title is required (标题 为必填项)', 'zh-CN')).toBe('标题 为必填项');
    expect(localMessage('title is required (标题 为必填项)', 'en')).toBe('title is required');
    expect(localMessage('请上传带客户名称的正式报价单', 'en')).toBe('请上传带客户名称的正式报价单');
    expect(localMessage('at most 500 (x)', 'zh-CN')).toBe('at most 500 (x)');
  });
});
