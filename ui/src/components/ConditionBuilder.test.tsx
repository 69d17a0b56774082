import { App } from 'antd';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../i18n';
import { ConditionInput, FilterInput } from './ConditionBuilder';
import type { FieldDef } from '../api/types';
import { setupDom } from '../testDom';

setupDom();

const fields: FieldDef[] = [
  { key: 'stage', type: 'select', label: { en: 'Stage', 'zh-CN': '阶段' }, options: ['new', 'won'] },
  { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
];

function wrap(node: React.ReactNode) {
  return render(
    <QueryClientProvider client={new QueryClient()}>
      <App>{node}</App>
    </QueryClientProvider>,
  );
}

describe('ConditionInput', () => {
  it('shows a parseable expression as rows with field labels', async () => {
    await i18n.changeLanguage('en');
    wrap(<ConditionInput app="crm" fields={fields} value='record.stage == "new"' onChange={() => {}} />);
    expect(screen.getAllByTestId('cond-row')).toHaveLength(1);
    expect(screen.getByTestId('cond-field').textContent).toContain('Stage');
    expect(screen.queryByTestId('cond-text')).toBeNull();
  });

  it('keeps an expression it cannot show as rows as text, unchanged', async () => {
    await i18n.changeLanguage('zh-CN');
    const onChange = vi.fn();
    const src = 'len(record.files) > 2 && record.amount * 2 > 100';
    wrap(<ConditionInput app="crm" fields={fields} value={src} onChange={onChange} />);
    expect((screen.getByTestId('cond-text') as HTMLTextAreaElement).value).toBe(src);
    expect(screen.getByText('此表达式无法显示为条件行，已按原样保留。')).toBeTruthy();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('removing a row writes the remaining expression', async () => {
    await i18n.changeLanguage('en');
    const onChange = vi.fn();
    wrap(<ConditionInput app="crm" fields={fields} root="trigger.record" value='trigger.record.stage == "new" || (trigger.record.amount != nil && trigger.record.amount > 5)' onChange={onChange} />);
    expect(screen.getAllByTestId('cond-row')).toHaveLength(2);
    fireEvent.click(screen.getAllByTestId('cond-remove')[0]);
    expect(onChange).toHaveBeenLastCalledWith('(trigger.record.amount != nil && trigger.record.amount > 5)');
  });
});

describe('FilterInput', () => {
  it('shows filter JSON as rows and writes the filter back', async () => {
    await i18n.changeLanguage('en');
    const onChange = vi.fn();
    wrap(<FilterInput app="crm" fields={fields} value={{ stage: { eq: 'new' }, created_at: { period: 'this_month' } }} onChange={onChange} />);
    expect(screen.getAllByTestId('cond-row')).toHaveLength(2);
    expect(screen.getByText('This month')).toBeTruthy();
    fireEvent.click(screen.getAllByTestId('cond-remove')[0]);
    expect(onChange).toHaveBeenLastCalledWith({ created_at: { period: 'this_month' } });
  });
});
