import { useQuery } from '@tanstack/react-query';
import { Progress, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../../api/client';
import { type ImportProgress, progressView } from '../../lib/importProgress';
import { formatSize } from '../../lib/recordPage';

/** How often a running import's progress is read. */
export const PROGRESS_POLL_MS = 400;

/**
 * The progress of a running import followed with ?progress=<id>: polls GET /api/v1/imports/{id}
 * until the server says done and shows rows done of the total (or, without a total, rows done
 * and bytes read). offset/total: see progressView.
 */
export default function ImportProgressBar({ id, offset = 0, total }: { id: string; offset?: number; total?: number }) {
  const { t, i18n } = useTranslation();
  const q = useQuery({
    queryKey: ['import-progress', id],
    queryFn: async () => {
      try {
        return await api<ImportProgress>(`/api/v1/imports/${encodeURIComponent(id)}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null; // not started yet
        throw e;
      }
    },
    refetchInterval: (query) => (query.state.data?.done ? false : PROGRESS_POLL_MS),
    retry: false,
    gcTime: 0,
  });
  const v = progressView(q.data, offset, total);
  const n = (x: number) => x.toLocaleString(i18n.language);
  const text =
    v.total !== undefined
      ? t('imports.progressRows', { done: n(v.rows), total: n(v.total) })
      : v.bytesTotal
        ? t('imports.progressBytesOf', { done: n(v.rows), read: formatSize(v.bytesRead), total: formatSize(v.bytesTotal) })
        : t('imports.progressBytes', { done: n(v.rows), read: formatSize(v.bytesRead ?? 0) });
  return (
    <div style={{ marginTop: 8 }} data-testid="import-progress" data-rows={v.rows} data-total={v.total ?? ''}>
      <Progress percent={v.percent} status={q.data?.done ? 'success' : 'active'} />
      <Typography.Text type="secondary" data-testid="import-progress-text">{text}</Typography.Text>
    </div>
  );
}
