import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Checkbox, Col, Empty, Input, List, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import { ACTIONS, SCOPES, togglePermission, useRoles, type Permission, type Role } from '../../api/admin';
import { DEF_KINDS, defList, useApp } from '../../api/defs';
import { labelText } from '../../lib/labels';
import { catalogueEntities, defaultScope, useEntityDefs } from './roleScope';
import type { EntityDef } from '../../api/types';
import { useApps } from '../AppsList';

const KIND_PREFIX: Record<string, string> = { entities: 'entity', forms: 'form', flows: 'flow', reports: 'report', dashboards: 'dashboard' };

function FieldRules({ entity, def, rule, onChange }: { entity: string; def?: EntityDef; rule: { hidden?: string[]; readonly?: string[] }; onChange: (r: { hidden?: string[]; readonly?: string[] }) => void }) {
  const { t, i18n } = useTranslation();
  const opts = (def?.fields ?? []).map((f) => ({ value: f.key, label: `${labelText(f.label, i18n.language, f.key)} (${f.key})` }));
  return (
    <Row gutter={8} style={{ marginBottom: 8 }} data-testid={`field-rules-${entity}`}>
      <Col xs={24} md={4}><ResourceName main={labelText(def?.label, i18n.language, entity)} sub={entity} /></Col>
      <Col xs={24} md={10}><Select mode="multiple" style={{ width: '100%' }} placeholder={t('admin.hiddenFields')} value={rule.hidden ?? []} options={opts} optionFilterProp="label" onChange={(v) => onChange({ ...rule, hidden: v })} /></Col>
      <Col xs={24} md={10}><Select mode="multiple" style={{ width: '100%' }} placeholder={t('admin.readonlyFields')} value={rule.readonly ?? []} options={opts} optionFilterProp="label" onChange={(v) => onChange({ ...rule, readonly: v })} /></Col>
    </Row>
  );
}

/** A label with its identifier as secondary text. */
function ResourceName({ main, sub, tag }: { main: string; sub: string; tag?: string }) {
  return (
    <span>
      {main}
      {tag && <Tag style={{ marginLeft: 6 }}>{tag}</Tag>}
      <br />
      <span style={{ color: 'rgba(0,0,0,0.45)', fontSize: 12 }}>{sub}</span>
    </span>
  );
}

export default function AdminRoles() {
  const { t, i18n } = useTranslation();
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

  const resources = ['app', ...DEF_KINDS.flatMap((k) => defList(appQ.data, k).map((d) => `${KIND_PREFIX[k]}:${d.slug}`))];
  const allResources = role ? [...new Set([...resources, ...role.permissions.map((p) => p.resource)])] : resources;
  const entities = defList(appQ.data, 'entities').map((e) => e.slug);
  const entityDefs = useEntityDefs(app, entities);
  const catalogue = catalogueEntities(Object.values(entityDefs), (roles.data ?? []).filter((r) => r.name !== role?.name));
  // the scope chosen for a resource before any action is ticked
  const [pending, setPending] = useState<Record<string, string>>({});
  const scopeOf = (res: string) => role?.permissions.find((p) => p.resource === res)?.scope ?? pending[res] ?? defaultScope(res, catalogue);
  const labels = new Map<string, string>();
  for (const k of DEF_KINDS) for (const d of defList(appQ.data, k)) labels.set(`${KIND_PREFIX[k]}:${d.slug}`, labelText(d.label ?? d.title, i18n.language, d.slug));
  const resourceName = (res: string) => {
    if (res === 'app') return <ResourceName main={t('admin.appRow')} sub={appName} />;
    const [kind, slug] = res.split(':');
    const main = slug === '*' ? t('admin.allOfKind', { kind: t(`admin.resourceKinds.${kind}`, { defaultValue: kind }) }) : labels.get(res) ?? slug ?? res;
    return <ResourceName main={main} sub={res} tag={slug && catalogue.has(slug) && kind === 'entity' ? t('admin.scopeCatalogue') : t(`admin.resourceKinds.${kind}`, { defaultValue: kind })} />;
  };
  const appName = apps.data?.find((a) => a.slug === app)?.name ?? app ?? '';

  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.roles')}</Typography.Title>
        <Space>
          <Select style={{ width: 200 }} showSearch={{ optionFilterProp: 'label' }} value={app} data-testid="roles-app" onChange={(v) => { setApp(v); setRole(null); }} options={(apps.data ?? []).map((a) => ({ value: a.slug, label: a.name || a.slug }))} placeholder={t('nav.apps')} />
          <Button type="primary" icon={<PlusOutlined />} disabled={!app} onClick={() => { setPending({}); setRole({ app: app!, name: '', permissions: [], fields: {} }); }} data-testid="role-new">{t('admin.newRole')}</Button>
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
              <Alert type="info" showIcon style={{ marginBottom: 8 }} title={t('admin.scopeHelp')} />
              <Table
                size="small"
                pagination={false}
                rowKey="resource"
                data-testid="permission-matrix"
                dataSource={allResources.map((res) => ({ resource: res, p: role.permissions.find((x) => x.resource === res) }))}
                scroll={{ x: true }}
                columns={[
                  { title: t('admin.resource'), dataIndex: 'resource', fixed: 'left', render: (res: string) => <span data-testid={`resource-${res}`}>{resourceName(res)}</span> },
                  ...ACTIONS.map((a) => ({
                    title: t(`actions.${a}`),
                    key: a,
                    align: 'center' as const,
                    render: (_v: unknown, row: { resource: string; p?: Permission }) => (
                      <Checkbox disabled={!!role.builtin} checked={!!row.p?.actions.includes(a)} onChange={(e) => setRole({ ...role, permissions: togglePermission(role.permissions, row.resource, a, e.target.checked, scopeOf(row.resource)) })} />
                    ),
                  })),
                  {
                    title: t('admin.scope'),
                    key: 'scope',
                    render: (_v: unknown, row: { resource: string; p?: Permission }) => (
                      <Select size="small" style={{ width: 150 }} disabled={!!role.builtin} value={scopeOf(row.resource)} data-testid={`scope-${row.resource}`}
                        options={SCOPES.map((s) => ({ value: s, label: t(`scopes.${s}`) }))}
                        onChange={(v) => (row.p ? setRole({ ...role, permissions: role.permissions.map((p) => (p.resource === row.resource ? { ...p, scope: v } : p)) }) : setPending({ ...pending, [row.resource]: v }))} />
                    ),
                  },
                ]}
              />
              <Typography.Title level={5} style={{ marginTop: 16 }}>{t('admin.fieldRules')}</Typography.Title>
              {app && entities.map((e) => (
                <FieldRules key={e} entity={e} def={entityDefs[e]} rule={role.fields?.[e] ?? {}} onChange={(r) => setRole({ ...role, fields: { ...(role.fields ?? {}), [e]: r } })} />
              ))}
            </Card>
          )}
        </Col>
      </Row>
    </div>
  );
}
