import { render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { EntityDef } from '../../api/types';
import i18n from '../../i18n';
import { setupDom } from '../../testDom';
import { ValueTable, paramLabels } from './ValueTable';

setupDom();

const deal = { slug: 'deal', label: { 'zh-CN': '商机', en: 'Deal' }, fields: [{ key: 'amount', type: 'money', label: { 'zh-CN': '金额', en: 'Amount' } }, { key: 'name', type: 'text', label: { 'zh-CN': '名称', en: 'Name' } }] } as unknown as EntityDef;
const schema = { properties: { entity: { title: { 'zh-CN': '实体', en: 'Entity' } }, values: { title: { 'zh-CN': '字段值', en: 'Field values' } } } };

describe('ValueTable', () => {
  afterEach(() => i18n.changeLanguage('zh-CN'));

  it('labels parameters and fields, nests objects, shows lists as tags and yes/no instead of JSON', async () => {
    await i18n.changeLanguage('zh-CN');
    const input = { entity: 'deal', values: { amount: 260000, name: '星河' }, notify: true, tags: ['a', 'b'], steps: [{ id: 1 }, { id: 2 }] };
    render(<ValueTable value={input} labels={paramLabels(schema as never, 'zh-CN')} entity={deal} testId="v" />);
    const v = screen.getByTestId('v');
    expect(v.textContent).not.toContain('{');
    expect(v.textContent).not.toContain('true');
    for (const s of ['实体', '商机', '字段值', '金额', '名称', '260000', '星河', '是', '#1', '#2']) expect(v.textContent).toContain(s);
    // the key stays as secondary text next to its label
    const row = within(v).getByText('字段值').closest('tr')!;
    expect(row.textContent).toContain('values');
    expect(within(v).getByText('a').className).toContain('ant-tag');
  });

  it('labels the columns of a record output and shows times in local time, not ISO', async () => {
    await i18n.changeLanguage('zh-CN');
    render(<ValueTable value={{ id: 'r1', created_at: '2026-12-06T08:45:32.896014Z', data: { amount: 5 } }} entity={deal} testId="v" />);
    const v = screen.getByTestId('v');
    for (const s of ['编号', '创建时间', '字段', '金额']) expect(v.textContent).toContain(s);
    expect(v.textContent).toMatch(/2026-12-0\d \d\d:\d\d:32/);
    expect(v.textContent).not.toContain('T08:45');
  });

  it('speaks English and caps what it draws', async () => {
    await i18n.changeLanguage('en');
    const many = Array.from({ length: 25 }, (_, i) => i);
    render(<ValueTable value={{ list: many, off: false, deep: { a: { b: { c: { d: { e: 1 } } } } } }} entity={deal} testId="v" />);
    const v = screen.getByTestId('v');
    expect(v.textContent).toContain('No');
    expect(v.textContent).toContain('and 5 more');
    expect(v.textContent).toContain('{"e":1}'); // only below the drawn depth
  });

  it('shows a dash for nothing and plain text for a scalar', () => {
    const { rerender } = render(<ValueTable value={null} testId="v" />);
    expect(screen.getByTestId('v').textContent).toBe('—');
    rerender(<ValueTable value="done" testId="v" />);
    expect(screen.getByTestId('v').textContent).toBe('done');
  });
});
