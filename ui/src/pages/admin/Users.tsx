import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Checkbox, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import { useRoles, useTeams, useUsers, type Role } from '../../api/admin';
import type { User } from '../../api/types';
import { useApps } from '../AppsList';
import { applyFieldErrors } from '../../components/formErrors';

interface UserRole { app: string; role: string; app_name?: string }

/** Role options grouped by app (app name as the group), labelled "App · role" so a chosen tag names its app. */
function roleOptions(roles: Role[], appName: (slug: string) => string) {
  const groups = new Map<string, { value: string; label: string }[]>();
  for (const r of roles) {
    const g = groups.get(r.app) ?? [];
    g.push({ value: `${r.app}/${r.name}`, label: `${appName(r.app)} · ${r.name}` });
    groups.set(r.app, g);
  }
  return [...groups.entries()].map(([app, options]) => ({ label: appName(app), title: app, options }));
}

/** A user's roles, one line per app: "App: role, role". */
function UserRoles({ roles, appName, testId }: { roles?: UserRole[]; appName: (slug: string, name?: string) => string; testId: string }) {
  const { t } = useTranslation();
  const byApp = new Map<string, { name: string; roles: string[] }>();
  for (const r of roles ?? []) {
    const e = byApp.get(r.app) ?? { name: appName(r.app, r.app_name), roles: [] };
    e.roles.push(r.role);
    byApp.set(r.app, e);
  }
  if (!byApp.size) return <span data-testid={testId} style={{ color: 'rgba(0,0,0,0.45)' }}>{t('admin.noRoles')}</span>;
  return (
    <span data-testid={testId}>
      {[...byApp.entries()].map(([app, e]) => (
        <Tag key={app} title={app} style={{ marginBottom: 2 }}>{e.name}: {e.roles.join(', ')}</Tag>
      ))}
    </span>
  );
}

export default function AdminUsers() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [q, setQ] = useState('');
  const users = useUsers(q);
  const teams = useTeams();
  const roles = useRoles();
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [roleUser, setRoleUser] = useState<User | null>(null);
  const [roleSel, setRoleSel] = useState<string[]>([]);
  const [rolesLoading, setRolesLoading] = useState(false);
  const apps = useApps();
  const [form] = Form.useForm();
  const teamName = (id?: string | null) => teams.data?.find((x) => x.id === id)?.name ?? '';

  const save = useMutation({
    mutationFn: async (v: Record<string, unknown>) => {
      const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && x !== ''));
      if (editing === 'new') return api('/api/v1/admin/users', { method: 'POST', body });
      return api(`/api/v1/admin/users/${(editing as User).id}`, { method: 'PATCH', body: { ...body, team_id: v.team_id ?? null } });
    },
    onSuccess: () => {
      message.success(t('admin.saved'));
      setEditing(null);
      void qc.invalidateQueries({ queryKey: ['admin-users'] });
    },
    onError: (e) => {
      if (!applyFieldErrors(form, e)) message.error(errorMessage(e));
    },
  });
  // The dialog starts from the user's current roles, read fresh (GET /admin/users/{id}), so saving it
  // with one more role keeps the others.
  const openRoles = async (u: User) => {
    setRoleUser(u);
    setRoleSel(((u.roles as { app: string; role: string }[] | undefined) ?? []).map((r) => `${r.app}/${r.role}`));
    setRolesLoading(true);
    try {
      const full = await api<User>(`/api/v1/admin/users/${u.id}`);
      setRoleSel(((full.roles as { app: string; role: string }[] | undefined) ?? []).map((r) => `${r.app}/${r.role}`));
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setRolesLoading(false);
    }
  };
  const appName = (slug: string, name?: string) => name || apps.data?.find((a) => a.slug === slug)?.name || slug;
  const saveRoles = useMutation({
    mutationFn: () => api(`/api/v1/admin/users/${roleUser!.id}/roles`, { method: 'PUT', body: { roles: roleSel.map((s) => { const [app, role] = s.split('/'); return { app, role }; }) } }),
    onSuccess: () => {
      message.success(t('admin.saved'));
      setRoleUser(null);
      void qc.invalidateQueries({ queryKey: ['admin-users'] });
    },
    onError: (e) => message.error(errorMessage(e)),
  });

  const open = (u: User | 'new') => {
    setEditing(u);
    form.resetFields();
    if (u !== 'new') form.setFieldsValue({ email: u.email, name: u.name, team_id: u.team_id ?? undefined, is_admin: u.is_admin, disabled: u.disabled });
  };

  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.users')}</Typography.Title>
        <Space>
          <Input.Search allowClear placeholder={t('admin.searchUsers')} onSearch={setQ} data-testid="users-search" />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')} data-testid="user-new">{t('admin.newUser')}</Button>
        </Space>
      </Space>
      {users.isError && <Alert type="error" showIcon title={errorMessage(users.error)} />}
      <Table<User>
        rowKey="id"
        loading={users.isLoading}
        dataSource={users.data ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
        scroll={{ x: 'max-content' }}
        data-testid="users-table"
        columns={[
          { title: t('admin.name'), dataIndex: 'name' },
          { title: t('login.email'), dataIndex: 'email' },
          { title: t('nav.teams'), render: (_v, u) => teamName(u.team_id) },
          { title: t('admin.rolesOf'), render: (_v, u) => <UserRoles roles={u.roles as UserRole[] | undefined} appName={appName} testId={`user-roles-${u.email}`} /> },
          { title: t('admin.status'), render: (_v, u) => <Space>{u.is_admin && <Tag color="gold">{t('admin.admin')}</Tag>}{u.disabled ? <Tag color="red">{t('admin.disabled')}</Tag> : <Tag color="green">{t('admin.active')}</Tag>}</Space> },
          {
            title: '',
            render: (_v, u) => (
              <Space>
                <Button size="small" onClick={() => open(u)}>{t('common.edit')}</Button>
                <Button size="small" onClick={() => void openRoles(u)} data-testid={`user-assign-roles-${u.email}`}>{t('admin.assignRoles')}</Button>
              </Space>
            ),
          },
        ]}
      />
      <Modal title={editing === 'new' ? t('admin.newUser') : t('common.edit')} open={!!editing} onCancel={() => setEditing(null)} onOk={() => form.submit()} confirmLoading={save.isPending} destroyOnHidden>
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
          <Form.Item name="email" label={t('login.email')} rules={[{ required: true, type: 'email', message: t('common.required') }]}><Input /></Form.Item>
          <Form.Item name="name" label={t('admin.name')}><Input /></Form.Item>
          <Form.Item name="password" label={editing === 'new' ? t('login.password') : t('admin.resetPassword')} rules={editing === 'new' ? [{ required: true, message: t('common.required') }] : []}><Input.Password autoComplete="new-password" /></Form.Item>
          <Form.Item name="team_id" label={t('nav.teams')}><Select allowClear options={(teams.data ?? []).map((x) => ({ value: x.id, label: x.name }))} /></Form.Item>
          <Form.Item name="is_admin" valuePropName="checked"><Checkbox>{t('admin.admin')}</Checkbox></Form.Item>
          {editing !== 'new' && <Form.Item name="disabled" valuePropName="checked"><Checkbox>{t('admin.disabled')}</Checkbox></Form.Item>}
        </Form>
      </Modal>
      <Modal title={`${t('admin.assignRoles')}: ${roleUser?.name || roleUser?.email || ''}`} open={!!roleUser} onCancel={() => setRoleUser(null)} onOk={() => saveRoles.mutate()} confirmLoading={saveRoles.isPending} okButtonProps={{ disabled: rolesLoading, 'data-testid': 'roles-save' } as React.ComponentProps<typeof Button>}>
        <p style={{ color: 'rgba(0,0,0,0.55)', marginTop: 0 }}>{t('admin.rolesHelp')}</p>
        <Select mode="multiple" loading={rolesLoading} disabled={rolesLoading} style={{ width: '100%' }} value={roleSel} onChange={setRoleSel} data-testid="roles-select"
          showSearch={{ optionFilterProp: 'label' }} options={roleOptions(roles.data ?? [], appName)} />
      </Modal>
    </div>
  );
}
