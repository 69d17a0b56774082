import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Badge, Button, Collapse, Empty, List, Skeleton, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, errorMessage } from '../../api/client';
import { appAccess, useApp } from '../../api/defs';
import { recordsPath, useRecords } from '../../api/records';
import type { RecordItem } from '../../api/types';
import { panelTitle, type RelatedPanel } from '../../lib/recordPage';

const enc = encodeURIComponent;

/** The related records of one panel, read with the list API (the viewer's scope applies). */
function PanelItems({ app, panel }: { app: string; panel: RelatedPanel }) {
  const { t } = useTranslation();
  const list = useRecords(app, panel.entity, { filter: JSON.stringify(panel.filter), limit: 10, sort: '-created_at' });
  const items = (list.data?.pages ?? []).flatMap((p) => p.items);
  if (list.isLoading) return <Skeleton active paragraph={{ rows: 1 }} />;
  if (list.isError) return <Alert type="warning" showIcon title={errorMessage(list.error)} />;
  const title = (r: RecordItem) => String((panel.title_field && r.data[panel.title_field]) || '') || t('recordPage.untitled', { id: r.id.slice(0, 8) });
  return (
    <>
      <List
        size="small"
        dataSource={items}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('recordPage.noRelated')} /> }}
        renderItem={(r) => (
          <List.Item style={{ paddingInline: 0 }}>
            <Link to={`/apps/${enc(app)}/entities/${enc(panel.entity)}?record=${enc(r.id)}`} data-testid="related-link">{title(r)}</Link>
          </List.Item>
        )}
      />
      {list.hasNextPage && (
        <Button size="small" type="link" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('common.loadMore')}</Button>
      )}
    </>
  );
}

/**
 * Related-record panels of a record: its own relation fields and the relation fields of other
 * entities that point at it, each listing the related records (by title, linked) the viewer may
 * read; the panels of records pointing here offer a quick create with the relation filled in.
 */
export default function RelatedPanels({ app, entity, id, onCreate }: { app: string; entity: string; id: string; onCreate: (panel: RelatedPanel) => void }) {
  const { t, i18n } = useTranslation();
  const appQ = useApp(app);
  const access = appAccess(appQ.data);
  const related = useQuery({
    queryKey: ['related', app, entity, id],
    queryFn: () => api<{ items: RelatedPanel[] }>(`${recordsPath(app, entity, id)}/related`),
  });
  if (related.isLoading) return <Skeleton active />;
  if (related.isError) return <Alert type="warning" showIcon title={errorMessage(related.error)} />;
  const panels = related.data?.items ?? [];
  if (!panels.length) return <Empty description={t('recordPage.noRelations')} />;
  return (
    <Collapse
      data-testid="related-panels"
      size="small"
      defaultActiveKey={panels.filter((p) => p.count > 0).map((p) => `${p.direction}:${p.entity}.${p.field}`)}
      items={panels.map((p) => {
        const key = `${p.direction}:${p.entity}.${p.field}`;
        const canCreate = p.direction === 'in' && access.may(`entity:${p.entity}`, 'create');
        return {
          key,
          label: (
            <Space size={6} data-testid={`related-${p.entity}-${p.field}`}>
              <Typography.Text strong>{panelTitle(p, panels, i18n.language)}</Typography.Text>
              <Badge count={p.count} showZero color="#8c8c8c" overflowCount={9999} data-testid="related-count" />
            </Space>
          ),
          extra: canCreate ? (
            <Button
              size="small"
              type="text"
              icon={<PlusOutlined />}
              onClick={(e) => { e.stopPropagation(); onCreate(p); }}
              data-testid={`related-create-${p.entity}-${p.field}`}
              aria-label={t('recordPage.quickCreate')}
            >
              {t('recordPage.quickCreate')}
            </Button>
          ) : undefined,
          children: <PanelItems app={app} panel={p} />,
        };
      })}
    />
  );
}
