import { DeleteOutlined, EditOutlined, PlusOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ApiError, api, errorMessage } from '../api/client';
import { useApp } from '../api/defs';
import SchemaForm from '../components/SchemaForm';
import { paramsToSchema } from '../lib/catalog';
import { connectorsWithCredentials, credentialPayload, type SavedCredential } from '../lib/credentials';
import { labelText } from '../lib/labels';

/** The app's connection credentials (SMTP, DingTalk, AI, ...): add, change, test and delete them; values never come back. */
export default function Credentials() {
  const { app = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const lang = i18n.language;
  const detail = useApp(app);
  const catalog = useQuery({ queryKey: ['catalog'], queryFn: () => api<unknown>('/api/v1/catalog'), staleTime: 300_000 });
  const connectors = useMemo(() => connectorsWithCredentials(catalog.data), [catalog.data]);
  const list = useQuery({
    queryKey: ['credentials', app],
    queryFn: () => api<{ items?: SavedCredential[] }>(`/api/v1/apps/${encodeURIComponent(app)}/credentials`),
  });
  const [editing, setEditing] = useState<{ id?: string; name: string; connector: string; fields?: string[] } | null>(null);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const conn = connectors.find((c) => c.id === editing?.connector);
  const connLabel = (id: string) => {
    const c = connectors.find((x) => x.id === id);
    return c ? labelText(c.label, lang, id) : id;
  };

  const save = useMutation({
    mutationFn: async () => {
      const body = credentialPayload(values, conn?.credentials ?? []);
      if (editing?.id) return api(`/api/v1/apps/${encodeURIComponent(app)}/credentials/${editing.id}`, { method: 'PATCH', body: { values: body } });
      return api(`/api/v1/apps/${encodeURIComponent(app)}/credentials`, { method: 'POST', body: { name: editing?.name.trim(), connector: editing?.connector, values: body } });
    },
    onSuccess: () => {
      message.success(t('credentials.saved'));
      setEditing(null);
      qc.invalidateQueries({ queryKey: ['credentials', app] });
    },
    onError: (e) => {
      const fe: Record<string, string> = {};
      if (e instanceof ApiError) for (const x of e.fieldErrors) fe[String(x.field ?? '').replace(/^values\./, '')] = String(x.message ?? '');
      setErrors(fe);
      message.error(errorMessage(e));
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/api/v1/apps/${encodeURIComponent(app)}/credentials/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['credentials', app] }),
    onError: (e) => message.error(errorMessage(e)),
  });
  const test = useMutation({
    mutationFn: (id: string) => api<{ ok?: boolean; message?: string; error?: string }>(`/api/v1/apps/${encodeURIComponent(app)}/credentials/${id}/test`, { method: 'POST' }),
    onSuccess: (r) => (r?.ok === false ? message.error(r.error ?? r.message ?? t('credentials.testFailed')) : message.success(t('credentials.testOk'))),
    onError: (e) => message.error(errorMessage(e)),
  });

  const open = (c: { id?: string; name: string; connector: string; fields?: string[] }) => {
    setEditing(c);
    setValues({});
    setErrors({});
  };

  return (
    <div data-testid="credentials-page">
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }} wrap>
        <Space>
          <Link to={`/apps/${encodeURIComponent(app)}`}>{detail.data?.name ?? app}</Link>
          <span>/</span>
          <Typography.Title level={3} style={{ margin: 0 }}>{t('credentials.title')}</Typography.Title>
        </Space>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => open({ name: '', connector: '' })} data-testid="credential-new">{t('credentials.add')}</Button>
      </Space>
      <Typography.Paragraph type="secondary">{t('credentials.help')}</Typography.Paragraph>
      <Table<SavedCredential>
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="credentials-table"
        locale={{ emptyText: t('credentials.empty') }}
        columns={[
          { title: t('credentials.name'), dataIndex: 'name', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
          { title: t('credentials.connector'), dataIndex: 'connector', render: (v: string) => <Space size={4}>{connLabel(v)}<Typography.Text type="secondary" style={{ fontSize: 12 }}>{v}</Typography.Text></Space> },
          { title: t('credentials.filled'), dataIndex: 'fields', render: (f?: string[]) => (f ?? []).map((k) => <Tag key={k}>{labelText(connectors.flatMap((c) => c.credentials).find((p) => p.key === k)?.label, lang, k)}</Tag>) },
          {
            title: '',
            render: (_v, c) => (
              <Space>
                <Button size="small" icon={<ThunderboltOutlined />} loading={test.isPending && test.variables === c.id} onClick={() => test.mutate(c.id)} data-testid={`credential-test-${c.name}`}>{t('credentials.test')}</Button>
                <Button size="small" icon={<EditOutlined />} onClick={() => open({ id: c.id, name: c.name, connector: c.connector, fields: c.fields })} data-testid={`credential-edit-${c.name}`}>{t('credentials.edit')}</Button>
                <Popconfirm title={t('credentials.deleteConfirm', { name: c.name })} onConfirm={() => remove.mutate(c.id)} okButtonProps={{ danger: true, 'data-testid': 'credential-delete-ok' } as { danger?: boolean }}>
                  <Button size="small" danger icon={<DeleteOutlined />} aria-label={t('credentials.delete')} data-testid={`credential-delete-${c.name}`} />
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={!!editing}
        title={editing?.id ? t('credentials.editTitle', { name: editing.name }) : t('credentials.add')}
        onCancel={() => setEditing(null)}
        onOk={() => save.mutate()}
        confirmLoading={save.isPending}
        okButtonProps={{ disabled: !editing?.connector || !editing?.name.trim(), 'data-testid': 'credential-save' } as { disabled?: boolean }}
        destroyOnHidden
      >
        <Form layout="vertical">
          <Form.Item label={t('credentials.connector')} required>
            <Select
              disabled={!!editing?.id}
              value={editing?.connector || undefined}
              onChange={(v: string) => { setEditing((e) => (e ? { ...e, connector: v, name: e.name || v } : e)); setValues({}); }}
              options={connectors.map((c) => ({ value: c.id, label: labelText(c.label, lang, c.id) }))}
              placeholder={t('credentials.pickConnector')}
              data-testid="credential-connector"
            />
          </Form.Item>
          <Form.Item label={t('credentials.name')} required extra={t('credentials.nameHelp')} validateStatus={errors.name ? 'error' : undefined} help={errors.name}>
            <Input disabled={!!editing?.id} value={editing?.name} onChange={(e) => setEditing((x) => (x ? { ...x, name: e.target.value } : x))} data-testid="credential-name" />
          </Form.Item>
          {editing?.id && <Typography.Paragraph type="secondary">{t('credentials.keepHelp')}</Typography.Paragraph>}
          {conn && <SchemaForm schema={paramsToSchema(conn.credentials)} value={values} onChange={setValues} errors={errors} />}
        </Form>
      </Modal>
    </div>
  );
}

