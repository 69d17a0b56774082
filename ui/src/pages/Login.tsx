import { Alert, Button, Form, Input, Space, Typography } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { login, meUser } from '../api/auth';
import { ApiError, errorMessage } from '../api/client';
import LangSwitch from '../components/LangSwitch';
import Panel from '../components/Panel';
import { applyFieldErrors } from '../components/formErrors';

export default function Login() {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nav = useNavigate();
  const [params] = useSearchParams();
  const qc = useQueryClient();

  const submit = async (v: { email: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      const res = await login(v.email, v.password);
      qc.setQueryData(['me'], meUser(res.user));
      const next = params.get('next');
      nav(next && next.startsWith('/') && !next.startsWith('//') ? next : '/apps', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError(t('login.invalid'));
      else if (!applyFieldErrors(form, e)) setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <Panel style={{ width: 380 }} data-testid="login-card">
        <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 16 }}>
          <Typography.Title level={3} style={{ margin: 0 }}>Tessera</Typography.Title>
          <LangSwitch size="small" />
        </Space>
        <Typography.Paragraph type="secondary">{t('login.subtitle')}</Typography.Paragraph>
        {error && <Alert type="error" title={error} style={{ marginBottom: 16 }} data-testid="login-error" showIcon />}
        <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item name="email" label={t('login.email')} rules={[{ required: true, message: t('common.required') }]}>
            <Input autoComplete="username" data-testid="login-email" />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('common.required') }]}>
            <Input.Password autoComplete="current-password" data-testid="login-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
      </Panel>
    </div>
  );
}
