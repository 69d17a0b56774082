import { CloudUploadOutlined, HistoryOutlined, SaveOutlined } from '@ant-design/icons';
import { Alert, App, Button, Drawer, List, Space, Typography } from 'antd';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorMessage, type FieldError } from '../api/client';
import { useSaveDefinition, useVersions, type DefKind } from '../api/defs';
import { normalizePath } from '../lib/entity';

interface Props {
  app: string;
  kind: DefKind;
  slug: string;
  getDefinition: () => unknown;
  onErrors?: (errors: FieldError[]) => void;
  onSaved?: () => void;
  extra?: ReactNode;
}

/** Save draft / Publish / Versions for any definition kind; 422 errors are listed with their JSON path. */
export default function DefToolbar({ app, kind, slug, getDefinition, onErrors, onSaved, extra }: Props) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { save, publish } = useSaveDefinition(app, kind);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [detail, setDetail] = useState<string | null>(null);
  const [showVersions, setShowVersions] = useState(false);
  const versions = useVersions(app, kind, slug, showVersions);

  const fail = (e: unknown) => {
    const fe = e instanceof ApiError ? e.fieldErrors : [];
    setErrors(fe);
    onErrors?.(fe);
    setDetail(fe.length ? (e as ApiError).problem.detail ?? null : errorMessage(e));
    if (!fe.length) message.error(errorMessage(e));
  };
  const clear = () => {
    setErrors([]);
    setDetail(null);
    onErrors?.([]);
  };

  const doSave = async () => {
    try {
      const def = getDefinition();
      if (def === undefined) return false;
      await save.mutateAsync({ slug, def });
      clear();
      message.success(t('def.saved'));
      onSaved?.();
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  };
  const doPublish = async () => {
    if (!(await doSave())) return;
    try {
      const r = await publish.mutateAsync({ slug });
      clear();
      message.success(t('def.published', { version: r?.version ?? '?' }));
    } catch (e) {
      fail(e);
    }
  };

  return (
    <div style={{ marginBottom: 12 }}>
      <Space wrap>
        <Button icon={<SaveOutlined />} onClick={doSave} loading={save.isPending} data-testid="def-save">
          {t('def.saveDraft')}
        </Button>
        <Button type="primary" icon={<CloudUploadOutlined />} onClick={doPublish} loading={publish.isPending} data-testid="def-publish">
          {t('def.publish')}
        </Button>
        <Button icon={<HistoryOutlined />} onClick={() => setShowVersions(true)} data-testid="def-versions">
          {t('def.versions')}
        </Button>
        {extra}
      </Space>
      {(errors.length > 0 || detail) && (
        <Alert
          style={{ marginTop: 12 }}
          type="error"
          showIcon
          data-testid="def-errors"
          title={detail || t('def.invalid')}
          description={
            errors.length > 0 && (
              <ul style={{ margin: 0, paddingLeft: 18 }}>
                {errors.map((e, i) => (
                  <li key={i}>
                    <Typography.Text code>{normalizePath(e.field) || '/'}</Typography.Text> {e.message}
                  </li>
                ))}
              </ul>
            )
          }
        />
      )}
      <Drawer title={t('def.versions')} open={showVersions} onClose={() => setShowVersions(false)} size="default">
        <List
          loading={versions.isLoading}
          dataSource={versions.data ?? []}
          locale={{ emptyText: versions.isError ? errorMessage(versions.error) : t('def.noVersions') }}
          renderItem={(v) => (
            <List.Item>
              <List.Item.Meta title={`v${v.version}`} description={v.published_at ?? v.created_at ?? ''} />
            </List.Item>
          )}
        />
      </Drawer>
    </div>
  );
}
