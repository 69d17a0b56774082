import { Alert, App, Button, Card, Checkbox, Col, Form, Result, Row, Skeleton, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, errorMessage } from '../api/client';
import { useDefinition } from '../api/defs';
import type { EntityDef, FormDef, FormItem } from '../api/types';
import FieldInput, { fieldLabel } from '../components/FieldInput';
import { applyFieldErrors } from '../components/formErrors';
import { toPayload } from '../components/RecordDrawer';
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

  if (fq.isLoading || eq.isLoading) return <Skeleton active />;
  if (!def || !entity) return <Alert type="warning" showIcon title={fq.isError ? errorMessage(fq.error) : t('forms.notFound')} />;

  const byKey = new Map(entity.fields.map((f) => [f.key, f]));
  const items: FormItem[] = (def.layout ?? []).flatMap((it) => (it.items ? it.items : [it])).filter((it) => it.field && byKey.has(it.field) && !it.hidden);

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
      const payload = toPayload({ ...entity, fields: items.map((it) => byKey.get(it.field!)!) }, values);
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
      <Form form={form} layout="vertical" data-testid="fill-form">
        <Row gutter={12}>
          {items.map((it) => {
            const f = byKey.get(it.field!)!;
            return (
              <Col key={f.key} span={it.width ?? 24}>
                <Form.Item
                  name={f.key}
                  label={labelText(it.label, lang, fieldLabel(f, lang))}
                  help={labelText(it.help, lang, '') || undefined}
                  rules={it.required || f.required ? [{ required: true, message: t('common.required') }] : []}
                >
                  <FieldInput field={f} app={app} />
                </Form.Item>
              </Col>
            );
          })}
        </Row>
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
