import { javascript } from '@codemirror/lang-javascript';
import CodeMirror, { EditorView } from '@uiw/react-codemirror';
import { AutoComplete, Form, Input, InputNumber, Select, Switch, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ParamSchema } from '../api/types';
import { labelText } from '../lib/labels';
import { ConditionWidget, FilterWidget } from './flow/ConditionWidget';
import { ExpressionInput, ScriptEditor } from './flow/editors';
import { useFlowCtx } from './flow/FlowContext';
import { AssignRulesEditor, ListSourceInput, SwitchCasesEditor } from './flow/ruleWidgets';
import { exprOf, isExprValue, wrapExpr } from './flow/values';
import { ApprovalLevelsEditor, ApprovalRoutesEditor, DurationInput, EntitySelect, FieldValueMapper, PeoplePicker, RecordInput, SlugSelect } from './flow/widgets';

/** JSON text editor for object/array params; keeps invalid text local until it parses. */
export function JsonInput({ value, onChange, rows = 4 }: { value: unknown; onChange: (v: unknown) => void; rows?: number }) {
  const { t } = useTranslation();
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [bad, setBad] = useState(false);
  useEffect(() => {
    setText((old) => {
      try {
        if (JSON.stringify(JSON.parse(old || 'null')) === JSON.stringify(value ?? null)) return old;
      } catch {
        /* keep typing */
      }
      return value === undefined ? '' : JSON.stringify(value, null, 2);
    });
  }, [value]);
  return (
    <>
      <Input.TextArea
        rows={rows}
        value={text}
        status={bad ? 'error' : undefined}
        style={{ fontFamily: 'monospace', fontSize: 12 }}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(e.target.value.trim() ? JSON.parse(e.target.value) : undefined);
            setBad(false);
          } catch {
            setBad(true);
          }
        }}
      />
      {bad && <Typography.Text type="danger">{t('common.invalidJson')}</Typography.Text>}
    </>
  );
}

/** Text for template params: plain text stays a string; text that parses as a JSON object or array is stored parsed. */
export function TemplateInput({ value, onChange, mono }: { value: unknown; onChange: (v: unknown) => void; mono?: boolean }) {
  const [text, setText] = useState(() => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value, null, 2)));
  return (
    <Input.TextArea
      autoSize={{ minRows: 1, maxRows: 10 }}
      value={text}
      style={mono || typeof value !== 'string' ? { fontFamily: 'monospace', fontSize: 12 } : undefined}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        const trimmed = t.trim();
        if (/^[[{]/.test(trimmed)) {
          try {
            onChange(JSON.parse(trimmed));
            return;
          } catch {
            /* not JSON yet: keep the text */
          }
        }
        onChange(t);
      }}
    />
  );
}

/** CodeMirror JavaScript editor used for script nodes. */
export function CodeInput({ value, onChange, height = '220px' }: { value?: string; onChange: (v: string) => void; height?: string }) {
  return (
    <div data-testid="code-editor" style={{ border: '1px solid #d9d9d9', borderRadius: 6, overflow: 'hidden' }}>
      <CodeMirror value={value ?? ''} height={height} extensions={[javascript(), EditorView.lineWrapping]} onChange={onChange} basicSetup={{ lineNumbers: true, foldGutter: false }} />
    </div>
  );
}

/** A text param that may hold {{ expr }} parts: plain text, or a whole expression with completion. */
function TemplateOrExpression({ value, onChange, testId }: { value?: string; onChange: (v: string) => void; testId?: string }) {
  const { t } = useTranslation();
  const [expr, setExpr] = useState(() => isExprValue(value) && exprOf(value) !== value);
  return (
    <div data-testid={testId}>
      {expr ? (
        <ExpressionInput value={exprOf(value)} onChange={(x) => onChange(x.trim() ? wrapExpr(x) : '')} />
      ) : (
        <Input value={value ?? ''} onChange={(e) => onChange(e.target.value)} />
      )}
      <Switch size="small" style={{ marginTop: 4 }} checked={expr} onChange={setExpr} checkedChildren={t('fb.expression')} unCheckedChildren={t('fb.expression')} />
    </div>
  );
}

function isCode(key: string, s: ParamSchema) {
  return key === 'code' || s.format === 'code' || s.format === 'javascript';
}

/**
 * Renders a property form from a JSON-schema-like object schema; unknown params stay editable as JSON.
 * errors (by param key) are shown under their input; choices (by param key) are offered as
 * suggestions for string params (e.g. the app's entities), which still accept any text or template.
 */
export default function SchemaForm({ schema, value, onChange, errors, choices, nodeType }: {
  schema?: ParamSchema;
  value: Record<string, unknown>;
  onChange: (v: Record<string, unknown>) => void;
  errors?: Record<string, string>;
  choices?: Record<string, string[]>;
  /** Node type whose own param labels (paramsBy.<type>.<key>) win over the shared ones (params.<key>). */
  nodeType?: string;
}) {
  const { t, i18n } = useTranslation();
  const ctx = useFlowCtx();
  const props = schema?.properties ?? {};
  const keys = Object.keys(props);
  const set = (k: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined || v === '') delete next[k];
    else next[k] = v;
    onChange(next);
  };
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)));
  return (
    <Form layout="vertical" size="small">
      {keys.map((k) => {
        const s = props[k];
        const shared = t(`params.${k}`, { defaultValue: k });
        const label = labelText(s.title, i18n.language, nodeType ? t(`paramsBy.${nodeType.replace(/\./g, '_')}.${k}`, { defaultValue: shared }) : shared);
        const help = labelText(s.description, i18n.language, '') || undefined;
        const required = (schema?.required ?? []).includes(k);
        const v = value[k];
        let input: React.ReactNode;
        const widget = String(s['x-widget'] ?? '');
        const entityOf = () => value[String(s['x-entity-param'] ?? 'entity')] as string | undefined;
        if (widget === 'entity') input = <EntitySelect value={v as string} onChange={(x) => set(k, x)} testId={`param-${k}-entity`} />;
        else if (widget === 'report') input = <SlugSelect value={v as string} onChange={(x) => set(k, x)} list={ctx.reports} testId={`param-${k}-select`} />;
        else if (widget === 'flow') input = <SlugSelect value={v as string} onChange={(x) => set(k, x)} list={ctx.flows} testId={`param-${k}-select`} />;
        else if (widget === 'field-values') input = <FieldValueMapper entity={entityOf()} value={v} onChange={(x) => set(k, Object.keys(x).length || entityOf() ? x : undefined)} />;
        else if (widget === 'condition')
          input = nodeType === 'wait_event'
            ? <ConditionWidget value={typeof v === 'string' ? v : ''} onChange={(x) => set(k, x)} testId={`param-${k}-condition`} root="record" entity={entityOf()} />
            : <ConditionWidget value={typeof v === 'string' ? v : ''} onChange={(x) => set(k, x)} testId={`param-${k}-condition`} />;
        else if (widget === 'filter' && (v === undefined || (typeof v === 'object' && !Array.isArray(v))) && entityOf())
          input = <FilterWidget value={v} onChange={(x) => set(k, x)} entity={entityOf()} testId={`param-${k}-filter`} />;
        else if (widget === 'people' || widget === 'person') input = <PeoplePicker value={v} multiple={widget === 'people'} onChange={(x) => set(k, x)} testId={`param-${k}-people`} />;
        else if (widget === 'approval-levels') input = <ApprovalLevelsEditor value={v} onChange={(x) => set(k, x)} />;
        else if (widget === 'approval-routes') input = <ApprovalRoutesEditor value={v} onChange={(x) => set(k, x)} Condition={(p) => <ConditionWidget {...p} />} />;
        else if (widget === 'switch-cases') input = <SwitchCasesEditor value={v} onChange={(x) => set(k, x)} />;
        else if (widget === 'assign-rules') input = <AssignRulesEditor value={v} onChange={(x) => set(k, x)} />;
        else if (widget === 'list' && (v === undefined || typeof v === 'string')) input = <ListSourceInput value={v} onChange={(x) => set(k, x)} testId={`param-${k}-list`} />;
        else if (widget === 'duration') input = <DurationInput value={v} onChange={(x) => set(k, x)} testId={`param-${k}-duration`} />;
        else if (widget === 'record') input = <RecordInput value={v} onChange={(x) => set(k, x)} testId={`param-${k}-record`} />;
        else if (widget === 'code') input = <ScriptEditor value={v as string} onChange={(x) => set(k, x)} />;
        else if (widget === 'expression' && (v === undefined || typeof v === 'string'))
          input = <TemplateOrExpression value={v as string | undefined} onChange={(x) => set(k, x)} testId={`param-${k}-expr`} />;
        else if (isCode(k, s)) input = <CodeInput value={v as string} onChange={(x) => set(k, x)} />;
        else if (Array.isArray(s.enum)) {
          const labels = Array.isArray(s.enumLabels) ? (s.enumLabels as ParamSchema['title'][]) : [];
          input = <Select allowClear value={(v ?? s.default) as string} options={s.enum.map((e, i) => ({ value: e as string, label: labelText(labels[i], i18n.language, String(e)) }))} onChange={(x) => set(k, x)} />;
        }
        else if (s.type === 'boolean') input = <Switch checked={!!v} onChange={(x) => set(k, x)} />;
        else if (s.type === 'number' || s.type === 'integer') input = <InputNumber style={{ width: '100%' }} value={v as number} onChange={(x) => set(k, x ?? undefined)} />;
        else if (s.type === 'object' || s.type === 'array') input = <JsonInput value={v} onChange={(x) => set(k, x)} />;
        else if (s.format === 'template') input = <TemplateInput value={v} onChange={(x) => set(k, x)} />;
        else if (s.format === 'textarea' || s.format === 'expr') input = <Input.TextArea rows={s.format === 'expr' ? 2 : 3} value={v as string} onChange={(e) => set(k, e.target.value)} style={s.format === 'expr' ? { fontFamily: 'monospace' } : undefined} />;
        else if (s.format === 'password') input = <Input.Password value={v as string} onChange={(e) => set(k, e.target.value)} />;
        else if (choices?.[k]?.length && (v === undefined || typeof v === 'string'))
          input = <AutoComplete value={v as string | undefined} options={choices[k].map((c) => ({ value: c }))} onChange={(x: string) => set(k, x)} filterOption={(inp, o) => String(o?.value ?? '').toLowerCase().includes(inp.toLowerCase())} data-testid={`param-${k}-input`} />;
        else input = <Input value={typeof v === 'string' || typeof v === 'number' ? String(v) : v === undefined ? '' : JSON.stringify(v)} placeholder={s.format === 'duration' ? '2h, 90m, 3d' : s.default !== undefined ? String(s.default) : undefined} onChange={(e) => set(k, e.target.value)} />;
        return (
          <Form.Item key={k} label={label} required={required} help={errors?.[k] ?? help} validateStatus={errors?.[k] ? 'error' : undefined} data-testid={`param-${k}`}>
            {input}
          </Form.Item>
        );
      })}
      {(keys.length === 0 || Object.keys(rest).length > 0) && (
        <Form.Item label={keys.length ? t('flows.otherParams') : t('flows.params')}>
          {'code' in rest && keys.length === 0 ? (
            <>
              <CodeInput value={rest.code as string} onChange={(x) => onChange({ ...value, code: x })} />
              <div style={{ height: 8 }} />
              <JsonInput value={Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'code'))} onChange={(x) => onChange({ ...(x as object), code: value.code })} rows={3} />
            </>
          ) : (
            <JsonInput value={rest} onChange={(x) => onChange({ ...Object.fromEntries(keys.filter((k) => k in value).map((k) => [k, value[k]])), ...((x as object) ?? {}) })} rows={6} />
          )}
        </Form.Item>
      )}
    </Form>
  );
}
