import { DndContext, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { Badge, Typography } from 'antd';
import type { EntityDef, RecordItem } from '../api/types';
import { formatValue } from './FieldInput';
import { useTranslation } from 'react-i18next';
import { optionLabel, optionValue } from '../lib/labels';

function Card({ r, title, sub, onOpen }: { r: RecordItem; title: string; sub: string; onOpen: () => void }) {
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: r.id });
  return (
    <div
      ref={setNodeRef}
      className="kanban-card"
      style={{ transform: transform ? `translate(${transform.x}px, ${transform.y}px)` : undefined, opacity: isDragging ? 0.7 : 1, zIndex: isDragging ? 10 : undefined, position: 'relative' }}
      {...attributes}
      {...listeners}
      onDoubleClick={onOpen}
      data-testid={`kanban-card-${r.id}`}
    >
      <Typography.Text strong ellipsis style={{ display: 'block' }}>{title}</Typography.Text>
      {sub && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{sub}</Typography.Text>}
    </div>
  );
}

function Column({ stage, label, children, count }: { stage: string; label: string; children: React.ReactNode; count: number }) {
  const { setNodeRef, isOver } = useDroppable({ id: `stage:${stage}` });
  return (
    <div ref={setNodeRef} className={`kanban-col${isOver ? ' over' : ''}`} data-testid={`kanban-col-${stage}`}>
      <div style={{ display: 'flex', justifyContent: 'space-between', marginBottom: 8 }}>
        <Typography.Text strong>{label}</Typography.Text>
        <Badge count={count} showZero color="#999" />
      </div>
      {children}
    </div>
  );
}

/** Stage pipeline: one column per stage; dropping a card on another column asks onMove. */
export default function Kanban({ entity, records, onMove, onOpen }: { entity: EntityDef; records: RecordItem[]; onMove: (r: RecordItem, to: string) => void; onOpen: (r: RecordItem) => void }) {
  const { i18n } = useTranslation();
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }));
  const stages = entity.stages!;
  const field = entity.fields.find((f) => f.key === stages.field);
  const titleKey = entity.title_field ?? entity.fields.find((f) => f.type === 'text')?.key;
  const amountField = entity.fields.find((f) => f.type === 'money');
  const stageLabel = (s: string) => {
    const o = (field?.options ?? []).find((x) => optionValue(x) === s);
    return o ? optionLabel(o, i18n.language) : s;
  };
  const onDragEnd = (ev: DragEndEvent) => {
    const over = ev.over?.id;
    if (!over || typeof over !== 'string' || !over.startsWith('stage:')) return;
    const to = over.slice(6);
    const r = records.find((x) => x.id === ev.active.id);
    if (r && r.data[stages.field] !== to) onMove(r, to);
  };
  const unstaged = records.filter((r) => !stages.order.includes(String(r.data[stages.field] ?? '')));
  return (
    <DndContext sensors={sensors} onDragEnd={onDragEnd}>
      <div className="kanban" data-testid="kanban">
        {stages.order.map((s) => {
          const items = records.filter((r) => r.data[stages.field] === s);
          return (
            <Column key={s} stage={s} label={stageLabel(s)} count={items.length}>
              {items.map((r) => (
                <Card
                  key={r.id}
                  r={r}
                  title={String((titleKey && r.data[titleKey]) ?? r.id)}
                  sub={amountField ? formatValue(amountField, r.data[amountField.key], i18n.language) : ''}
                  onOpen={() => onOpen(r)}
                />
              ))}
            </Column>
          );
        })}
        {unstaged.length > 0 && (
          <Column stage="" label="—" count={unstaged.length}>
            {unstaged.map((r) => (
              <Card key={r.id} r={r} title={String((titleKey && r.data[titleKey]) ?? r.id)} sub="" onOpen={() => onOpen(r)} />
            ))}
          </Column>
        )}
      </div>
    </DndContext>
  );
}
