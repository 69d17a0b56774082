import { Descriptions, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { Fragment, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { EntityDef, ParamSchema } from '../../api/types';
import { labelText } from '../../lib/labels';

/** How deep nested objects are drawn as tables; deeper values show as compact JSON. */
const MAX_DEPTH = 4;
/** Keys per object and items per list that are drawn; the rest is counted. */
const MAX_KEYS = 40;
const MAX_ITEMS = 20;

/** Record columns every record output has: labelled in both languages (fb.sysKeys). */
const SYSTEM_KEYS = ['id', 'data', 'created_at', 'updated_at', 'deleted_at', 'version', 'owner_id', 'team_id', 'app_id', 'entity'];
/** An RFC 3339 date-time as the server sends it; shown in local time. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

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
  const labelOf = (k: string, top: boolean) => (top && labels?.[k]) || fieldLabel(k) || (SYSTEM_KEYS.includes(k) ? t(`fb.sysKeys.${k}`) : '');
  const keyLabel = (k: string, top: boolean): ReactNode => {
    const l = labelOf(k, top);
    if (!l || l === k) return k;
    return (
      <span>
        {l} <Typography.Text type="secondary" style={{ fontSize: 11 }}>{k}</Typography.Text>
      </span>
    );
  };
  // the entity a step works on: its label, the slug as secondary text
  const entityName = (slug: string): ReactNode => {
    const l = labelText(entity?.label, lang, slug);
    return l === slug ? slug : <span>{l} <Typography.Text type="secondary" style={{ fontSize: 11 }}>{slug}</Typography.Text></span>;
  };
  const render = (v: unknown, depth: number): ReactNode => {
    if (v === null || v === undefined || v === '') return <Typography.Text type="secondary">—</Typography.Text>;
    if (typeof v === 'boolean') return <Tag color={v ? 'success' : 'default'}>{v ? t('lists.yes') : t('lists.no')}</Tag>;
    if (typeof v === 'string' && ISO_TIME.test(v) && dayjs(v).isValid()) return <span title={v}>{dayjs(v).format('YYYY-MM-DD HH:mm:ss')}</span>;
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
    if (depth > 0) {
      // nested: a compact two-column list (label, value) that fits a narrow side panel; the
      // key is the label's tooltip
      return (
        <div style={{ display: 'grid', gridTemplateColumns: 'minmax(3em, max-content) minmax(0, 1fr)', gap: '2px 8px' }}>
          {entries.slice(0, MAX_KEYS).map(([k, x]) => (
            <Fragment key={k}>
              <Typography.Text type="secondary" title={k} style={{ whiteSpace: 'nowrap' }}>{labelOf(k, false) || k}</Typography.Text>
              <div>{render(x, depth + 1)}</div>
            </Fragment>
          ))}
          {entries.length > MAX_KEYS && <Typography.Text type="secondary" style={{ gridColumn: '1 / span 2' }}>{t('fb.valueMore', { n: entries.length - MAX_KEYS })}</Typography.Text>}
        </div>
      );
    }
    return (
      <Descriptions size="small" column={1} bordered styles={{ label: { width: '38%', verticalAlign: 'top' } }}
        items={[
          ...entries.slice(0, MAX_KEYS).map(([k, x]) => ({ key: k, label: keyLabel(k, depth === 0), children: k === 'entity' && entity && x === entity.slug ? entityName(x) : render(x, depth + 1) })),
          ...(entries.length > MAX_KEYS ? [{ key: '…', label: '…', children: t('fb.valueMore', { n: entries.length - MAX_KEYS }) }] : []),
        ]} />
    );
  };
  if (value === null || value === undefined) return <Typography.Text type="secondary" data-testid={testId}>—</Typography.Text>;
  return <div data-testid={testId} style={{ maxHeight: 360, overflow: 'auto' }}>{render(value, 0)}</div>;
}
