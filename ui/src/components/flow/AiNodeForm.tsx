import { useQuery } from '@tanstack/react-query';
import { Alert, AutoComplete, Button, Checkbox, Collapse, Form, Select, Space, Switch, Tag, Typography } from 'antd';
import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import type { ParamSchema } from '../../api/types';
import { aiFieldType, credentialNames, extractSchema, listParam, pickedKeys, setList, splitInput, summariseDefaults } from '../../lib/aiNode';
import { labelText } from '../../lib/labels';
import SchemaForm from '../SchemaForm';
import { useFlowCtx } from './FlowContext';
import { EntitySelect, RecordInput } from './widgets';

type Params = Record<string, unknown>;

/** The app's credentials of one connector (names only; values never leave the server). */
function useCredentials(app: string, connector: string) {
  return useQuery({
    queryKey: ['credentials', app],
    enabled: !!app,
    retry: false,
    queryFn: () => api<{ items?: { name: string; connector: string }[] }>(`/api/v1/apps/${app}/credentials`),
    select: (r) => credentialNames(r?.items, connector),
  });
}

/** The provider's models for a credential (POST …/connectors/ai/options, param model). */
function useModels(app: string, operation: string, credential: string | undefined, known: boolean) {
  return useQuery({
    queryKey: ['ai-models', app, credential],
    enabled: !!app && !!credential && known,
    retry: false,
    staleTime: 60_000,
    queryFn: () =>
      api<{ options: { value: string; label?: { en?: string; 'zh-CN'?: string } }[] }>(`/api/v1/apps/${app}/connectors/ai/options`, {
        method: 'POST',
        body: { operation, param: 'model', credential },
      }),
  });
}

/** Field checkboxes of the extract step: each fillable field with its label and the JSON type the model must answer. */
function FieldChecklist({ entity, value, onChange }: { entity?: string; value: string[]; onChange: (v: string[]) => void }) {
  const { t, i18n } = useTranslation();
  const ctx = useFlowCtx();
  const ent = entity ? ctx.entities[entity] : undefined;
  if (!entity) return <Typography.Text type="secondary">{t('ai.pickEntityFirst')}</Typography.Text>;
  if (!ent) return <Typography.Text type="secondary">{t('fb.entityUnknown', { entity })}</Typography.Text>;
  const fields = ent.fields ?? [];
  const fillable = fields.filter((f) => aiFieldType(f));
  const typeText = (k: string) => t(`ai.type.${k}`);
  return (
    <div data-testid="ai-fields">
      <Space size={4} style={{ marginBottom: 4 }}>
        <Button size="small" onClick={() => onChange(fillable.map((f) => f.key))} data-testid="ai-fields-all">{t('ai.selectAll')}</Button>
        <Button size="small" onClick={() => onChange([])} data-testid="ai-fields-none">{t('ai.selectNone')}</Button>
      </Space>
      {fields.map((f) => {
        const ft = aiFieldType(f);
        const label = labelText(f.label, i18n.language, f.key);
        return (
          <div key={f.key} style={{ display: 'flex', gap: 6, alignItems: 'center', padding: '2px 0' }} data-testid={`ai-field-${f.key}`}>
            <Checkbox checked={!!ft && value.includes(f.key)} disabled={!ft}
              onChange={(e) => onChange(e.target.checked ? [...value, f.key] : value.filter((k) => k !== f.key))}>
              {label}
            </Checkbox>
            {ft ? (
              <Tag style={{ marginInlineEnd: 0 }} data-testid={`ai-field-type-${f.key}`}>
                {ft.enum ? t(ft.type === 'array' ? 'ai.type.someOf' : 'ai.type.oneOf', { n: ft.enum.length }) : typeText(ft.format ?? ft.type)}
              </Tag>
            ) : (
              <Typography.Text type="secondary" style={{ fontSize: 11 }}>{t('ai.notFillable')}</Typography.Text>
            )}
          </div>
        );
      })}
      {value.length === 0 && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('ai.allFields')}</Typography.Text>}
    </div>
  );
}

/**
 * Property form of an AI connector node: a credential picker, the model from the provider's
 * list, the extract schema built from checked fields of an entity, classify labels as tags, the
 * summarised record picked from the trigger; the remaining parameters render from the catalog.
 */
export default function AiNodeForm({ params, schema, onChange, errors }: {
  params: Params;
  schema?: ParamSchema;
  onChange: (p: Params) => void;
  errors?: Record<string, string>;
}) {
  const { t, i18n } = useTranslation();
  const ctx = useFlowCtx();
  const operation = String(params.operation ?? '');
  const credential = typeof params.credential === 'string' ? params.credential : undefined;
  const input = (params.input && typeof params.input === 'object' && !Array.isArray(params.input) ? params.input : {}) as Params;
  const creds = useCredentials(ctx.app, 'ai');
  const known = !!credential && (creds.data ?? []).includes(credential);
  const models = useModels(ctx.app, operation, credential, known);
  const { picked, rest } = splitInput(operation, input);
  const setInput = (next: Params) => onChange({ ...params, input: next });
  const setPicked = (k: string, v: unknown) => {
    const next = { ...input };
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) delete next[k];
    else next[k] = v;
    setInput(next);
  };
  // a fresh summarise step summarises the trigger's record
  useEffect(() => {
    if (operation === 'summarise_record' && Object.keys(input).length === 0 && ctx.triggerEntity) setInput(summariseDefaults(ctx.triggerEntity));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [operation]);
  const restSchema = useMemo<ParamSchema | undefined>(() => {
    if (!schema?.properties) return schema;
    const drop = pickedKeys(operation);
    return { ...schema, properties: Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !drop.includes(k))), required: (schema.required ?? []).filter((k) => !drop.includes(k)) };
  }, [schema, operation]);
  const entity = typeof picked.entity === 'string' ? picked.entity : undefined;
  const ent = entity ? ctx.entities[entity] : undefined;
  const fields = listParam(picked.fields);
  const credOptions = [...new Set([...(creds.data ?? []), ...(credential ? [credential] : [])])].map((n) => ({
    value: n,
    label: (creds.data ?? []).includes(n) || creds.isLoading ? n : `${n} ${t('ai.credentialMissing')}`,
  }));
  const modelOptions = (models.data?.options ?? []).map((o) => ({ value: o.value, label: labelText(o.label, i18n.language, o.value) }));
  return (
    <div data-testid="ai-node-form">
      <Form layout="vertical" size="small">
        <Form.Item label={t('flows.credential')} required={!params.optional} help={errors?.credential ?? (creds.isSuccess && !creds.data.length ? t('ai.noCredential') : undefined)}
          validateStatus={errors?.credential ? 'error' : undefined}>
          <Select allowClear showSearch value={credential} options={credOptions} placeholder={t('ai.pickCredential')} data-testid="ai-credential"
            onChange={(v?: string) => onChange({ ...params, credential: v || undefined })} />
        </Form.Item>
        <Form.Item label={t('ai.optional')} help={t('ai.optionalHelp')}>
          <Switch size="small" checked={!!params.optional} data-testid="ai-optional" onChange={(v) => onChange({ ...params, optional: v || undefined })} />
        </Form.Item>
        <Form.Item label={t('ai.model')} help={credential ? (models.isError ? t('ai.modelsFailed') : t('ai.modelHelp')) : t('ai.modelNeedsCredential')}>
          <AutoComplete value={typeof picked.model === 'string' ? picked.model : undefined} options={modelOptions} placeholder={t('ai.modelDefault')} data-testid="ai-model"
            allowClear onChange={(v: string) => setPicked('model', v || undefined)}
            filterOption={(inp, o) => String(o?.value ?? '').toLowerCase().includes(inp.toLowerCase())} />
        </Form.Item>
        {(operation === 'extract' || operation === 'summarise_record') && (
          <Form.Item label={t('ai.entity')} required>
            <EntitySelect value={entity} testId="ai-entity"
              onChange={(v) => setInput({ ...Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'fields' && k !== 'exclude_fields')), ...(v ? { entity: v } : {}) } as Params)} />
          </Form.Item>
        )}
        {operation === 'extract' && (
          <>
            <Form.Item label={t('ai.fields')}>
              <FieldChecklist entity={entity} value={fields} onChange={(v) => setInput(setList(input, 'fields', v))} />
            </Form.Item>
            {ent && (
              <Collapse size="small" style={{ marginBottom: 12 }} items={[{ key: 's', label: t('ai.schemaPreview'), children: (
                <pre data-testid="ai-schema" style={{ fontSize: 11, margin: 0, maxHeight: 240, overflow: 'auto' }}>{JSON.stringify(extractSchema(ent, fields), null, 2)}</pre>
              ) }]} />
            )}
          </>
        )}
        {operation === 'classify' && (
          <Form.Item label={t('ai.labels')} required help={listParam(picked.labels).length < 2 ? t('ai.labelsHelp') : undefined}>
            <Select mode="tags" value={listParam(picked.labels)} tokenSeparators={[',', '，']} open={false} suffixIcon={null} placeholder={t('ai.labelsPlaceholder')}
              data-testid="ai-labels" onChange={(v: string[]) => setInput(setList(input, 'labels', v))} />
          </Form.Item>
        )}
        {operation === 'summarise_record' && (
          <>
            <Form.Item label={t('ai.record')} required>
              <RecordInput value={picked.record_id} testId="ai-record" onChange={(v) => setPicked('record_id', v)} />
            </Form.Item>
            <Form.Item label={t('ai.excludeFields')} help={t('ai.excludeHelp')}>
              <Select mode="multiple" allowClear value={listParam(picked.exclude_fields)} data-testid="ai-exclude"
                options={(ent?.fields ?? []).map((f) => ({ value: f.key, label: labelText(f.label, i18n.language, f.key) }))}
                onChange={(v: string[]) => setInput(setList(input, 'exclude_fields', v))} />
            </Form.Item>
          </>
        )}
      </Form>
      {errors?.input && <Alert type="error" showIcon style={{ marginBottom: 8 }} title={errors.input} />}
      <SchemaForm key={operation} schema={restSchema} value={rest} onChange={(r) => setInput({ ...picked, ...r })} errors={errors} />
    </div>
  );
}
