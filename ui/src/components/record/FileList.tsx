import { CloseOutlined, DownloadOutlined, EyeOutlined, FilePdfOutlined, PaperClipOutlined } from '@ant-design/icons';
import { Button, Image, Modal, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fileKind, fileUrl, formatSize } from '../../lib/recordPage';
import type { FileRef } from '../FieldInput';

/**
 * The files of an attachment value: images as thumbnails that open a lightbox, PDFs with a preview
 * in a frame, other files as download links with name and size. onRemove (when editable) drops one.
 */
export default function FileList({ files, onRemove }: { files: FileRef[]; onRemove?: (id: string) => void }) {
  const { t } = useTranslation();
  const [pdf, setPdf] = useState<FileRef | null>(null);
  const images = files.filter((f) => fileKind(f.type, f.name) === 'image');
  const others = files.filter((f) => fileKind(f.type, f.name) !== 'image');
  const remove = (f: FileRef) =>
    onRemove && (
      <Button size="small" type="text" icon={<CloseOutlined />} onClick={() => onRemove(f.id)} aria-label={t('recordPage.removeFile', { name: f.name ?? f.id })} />
    );
  return (
    <div data-testid="file-list">
      {images.length > 0 && (
        <Image.PreviewGroup>
          <Space wrap size={8} style={{ marginBottom: 4 }}>
            {images.map((f) => (
              <div key={f.id} style={{ position: 'relative' }} data-testid="file-image">
                <Image
                  src={fileUrl(f.id, true)}
                  alt={f.name ?? ''}
                  width={72}
                  height={72}
                  style={{ objectFit: 'cover', borderRadius: 4, border: '1px solid #f0f0f0' }}
                />
                <Typography.Text type="secondary" ellipsis style={{ display: 'block', width: 72, fontSize: 11 }} title={f.name}>{f.name}</Typography.Text>
                {onRemove && <div style={{ position: 'absolute', top: -6, right: -6 }}>{remove(f)}</div>}
              </div>
            ))}
          </Space>
        </Image.PreviewGroup>
      )}
      {others.map((f) => {
        const kind = fileKind(f.type, f.name);
        return (
          <div key={f.id} style={{ display: 'flex', alignItems: 'center', gap: 6, minWidth: 0 }} data-testid={kind === 'pdf' ? 'file-pdf' : 'file-other'}>
            {kind === 'pdf' ? <FilePdfOutlined style={{ color: '#cf1322' }} /> : <PaperClipOutlined />}
            <a href={fileUrl(f.id)} download={f.name} style={{ minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{f.name ?? f.id}</a>
            <Typography.Text type="secondary" style={{ fontSize: 12, flex: 'none' }}>{formatSize(f.size)}</Typography.Text>
            {kind === 'pdf' && (
              <Button size="small" type="link" icon={<EyeOutlined />} onClick={() => setPdf(f)} data-testid="file-preview">{t('recordPage.preview')}</Button>
            )}
            {remove(f)}
          </div>
        );
      })}
      <Modal
        open={!!pdf}
        onCancel={() => setPdf(null)}
        title={pdf?.name}
        width="min(960px, 96vw)"
        footer={pdf ? <Button icon={<DownloadOutlined />} href={fileUrl(pdf.id)}>{t('recordPage.download')}</Button> : null}
        destroyOnHidden
      >
        {pdf && <iframe src={fileUrl(pdf.id, true)} title={pdf.name ?? 'PDF'} style={{ width: '100%', height: '70vh', border: 0 }} data-testid="pdf-frame" />}
      </Modal>
    </div>
  );
}
