import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Checkbox, Col, Empty, Form, Input, InputNumber, Modal, Row, Skeleton, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, errorMessage } from '../api/client';
import type { Label } from '../api/types';
import { applyFieldErrors } from '../components/formErrors';
import { asArray, labelText } from '../lib/labels';

interface Template {
  name: string;
  label?: Label;
  title?: Label;
  description?: Label;
  [k: string]: unknown;
}

export default function Templates() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const nav = useNavigate();
  const [target, setTarget] = useState<Template | null>(null);
  const [form] = Form.useForm();
  const list = useQuery({
    queryKey: ['templates'],
    queryFn: async () => {
      const r = await api<unknown>('/api/v1/templates');
      return asArray<Template>(Array.isArray(r) ? r : (r as { items?: unknown })?.items ?? (r as { templates?: unknown })?.templates).map((x) =>
        typeof x === 'string' ? ({ name: x } as Template) : { ...x, name: x.name ?? (x.slug as string) },
      );
    },
  });
  const install = useMutation({
    mutationFn: ({ name, body }: { name: string; body: { slug?: string; name?: string; demo?: boolean; demo_count?: number } }) =>
      api<{ slug?: string; app?: { slug?: string } }>(`/api/v1/templates/${encodeURIComponent(name)}/install`, { method: 'POST', body }),
    onSuccess: (r, v) => {
      void qc.invalidateQueries({ queryKey: ['apps'] });
      setTarget(null);
      message.success(t('templates.installed'));
      const slug = r?.slug ?? r?.app?.slug ?? v.body.slug;
      nav(slug ? `/apps/${slug}` : '/apps');
    },
    onError: (e) => {
      if (!applyFieldErrors(form, e)) message.error(errorMessage(e));
    },
  });

  return (
    <div>
      <Typography.Title level={3}>{t('templates.title')}</Typography.Title>
      {list.isError && <Alert type="error" showIcon title={errorMessage(list.error)} />}
      {list.isLoading ? (
        <Skeleton active />
      ) : (list.data ?? []).length === 0 && !list.isError ? (
        <Empty />
      ) : (
        <Row gutter={[16, 16]}>
          {(list.data ?? []).map((tp) => (
            <Col key={tp.name} xs={24} md={12} xl={8}>
              <Card
                title={labelText(tp.label ?? tp.title, i18n.language, tp.name)}
                data-testid={`template-${tp.name}`}
                actions={[
                  <Button type="link" key="install" onClick={() => { setTarget(tp); form.setFieldsValue({ slug: tp.name, name: labelText(tp.label ?? tp.title, i18n.language, tp.name) }); }} data-testid={`template-install-${tp.name}`}>
                    {t('templates.install')}
                  </Button>,
                ]}
              >
                <Typography.Paragraph type="secondary" ellipsis={{ rows: 3 }}>
                  {labelText(tp.description, i18n.language, '')}
                </Typography.Paragraph>
              </Card>
            </Col>
          ))}
        </Row>
      )}
      <Modal
        title={t('templates.install')}
        open={!!target}
        onCancel={() => setTarget(null)}
        onOk={() => form.submit()}
        confirmLoading={install.isPending}
        okText={t('templates.install')}
        okButtonProps={{ 'data-testid': 'template-install-ok' }}
      >
        <Form form={form} layout="vertical" onFinish={(v) => target && install.mutate({ name: target.name, body: v })}>
          <Form.Item name="slug" label={t('apps.slug')} rules={[{ required: true, message: t('common.required') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="name" label={t('apps.name')}>
            <Input />
          </Form.Item>
          <Form.Item name="demo" valuePropName="checked" extra={t('templates.demoHelp')}>
            <Checkbox data-testid="template-install-demo">{t('templates.demo')}</Checkbox>
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.demo !== b.demo}>
            {({ getFieldValue }) =>
              getFieldValue('demo') ? (
                <Form.Item name="demo_count" label={t('templates.demoCount')} initialValue={2000}>
                  <InputNumber min={100} max={20000} step={500} style={{ width: 160 }} />
                </Form.Item>
              ) : null
            }
          </Form.Item>
          {install.isPending && install.variables?.body.demo ? <Alert type="info" showIcon message={t('templates.demoWorking')} /> : null}
        </Form>
      </Modal>
    </div>
  );
}
