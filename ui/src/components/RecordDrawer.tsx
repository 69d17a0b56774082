import { useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Drawer, Empty, Form, Space, Tabs, Timeline, Tooltip, Typography } from 'antd';
import dayjs from 'dayjs';
import relativeTime from 'dayjs/plugin/relativeTime';
import 'dayjs/locale/zh-cn';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, errorMessage } from '../api/client';
import { recordsPath, useHistory } from '../api/records';
import type { EntityDef, RecordItem } from '../api/types';
import FieldInput, { fieldLabel, formatValue, type FileRef } from './FieldInput';
import { applyFieldErrors } from './formErrors';
import { describeChanges } from '../lib/history';
import PersonSelect from './PersonSelect';
import IntakePanel from './IntakePanel';
import RecordComments from './RecordComments';
import LinesInput from './LinesInput';
import StageBar from './record/StageBar';
import RelatedPanels from './record/RelatedPanels';
import { useDefinition } from '../api/defs';
import type { RelatedPanel } from '../lib/recordPage';

dayjs.extend(relativeTime);

interface Props {
  app: string;
  entity: EntityDef;
  record: RecordItem | null; // null = create
  open: boolean;
  onClose: () => void;
  /** values a new record starts with (a quick create from a related panel fills its relation) */
  initial?: Record<string, unknown>;
}

/** Values to send: attachments become [{id}] references, computed fields are dropped. */
export function toPayload(entity: EntityDef, values: Record<string, unknown>, original?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of entity.fields) {
    if (f.type === 'autonumber' || f.type === 'formula') continue;
    if (!(f.key in values)) continue;
    let v = values[f.key];
    if (f.type === 'attachment') v = ((Array.isArray(v) ? v : []) as FileRef[]).map((x) => ({ id: x.id }));
    if (v === undefined) v = null;
    if (original) {
      const before = original[f.key];
      const same = f.type === 'attachment'
        ? JSON.stringify(((Array.isArray(before) ? before : []) as FileRef[]).map((x) => x.id)) === JSON.stringify((v as FileRef[]).map((x) => x.id))
        : JSON.stringify(before ?? null) === JSON.stringify(v);
      if (same) continue;
    }
    out[f.key] = v;
  }
  return out;
}

/** Create/edit drawer generated from the entity definition, with the record's timeline. */
export default function RecordDrawer({ app, entity, record: given, open, onClose, initial }: Props) {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [owner, setOwner] = useState<string | null>(null);
  // the record as last saved here (a stage move answers the new version, so a later save's If-Match is fresh)
  const [record, setRecord] = useState<RecordItem | null>(given);
  const [creating, setCreating] = useState<RelatedPanel | null>(null);
  useEffect(() => setRecord(given), [given]);
  const history = useHistory(app, entity.slug, open && record ? record.id : undefined);
  // line items preview their totals as the rows change (the server's answer on save wins)
  const hasLines = entity.fields.some((f) => f.type === 'lines');

  // The form is filled when the drawer opens on a record (or on a new one), and only then: a
  // refetched definition or list row (a new object with the same content) must not wipe what the
  // user is typing. Under load the entity's query answered again mid-edit and the picked deal of
  // a new quote was gone at save.
  const latest = useRef({ given, entity, initial });
  latest.current = { given, entity, initial };
  const fillKey = open ? `${entity.slug}|${given?.id ?? 'new'}|${JSON.stringify(initial ?? null)}` : '';
  useEffect(() => {
    if (!fillKey) return;
    const { given, entity, initial } = latest.current;
    form.resetFields();
    setError(null);
    setOwner(given?.owner_id ?? null);
    if (given) form.setFieldsValue(given.data);
    else {
      const defaults: Record<string, unknown> = {};
      for (const f of entity.fields) if (f.default !== undefined) defaults[f.key] = f.default;
      form.setFieldsValue({ ...defaults, ...(initial ?? {}) });
    }
  }, [fillKey, form]);
  // a stage moved by the stage bar: the form follows, other edits in progress stay
  const moved = (r: RecordItem) => {
    setRecord({ ...r, display: r.display ?? record?.display });
    if (entity.stages) form.setFieldValue(entity.stages.field, r.data[entity.stages.field]);
  };

  const save = async () => {
    let values: Record<string, unknown>;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (record) {
        const body = toPayload(entity, values, record.data);
        await api(recordsPath(app, entity.slug, record.id), { method: 'PATCH', body, headers: { 'If-Match': String(record.version) } });
        message.success(t('records.saved'));
      } else {
        const r = await api<RecordItem & { status?: string }>(recordsPath(app, entity.slug), { method: 'POST', body: toPayload(entity, values) });
        // a match the user may not change: their values went to its owner for review
        if (r?.status === 'pending_review') message.info(t('intake.pendingReview'));
        else message.success(r?.merged ? t('records.merged') : t('records.created'));
      }
      // wait for the list to reload so that its versions (If-Match) are fresh when the drawer closes
      await Promise.all([
        qc.invalidateQueries({ queryKey: ['records', app, entity.slug] }),
        qc.invalidateQueries({ queryKey: ['history', app, entity.slug] }),
        qc.invalidateQueries({ queryKey: ['related', app] }),
      ]);
      onClose();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setError(record ? t('records.conflict') : errorMessage(e));
      else if (!applyFieldErrors(form, e)) setError(errorMessage(e));
      else if (e instanceof ApiError && e.problem.detail) setError(e.problem.detail);
    } finally {
      setBusy(false);
    }
  };

  const handOver = async () => {
    if (!record || !owner || owner === record.owner_id) return;
    setBusy(true);
    setError(null);
    try {
      await api(`${recordsPath(app, entity.slug, record.id)}/owner`, { method: 'PUT', body: { owner_id: owner } });
      message.success(t('records.handedOver'));
      await Promise.all([
        qc.invalidateQueries({ queryKey: ['records', app, entity.slug] }),
        qc.invalidateQueries({ queryKey: ['history', app, entity.slug] }),
      ]);
      onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const historyNames = { map: history.data?.display ?? {}, placeholder: t('records.restricted') };
  const changeLabel = (k: string) => {
    if (k === 'owner_id') return t('records.owner');
    if (k === 'team_id') return t('records.team');
    const f = entity.fields.find((x) => x.key === k);
    return f ? fieldLabel(f, i18n.language) : k;
  };
  const changeValue = (k: string, v: unknown) => {
    if (k === 'owner_id') return formatValue({ key: k, type: 'user' }, v, i18n.language, historyNames);
    if (k === 'team_id') return formatValue({ key: k, type: 'team' }, v, i18n.language, historyNames);
    const f = entity.fields.find((x) => x.key === k);
    return f && f.type !== 'attachment' ? formatValue(f, v, i18n.language, historyNames) : undefined;
  };

  const formPane = (
    <Form form={form} layout="vertical" data-testid="record-form">
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} data-testid="record-error" />}
      {record && <IntakePanel app={app} entity={entity} recordId={record.id} onAccepted={onClose} />}
      {entity.fields.map((f) => (
          <Form.Item
            key={f.key}
            name={f.key}
            label={fieldLabel(f, i18n.language)}
            rules={f.required && f.type !== 'autonumber' && f.type !== 'formula' ? [{ required: true, message: t('common.required') }] : []}
          >
            {f.type === 'lines' ? (
              <LinesInput field={f} app={app} names={record?.display} entity={entity} getValues={() => ({ ...(record?.data ?? {}), ...form.getFieldsValue(true) })} />
            ) : (
              <FieldInput field={f} app={app} names={record?.display} />
            )}
          </Form.Item>
        ))}
      {record && (
        <Form.Item label={t('records.owner')}>
          <Space.Compact style={{ width: '100%' }}>
            <PersonSelect app={app} value={owner} onChange={(v) => setOwner(typeof v === 'string' ? v : null)} data-testid="record-owner" />
            <Button onClick={handOver} disabled={!owner || owner === record.owner_id} loading={busy} data-testid="record-hand-over">
              {t('records.handOver')}
            </Button>
          </Space.Compact>
        </Form.Item>
      )}
    </Form>
  );

  const timeline = history.isError ? (
    <Alert type="warning" title={errorMessage(history.error)} />
  ) : (history.data?.items ?? []).length === 0 ? (
    <Empty />
  ) : (
    <Timeline
      data-testid="record-timeline"
      items={(history.data?.items ?? []).map((ev) => ({
        color: ev.kind === 'stage' || ev.kind === 'stage_changed' ? 'green' : ev.kind === 'created' ? 'blue' : 'gray',
        content: (
          <div data-testid="timeline-event">
            <Typography.Text strong>{ev.actor_name || (ev.actor ? t('records.restricted') : t('records.system'))}</Typography.Text>{' '}
            <Typography.Text>{t(`history.${ev.kind}`, { defaultValue: ev.kind ?? '' })}</Typography.Text>{' '}
            {ev.at && (
              <Tooltip title={dayjs(ev.at).format('YYYY-MM-DD HH:mm:ss')}>
                <Typography.Text type="secondary">{dayjs(ev.at).locale(i18n.language === 'en' ? 'en' : 'zh-cn').fromNow()} · {dayjs(ev.at).format('YYYY-MM-DD HH:mm')}</Typography.Text>
              </Tooltip>
            )}
            <pre style={{ whiteSpace: 'pre-wrap', margin: 0, fontSize: 12 }}>{describeChanges(ev.changes, changeLabel, changeValue).join('\n')}</pre>
          </div>
        ),
      }))}
    />
  );

  return (
    <Drawer
      title={record ? t('records.edit') : t('records.new')}
      open={open}
      onClose={onClose}
      size={hasLines ? 960 : 560}
      destroyOnHidden
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" onClick={save} loading={busy} data-testid="record-save">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      {record && entity.stages && entity.fields.some((f) => f.key === entity.stages!.field) && (
        <StageBar app={app} entity={entity} record={record} onMoved={moved} />
      )}
      {record ? (
        <Tabs
          items={[
            { key: 'form', label: t('records.details'), children: formPane },
            { key: 'related', label: <span data-testid="tab-related">{t('recordPage.related')}</span>, children: <RelatedPanels app={app} entity={entity.slug} id={record.id} onCreate={setCreating} /> },
            { key: 'history', label: t('records.history'), children: timeline },
            { key: 'comments', label: t('comments.title'), children: <RecordComments app={app} entity={entity.slug} id={record.id} /> },
          ]}
        />
      ) : (
        formPane
      )}
      {record && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          id {record.id} · v{record.version}
          {record.updated_at ? ` · ${dayjs(record.updated_at).format('YYYY-MM-DD HH:mm')}` : ''}
        </Typography.Text>
      )}
      {record && creating && <QuickCreate app={app} panel={creating} id={record.id} onClose={() => setCreating(null)} />}
    </Drawer>
  );
}

/** A new record of a related panel's entity with its relation to this record filled in. */
function QuickCreate({ app, panel, id, onClose }: { app: string; panel: RelatedPanel; id: string; onClose: () => void }) {
  const def = useDefinition<EntityDef>(app, 'entities', panel.entity);
  const [initial] = useState(() => ({ [panel.field]: panel.multiple ? [id] : id }));
  if (!def.data?.def) return null;
  return <RecordDrawer app={app} entity={def.data.def} record={null} open onClose={onClose} initial={initial} />;
}
