import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App as AntApp } from 'antd';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { EntityDef } from '../../api/types';
import i18n from '../../i18n';
import { aiFieldType, credentialNames, extractSchema, listParam, setList, splitInput, summariseDefaults } from '../../lib/aiNode';
import { paramsToSchema } from '../../lib/catalog';
import { setupDom } from '../../testDom';
import AiNodeForm from './AiNodeForm';
import { FlowContext } from './FlowContext';

setupDom();

const lead: EntityDef = {
  slug: 'lead',
  label: { en: 'Lead', 'zh-CN': '线索' },
  fields: [
    { key: 'name', type: 'text', label: { en: 'Name', 'zh-CN': '姓名' } },
    { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
    { key: 'stage', type: 'select', options: ['new', { value: 'won', label: { en: 'Won' } }] },
    { key: 'tags', type: 'multiselect', options: ['a', 'b'] },
    { key: 'vip', type: 'boolean' },
    { key: 'due', type: 'date', label: { en: 'Due' } },
    { key: 'owner', type: 'user' },
    { key: 'files', type: 'attachment' },
    { key: 'lines', type: 'lines' },
    { key: 'account', type: 'relation', target: 'account' },
  ],
} as EntityDef;

describe('aiNode logic', () => {
  it('maps field types to the JSON types the server sends the model', () => {
    const cases: [string, ReturnType<typeof aiFieldType>][] = [
      ['name', { type: 'string' }],
      ['amount', { type: 'number' }],
      ['stage', { type: 'string', enum: ['new', 'won'] }],
      ['tags', { type: 'array', enum: ['a', 'b'] }],
      ['vip', { type: 'boolean' }],
      ['due', { type: 'string', format: 'date' }],
      ['owner', undefined],
      ['files', undefined],
      ['lines', undefined],
      ['account', undefined],
    ];
    for (const [key, want] of cases) expect(aiFieldType(lead.fields.find((f) => f.key === key)!), key).toEqual(want);
  });

  it('builds the extract schema from the checked fields, or every fillable one', () => {
    const s = extractSchema(lead, ['amount', 'stage', 'tags', 'owner']) as { properties: Record<string, Record<string, unknown>> };
    expect(Object.keys(s.properties)).toEqual(['amount', 'stage', 'tags']); // a user field cannot be filled
    expect(s.properties.amount).toEqual({ type: ['number', 'null'], description: 'Amount / 金额' });
    expect(s.properties.stage.enum).toEqual(['new', 'won', null]);
    expect(s.properties.tags.items).toEqual({ type: 'string', enum: ['a', 'b'] });
    const all = extractSchema(lead, []) as { properties: Record<string, Record<string, unknown>>; additionalProperties: boolean };
    expect(Object.keys(all.properties)).toEqual(['name', 'amount', 'stage', 'tags', 'vip', 'due']);
    expect(all.properties.due.description).toBe('Due (YYYY-MM-DD)');
    expect(all.additionalProperties).toBe(false);
  });

  it('reads and writes list parameters', () => {
    expect(listParam('hot, cold，spam')).toEqual(['hot', 'cold', 'spam']);
    expect(listParam(['a', ' b ', '', 3])).toEqual(['a', 'b']);
    expect(listParam(undefined)).toEqual([]);
    expect(setList({ text: 'x', labels: ['a'] }, 'labels', ['a', 'a', 'b '])).toEqual({ text: 'x', labels: ['a', 'b'] });
    expect(setList({ text: 'x', labels: ['a'] }, 'labels', [])).toEqual({ text: 'x' });
  });

  it('splits the input into picked and generic parameters', () => {
    expect(splitInput('classify', { model: 'm', labels: ['a'], text: 't', retries: 1 })).toEqual({ picked: { model: 'm', labels: ['a'] }, rest: { text: 't', retries: 1 } });
    expect(summariseDefaults('lead')).toEqual({ entity: 'lead', record_id: '{{ trigger.record.id }}' });
    expect(summariseDefaults(undefined)).toEqual({});
    expect(credentialNames([{ name: 'z', connector: 'ai' }, { name: 'smtp', connector: 'email' }, { name: 'a', connector: 'ai' }], 'ai')).toEqual(['a', 'z']);
  });
});

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const opSchema = (keys: string[]) => paramsToSchema(keys.map((key) => ({ key, type: key === 'text' || key === 'instructions' ? 'text' : key === 'retries' ? 'number' : key === 'labels' || key === 'fields' || key === 'exclude_fields' ? 'json' : 'string' })));

/** Renders the form for a node and keeps its params, as the designer does. */
function Harness({ start, onParams, schema }: { start: Record<string, unknown>; onParams: (p: Record<string, unknown>) => void; schema: ReturnType<typeof opSchema> }) {
  const [params, setParams] = useState(start);
  return (
    <AiNodeForm params={params} schema={schema} onChange={(p) => { setParams(p); onParams(p); }} />
  );
}

function renderForm(start: Record<string, unknown>, schema: ReturnType<typeof opSchema>) {
  const seen: Record<string, unknown>[] = [];
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <AntApp>
        <FlowContext.Provider value={{ app: 'crm', entities: { lead }, entityList: [{ slug: 'lead', label: 'Lead' }], reports: [], flows: [], upstream: [], triggerEntity: 'lead' }}>
          <Harness start={start} schema={schema} onParams={(p) => seen.push(p)} />
        </FlowContext.Provider>
      </AntApp>
    </QueryClientProvider>,
  );
  return { last: () => seen[seen.length - 1] };
}

describe('AiNodeForm', () => {
  const calls: { url: string; body?: unknown }[] = [];
  function stubApi() {
    calls.length = 0;
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (url.endsWith('/credentials')) return json({ items: [{ name: 'deepseek', connector: 'ai' }, { name: 'smtp', connector: 'email' }] });
      if (url.endsWith('/connectors/ai/options')) return json({ options: [{ value: 'deepseek-chat', label: { en: 'deepseek-chat — default', 'zh-CN': 'deepseek-chat — 默认' } }, { value: 'deepseek-reasoner' }] });
      return json({}, 404);
    }));
  }

  it('extract: the credential and model are picked, the schema is built from checked fields', async () => {
    await i18n.changeLanguage('en');
    stubApi();
    const f = renderForm({ connector: 'ai', operation: 'extract', credential: 'deepseek', input: { entity: 'lead', text: '{{ trigger.body.mail }}' } },
      opSchema(['text', 'entity', 'fields', 'instructions', 'model', 'retries']));
    // the model list comes from the provider for the chosen credential
    await waitFor(() => expect(calls.some((c) => c.url.endsWith('/connectors/ai/options'))).toBe(true));
    expect(calls.find((c) => c.url.endsWith('/options'))!.body).toEqual({ operation: 'extract', param: 'model', credential: 'deepseek' });
    // the non-fillable fields are shown but cannot be checked
    expect(screen.getByTestId('ai-field-owner').querySelector('input')!.disabled).toBe(true);
    expect(screen.getByTestId('ai-field-type-amount').textContent).toBe('number');
    expect(screen.getByTestId('ai-field-type-stage').textContent).toBe('one of 2 options');
    fireEvent.click(screen.getByTestId('ai-field-name').querySelector('input')!);
    fireEvent.click(screen.getByTestId('ai-field-amount').querySelector('input')!);
    expect(f.last()).toMatchObject({ credential: 'deepseek', input: { entity: 'lead', text: '{{ trigger.body.mail }}', fields: ['name', 'amount'] } });
    // no JSON editor for the picked parameters
    expect(screen.queryByTestId('param-fields')).toBeNull();
    expect(screen.queryByTestId('param-entity')).toBeNull();
    expect(screen.getByTestId('param-text')).toBeTruthy();
    fireEvent.click(screen.getByTestId('ai-fields-none'));
    expect((f.last().input as Record<string, unknown>).fields).toBeUndefined();
    fireEvent.click(screen.getByTestId('ai-fields-all'));
    expect((f.last().input as Record<string, unknown>).fields).toEqual(['name', 'amount', 'stage', 'tags', 'vip', 'due']);
  });

  it('classify: labels are a tag list', async () => {
    await i18n.changeLanguage('en');
    stubApi();
    const f = renderForm({ connector: 'ai', operation: 'classify', credential: 'deepseek', input: { labels: 'hot, cold' } }, opSchema(['text', 'labels', 'model']));
    expect(screen.getByTestId('ai-labels').textContent).toContain('hot');
    expect(screen.getByTestId('ai-labels').textContent).toContain('cold');
    const box = screen.getByTestId('ai-labels').querySelector('input')!;
    fireEvent.change(box, { target: { value: 'spam,' } });
    await waitFor(() => expect((f.last()?.input as Record<string, unknown>)?.labels).toEqual(['hot', 'cold', 'spam']));
  });

  it('summarise_record: a fresh step summarises the trigger record; a missing credential is marked', async () => {
    await i18n.changeLanguage('zh-CN');
    stubApi();
    const f = renderForm({ connector: 'ai', operation: 'summarise_record', credential: 'gone', optional: true, input: {} }, opSchema(['entity', 'record_id', 'exclude_fields', 'model']));
    await waitFor(() => expect(f.last()?.input).toEqual({ entity: 'lead', record_id: '{{ trigger.record.id }}' }));
    await waitFor(() => expect(screen.getByTestId('ai-credential').textContent).toContain('gone （本应用中不存在）'));
    // the model list is not asked for an unknown credential
    expect(calls.some((c) => c.url.endsWith('/options'))).toBe(false);
    expect(screen.getByTestId('ai-record')).toBeTruthy();
  });
});
