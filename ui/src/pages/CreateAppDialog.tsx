import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App, Form, Input, Modal } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, errorMessage } from '../api/client';
import type { AppSummary } from '../api/types';
import { applyFieldErrors } from '../components/formErrors';

/** The app list's "create app" dialog (its own chunk: the app list loads it on first use). */
export default function CreateAppDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  const qc = useQueryClient();
  const nav = useNavigate();
  const { message } = App.useApp();
  const create = useMutation({
    mutationFn: (v: { slug: string; name: string }) => api<AppSummary>('/api/v1/apps', { method: 'POST', body: v }),
    onSuccess: (_r, v) => {
      void qc.invalidateQueries({ queryKey: ['apps'] });
      onClose();
      message.success(t('apps.created'));
      nav(`/apps/${v.slug}`);
    },
    onError: (e) => {
      if (!applyFieldErrors(form, e)) message.error(errorMessage(e));
    },
  });
  return (
    <Modal
      title={t('apps.create')}
      open
      onCancel={onClose}
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
  );
}
