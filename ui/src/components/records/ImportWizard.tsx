import { InboxOutlined } from '@ant-design/icons';
import { Alert, App, Button, Modal, Result, Select, Space, Steps, Table, Tag, Typography, Upload } from 'antd';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import type { EntityDef } from '../../api/types';
import { importParts, newProgressId } from '../../lib/importProgress';
import { type RowError, localMessage, rowErrors } from '../../lib/listView';
import { fieldLabel } from '../FieldInput';
import ImportProgressBar from './ImportProgressBar';

/** The wizard's mapped rows go in one request up to this JSON size, split beyond it. */
export const IMPORT_PART_BYTES = 8 << 20;

interface Parsed {
  headers: string[];
  rows: string[][];
  suggestions: string[];
}

interface Counts {
  created: number;
  merged: number;
  pending: number;
  failed: number;
}

interface ChunkAnswer extends Partial<Counts> {
  errors?: { field: string; code?: string; message: string }[];
}

const zero = (): Counts => ({ created: 0, merged: 0, pending: 0, failed: 0 });

/**
 * The import wizard: upload a CSV or XLSX (read by the server), map its columns to fields (the
 * server suggests them from keys and en/zh labels), check every row with a dry run through the
 * same validation, dedupe and gates (per-row errors), then import: all rows, or only the good
 * ones (partial mode). The rows go in one request (one transaction; split in parts only past
 * IMPORT_PART_BYTES of JSON) followed with ?progress=<id>: the progress bar polls the server's
 * GET /api/v1/imports/{id} and shows rows done of the total while it runs.
 */
export default function ImportWizard({ app, entity, open, onClose, onImported }: { app: string; entity: EntityDef; open: boolean; onClose: () => void; onImported: () => void }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const lang = i18n.language;
  const base = `/api/v1/apps/${encodeURIComponent(app)}/entities/${encodeURIComponent(entity.slug)}/import`;
  const [step, setStep] = useState(0);
  const [parsed, setParsed] = useState<Parsed | null>(null);
  const [mapping, setMapping] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  /** The request being sent: its progress id, the rows of earlier parts and all rows. */
  const [running, setRunning] = useState<{ id: string; offset: number; total: number } | null>(null);
  const [check, setCheck] = useState<{ counts: Counts; errors: RowError[] } | null>(null);
  const [done, setDone] = useState<{ counts: Counts; errors: RowError[] } | null>(null);
  const cancelled = useRef(false);

  const reset = () => {
    setStep(0);
    setParsed(null);
    setMapping([]);
    setCheck(null);
    setDone(null);
    setRunning(null);
  };
  const close = () => {
    cancelled.current = true;
    if (done) onImported();
    reset();
    onClose();
  };

  const upload = async (file: File) => {
    setBusy(true);
    try {
      const fd = new FormData();
      fd.append('file', file, file.name);
      const p = await api<Parsed>(`${base}/parse`, { method: 'POST', body: fd });
      setParsed(p);
      setMapping(p.suggestions.map((s) => s || ''));
      setStep(1);
    } catch (e) {
      message.error(localMessage(errorMessage(e), lang));
    } finally {
      setBusy(false);
    }
    return false;
  };

  // Rows with at least one mapped value, with their index in the file.
  const mappedRows = () => {
    const out: { at: number; cells: string[] }[] = [];
    (parsed?.rows ?? []).forEach((r, at) => {
      if (mapping.some((m, i) => m && (r[i] ?? '').trim() !== '')) out.push({ at, cells: r });
    });
    return out;
  };

  /** Sends the rows (one request, or parts past IMPORT_PART_BYTES), followed; dry = check only. */
  const send = async (dry: boolean, partial: boolean) => {
    const rows = mappedRows();
    const parts = importParts(rows, IMPORT_PART_BYTES);
    const counts = zero();
    const errors: RowError[] = [];
    const id = newProgressId();
    cancelled.current = false;
    setBusy(true);
    try {
      let offset = 0;
      for (let i = 0; i < parts.length; i++) {
        if (cancelled.current) break;
        const part = parts[i];
        const progress = parts.length > 1 ? `${id}-${i}` : id;
        setRunning({ id: progress, offset, total: rows.length });
        const qs = new URLSearchParams({ mode: partial || dry ? 'partial' : 'all', progress });
        if (dry) qs.set('dry_run', 'true');
        const r = await api<ChunkAnswer>(`${base}?${qs}`, { method: 'POST', body: { columns: mapping, rows: part.map((x) => x.cells) } });
        for (const k of ['created', 'merged', 'pending', 'failed'] as const) counts[k] += r[k] ?? 0;
        for (const e of rowErrors(r.errors, 0)) errors.push({ ...e, row: part[e.row]?.at ?? e.row });
        offset += part.length;
      }
      if (dry) {
        setCheck({ counts, errors });
        setStep(2);
      } else {
        setDone({ counts, errors });
        setStep(3);
      }
    } catch (e) {
      message.error(localMessage(errorMessage(e), lang));
    } finally {
      setBusy(false);
      setRunning(null);
    }
  };

  const label = (key: string) => {
    const f = entity.fields.find((x) => x.key === key);
    return f ? fieldLabel(f, lang) : key;
  };
  const errorTable = (errors: RowError[]) => (
    <Table<RowError & { key: number }>
      size="small"
      dataSource={errors.map((e, key) => ({ ...e, key }))}
      pagination={errors.length > 8 ? { pageSize: 8, size: 'small' } : false}
      data-testid="import-errors"
      columns={[
        { title: t('imports.line'), dataIndex: 'row', width: 80, render: (r: number) => r + 2 },
        { title: t('records.field'), dataIndex: 'field', width: 140, render: (f: string) => (f ? label(f) : '—') },
        { title: t('imports.problem'), dataIndex: 'message', render: (m: string) => localMessage(m, lang) },
      ]}
    />
  );
  const taken = new Set(mapping.filter(Boolean));
  const fieldOptions = entity.fields.filter((f) => !['formula', 'autonumber', 'lines'].includes(f.type)).map((f) => ({ value: f.key, label: fieldLabel(f, lang), disabled: false }));

  return (
    <Modal open={open} onCancel={close} title={t('imports.title')} width={820} footer={null} destroyOnHidden data-testid="import-wizard">
      <Steps size="small" current={step} style={{ marginBottom: 16 }} items={[{ title: t('imports.upload') }, { title: t('imports.map') }, { title: t('imports.check') }, { title: t('imports.done') }]} responsive />
      {step === 0 && (
        <Upload.Dragger accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" showUploadList={false} beforeUpload={upload} disabled={busy} data-testid="import-upload">
          <p className="ant-upload-drag-icon"><InboxOutlined /></p>
          <p>{busy ? t('imports.reading') : t('imports.drop')}</p>
          <Typography.Text type="secondary">{t('imports.formats')}</Typography.Text>
        </Upload.Dragger>
      )}
      {step === 1 && parsed && (
        <div>
          <Typography.Paragraph type="secondary">{t('imports.mapHelp', { count: parsed.rows.length })}</Typography.Paragraph>
          <Table
            size="small"
            pagination={false}
            rowKey="i"
            scroll={{ y: 360, x: true }}
            data-testid="import-mapping"
            dataSource={parsed.headers.map((h, i) => ({ i, h }))}
            columns={[
              { title: t('imports.column'), dataIndex: 'h', width: 160, render: (h: string) => <Typography.Text strong>{h}</Typography.Text> },
              { title: t('imports.sample'), width: 200, render: (_v, r) => <Typography.Text type="secondary" ellipsis style={{ maxWidth: 200 }}>{parsed.rows.slice(0, 3).map((x) => x[r.i] ?? '').filter(Boolean).join(' · ')}</Typography.Text> },
              {
                title: t('imports.toField'),
                render: (_v, r) => (
                  <Space>
                    <Select
                      style={{ width: 200 }}
                      value={mapping[r.i] || ''}
                      onChange={(v) => setMapping(mapping.map((m, j) => (j === r.i ? v : m)))}
                      data-testid={`import-map-${r.i}`}
                      options={[{ value: '', label: t('imports.skip') }, ...fieldOptions.map((o) => ({ ...o, disabled: taken.has(o.value) && mapping[r.i] !== o.value }))]}
                    />
                    {parsed.suggestions[r.i] && parsed.suggestions[r.i] === mapping[r.i] && <Tag color="green">{t('imports.suggested')}</Tag>}
                  </Space>
                ),
              },
            ]}
          />
          {entity.fields.filter((f) => f.required && !taken.has(f.key)).length > 0 && (
            <Alert style={{ marginTop: 8 }} type="warning" showIcon title={t('imports.requiredUnmapped', { fields: entity.fields.filter((f) => f.required && !taken.has(f.key)).map((f) => fieldLabel(f, lang)).join(', ') })} />
          )}
          {running && <ImportProgressBar key={running.id} id={running.id} offset={running.offset} total={running.total} />}
          <Space style={{ marginTop: 12, justifyContent: 'flex-end', width: '100%' }}>
            <Button onClick={reset}>{t('imports.back')}</Button>
            <Button type="primary" disabled={!taken.size} loading={busy} onClick={() => send(true, true)} data-testid="import-check">{t('imports.checkRows')}</Button>
          </Space>
        </div>
      )}
      {step === 2 && check && (
        <div data-testid="import-preview">
          <Space wrap style={{ marginBottom: 8 }}>
            <Tag color="green" data-testid="import-good">{t('imports.goodRows', { count: check.counts.created + check.counts.merged + check.counts.pending })}</Tag>
            {check.counts.failed > 0 && <Tag color="red" data-testid="import-bad">{t('imports.badRows', { count: check.counts.failed })}</Tag>}
          </Space>
          {check.errors.length > 0 ? errorTable(check.errors) : <Alert type="success" showIcon title={t('imports.allGood')} />}
          {running && <ImportProgressBar key={running.id} id={running.id} offset={running.offset} total={running.total} />}
          <Space style={{ marginTop: 12, justifyContent: 'flex-end', width: '100%' }} wrap>
            <Button onClick={() => setStep(1)} disabled={busy}>{t('imports.back')}</Button>
            {check.counts.failed > 0 ? (
              <Button type="primary" loading={busy} disabled={check.counts.failed === mappedRows().length} onClick={() => send(false, true)} data-testid="import-partial">
                {t('imports.importGood', { count: mappedRows().length - check.counts.failed })}
              </Button>
            ) : (
              <Button type="primary" loading={busy} onClick={() => send(false, false)} data-testid="import-all">{t('imports.importAll', { count: mappedRows().length })}</Button>
            )}
          </Space>
        </div>
      )}
      {step === 3 && done && (
        <div data-testid="import-result">
          <Result
            status={done.counts.failed ? 'warning' : 'success'}
            title={t('imports.finished', { created: done.counts.created, merged: done.counts.merged })}
            subTitle={[done.counts.pending ? t('imports.pending', { count: done.counts.pending }) : '', done.counts.failed ? t('imports.skipped', { count: done.counts.failed }) : ''].filter(Boolean).join(' ')}
            extra={<Button type="primary" onClick={close} data-testid="import-close">{t('common.close')}</Button>}
          />
          {done.errors.length > 0 && errorTable(done.errors)}
        </div>
      )}
    </Modal>
  );
}
