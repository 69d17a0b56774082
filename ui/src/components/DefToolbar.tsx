import { CloudUploadOutlined, HistoryOutlined, SaveOutlined } from '@ant-design/icons';
import { Alert, App, Button, Drawer, Empty, List, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorMessage, type FieldError } from '../api/client';
import { useSaveDefinition, useVersions, type DefKind, type PublishWarning } from '../api/defs';
import { normalizePath } from '../lib/entity';
import { diffDefs, showValue } from '../lib/defDiff';

interface Props {
  app: string;
  kind: DefKind;
  slug: string;
  getDefinition: () => unknown;
  onErrors?: (errors: FieldError[]) => void;
  onSaved?: () => void;
  extra?: ReactNode;
  /** loads a restored version into the designer (it is saved as the draft first); without it the page reloads */
  onRestore?: (def: unknown) => void;
  /** saves instead of PUT-ing getDefinition() (publish: also publish); answers the published version */
  saveWith?: (publish: boolean) => Promise<number | undefined>;
}

/** "3 minutes ago" in the UI language. */
export function relativeTime(iso: string | undefined, lang: string, now = Date.now()): string {
  if (!iso) return '';
  const ms = new Date(iso).getTime();
  if (Number.isNaN(ms)) return iso;
  const sec = Math.round((ms - now) / 1000);
  const fmt = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];
  for (const [u, n] of units) if (Math.abs(sec) >= n) return fmt.format(Math.round(sec / n), u);
  return fmt.format(sec, 'second');
}

type VersionItem = { version: number; published_at?: string; created_at?: string; published_by_name?: string; body?: unknown };

/** The changes between two definitions, readable. */
function DiffList({ a, b }: { a: unknown; b: unknown }) {
  const { t, i18n } = useTranslation();
  const changes = diffDefs(a, b, i18n.language);
  if (!changes.length) return <Empty description={t('versions.same')} data-testid="diff-empty" />;
  const color = { added: 'green', removed: 'red', changed: 'orange' } as const;
  return (
    <List
      size="small"
      data-testid="diff-list"
      dataSource={changes}
      renderItem={(c) => (
        <List.Item data-testid={`diff-${c.op}`}>
          <Space wrap size={4}>
            <Tag color={color[c.op]}>{t(`versions.${c.op}`)}</Tag>
            <Typography.Text type="secondary">{t(`versions.areas.${c.area.split('.')[0]}`, { defaultValue: c.area })}</Typography.Text>
            {c.id && <Typography.Text strong>{c.label}</Typography.Text>}
            {c.props?.length ? <Typography.Text type="secondary">{c.props.map((p) => (p === 'order' ? t('versions.order') : p)).join(', ')}</Typography.Text> : null}
            {!c.id && !c.props && (
              <Typography.Text>
                {showValue(c.from, i18n.language)} → {showValue(c.to, i18n.language)}
              </Typography.Text>
            )}
          </Space>
        </List.Item>
      )}
    />
  );
}

/** What publishing found but did not refuse: an assignee role without members, named by node. */
export function PublishWarnings({ warnings, onClose }: { warnings: PublishWarning[]; onClose?: () => void }) {
  const { t } = useTranslation();
  return (
    <Alert style={{ marginTop: 12 }} type="warning" showIcon closable={!!onClose} onClose={onClose} data-testid="publish-warnings" title={t('def.publishWarnings')}
      description={
        <ul style={{ margin: 0, paddingLeft: 18 }}>
          {warnings.map((w, i) => (
            <li key={i}>{w.code === 'role_without_members' ? t('def.roleWithoutMembers', { role: w.role, node: w.node }) : w.message}</li>
          ))}
        </ul>
      }
    />
  );
}

/** Save draft / Publish / Versions for any definition kind; 422 errors are listed with their JSON path. */
export default function DefToolbar({ app, kind, slug, getDefinition, onErrors, onSaved, extra, onRestore, saveWith }: Props) {
  const { t, i18n } = useTranslation();
  const [cmp, setCmp] = useState<{ a: string; b: string } | null>(null);
  const { message } = App.useApp();
  const { save, publish } = useSaveDefinition(app, kind);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [detail, setDetail] = useState<string | null>(null);
  const [warnings, setWarnings] = useState<PublishWarning[]>([]);
  const [showVersions, setShowVersions] = useState(false);
  const versions = useVersions(app, kind, slug, showVersions);
  const vlist = (versions.data ?? []) as VersionItem[];
  const bodyOf = (k: string): unknown => (k === 'draft' ? getDefinition() : vlist.find((v) => String(v.version) === k)?.body);
  const restore = async (v: VersionItem) => {
    try {
      await save.mutateAsync({ slug, def: v.body });
      message.success(t('versions.restored', { version: v.version }));
      if (onRestore) {
        onRestore(v.body);
        onSaved?.();
      } else window.location.reload();
      setShowVersions(false);
    } catch (e) {
      fail(e);
    }
  };
  const versionOptions = [{ value: 'draft', label: t('versions.current') }, ...vlist.map((v) => ({ value: String(v.version), label: `v${v.version}` }))];

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

  const [busy, setBusy] = useState<'save' | 'publish' | null>(null);
  const doCustom = async (pub: boolean) => {
    setBusy(pub ? 'publish' : 'save');
    try {
      const v = await saveWith!(pub);
      clear();
      message.success(pub ? t('def.published', { version: v ?? '?' }) : t('def.saved'));
      onSaved?.();
    } catch (e) {
      fail(e);
    } finally {
      setBusy(null);
    }
  };
  const doSave = async () => {
    if (saveWith) return void (await doCustom(false));
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
    if (saveWith) return void (await doCustom(true));
    if (!(await doSave())) return;
    try {
      const r = await publish.mutateAsync({ slug });
      clear();
      setWarnings(r?.warnings ?? []);
      message.success(t('def.published', { version: r?.version ?? '?' }));
    } catch (e) {
      fail(e);
    }
  };

  return (
    <div style={{ marginBottom: 12 }}>
      <Space wrap>
        <Button icon={<SaveOutlined />} onClick={doSave} loading={save.isPending || busy === 'save'} data-testid="def-save">
          {t('def.saveDraft')}
        </Button>
        <Button type="primary" icon={<CloudUploadOutlined />} onClick={doPublish} loading={publish.isPending || busy === 'publish'} data-testid="def-publish">
          {t('def.publish')}
        </Button>
        <Button icon={<HistoryOutlined />} onClick={() => setShowVersions(true)} data-testid="def-versions">
          {t('def.versions')}
        </Button>
        {extra}
      </Space>
      {warnings.length > 0 && <PublishWarnings warnings={warnings} onClose={() => setWarnings([])} />}
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
      <Drawer title={t('def.versions')} open={showVersions} onClose={() => { setShowVersions(false); setCmp(null); }} size="large" data-testid="versions-drawer">
        {cmp ? (
          <div>
            <Space wrap style={{ marginBottom: 12 }}>
              <Button size="small" onClick={() => setCmp(null)} data-testid="diff-back">{t('versions.back')}</Button>
              <Select size="small" style={{ width: 160 }} value={cmp.a} options={versionOptions} onChange={(a) => setCmp({ ...cmp, a })} data-testid="diff-a" />
              <span>→</span>
              <Select size="small" style={{ width: 160 }} value={cmp.b} options={versionOptions} onChange={(b) => setCmp({ ...cmp, b })} data-testid="diff-b" />
            </Space>
            <DiffList a={bodyOf(cmp.a)} b={bodyOf(cmp.b)} />
          </div>
        ) : (
          <List
            loading={versions.isLoading}
            dataSource={vlist}
            locale={{ emptyText: versions.isError ? errorMessage(versions.error) : t('def.noVersions') }}
            renderItem={(v, i) => (
              <List.Item
                data-testid={`version-${v.version}`}
                actions={[
                  <Button key="cmp" size="small" type="link" onClick={() => setCmp({ a: vlist[i + 1] ? String(vlist[i + 1].version) : String(v.version), b: String(v.version) })} data-testid={`version-compare-${v.version}`}>
                    {t('versions.compare')}
                  </Button>,
                  <Button key="cur" size="small" type="link" onClick={() => setCmp({ a: String(v.version), b: 'draft' })} data-testid={`version-compare-draft-${v.version}`}>
                    {t('versions.compareDraft')}
                  </Button>,
                  <Popconfirm key="restore" title={t('versions.restoreConfirm', { version: v.version })} onConfirm={() => restore(v)} okButtonProps={{ 'data-testid': 'restore-ok' } as { danger?: boolean }}>
                    <Button size="small" type="link" disabled={!v.body} data-testid={`version-restore-${v.version}`}>{t('versions.restore')}</Button>
                  </Popconfirm>,
                ]}
              >
                <List.Item.Meta
                  title={`v${v.version}`}
                  description={
                    <span title={v.published_at ?? v.created_at ?? ''}>
                      {[v.published_by_name, relativeTime(v.published_at ?? v.created_at, i18n.language)].filter(Boolean).join(' · ')}
                    </span>
                  }
                />
              </List.Item>
            )}
          />
        )}
      </Drawer>
    </div>
  );
}
