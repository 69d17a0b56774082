import { Card, Col, Collapse, Form, Row, Tabs } from 'antd';
import type { Rule } from 'antd/es/form';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { EntityDef, FieldDef, FormItem } from '../api/types';
import { spanOf } from '../lib/form';
import { labelText } from '../lib/labels';
import FieldInput, { fieldLabel } from './FieldInput';

interface Props {
  items: FormItem[];
  entity: EntityDef;
  app: string;
  /** the form's language (the UI language unless previewing the other one) */
  lang: string;
  /** fields hidden by their visibility conditions */
  hidden?: Set<string>;
  /** phone width: one column */
  narrow?: boolean;
}

const NUMERIC = new Set(['number', 'money', 'percent']);

/** The antd rules of a form item: required (unless hidden) and the form's validation bounds. */
export function itemRules(it: FormItem, f: FieldDef, lang: string, requiredText: string, hidden: boolean): Rule[] {
  if (hidden) return [];
  const rules: Rule[] = [];
  if (it.required || f.required) rules.push({ required: true, message: requiredText });
  const v = it.validation;
  if (!v) return rules;
  const message = labelText(v.message, lang, '') || undefined;
  if (NUMERIC.has(f.type)) {
    if (v.min != null || v.max != null) rules.push({ type: 'number', min: v.min, max: v.max, message });
  } else {
    if (v.min_length || v.max_length) rules.push({ min: v.min_length || undefined, max: v.max_length || undefined, message });
    if (v.pattern) {
      try {
        rules.push({ pattern: new RegExp(`^(?:${v.pattern})$`), message });
      } catch {
        /* the server refuses bad patterns */
      }
    }
  }
  return rules;
}

/** One field of a form as the submitter sees it. */
function FieldItem({ it, f, app, lang, hidden }: { it: FormItem; f: FieldDef; app: string; lang: string; hidden: boolean }) {
  const { t } = useTranslation();
  return (
    <Form.Item
      name={f.key}
      label={labelText(it.label, lang, fieldLabel(f, lang))}
      help={labelText(it.help, lang, '') || undefined}
      rules={itemRules(it, f, lang, t('common.required', { lng: lang }), hidden)}
      initialValue={it.default}
      hidden={hidden}
      data-testid={`fill-item-${f.key}`}
    >
      <FieldInput field={f} app={app} disabled={it.read_only} placeholder={labelText(it.placeholder, lang, '') || undefined} />
    </Form.Item>
  );
}

/** The fields and sections of a form layout: sections as (collapsible) cards with 1–3 columns, consecutive tab sections as tabs. */
export default function FormView({ items, entity, app, lang, hidden, narrow }: Props) {
  const byKey = new Map(entity.fields.map((f) => [f.key, f]));
  const isHidden = (k: string) => !!hidden?.has(k);
  const fields = (list: FormItem[], columns?: number) => {
    const span = narrow ? 24 : spanOf(columns);
    return (
      <Row gutter={16}>
        {list.map((it) => {
          const f = it.field ? byKey.get(it.field) : undefined;
          if (!f || it.hidden) return null;
          return (
            <Col key={f.key} span={columns ? span : narrow ? 24 : it.width ?? 24} hidden={isHidden(f.key)}>
              <FieldItem it={it} f={f} app={app} lang={lang} hidden={isHidden(f.key)} />
            </Col>
          );
        })}
      </Row>
    );
  };
  const sectionHidden = (s: FormItem) => (s.items ?? []).length > 0 && (s.items ?? []).every((x) => !x.field || isHidden(x.field) || x.hidden);
  const section = (s: FormItem, i: number) => {
    const title = labelText(s.section, lang, '');
    const body = fields(s.items ?? [], s.columns ?? 1);
    if (s.collapsible)
      return (
        <Collapse
          key={i}
          style={{ marginBottom: 16 }}
          defaultActiveKey={s.collapsed ? [] : ['s']}
          items={[{ key: 's', label: title, children: body, forceRender: true }]}
          data-testid={`fill-section-${i}`}
        />
      );
    return (
      <Card key={i} size="small" title={title || undefined} style={{ marginBottom: 16 }} data-testid={`fill-section-${i}`}>
        {body}
      </Card>
    );
  };
  const out: ReactNode[] = [];
  let loose: FormItem[] = [];
  let tabs: { s: FormItem; i: number }[] = [];
  const flush = (i: number) => {
    if (loose.length) out.push(<div key={`f${i}`}>{fields(loose)}</div>);
    loose = [];
    if (tabs.length)
      out.push(
        <Tabs
          key={`t${i}`}
          style={{ marginBottom: 16 }}
          items={tabs.map(({ s, i: k }) => ({ key: String(k), label: labelText(s.section, lang, String(k + 1)), children: fields(s.items ?? [], s.columns ?? 1), forceRender: true }))}
        />,
      );
    tabs = [];
  };
  items.forEach((it, i) => {
    if (it.field) {
      if (tabs.length) flush(i);
      loose.push(it);
      return;
    }
    if (sectionHidden(it)) return;
    if (it.display === 'tab') {
      if (loose.length) {
        out.push(<div key={`f${i}`}>{fields(loose)}</div>);
        loose = [];
      }
      tabs.push({ s: it, i });
      return;
    }
    flush(i);
    out.push(section(it, i));
  });
  flush(items.length);
  return <>{out}</>;
}
