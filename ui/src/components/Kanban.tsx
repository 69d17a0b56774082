import { DndContext, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { UserOutlined } from '@ant-design/icons';
import { Badge, Space, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import type { EntityDef, FieldDef, RecordItem } from '../api/types';
import { formatValue, type Names } from './FieldInput';
import { useTranslation } from 'react-i18next';
import { optionLabel, optionValue } from '../lib/labels';

const money = (f: FieldDef) => (f.currency === 'USD' ? '$' : '¥');

/** What a card shows besides its title. */
interface CardFields {
  amount?: FieldDef;
  due?: FieldDef;
  warning?: FieldDef;
}

/** The fields a card shows: the first money field, a due/close date, a warning text. */
export function cardFields(entity: EntityDef): CardFields {
  const dates = entity.fields.filter((f) => f.type === 'date' || f.type === 'datetime');
  return {
    amount: entity.fields.find((f) => f.type === 'money'),
    due: dates.find((f) => /due|close|deadline|expire/i.test(f.key)) ?? undefined,
    warning: entity.fields.find((f) => /^(warning|warnings|alert|flag)$/i.test(f.key) && ['text', 'select', 'multiselect'].includes(f.type)),
  };
}

function Card({ r, title, names, cf, onOpen }: { r: RecordItem; title: string; names: Names; cf: CardFields; onOpen: () => void }) {
  const { t, i18n } = useTranslation();
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: r.id });
  const due = cf.due ? (r.data[cf.due.key] as string | undefined) : undefined;
  const overdue = !!due && dayjs(due).isBefore(dayjs(), 'day');
  const warning = cf.warning ? formatValue(cf.warning, r.data[cf.warning.key], i18n.language) : '';
  return (
    <div
      ref={setNodeRef}
      className="kanban-card"
      style={{ transform: transform ? `translate(${transform.x}px, ${transform.y}px)` : undefined, opacity: isDragging ? 0.7 : 1, zIndex: isDragging ? 10 : undefined, position: 'relative' }}
      {...attributes}
      {...listeners}
      onClick={onOpen}
      data-testid={`kanban-card-${r.id}`}
    >
      <Typography.Text strong ellipsis style={{ display: 'block' }}>{title}</Typography.Text>
      {cf.amount && r.data[cf.amount.key] != null && (
        <Typography.Text style={{ fontSize: 13 }} data-testid="card-amount">{money(cf.amount)} {formatValue(cf.amount, r.data[cf.amount.key], i18n.language)}</Typography.Text>
      )}
      <Space size={4} wrap style={{ marginTop: 4, display: 'flex' }}>
        {r.owner_id && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="card-owner">
            <UserOutlined /> {names.map[r.owner_id] ?? names.placeholder}
          </Typography.Text>
        )}
        {due && (
          <Tag color={overdue ? 'red' : undefined} style={{ fontSize: 11, marginInlineEnd: 0 }} data-testid="card-due">
            {overdue ? t('records.overdue') + ' · ' : ''}{t('records.due', { date: dayjs(due).format('MM-DD') })}
          </Tag>
        )}
        {warning && <Tag color="orange" style={{ fontSize: 11, marginInlineEnd: 0 }} data-testid="card-warning">{warning}</Tag>}
      </Space>
    </div>
  );
}

function Column({ stage, lane, label, children, count, total }: { stage: string; lane?: string; label: string; children: React.ReactNode; count: number; total?: string }) {
  const { t } = useTranslation();
  const { setNodeRef, isOver } = useDroppable({ id: lane === undefined ? `stage:${stage}` : `lane:${lane}:stage:${stage}`, data: { stage } });
  // The whole column (header and body, down to the board's bottom) is the drop target.
  return (
    <div ref={setNodeRef} className={`kanban-col${isOver ? ' over' : ''}`} data-testid={`kanban-col-${stage}`} data-lane={lane}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 8, gap: 8 }}>
        <Typography.Text strong ellipsis>{label}</Typography.Text>
        <Badge count={count} showZero color="#999" overflowCount={9999} data-testid="col-count" />
      </div>
      {total !== undefined && (
        <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12, marginBottom: 8 }} data-testid="col-total">
          {t('records.total')} {total}
        </Typography.Text>
      )}
      <div className="kanban-col-body" data-testid={`kanban-body-${stage}`}>{children}</div>
    </div>
  );
}

/** Swimlanes of a board: one per owner (named, sorted by name; records without an owner last). */
export function ownerLanes(records: RecordItem[], names: Names, noOwner: string): { key: string; label: string; records: RecordItem[] }[] {
  const byOwner = new Map<string, RecordItem[]>();
  for (const r of records) {
    const k = r.owner_id ?? '';
    byOwner.set(k, [...(byOwner.get(k) ?? []), r]);
  }
  return [...byOwner.entries()]
    .map(([key, recs]) => ({ key, label: key ? names.map[key] ?? names.placeholder : noOwner, records: recs }))
    .sort((a, b) => (a.key === '' ? 1 : b.key === '' ? -1 : a.label.localeCompare(b.label) || a.key.localeCompare(b.key)));
}

/**
 * Stage pipeline: one column per stage (optionally in swimlanes by owner); dropping a card
 * anywhere on another column asks onMove; a click opens it.
 */
export default function Kanban({ entity, records, names, onMove, onOpen, lanes }: { entity: EntityDef; records: RecordItem[]; names: Names; onMove: (r: RecordItem, to: string) => void; onOpen: (r: RecordItem) => void; lanes?: 'owner' }) {
  const { t, i18n } = useTranslation();
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }));
  const stages = entity.stages!;
  const field = entity.fields.find((f) => f.key === stages.field);
  const titleKey = entity.title_field ?? entity.fields.find((f) => f.type === 'text')?.key;
  const cf = cardFields(entity);
  const stageLabel = (s: string) => {
    const o = (field?.options ?? []).find((x) => optionValue(x) === s);
    return o ? optionLabel(o, i18n.language) : s;
  };
  const onDragEnd = (ev: DragEndEvent) => {
    const to = ev.over?.data.current?.stage as string | undefined;
    if (to === undefined) return;
    const r = records.find((x) => x.id === ev.active.id);
    if (r && to && r.data[stages.field] !== to) onMove(r, to);
  };
  const sum = (items: RecordItem[]) => {
    if (!cf.amount) return undefined;
    const n = items.reduce((acc, r) => acc + (typeof r.data[cf.amount!.key] === 'number' ? (r.data[cf.amount!.key] as number) : 0), 0);
    return `${money(cf.amount)} ${formatValue(cf.amount, n, i18n.language)}`;
  };
  const title = (r: RecordItem) => String((titleKey && r.data[titleKey]) ?? r.id);
  const board = (recs: RecordItem[], lane?: string) => {
    const unstaged = recs.filter((r) => !stages.order.includes(String(r.data[stages.field] ?? '')));
    return (
      <div className="kanban" data-testid={lane === undefined ? 'kanban' : `kanban-lane-${lane || 'none'}`}>
        {stages.order.map((s) => {
          const items = recs.filter((r) => r.data[stages.field] === s);
          return (
            <Column key={s} stage={s} lane={lane} label={stageLabel(s)} count={items.length} total={sum(items)}>
              {items.map((r) => (
                <Card key={r.id} r={r} title={title(r)} names={names} cf={cf} onOpen={() => onOpen(r)} />
              ))}
            </Column>
          );
        })}
        {unstaged.length > 0 && (
          <Column stage="" lane={lane} label="—" count={unstaged.length} total={sum(unstaged)}>
            {unstaged.map((r) => (
              <Card key={r.id} r={r} title={title(r)} names={names} cf={cf} onOpen={() => onOpen(r)} />
            ))}
          </Column>
        )}
      </div>
    );
  };
  return (
    <DndContext sensors={sensors} onDragEnd={onDragEnd}>
      {lanes === 'owner' ? (
        <div data-testid="kanban-lanes">
          {ownerLanes(records, names, t('recordPage.noOwner')).map((l) => (
            <div key={l.key || 'none'} style={{ marginBottom: 12 }}>
              <Space style={{ marginBottom: 6 }}>
                <UserOutlined />
                <Typography.Text strong data-testid="lane-title">{l.label}</Typography.Text>
                <Badge count={l.records.length} showZero color="#999" overflowCount={9999} />
                {sum(l.records) !== undefined && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('records.total')} {sum(l.records)}</Typography.Text>}
              </Space>
              {board(l.records, l.key)}
            </div>
          ))}
        </div>
      ) : (
        board(records)
      )}
    </DndContext>
  );
}
