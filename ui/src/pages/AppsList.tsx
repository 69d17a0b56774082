import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Empty, Form, Input, Modal, Row, Skeleton, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMe } from '../api/auth';
import { api, errorMessage } from '../api/client';
import type { AppSummary } from '../api/types';
import { applyFieldErrors } from '../components/formErrors';
import { asArray } from '../lib/labels';

export function useApps() {
  return useQuery({
    queryKey: ['apps'],
    queryFn: async () => {
      const r = await api<unknown>('/api/v1/apps');
      return asArray<AppSummary>(Array.isArray(r) ? r : (r as { items?: unknown })?.items ?? (r as { apps?: unknown })?.apps);
    },
  });
}

export default function AppsList() {
  const { t } = useTranslation();
  const apps = useApps();
  const me = useMe().data;
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const qc = useQueryClient();
  const nav = useNavigate();
  const { message } = App.useApp();
  const create = useMutation({
    mutationFn: (v: { slug: string; name: string }) => api<AppSummary>('/api/v1/apps', { method: 'POST', body: v }),
    onSuccess: (_r, v) => {
      void qc.invalidateQueries({ queryKey: ['apps'] });
      setOpen(false);
      form.resetFields();
      message.success(t('apps.created'));
      nav(`/apps/${v.slug}`);
    },
    onError: (e) => {
      if (!applyFieldErrors(form, e)) message.error(errorMessage(e));
    },
  });

  return (
    <div>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 16 }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('apps.title')}</Typography.Title>
        {me?.is_admin && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="app-create">
            {t('apps.create')}
          </Button>
        )}
      </div>
      {apps.isError && <Alert type="error" showIcon title={errorMessage(apps.error)} />}
      {apps.isLoading ? (
        <Skeleton active />
      ) : (apps.data ?? []).length === 0 && !apps.isError ? (
        <Empty description={t('apps.empty')}>
          {me?.is_admin && <Link to="/templates">{t('apps.fromTemplate')}</Link>}
        </Empty>
      ) : (
        <Row gutter={[16, 16]}>
          {(apps.data ?? []).map((a) => (
            <Col key={a.slug} xs={24} sm={12} lg={8} xl={6}>
              <Card hoverable onClick={() => nav(`/apps/${a.slug}`)} data-testid={`app-card-${a.slug}`}>
                <Card.Meta title={a.name || a.slug} description={<Typography.Text type="secondary" code>{a.slug}</Typography.Text>} />
              </Card>
            </Col>
          ))}
        </Row>
      )}
      <Modal
        title={t('apps.create')}
        open={open}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        confirmLoading={create.isPending}
        okButtonProps={{ 'data-testid': 'app-create-ok' }}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item name="name" label={t('apps.name')} rules={[{ required: true, message: t('common.required') }]}>
            <Input data-testid="app-name" />
          </Form.Item>
          <Form.Item
            name="slug"
            label={t('apps.slug')}
            extra={t('apps.slugHelp')}
            rules={[
              { required: true, message: t('common.required') },
              { pattern: /^[a-z][a-z0-9-]{0,62}$/, message: t('apps.slugHelp') },
            ]}
          >
            <Input data-testid="app-slug" />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
