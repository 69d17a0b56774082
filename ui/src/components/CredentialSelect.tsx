import { useQuery } from '@tanstack/react-query';
import { AutoComplete, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../api/client';
import { credentialNames } from '../lib/aiNode';

/** Picks one of the app's saved connections of a connector by name (a name typed by hand is kept; none yet links to the connections page). */
export default function CredentialSelect({ connector, value, onChange }: { connector: string; value?: string; onChange: (v: string | undefined) => void }) {
  const { t } = useTranslation();
  const { app = '' } = useParams();
  const names = useQuery({
    queryKey: ['credentials', app],
    enabled: !!app,
    retry: false,
    queryFn: () => api<{ items?: { name: string; connector: string }[] }>(`/api/v1/apps/${encodeURIComponent(app)}/credentials`),
    select: (r) => credentialNames(r?.items, connector),
  });
  return (
    <>
      <AutoComplete
        value={value}
        onChange={(v: string) => onChange(v || undefined)}
        options={(names.data ?? []).map((n) => ({ value: n, label: n }))}
        placeholder={t('credentials.pick')}
        allowClear
        style={{ width: '100%' }}
        data-testid="credential-select"
      />
      {names.isSuccess && names.data.length === 0 && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          <Link to={`/apps/${encodeURIComponent(app)}/credentials`}>{t('credentials.none', { connector })}</Link>
        </Typography.Text>
      )}
    </>
  );
}
