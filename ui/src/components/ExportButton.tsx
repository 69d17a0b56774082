import { DownloadOutlined } from '@ant-design/icons';
import { Button, Dropdown } from 'antd';
import { useTranslation } from 'react-i18next';
import { EXPORT_FORMATS } from '../lib/report';

/**
 * Export menu (CSV / XLSX) of a published report or a record list; href builds the download URL
 * of a format. Its own module so that the record list does not pull echarts in with ReportResult.
 */
export function ExportButton({ href, size = 'small' }: { href: (format: string) => string; size?: 'small' | 'middle' }) {
  const { t } = useTranslation();
  return (
    <Dropdown menu={{ items: EXPORT_FORMATS.map((f) => ({ key: f, label: <a href={href(f)} download data-testid={`export-${f}`}>{t(`reports.exportAs.${f}`)}</a> })) }}>
      <Button size={size} icon={<DownloadOutlined />} data-testid="export-menu">{t('reports.export')}</Button>
    </Dropdown>
  );
}

export default ExportButton;
