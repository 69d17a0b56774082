import { Descriptions, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { EntityDef, ParamSchema } from '../../api/types';
import { labelText } from '../../lib/labels';

/** How deep nested objects are drawn as tables; deeper values show as compact JSON. */
const MAX_DEPTH = 4;
/** Keys per object and items per list that are drawn; the rest is counted. */
const MAX_KEYS = 40;
const MAX_ITEMS = 20;

/** Labels of a node's parameters from its catalog schema: key → title in the UI language. */
export function paramLabels(schema: ParamSchema | undefined, lang: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, p] of Object.entries(schema?.properties ?? {})) {
    const l = labelText(p?.title, lang, '');
    if (l) out[k] = l;
  }
  return out;
}

/**
 * A step's input or output as labelled, nested tables: parameter titles and entity field labels
 * instead of keys (the key stays as secondary text), lists as tags or numbered rows, yes/no
 * instead of true/false. Only what is deeper than MAX_DEPTH falls back to compact JSON.
 */
export function ValueTable({ value, entity, labels, testId }: { value: unknown; entity?: EntityDef; labels?: Record<string, string>; testId?: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const fieldLabel = (k: string) => {
    const f = entity?.fields?.find((x) => x.key === k);
    return f ? labelText(f.label, lang, k) : '';
  };
  const keyLabel = (k: string, top: boolean): ReactNode => {
    const l = (top && labels?.[k]) || fieldLabel(k);
    if (!l || l === k) return k;
    return (
      <span>
        {l} <Typography.Text type="secondary" style={{ fontSize: 11 }}>{k}</Typography.Text>
      </span>
    );
  };
  const render = (v: unknown, depth: number): ReactNode => {
    if (v === null || v === undefined || v === '') return <Typography.Text type="secondary">—</Typography.Text>;
    if (typeof v === 'boolean') return <Tag color={v ? 'success' : 'default'}>{v ? t('lists.yes') : t('lists.no')}</Tag>;
    if (typeof v !== 'object') return <span style={{ wordBreak: 'break-word', whiteSpace: 'pre-wrap' }}>{String(v)}</span>;
    if (depth >= MAX_DEPTH) return <Typography.Text code style={{ wordBreak: 'break-all' }}>{JSON.stringify(v)}</Typography.Text>;
    if (Array.isArray(v)) {
      if (v.length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
      const more = v.length > MAX_ITEMS ? <Typography.Text type="secondary">{t('fb.valueMore', { n: v.length - MAX_ITEMS })}</Typography.Text> : null;
      if (v.every((x) => x === null || typeof x !== 'object')) {
        return <span>{v.slice(0, MAX_ITEMS).map((x, i) => <Tag key={i} style={{ marginBottom: 2 }}>{x === null ? '—' : typeof x === 'boolean' ? (x ? t('lists.yes') : t('lists.no')) : String(x)}</Tag>)}{more}</span>;
      }
      return (
        <div>
          {v.slice(0, MAX_ITEMS).map((x, i) => (
            <div key={i} style={{ marginBottom: 4 }}>
              <Typography.Text type="secondary" style={{ fontSize: 11 }}>#{i + 1}</Typography.Text>
              {render(x, depth + 1)}
            </div>
          ))}
          {more}
        </div>
      );
    }
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
    return (
      <Descriptions size="small" column={1} bordered styles={{ label: { width: '38%', verticalAlign: 'top' } }}
        items={[
          ...entries.slice(0, MAX_KEYS).map(([k, x]) => ({ key: k, label: keyLabel(k, depth === 0), children: render(x, depth + 1) })),
          ...(entries.length > MAX_KEYS ? [{ key: '…', label: '…', children: t('fb.valueMore', { n: entries.length - MAX_KEYS }) }] : []),
        ]} />
    );
  };
  if (value === null || value === undefined) return <Typography.Text type="secondary" data-testid={testId}>—</Typography.Text>;
  return <div data-testid={testId} style={{ maxHeight: 360, overflow: 'auto' }}>{render(value, 0)}</div>;
}
