import { RedoOutlined } from '@ant-design/icons';
import { Alert, App, Button, Space, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, api, errorMessage } from '../../api/client';
import type { EntityDef } from '../../api/types';
import { ValueTable } from './ValueTable';

/** POST /api/v1/apps/{app}/flows/{flow}/test/step: the node's one-step test run. */
export interface RerunResult {
  run_id: string;
  rerun_of?: string;
  node: string;
  status: string;
  input?: unknown;
  output?: unknown;
  port?: string | null;
  error?: string | null;
  test?: boolean;
}

/** Runs one node again on the input it had in the run shown on the canvas, and shows the new output. */
export function RerunPanel({ app, slug, runId, node, waits, result, onResult, beforeRun, entity, labels }: {
  app: string;
  slug: string;
  runId: string;
  node: string;
  /** the node parks runs (approval, task, delay…): it is not re-run alone */
  waits: boolean;
  result?: RerunResult;
  onResult: (r: RerunResult) => void;
  /** saves the draft first; false stops */
  beforeRun: () => Promise<boolean>;
  entity?: EntityDef;
  /** the node's parameter titles, for the input table */
  labels?: Record<string, string>;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const go = async () => {
    setErr(null);
    setBusy(true);
    try {
      if (!(await beforeRun())) return;
      const r = await api<RerunResult>(`/api/v1/apps/${encodeURIComponent(app)}/flows/${encodeURIComponent(slug)}/test/step`, { method: 'POST', body: { run_id: runId, node } });
      if (r) onResult(r);
      message.success(t('fb.rerunDone'));
    } catch (e) {
      setErr(e instanceof ApiError && e.fieldErrors.length ? e.fieldErrors.map((f) => f.message).join('; ') : errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ marginTop: 8 }}>
      <Tooltip title={waits ? t('fb.rerunWaits') : t('fb.rerunHelp')}>
        <Button size="small" icon={<RedoOutlined />} loading={busy} disabled={waits} onClick={go} data-testid="node-rerun">{t('fb.rerun')}</Button>
      </Tooltip>
      {err && <Alert type="error" showIcon style={{ marginTop: 8 }} title={err} data-testid="node-rerun-error" />}
      {result && (
        <div style={{ marginTop: 8, borderTop: '1px dashed #d9d9d9', paddingTop: 8 }} data-testid="node-rerun-result" data-status={result.status}>
          <Space wrap style={{ marginBottom: 6, display: 'flex' }}>
            <Typography.Text strong>{t('fb.rerunResult')}</Typography.Text>
            <Tag>{t('fb.test')}</Tag>
            <Tag color={result.status === 'succeeded' ? 'success' : 'error'} data-testid="node-rerun-status">{t(`runStatus.${result.status}`, { defaultValue: result.status })}</Tag>
            {result.port && <Tag>{t(`ports.${result.port}`, { defaultValue: result.port })}</Tag>}
            <Link to={`/runs/${result.run_id}`}>{t('fb.runDetails')}</Link>
          </Space>
          {result.error ? <Alert type="error" showIcon title={String(result.error)} style={{ marginBottom: 8 }} /> : null}
          <div><Typography.Text strong>{t('fb.stepInput')}</Typography.Text></div>
          <ValueTable value={result.input} labels={labels} entity={entity} testId="node-rerun-input" />
          <div style={{ height: 8 }} />
          <div><Typography.Text strong>{t('fb.stepOutput')}</Typography.Text></div>
          <ValueTable value={result.output} entity={entity} testId="node-rerun-output" />
        </div>
      )}
    </div>
  );
}
