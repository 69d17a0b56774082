import { DownloadOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Col, Form, Input, List, Modal, Row, Select, Skeleton, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { errorMessage } from '../api/client';
import { appAccess, defList, useApp, type DefKind } from '../api/defs';
import { labelText } from '../lib/labels';

const SECTIONS: { kind: DefKind; open: (app: string, slug: string) => string; design?: (app: string, slug: string) => string }[] = [
  { kind: 'entities', open: (a, s) => `/apps/${a}/entities/${s}`, design: (a, s) => `/apps/${a}/entities/${s}/design` },
  { kind: 'forms', open: (a, s) => `/apps/${a}/forms/${s}`, design: (a, s) => `/apps/${a}/forms/${s}/design` },
  { kind: 'flows', open: (a, s) => `/apps/${a}/flows/${s}/runs`, design: (a, s) => `/apps/${a}/flows/${s}/design` },
  { kind: 'reports', open: (a, s) => `/apps/${a}/reports/${s}`, design: (a, s) => `/apps/${a}/reports/${s}/design` },
  { kind: 'dashboards', open: (a, s) => `/apps/${a}/dashboards/${s}` },
];

export default function AppHome() {
  const { app = '' } = useParams();
  const { t, i18n } = useTranslation();
  const detail = useApp(app);
  const nav = useNavigate();
  const [creating, setCreating] = useState<DefKind | null>(null);
  const [form] = Form.useForm();
  const entities = defList(detail.data, 'entities');
  const access = appAccess(detail.data);
  // Users see what they may use; designers see everything with the builder's controls.
  const usable = (kind: DefKind, slug: string) =>
    access.design || (kind === 'flows' ? access.may(`flow:${slug}`, 'run') : kind === 'forms' ? access.may(`form:${slug}`, 'create') : true);

  const startCreate = (v: { slug: string; entity?: string; label_zh?: string; label_en?: string }) => {
    const kind = creating!;
    setCreating(null);
    form.resetFields();
    const q = v.entity ? `?entity=${encodeURIComponent(v.entity)}` : '';
    const label = new URLSearchParams({ edit: '1', ...(v.label_zh ? { label_zh: v.label_zh } : {}), ...(v.label_en ? { label_en: v.label_en } : {}) });
    const target = kind === 'dashboards' ? `/apps/${app}/dashboards/${v.slug}?${label.toString()}` : `/apps/${app}/${kind}/${v.slug}/design${q}`;
    nav(target);
  };

  if (detail.isLoading) return <Skeleton active />;
  return (
    <div>
      <Space style={{ justifyContent: 'space-between', width: '100%', marginBottom: 16 }}>
        <Typography.Title level={3} style={{ margin: 0 }} data-testid="app-title">
          {detail.data?.name || app}
        </Typography.Title>
        {access.exportApp && (
          <Button icon={<DownloadOutlined />} href={`/api/v1/apps/${app}/export`} target="_blank" data-testid="app-export">
            {t('app.export')}
          </Button>
        )}
      </Space>
      {detail.isError && <Alert type="error" showIcon title={errorMessage(detail.error)} style={{ marginBottom: 16 }} />}
      <Row gutter={[16, 16]}>
        {SECTIONS.map((s) => {
          const items = defList(detail.data, s.kind).filter((d) => usable(s.kind, d.slug));
          if (!access.design && items.length === 0) return null;
          return (
            <Col key={s.kind} xs={24} lg={12}>
              <Card
                title={t(`kinds.${s.kind}`)}
                data-testid={`section-${s.kind}`}
                extra={
                  <Space size="small">
                    {s.kind === 'flows' && items.length > 0 ? (
                      <Link to={`/apps/${app}/runs`} data-testid="app-runs-link">{t('fb.appRuns')}</Link>
                    ) : null}
                    {s.kind === 'flows' && access.design ? (
                      <Link to={`/apps/${app}/credentials`} data-testid="app-credentials-link">{t('credentials.title')}</Link>
                    ) : null}
                    {access.design && (
                      <Button size="small" icon={<PlusOutlined />} onClick={() => setCreating(s.kind)} data-testid={`new-${s.kind}`}>
                        {t('common.new')}
                      </Button>
                    )}
                  </Space>
                }
              >
                <List
                  size="small"
                  dataSource={items}
                  locale={{ emptyText: t('common.none') }}
                  renderItem={(d) => (
                    <List.Item
                      actions={[
                        s.design && access.design && (
                          <Link key="d" to={s.design(app, d.slug)} data-testid={`design-${s.kind}-${d.slug}`}>
                            {t('common.design')}
                          </Link>
                        ),
                      ].filter(Boolean)}
                    >
                      <Link to={s.open(app, d.slug)} data-testid={`open-${s.kind}-${d.slug}`}>
                        {labelText(d.label ?? d.title, i18n.language, d.slug)}
                      </Link>
                      {access.design && (
                        <Space size={4}>
                          {d.entity && <Tag>{d.entity}</Tag>}
                          {(d.published_version ?? d.version) ? <Tag color="green">v{d.published_version ?? d.version}</Tag> : <Tag>{t('def.draft')}</Tag>}
                        </Space>
                      )}
                    </List.Item>
                  )}
                />
              </Card>
            </Col>
          );
        })}
      </Row>
      <Modal title={creating ? `${t('common.new')} · ${t(`kinds.${creating}`)}` : ''} open={!!creating} onCancel={() => setCreating(null)} onOk={() => form.submit()} okButtonProps={{ 'data-testid': 'new-def-ok' }} destroyOnHidden>
        <Form form={form} layout="vertical" onFinish={startCreate}>
          <Form.Item name="slug" label={t('common.slug')} rules={[{ required: true, message: t('common.required') }, { pattern: /^[a-z][a-z0-9_-]{0,62}$/, message: t('apps.slugHelp') }]}>
            <Input data-testid="new-def-slug" />
          </Form.Item>
          {creating === 'dashboards' && (
            <>
              <Form.Item name="label_zh" label={t('dashboards.labelZh')}>
                <Input data-testid="new-def-label-zh" />
              </Form.Item>
              <Form.Item name="label_en" label={t('dashboards.labelEn')}>
                <Input data-testid="new-def-label-en" />
              </Form.Item>
            </>
          )}
          {(creating === 'forms' || creating === 'reports') && (
            <Form.Item name="entity" label={t('common.entity')} rules={[{ required: true, message: t('common.required') }]}>
              <Select options={entities.map((e) => ({ value: e.slug, label: labelText(e.label, i18n.language, e.slug) }))} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </div>
  );
}
