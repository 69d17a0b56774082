import { HolderOutlined, SettingOutlined } from '@ant-design/icons';
import { DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Button, Checkbox, Divider, Popover, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { moveColumn, toggleColumn } from '../../lib/listView';

function Row({ id, label, onHide }: { id: string; label: string; onHide: () => void }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id });
  return (
    <div
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition, display: 'flex', alignItems: 'center', gap: 6, padding: '3px 0', opacity: isDragging ? 0.6 : 1, background: 'var(--ant-color-bg-elevated, #fff)' }}
      data-testid={`column-${id}`}
    >
      <span {...attributes} {...listeners} style={{ cursor: 'grab', color: '#999' }} aria-label="drag" data-testid={`column-drag-${id}`}>
        <HolderOutlined />
      </span>
      <Checkbox checked onChange={onHide} data-testid={`column-toggle-${id}`}>{label}</Checkbox>
    </div>
  );
}

/** Chooses the list's columns: tick to show, drag to reorder (dnd-kit; keyboard works too). */
export default function ColumnChooser({ columns, all, label, onChange }: { columns: string[]; all: string[]; label: (key: string) => string; onChange: (c: string[]) => void }) {
  const { t } = useTranslation();
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const onDragEnd = (e: DragEndEvent) => {
    if (e.over && e.active.id !== e.over.id) onChange(moveColumn(columns, String(e.active.id), String(e.over.id)));
  };
  const hidden = all.filter((k) => !columns.includes(k));
  const content = (
    <div style={{ width: 240, maxHeight: 420, overflowY: 'auto' }} data-testid="column-chooser">
      <Typography.Text type="secondary">{t('lists.shownColumns')}</Typography.Text>
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
        <SortableContext items={columns} strategy={verticalListSortingStrategy}>
          {columns.map((k) => <Row key={k} id={k} label={label(k)} onHide={() => onChange(toggleColumn(columns, k, false, all))} />)}
        </SortableContext>
      </DndContext>
      {hidden.length > 0 && (
        <>
          <Divider style={{ margin: '8px 0' }} />
          <Typography.Text type="secondary">{t('lists.hiddenColumns')}</Typography.Text>
          {hidden.map((k) => (
            <div key={k} style={{ padding: '3px 0 3px 20px' }}>
              <Checkbox checked={false} onChange={() => onChange(toggleColumn(columns, k, true, all))} data-testid={`column-toggle-${k}`}>{label(k)}</Checkbox>
            </div>
          ))}
        </>
      )}
    </div>
  );
  return (
    <Popover trigger="click" placement="bottomRight" content={content}>
      <Button icon={<SettingOutlined />} data-testid="columns-open">{t('lists.columns')}</Button>
    </Popover>
  );
}
