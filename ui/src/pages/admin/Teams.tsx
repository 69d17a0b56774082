import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Empty, Form, Input, Row, Select, Space, Tree, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import { teamTree, useTeams, useUsers, type Team } from '../../api/admin';
import { applyFieldErrors } from '../../components/formErrors';

export default function AdminTeams() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const teams = useTeams();
  const users = useUsers();
  const [sel, setSel] = useState<Team | 'new' | null>(null);
  const [form] = Form.useForm();
  const save = useMutation({
    mutationFn: (v: { name: string; parent_id?: string; manager_id?: string }) => {
      const body = { name: v.name, parent_id: v.parent_id ?? null, manager_id: v.manager_id ?? null };
      return sel === 'new' ? api('/api/v1/admin/teams', { method: 'POST', body }) : api(`/api/v1/admin/teams/${(sel as Team).id}`, { method: 'PATCH', body });
    },
    onSuccess: () => {
      message.success(t('admin.saved'));
      setSel(null);
      void qc.invalidateQueries({ queryKey: ['admin-teams'] });
    },
    onError: (e) => {
      if (!applyFieldErrors(form, e)) message.error(errorMessage(e));
    },
  });
  const pick = (tm: Team | 'new') => {
    setSel(tm);
    form.resetFields();
    if (tm !== 'new') form.setFieldsValue({ name: tm.name, parent_id: tm.parent_id ?? undefined, manager_id: tm.manager_id ?? undefined });
  };
  const tree = teamTree(teams.data ?? []);
  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.teams')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => pick('new')} data-testid="team-new">{t('admin.newTeam')}</Button>
      </Space>
      {teams.isError && <Alert type="error" showIcon title={errorMessage(teams.error)} />}
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Card size="small">
            {tree.length ? (
              <Tree
                defaultExpandAll
                treeData={tree}
                titleRender={(n) => <span>{n.title} <Typography.Text type="secondary">({n.team.members ?? 0})</Typography.Text></span>}
                onSelect={(_k, info) => pick((info.node as unknown as { team: Team }).team)}
                data-testid="team-tree"
              />
            ) : (
              <Empty />
            )}
          </Card>
        </Col>
        <Col xs={24} md={12}>
          {sel && (
            <Card size="small" title={sel === 'new' ? t('admin.newTeam') : sel.name}>
              <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
                <Form.Item name="name" label={t('admin.name')} rules={[{ required: true, message: t('common.required') }]}><Input data-testid="team-name" /></Form.Item>
                <Form.Item name="parent_id" label={t('admin.parentTeam')}>
                  <Select allowClear options={(teams.data ?? []).filter((x) => sel === 'new' || x.id !== sel.id).map((x) => ({ value: x.id, label: x.name }))} />
                </Form.Item>
                <Form.Item name="manager_id" label={t('admin.manager')}>
                  <Select allowClear showSearch={{ optionFilterProp: 'label' }} options={(users.data ?? []).map((u) => ({ value: u.id, label: `${u.name ?? ''} <${u.email}>` }))} />
                </Form.Item>
                <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="team-save">{t('common.save')}</Button>
              </Form>
            </Card>
          )}
        </Col>
      </Row>
    </div>
  );
}
