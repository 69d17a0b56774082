import { Alert, App, Button, Card, Checkbox, Form, Result, Skeleton, Space, Typography } from 'antd';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, errorMessage } from '../api/client';
import { useDefinition } from '../api/defs';
import type { EntityDef, FormDef } from '../api/types';
import FormView from '../components/FormView';
import { applyFieldErrors } from '../components/formErrors';
import { toPayload } from '../components/RecordDrawer';
import { placedFields } from '../lib/form';
import { labelText } from '../lib/labels';

/** Fills an internal form (POST /apps/{app}/forms/{form}/submit). */
export default function FormFill() {
  const { app = '', slug = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const fq = useDefinition<FormDef>(app, 'forms', slug);
  const def = fq.data?.def;
  const eq = useDefinition<EntityDef>(app, 'entities', def?.entity ?? '', !!def?.entity);
  const entity = eq.data?.def;
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const conditional = !!def && ((def.rules ?? []).length > 0 || JSON.stringify(def.layout ?? []).includes('"visible"'));
  // which fields the form's conditions hide for the current values (the server evaluates them, as on submit)
  const askVisibility = useCallback(() => {
    if (!conditional || !entity) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const payload = toPayload(entity, form.getFieldsValue());
      api<{ hidden: string[] }>(`/api/v1/apps/${encodeURIComponent(app)}/forms/${encodeURIComponent(slug)}/visibility`, { method: 'POST', body: payload })
        .then((r) => setHidden(new Set(r.hidden ?? [])))
        .catch(() => undefined);
    }, 150);
  }, [conditional, entity, form, app, slug]);
  useEffect(() => {
    askVisibility();
    return () => clearTimeout(timer.current);
  }, [askVisibility]);

  if (fq.isLoading || eq.isLoading) return <Skeleton active />;
  if (!def || !entity) return <Alert type="warning" showIcon title={fq.isError ? errorMessage(fq.error) : t('forms.notFound')} />;

  const byKey = new Map(entity.fields.map((f) => [f.key, f]));
  const keys = placedFields(def.layout ?? []).filter((k) => byKey.has(k) && !hidden.has(k));

  const submit = async () => {
    let values: Record<string, unknown>;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const payload = toPayload({ ...entity, fields: keys.map((k) => byKey.get(k)!) }, values);
      await api(`/api/v1/apps/${encodeURIComponent(app)}/forms/${encodeURIComponent(slug)}/submit`, { method: 'POST', body: payload });
      setDone(labelText(def.success?.message, lang, t('forms.thanks')));
      message.success(t('forms.submitted'));
    } catch (e) {
      if (!applyFieldErrors(form, e)) setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <Result
        status="success"
        title={done}
        extra={<Space><Button onClick={() => { setDone(null); form.resetFields(); }}>{t('forms.again')}</Button><Link to={`/apps/${app}/entities/${entity.slug}`}>{t('entity.openRecords')}</Link></Space>}
      />
    );
  return (
    <Card title={labelText(def.title, lang, slug)} style={{ maxWidth: 820 }}>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" data-testid="fill-form" onValuesChange={askVisibility}>
        <FormView items={def.layout ?? []} entity={entity} app={app} lang={lang} hidden={hidden} />
        {def.consent && (
          <Form.Item name="__consent" valuePropName="checked" rules={[{ validator: (_r, v) => (v ? Promise.resolve() : Promise.reject(new Error(t('common.required')))) }]}>
            <Checkbox>{labelText(def.consent, lang, '')}</Checkbox>
          </Form.Item>
        )}
        <Button type="primary" onClick={submit} loading={busy} data-testid="fill-submit">{t('forms.submit')}</Button>
        <Typography.Text type="secondary" style={{ marginLeft: 12 }}>{def.public ? t('forms.isPublic') : ''}</Typography.Text>
      </Form>
    </Card>
  );
}
