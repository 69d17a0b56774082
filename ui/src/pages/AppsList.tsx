import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Col, Empty, Row, Skeleton } from 'antd';
import { Suspense, lazy, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMe } from '../api/auth';
import { api, errorMessage } from '../api/client';
import type { AppSummary } from '../api/types';
import Panel from '../components/Panel';
import { Text, Title } from '../components/Text';
import { asArray } from '../lib/labels';

// The create dialog (antd Form, Modal) loads when it is first opened: the app list is a first page.
const CreateAppDialog = lazy(() => import('./CreateAppDialog'));

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
  const nav = useNavigate();

  return (
    <div>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 16 }}>
        <Title>{t('apps.title')}</Title>
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
              <Panel hoverable onClick={() => nav(`/apps/${a.slug}`)} data-testid={`app-card-${a.slug}`}
                title={a.name || a.slug} description={<Text type="secondary" code>{a.slug}</Text>} />
            </Col>
          ))}
        </Row>
      )}
      {open && <Suspense fallback={null}><CreateAppDialog onClose={() => setOpen(false)} /></Suspense>}
    </div>
  );
}
