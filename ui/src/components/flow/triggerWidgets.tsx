import { KeyOutlined } from '@ant-design/icons';
import { Cron } from 'croner';
import { Button, Form, Input, Select, Space, Typography } from 'antd';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

/** The next n fire times of a 5-field cron schedule in tz ([] with an error for a bad schedule). */
export function nextFires(schedule: string, tz: string, n = 5, from?: Date): { times: Date[]; error?: string } {
  if (!schedule.trim()) return { times: [] };
  try {
    const c = new Cron(schedule.trim(), { timezone: tz || 'Asia/Shanghai', paused: true });
    return { times: c.nextRuns(n, from ?? new Date()) };
  } catch (e) {
    return { times: [], error: e instanceof Error ? e.message : String(e) };
  }
}

const PRESETS: { key: string; cron: string }[] = [
  { key: 'hourly', cron: '0 * * * *' },
  { key: 'daily9', cron: '0 9 * * *' },
  { key: 'weekdays9', cron: '0 9 * * 1-5' },
  { key: 'monday9', cron: '0 9 * * 1' },
  { key: 'monthly1', cron: '0 9 1 * *' },
];

/** A cron schedule: presets or the expression, with the next 5 fire times in the time zone. */
export function CronInput({ value, onChange, timezone }: { value?: string; onChange: (v?: string) => void; timezone?: string }) {
  const { t, i18n } = useTranslation();
  const tz = timezone || 'Asia/Shanghai';
  const { times, error } = useMemo(() => nextFires(value ?? '', tz), [value, tz]);
  const fmt = new Intl.DateTimeFormat(i18n.language, { timeZone: tz, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  return (
    <div data-testid="cron-input">
      <Space.Compact style={{ width: '100%' }}>
        <Select style={{ width: 170 }} placeholder={t('fb.cron.preset')} value={PRESETS.find((p) => p.cron === value)?.cron}
          options={PRESETS.map((p) => ({ value: p.cron, label: t(`fb.cron.${p.key}`) }))} onChange={(v) => onChange(v)} data-testid="cron-preset" />
        <Input value={value} onChange={(e) => onChange(e.target.value || undefined)} style={{ fontFamily: 'monospace' }} placeholder="0 9 * * 1-5" status={error ? 'error' : undefined} />
      </Space.Compact>
      {error && <Typography.Text type="danger">{t('fb.cron.invalid')}</Typography.Text>}
      {times.length > 0 && (
        <div data-testid="cron-preview" style={{ marginTop: 6 }}>
          <Typography.Text type="secondary">{t('fb.cron.next', { tz })}</Typography.Text>
          <ul style={{ margin: '4px 0 0', paddingLeft: 18, fontSize: 12 }}>{times.map((d) => <li key={d.toISOString()}>{fmt.format(d)}</li>)}</ul>
        </div>
      )}
    </div>
  );
}

/** A random hex secret for webhook signatures. */
export function newSecret(bytes = 24): string {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Webhook settings: the key, its URL (copyable), an optional signing secret and a sample curl. */
export function WebhookSettings({ hookKey, secret, onChange }: { hookKey?: string; secret?: string; onChange: (p: { key?: string; secret?: string }) => void }) {
  const { t } = useTranslation();
  const url = hookKey ? `${window.location.origin}/hooks/${hookKey}` : '';
  const body = '{"name":"Test"}';
  const curl = !url ? '' : secret
    ? `BODY='${body}'\nSIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac '${secret}' | cut -d' ' -f2)\ncurl -X POST '${url}' -H 'Content-Type: application/json' -H "X-Tessera-Signature: sha256=$SIG" -d "$BODY"`
    : `curl -X POST '${url}' -H 'Content-Type: application/json' -d '${body}'`;
  return (
    <div data-testid="webhook-settings">
      <Form.Item label={t('flows.webhookKey')}>
        <Input value={hookKey} onChange={(e) => onChange({ key: e.target.value.replace(/[^\w-]/g, '') || undefined })} />
      </Form.Item>
      {url && (
        <Form.Item label={t('fb.webhook.url')}>
          <Typography.Text copyable={{ text: url }} code data-testid="webhook-url">{url}</Typography.Text>
        </Form.Item>
      )}
      <Form.Item label={t('fb.webhook.secret')} extra={t('fb.webhook.secretHelp')}>
        <Space.Compact style={{ width: '100%' }}>
          <Input.Password value={secret} onChange={(e) => onChange({ secret: e.target.value || undefined })} visibilityToggle />
          <Button icon={<KeyOutlined />} onClick={() => onChange({ secret: newSecret() })} data-testid="webhook-secret-generate">{t('fb.webhook.generate')}</Button>
        </Space.Compact>
      </Form.Item>
      {curl && (
        <Form.Item label={t('fb.webhook.sample')}>
          <Typography.Paragraph copyable={{ text: curl }} style={{ fontFamily: 'monospace', fontSize: 12, background: '#fafafa', padding: 6, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{curl}</Typography.Paragraph>
        </Form.Item>
      )}
    </div>
  );
}
