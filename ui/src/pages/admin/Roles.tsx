import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Checkbox, Col, Empty, Input, List, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import { ACTIONS, SCOPES, togglePermission, useRoles, type Permission, type Role } from '../../api/admin';
import { DEF_KINDS, defList, useApp, useDefinition } from '../../api/defs';
import type { EntityDef } from '../../api/types';
import { useApps } from '../AppsList';

const KIND_PREFIX: Record<string, string> = { entities: 'entity', forms: 'form', flows: 'flow', reports: 'report', dashboards: 'dashboard' };

function FieldRules({ app, entity, rule, onChange }: { app: string; entity: string; rule: { hidden?: string[]; readonly?: string[] }; onChange: (r: { hidden?: string[]; readonly?: string[] }) => void }) {
  const { t } = useTranslation();
  const def = useDefinition<EntityDef>(app, 'entities', entity);
  const opts = (def.data?.def?.fields ?? []).map((f) => ({ value: f.key, label: f.key }));
  return (
    <Row gutter={8} style={{ marginBottom: 8 }}>
      <Col span={4}><Tag>{entity}</Tag></Col>
      <Col span={10}><Select mode="multiple" style={{ width: '100%' }} placeholder={t('admin.hiddenFields')} value={rule.hidden ?? []} options={opts} onChange={(v) => onChange({ ...rule, hidden: v })} /></Col>
      <Col span={10}><Select mode="multiple" style={{ width: '100%' }} placeholder={t('admin.readonlyFields')} value={rule.readonly ?? []} options={opts} onChange={(v) => onChange({ ...rule, readonly: v })} /></Col>
    </Row>
  );
}

export default function AdminRoles() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const apps = useApps();
  const [app, setApp] = useState<string | undefined>();
  useEffect(() => {
    if (!app && apps.data?.length) setApp(apps.data[0].slug);
  }, [app, apps.data]);
  const roles = useRoles(app);
  const appQ = useApp(app);
  const [role, setRole] = useState<Role | null>(null);
  const save = useMutation({
    mutationFn: (r: Role) => api('/api/v1/admin/roles', { method: 'PUT', body: { app: r.app, name: r.name, permissions: r.permissions, fields: r.fields ?? {} } }),
    onSuccess: () => {
      message.success(t('admin.saved'));
      void qc.invalidateQueries({ queryKey: ['admin-roles'] });
    },
    onError: (e) => message.error(errorMessage(e)),
  });

  const resources = DEF_KINDS.flatMap((k) => defList(appQ.data, k).map((d) => `${KIND_PREFIX[k]}:${d.slug}`));
  const allResources = role ? [...new Set([...resources, ...role.permissions.map((p) => p.resource)])] : resources;
  const entities = defList(appQ.data, 'entities').map((e) => e.slug);

  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.roles')}</Typography.Title>
        <Space>
          <Select style={{ width: 200 }} showSearch={{ optionFilterProp: 'label' }} value={app} data-testid="roles-app" onChange={(v) => { setApp(v); setRole(null); }} options={(apps.data ?? []).map((a) => ({ value: a.slug, label: a.name || a.slug }))} placeholder={t('nav.apps')} />
          <Button type="primary" icon={<PlusOutlined />} disabled={!app} onClick={() => setRole({ app: app!, name: '', permissions: [], fields: {} })} data-testid="role-new">{t('admin.newRole')}</Button>
        </Space>
      </Space>
      {roles.isError && <Alert type="error" showIcon title={errorMessage(roles.error)} />}
      <Row gutter={16}>
        <Col xs={24} md={6}>
          <Card size="small">
            <List
              dataSource={roles.data ?? []}
              loading={roles.isLoading}
              renderItem={(r) => (
                <List.Item onClick={() => setRole(JSON.parse(JSON.stringify(r)) as Role)} style={{ cursor: 'pointer', background: role?.name === r.name ? '#e6f4ff' : undefined, paddingLeft: 8 }}>
                  <Space>{r.name}{r.builtin && <Tag>{t('admin.builtin')}</Tag>}</Space>
                </List.Item>
              )}
            />
          </Card>
        </Col>
        <Col xs={24} md={18}>
          {!role ? (
            <Empty />
          ) : (
            <Card
              size="small"
              title={<Input style={{ width: 240 }} value={role.name} disabled={!!role.builtin} placeholder="sales_rep" onChange={(e) => setRole({ ...role, name: e.target.value })} data-testid="role-name" />}
              extra={<Button type="primary" disabled={!!role.builtin || !role.name} onClick={() => save.mutate(role)} loading={save.isPending} data-testid="role-save">{t('common.save')}</Button>}
            >
              <Typography.Title level={5}>{t('admin.permissions')}</Typography.Title>
              <Table
                size="small"
                pagination={false}
                rowKey="resource"
                data-testid="permission-matrix"
                dataSource={allResources.map((res) => ({ resource: res, p: role.permissions.find((x) => x.resource === res) }))}
                scroll={{ x: true }}
                columns={[
                  { title: t('admin.resource'), dataIndex: 'resource', fixed: 'left' },
                  ...ACTIONS.map((a) => ({
                    title: t(`actions.${a}`),
                    key: a,
                    align: 'center' as const,
                    render: (_v: unknown, row: { resource: string; p?: Permission }) => (
                      <Checkbox disabled={!!role.builtin} checked={!!row.p?.actions.includes(a)} onChange={(e) => setRole({ ...role, permissions: togglePermission(role.permissions, row.resource, a, e.target.checked) })} />
                    ),
                  })),
                  {
                    title: t('admin.scope'),
                    key: 'scope',
                    render: (_v: unknown, row: { resource: string; p?: Permission }) =>
                      row.p ? (
                        <Select size="small" style={{ width: 120 }} disabled={!!role.builtin} value={row.p.scope} options={SCOPES.map((s) => ({ value: s, label: t(`scopes.${s}`) }))} onChange={(v) => setRole({ ...role, permissions: role.permissions.map((p) => (p.resource === row.resource ? { ...p, scope: v } : p)) })} />
                      ) : null,
                  },
                ]}
              />
              <Typography.Title level={5} style={{ marginTop: 16 }}>{t('admin.fieldRules')}</Typography.Title>
              {app && entities.map((e) => (
                <FieldRules key={e} app={app} entity={e} rule={role.fields?.[e] ?? {}} onChange={(r) => setRole({ ...role, fields: { ...(role.fields ?? {}), [e]: r } })} />
              ))}
            </Card>
          )}
        </Col>
      </Row>
    </div>
  );
}
