import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Alert, Button, DatePicker, Grid, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import { defList, useApp } from '../../api/defs';
import type { Label, User } from '../../api/types';
import { labelText } from '../../lib/labels';
import { useTeams } from '../../api/admin';
import { auditDiff, type DiffText } from './auditDiff';
import { useEntityDefs } from './roleScope';
import { relativeTime } from '../../components/DefToolbar';

export interface AuditEntry {
  id: number;
  at: string;
  actor?: string | null;
  actor_name?: string;
  actor_email?: string;
  action: string;
  target: string;
  target_kind?: string;
  target_name?: string;
  target_label?: Label;
  app?: string;
  app_name?: string;
  before?: unknown;
  after?: unknown;
}

// the actions the filter offers, by family (a family filters with "user." etc.)
const FAMILIES: Record<string, string[]> = {
  user: ['create', 'update', 'roles'],
  team: ['create', 'update', 'delete'],
  role: ['put', 'delete'],
  app: ['create', 'update', 'import'],
  definition: ['save', 'publish'],
  auth: ['login', 'login_failed', 'token_create', 'token_revoke'],
  credential: ['create', 'update', 'delete'],
};

/** Searches users on the server (admins only) for the actor filter. */
function ActorSelect({ value, onChange }: { value?: string; onChange: (v?: string) => void }) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const users = useQuery({
    queryKey: ['admin-users-pick', q],
    queryFn: async () => (await api<{ items?: User[] }>('/api/v1/admin/users', { query: { q: q || undefined, limit: 20 } }))?.items ?? [],
  });
  const [picked, setPicked] = useState<{ value: string; label: string } | null>(null);
  const opts = (users.data ?? []).map((u) => ({ value: u.id, label: u.name ? `${u.name} <${u.email}>` : u.email }));
  if (picked && !opts.some((o) => o.value === picked.value)) opts.unshift(picked);
  return (
    <Select
      allowClear
      showSearch={{ filterOption: false, onSearch: setQ }}
      placeholder={t('audit.anyActor')}
      loading={users.isFetching}
      style={{ minWidth: 220 }}
      value={value}
      options={opts}
      onChange={(v, o) => {
        setPicked((o as { value: string; label: string } | undefined) ?? null);
        onChange(v ?? undefined);
      }}
      data-testid="audit-actor"
    />
  );
}

/** An entry's changes, field by field with labels (entity and field labels of its app). */
export function AuditEntryDiff({ entry }: { entry: AuditEntry }) {
  const { t, i18n } = useTranslation();
  const appQ = useApp(entry.app || undefined);
  const teams = useTeams();
  const ents = defList(appQ.data, 'entities');
  const defs = useEntityDefs(entry.app || undefined, entry.target_kind === 'role' ? ents.map((e) => e.slug) : []);
  const entityLabel = (slug: string) => labelText(ents.find((e) => e.slug === slug)?.label, i18n.language, slug);
  const x: DiffText = {
    t: (k, o) => t(k, o ?? {}) as string,
    lang: i18n.language,
    entity: entityLabel,
    field: (ent, key) => labelText(defs[ent]?.fields.find((f) => f.key === key)?.label, i18n.language, key),
    resource: (res) => {
      if (res === 'app') return t('admin.appRow');
      const [kind, slug] = res.split(':');
      const kindLabel = t(`admin.resourceKinds.${kind}`, { defaultValue: kind });
      if (slug === '*') return t('admin.allOfKind', { kind: kindLabel });
      const d = defList(appQ.data, `${kind === 'entity' ? 'entities' : `${kind}s`}` as never).find((e) => e.slug === slug);
      return `${kindLabel} · ${labelText(d?.label ?? d?.title, i18n.language, slug)}`;
    },
    name: (id) => teams.data?.find((tm) => tm.id === id)?.name,
  };
  const rows = auditDiff(entry.before, entry.after, x);
  if (!rows.length) return <Typography.Text type="secondary">{t('audit.noChanges')}</Typography.Text>;
  return (
    <div className="audit-diff" data-testid={`audit-diff-${entry.id}`} style={{ display: 'grid', gridTemplateColumns: 'minmax(120px, 1fr) minmax(0, 2fr) minmax(0, 2fr)', gap: '4px 12px', fontSize: 13 }}>
      <b>{t('audit.field')}</b>
      <b>{t('audit.before')}</b>
      <b>{t('audit.after')}</b>
      {rows.map((r) => (
        <div key={r.key} style={{ display: 'contents' }} data-testid="audit-diff-row">
          <span>{r.label}</span>
          <span style={{ color: r.kind === 'added' ? 'rgba(0,0,0,0.35)' : '#cf1322', textDecoration: r.kind === 'changed' || r.kind === 'removed' ? 'line-through' : undefined, overflowWrap: 'anywhere' }}>{r.before}</span>
          <span style={{ color: r.kind === 'removed' ? 'rgba(0,0,0,0.35)' : '#389e0d', overflowWrap: 'anywhere' }}>{r.after}</span>
        </div>
      ))}
    </div>
  );
}

/** The target in words: a kind, its name or label, the app; the raw target as secondary text. */
function Target({ e }: { e: AuditEntry }) {
  const { t, i18n } = useTranslation();
  const kind = e.target_kind ? t(`audit.kinds.${e.target_kind}`, { defaultValue: e.target_kind }) : '';
  const name = e.target_label ? labelText(e.target_label, i18n.language, e.target_name) : e.target_name;
  return (
    <span>
      {kind && <Tag>{kind}</Tag>}
      {name || (e.target_kind === 'app' ? e.app_name : '') || e.target}
      {e.app_name && e.target_kind !== 'app' && <span style={{ color: 'rgba(0,0,0,0.65)' }}> · {e.app_name}</span>}
      <br />
      <span style={{ color: 'rgba(0,0,0,0.45)', fontSize: 12 }}>{e.target}</span>
    </span>
  );
}

export default function AdminAudit() {
  const { t, i18n } = useTranslation();
  const screens = Grid.useBreakpoint();
  const [action, setAction] = useState<string | undefined>();
  const [actor, setActor] = useState<string | undefined>();
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const from = range?.[0]?.startOf('day').toISOString();
  const to = range?.[1]?.endOf('day').add(1, 'millisecond').toISOString();
  const q = useInfiniteQuery({
    queryKey: ['audit', action, actor, from, to],
    initialPageParam: '',
    queryFn: async ({ pageParam }) => {
      const r = await api<{ items?: AuditEntry[]; next_cursor?: string | null }>('/api/v1/admin/audit', { query: { action, actor, from, to, limit: 50, cursor: pageParam || undefined } });
      return { items: r?.items ?? [], next: r?.next_cursor ?? null };
    },
    getNextPageParam: (p) => p.next || undefined,
  });
  const rows = (q.data?.pages ?? []).flatMap((p) => p.items);
  const actionOptions = [
    ...Object.entries(FAMILIES).map(([fam, acts]) => ({
      label: t(`audit.families.${fam}`),
      options: [{ value: `${fam}.`, label: t(`audit.families.${fam}`) }, ...acts.map((a) => ({ value: `${fam}.${a}`, label: t(`audit.actions.${fam}.${a}`) }))],
    })),
    { label: t('audit.actions.export'), options: [{ value: 'export', label: t('audit.actions.export') }, { value: 'mcp.call', label: t('audit.actions.mcp.call') }] },
  ];
  return (
    <div>
      <Typography.Title level={3} style={{ marginTop: 0 }}>{t('nav.audit')}</Typography.Title>
      <Space wrap style={{ marginBottom: 12 }}>
        <ActorSelect value={actor} onChange={setActor} />
        <Select allowClear placeholder={t('audit.anyAction')} style={{ minWidth: 200 }} value={action} onChange={(v) => setAction(v ?? undefined)} options={actionOptions} data-testid="audit-action" />
        <DatePicker.RangePicker value={range} onChange={(v) => setRange(v)} placeholder={[t('audit.from'), t('audit.to')]} data-testid="audit-range" />
      </Space>
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} />}
      <Table<AuditEntry>
        rowKey="id"
        size="small"
        loading={q.isLoading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t('audit.empty') }}
        scroll={screens.md ? { x: 'max-content' } : undefined}
        data-testid="audit-table"
        expandable={{ expandRowByClick: true, expandedRowRender: (r) => <AuditEntryDiff entry={r} /> }}
        columns={!screens.md ? [
          {
            title: t('nav.audit'), key: 'entry',
            render: (_v, r) => (
              <span>
                <b data-testid="audit-action-label">{t(`audit.actions.${r.action}`, { defaultValue: r.action })}</b> · {r.actor ? r.actor_name || r.actor_email : t('audit.system')}
                <br /><Target e={r} />
                <br /><span style={{ color: 'rgba(0,0,0,0.45)', fontSize: 12 }}>{dayjs(r.at).format('YYYY-MM-DD HH:mm')} · {relativeTime(r.at, i18n.language)}</span>
              </span>
            ),
          },
        ] : [
          {
            title: t('admin.at'), dataIndex: 'at', width: 170,
            render: (v: string) => <span title={dayjs(v).format('YYYY-MM-DD HH:mm:ss')}>{dayjs(v).format('YYYY-MM-DD HH:mm')}<br /><span style={{ color: 'rgba(0,0,0,0.45)', fontSize: 12 }}>{relativeTime(v, i18n.language)}</span></span>,
          },
          {
            title: t('admin.actor'), dataIndex: 'actor',
            render: (_v, r) => (r.actor ? <span data-testid="audit-actor-name">{r.actor_name || r.actor_email}{screens.md && r.actor_email && <><br /><span style={{ color: 'rgba(0,0,0,0.45)', fontSize: 12 }}>{r.actor_email}</span></>}</span> : <Typography.Text type="secondary">{t('audit.system')}</Typography.Text>),
          },
          { title: t('admin.action'), dataIndex: 'action', render: (a: string) => <span data-testid="audit-action-label">{t(`audit.actions.${a}`, { defaultValue: a })}</span> },
          { title: t('admin.target'), dataIndex: 'target', render: (_v, r) => <Target e={r} /> },
        ]}
      />
      {q.hasNextPage && <div style={{ textAlign: 'center', marginTop: 12 }}><Button onClick={() => q.fetchNextPage()} loading={q.isFetchingNextPage} data-testid="audit-more">{t('common.loadMore')}</Button></div>}
    </div>
  );
}
