import { DeleteOutlined, SaveOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Checkbox, Form, Input, Modal, Popconfirm, Select, Space, Tag } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, errorMessage } from '../../api/client';
import { type SavedView, type ViewConfig, sameConfig, viewBody } from '../../lib/listView';

const enc = encodeURIComponent;
export const viewsPath = (app: string, entity: string, id?: string) => `/api/v1/apps/${enc(app)}/entities/${enc(entity)}/views${id ? `/${enc(id)}` : ''}`;

export function useViews(app: string, entity: string) {
  return useQuery({
    queryKey: ['views', app, entity],
    enabled: !!app && !!entity,
    queryFn: () => api<{ items: SavedView[]; can_share: boolean }>(viewsPath(app, entity)),
  });
}

interface Props {
  app: string;
  entity: string;
  current: string; // view id, '' for the default list
  config: ViewConfig;
  onPick: (v: SavedView | null) => void;
}

/** Saved views of a list: pick one, save changes, save as a new personal or shared view, delete. */
export default function ViewBar({ app, entity, current, config, onPick }: Props) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const views = useViews(app, entity);
  const items = views.data?.items ?? [];
  const canShare = !!views.data?.can_share;
  const view = items.find((v) => v.id === current) ?? null;
  const writable = !!view && (view.shared ? canShare : view.mine);
  const dirty = view ? !sameConfig(view.config, config) : false;
  const [saveAs, setSaveAs] = useState(false);
  const [form] = Form.useForm<{ name: string; shared: boolean }>();
  const [busy, setBusy] = useState(false);

  const refresh = () => qc.invalidateQueries({ queryKey: ['views', app, entity] });
  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.status === 422) {
      form.setFields(e.fieldErrors.map((x) => ({ name: x.field === 'name' ? 'name' : 'name', errors: [x.message] })));
    } else message.error(errorMessage(e));
  };
  const save = async () => {
    if (!view) return;
    setBusy(true);
    try {
      const v = await api<SavedView>(viewsPath(app, entity, view.id), { method: 'PUT', body: viewBody(view.name, view.shared, config) });
      await refresh();
      onPick(v);
      message.success(t('lists.viewSaved'));
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const create = async () => {
    const vals = await form.validateFields();
    setBusy(true);
    try {
      const v = await api<SavedView>(viewsPath(app, entity), { method: 'POST', body: viewBody(vals.name, !!vals.shared, config) });
      await refresh();
      setSaveAs(false);
      form.resetFields();
      onPick(v);
      message.success(t('lists.viewSaved'));
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!view) return;
    try {
      await api(viewsPath(app, entity, view.id), { method: 'DELETE' });
      await refresh();
      onPick(null);
      message.success(t('lists.viewDeleted'));
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  return (
    <Space wrap size={6}>
      <Select
        style={{ minWidth: 160 }}
        value={current}
        loading={views.isLoading}
        onChange={(id) => onPick(items.find((v) => v.id === id) ?? null)}
        data-testid="view-select"
        popupMatchSelectWidth={false}
        options={[
          { value: '', label: t('lists.allRecords') },
          ...items.map((v) => ({
            value: v.id,
            label: (
              <span data-testid={`view-option-${v.name}`}>
                {v.name} {v.shared && <Tag style={{ marginInlineStart: 4 }}>{t('lists.shared')}</Tag>}
              </span>
            ),
          })),
        ]}
      />
      {view && dirty && <Tag color="orange" data-testid="view-dirty">{t('lists.changed')}</Tag>}
      {view && dirty && writable && (
        <Button icon={<SaveOutlined />} loading={busy} onClick={save} data-testid="view-save">{t('common.save')}</Button>
      )}
      <Button onClick={() => { form.setFieldsValue({ name: '', shared: false }); setSaveAs(true); }} data-testid="view-save-as">{t('lists.saveAs')}</Button>
      {view && writable && (
        <Popconfirm title={t('lists.deleteView', { name: view.name })} onConfirm={remove}>
          <Button icon={<DeleteOutlined />} aria-label={t('common.delete')} data-testid="view-delete" />
        </Popconfirm>
      )}
      <Modal open={saveAs} title={t('lists.saveAs')} onCancel={() => setSaveAs(false)} onOk={create} confirmLoading={busy} okButtonProps={{ 'data-testid': 'view-create' } as never} destroyOnHidden>
        <Form form={form} layout="vertical" initialValues={{ name: '', shared: false }}>
          <Form.Item name="name" label={t('lists.viewName')} rules={[{ required: true, whitespace: true, message: t('lists.viewNameRequired') }, { max: 80 }]}>
            <Input autoFocus data-testid="view-name" onPressEnter={create} />
          </Form.Item>
          {canShare && (
            <Form.Item name="shared" valuePropName="checked" extra={t('lists.sharedHelp')}>
              <Checkbox data-testid="view-shared">{t('lists.shareView')}</Checkbox>
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Space>
  );
}
