import { RedoOutlined, UndoOutlined } from '@ant-design/icons';
import { Button, Space, Tag, Tooltip } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Undoable } from '../lib/undo';

/** Undo / redo buttons and the unsaved-changes mark of a designer. */
export default function UndoRedo({ h }: { h: Pick<Undoable<unknown>, 'undo' | 'redo' | 'canUndo' | 'canRedo' | 'dirty'> }) {
  const { t } = useTranslation();
  return (
    <Space size={4}>
      <Tooltip title={`${t('designer.undo')} (Ctrl+Z)`}>
        <Button icon={<UndoOutlined />} disabled={!h.canUndo} onClick={h.undo} aria-label={t('designer.undo')} data-testid="undo" />
      </Tooltip>
      <Tooltip title={`${t('designer.redo')} (Ctrl+Shift+Z)`}>
        <Button icon={<RedoOutlined />} disabled={!h.canRedo} onClick={h.redo} aria-label={t('designer.redo')} data-testid="redo" />
      </Tooltip>
      {h.dirty && <Tag color="orange" data-testid="unsaved">{t('designer.unsaved')}</Tag>}
    </Space>
  );
}
