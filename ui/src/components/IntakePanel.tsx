import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Space, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../api/client';
import { recordsPath } from '../api/records';
import type { EntityDef } from '../api/types';
import { describeChanges } from '../lib/history';
import { fieldLabel } from './FieldInput';

/** A pending submission on a record (GET .../records/{id}/intake). */
export interface Submission {
  id: string;
  status: string;
  source?: string;
  values?: Record<string, unknown>;
  changes?: Record<string, unknown>;
  created_at?: string;
}

/** The pending submissions on a record; disabled without an id. */
export function useIntake(app: string, entity: string, id: string | undefined) {
  return useQuery({
    queryKey: ['intake', app, entity, id],
    enabled: !!id,
    retry: false,
    queryFn: async () => ((await api<{ items?: Submission[] }>(`${recordsPath(app, entity, id)}/intake`))?.items ?? []),
  });
}

interface Props {
  app: string;
  entity: EntityDef;
  recordId: string;
  /** Called after a submission was accepted (the record changed). */
  onAccepted: () => void;
}

/**
 * Submissions that matched this record from a public form, a webhook or someone who may not
 * change it: nothing was applied; whoever may update the record accepts (applied as their
 * update) or dismisses each one.
 */
export default function IntakePanel({ app, entity, recordId, onAccepted }: Props) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const intake = useIntake(app, entity.slug, recordId);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const items = intake.data ?? [];
  if (items.length === 0) return null;
  const label = (k: string) => {
    const f = entity.fields.find((x) => x.key === k);
    return f ? fieldLabel(f, i18n.language) : k;
  };
  const decide = async (s: Submission, action: 'accept' | 'dismiss') => {
    setBusy(s.id + action);
    setError(null);
    try {
      await api(`${recordsPath(app, entity.slug, recordId)}/intake/${encodeURIComponent(s.id)}/${action}`, { method: 'POST' });
      message.success(t(action === 'accept' ? 'intake.accepted' : 'intake.dismissed'));
      await Promise.all([
        qc.invalidateQueries({ queryKey: ['intake', app, entity.slug] }),
        qc.invalidateQueries({ queryKey: ['history', app, entity.slug] }),
        qc.invalidateQueries({ queryKey: ['records', app, entity.slug] }),
      ]);
      if (action === 'accept') onAccepted();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <div data-testid="intake-panel" style={{ marginBottom: 12 }}>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 8 }} />}
      {items.map((s) => {
        const lines = describeChanges(s.changes, label);
        return (
          <Alert
            key={s.id}
            type="info"
            showIcon
            style={{ marginBottom: 8 }}
            data-testid="intake-item"
            title={t('intake.title')}
            description={
              <div>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {s.created_at ? dayjs(s.created_at).format('YYYY-MM-DD HH:mm') : ''} {s.source ? `· ${s.source}` : ''}
                </Typography.Text>
                <pre style={{ whiteSpace: 'pre-wrap', margin: '4px 0', fontSize: 12 }}>{lines.length ? lines.join('\n') : t('intake.nothingNew')}</pre>
                <Space>
                  <Button size="small" type="primary" loading={busy === s.id + 'accept'} onClick={() => decide(s, 'accept')} data-testid="intake-accept">
                    {t('intake.accept')}
                  </Button>
                  <Button size="small" loading={busy === s.id + 'dismiss'} onClick={() => decide(s, 'dismiss')} data-testid="intake-dismiss">
                    {t('intake.dismiss')}
                  </Button>
                </Space>
              </div>
            }
          />
        );
      })}
    </div>
  );
}
