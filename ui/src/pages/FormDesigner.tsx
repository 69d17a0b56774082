import { DeleteOutlined, HolderOutlined } from '@ant-design/icons';
import { DndContext, PointerSensor, closestCenter, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { SortableContext, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Alert, Button, Card, Checkbox, Col, Empty, Form, Input, InputNumber, Row, Select, Skeleton, Space, Switch, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { defList, useApp, useDefinition } from '../api/defs';
import type { EntityDef, FieldDef, FormDef, FormItem } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import { fieldLabel } from '../components/FieldInput';
import { addToLayout, emptyForm, formatDefaults, moveInLayout, parseDefaults, placedFields, removeFromLayout } from '../lib/form';
import { labelText } from '../lib/labels';

function PaletteItem({ f }: { f: FieldDef }) {
  const { i18n, t } = useTranslation();
  const { attributes, listeners, setNodeRef, transform } = useDraggable({ id: `palette:${f.key}` });
  return (
    <div ref={setNodeRef} className="palette-item" style={{ transform: transform ? `translate(${transform.x}px, ${transform.y}px)` : undefined }} {...attributes} {...listeners} data-testid={`palette-${f.key}`}>
      {fieldLabel(f, i18n.language)} <Typography.Text type="secondary">· {t(`fieldTypes.${f.type}`, { defaultValue: f.type })}</Typography.Text>
    </div>
  );
}

function CanvasItem({ item, field, selected, onSelect, onRemove }: { item: FormItem; field?: FieldDef; selected: boolean; onSelect: () => void; onRemove: () => void }) {
  const { t, i18n } = useTranslation();
  const { attributes, listeners, setNodeRef, transform, transition } = useSortable({ id: `item:${item.field}` });
  return (
    <div
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition, borderColor: selected ? '#1677ff' : undefined }}
      className="field-row"
      onClick={onSelect}
      data-testid={`form-item-${item.field}`}
    >
      <HolderOutlined className="drag-handle" {...attributes} {...listeners} />
      <div style={{ flex: 1 }}>
        <Typography.Text strong>{labelText(item.label, i18n.language, field ? fieldLabel(field, i18n.language) : item.field)}</Typography.Text>
        {(item.required || field?.required) && <Typography.Text type="danger"> *</Typography.Text>}
        {item.hidden && <Typography.Text type="secondary"> ({t('forms.hidden')})</Typography.Text>}
        <div>
          <Input size="small" disabled placeholder={field?.type} style={{ maxWidth: 360 }} />
        </div>
      </div>
      <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={(e) => { e.stopPropagation(); onRemove(); }} />
    </div>
  );
}

function Canvas({ children, empty }: { children: React.ReactNode; empty: boolean }) {
  const { t } = useTranslation();
  const { setNodeRef, isOver } = useDroppable({ id: 'canvas' });
  return (
    <div ref={setNodeRef} className={`form-canvas${isOver ? ' over' : ''}`} data-testid="form-canvas">
      {empty ? <Empty description={t('forms.dropHere')} /> : children}
    </div>
  );
}

export default function FormDesigner() {
  const { app = '', slug = '' } = useParams();
  const [sp] = useSearchParams();
  const { t, i18n } = useTranslation();
  const q = useDefinition<FormDef>(app, 'forms', slug);
  const appQ = useApp(app);
  const [form, setForm] = useState<FormDef | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [defaultsText, setDefaultsText] = useState('');
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }));

  useEffect(() => {
    if (q.data && form === null) {
      const d = q.data.def ? { ...q.data.def, layout: q.data.def.layout ?? [] } : emptyForm(slug, sp.get('entity') ?? '');
      setForm(d);
      setDefaultsText(formatDefaults(d.defaults));
    }
  }, [q.data, form, slug, sp]);
  const entityQ = useDefinition<EntityDef>(app, 'entities', form?.entity ?? '', !!form?.entity);
  const entity = entityQ.data?.def;

  if (!form) return q.isError ? <Alert type="error" title={String(q.error)} /> : <Skeleton active />;
  const fields = entity?.fields ?? [];
  const placed = placedFields(form.layout);
  const set = (patch: Partial<FormDef>) => setForm({ ...form, ...patch });
  const publicId = (q.data?.meta?.public_id as string | undefined) ?? form.public_id;

  const onDragEnd = (ev: DragEndEvent) => {
    const a = String(ev.active.id);
    const over = ev.over ? String(ev.over.id) : null;
    if (!over) return;
    const overIndex = over.startsWith('item:') ? form.layout.findIndex((it) => `item:${it.field}` === over) : undefined;
    if (a.startsWith('palette:')) {
      set({ layout: addToLayout(form.layout, a.slice(8), overIndex) });
    } else if (a.startsWith('item:') && overIndex !== undefined && overIndex >= 0) {
      const from = form.layout.findIndex((it) => `item:${it.field}` === a);
      set({ layout: moveInLayout(form.layout, from, overIndex) });
    }
  };
  const sel = selected !== null ? form.layout[selected] : null;
  const setItem = (patch: Partial<FormItem>) => {
    if (selected === null) return;
    const layout = form.layout.slice();
    layout[selected] = { ...layout[selected], ...patch };
    set({ layout });
  };
  const succ = (form.success?.message ?? {}) as Record<string, string>;

  return (
    <div>
      <Space style={{ marginBottom: 8 }}>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>{t('forms.designer')}: {slug}</Typography.Title>
        <Link to={`/apps/${app}/forms/${slug}`}>{t('forms.fill')}</Link>
      </Space>
      <DefToolbar
        app={app}
        kind="forms"
        slug={slug}
        getDefinition={() => ({ ...form, defaults: parseDefaults(defaultsText) })}
        extra={publicId && form.public ? <a href={`/f/${publicId}`} target="_blank" rel="noreferrer" data-testid="public-link">/f/{publicId}</a> : null}
      />
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
      <Row gutter={16}>
        <Col xs={24} md={6}>
          <Card size="small" title={t('forms.palette')}>
            <Select
              style={{ width: '100%', marginBottom: 8 }}
              value={form.entity || undefined}
              placeholder={t('common.entity')}
              options={defList(appQ.data, 'entities').map((e) => ({ value: e.slug, label: labelText(e.label, i18n.language, e.slug) }))}
              onChange={(v) => set({ entity: v, layout: [] })}
            />
              {fields.filter((f) => !placed.includes(f.key)).map((f) => <PaletteItem key={f.key} f={f} />)}
              {fields.length > 0 && fields.every((f) => placed.includes(f.key)) && <Typography.Text type="secondary">{t('forms.allPlaced')}</Typography.Text>}
            <Button block size="small" style={{ marginTop: 8 }} onClick={() => set({ layout: fields.reduce((l, f) => addToLayout(l, f.key), form.layout) })} data-testid="form-add-all">
              {t('forms.addAll')}
            </Button>
          </Card>
        </Col>
        <Col xs={24} md={12}>
                <Canvas empty={form.layout.length === 0}>
                  <SortableContext items={form.layout.map((it) => `item:${it.field}`)} strategy={verticalListSortingStrategy}>
                    {form.layout.map((it, i) => (
                      <CanvasItem
                        key={`${it.field}-${i}`}
                        item={it}
                        field={fields.find((f) => f.key === it.field)}
                        selected={selected === i}
                        onSelect={() => setSelected(i)}
                        onRemove={() => { set({ layout: removeFromLayout(form.layout, i) }); setSelected(null); }}
                      />
                    ))}
                  </SortableContext>
                </Canvas>
        </Col>
        <Col xs={24} md={6}>
          <Card size="small" title={sel ? t('forms.itemProps') : t('forms.settings')}>
            {sel ? (
              <Form layout="vertical" size="small">
                <Form.Item label={t('entity.labelZh')}>
                  <Input value={(sel.label as Record<string, string>)?.['zh-CN']} onChange={(e) => setItem({ label: { ...((sel.label as Record<string, string>) ?? {}), 'zh-CN': e.target.value } })} />
                </Form.Item>
                <Form.Item label={t('entity.labelEn')}>
                  <Input value={(sel.label as Record<string, string>)?.en} onChange={(e) => setItem({ label: { ...((sel.label as Record<string, string>) ?? {}), en: e.target.value } })} />
                </Form.Item>
                <Checkbox checked={!!sel.required} onChange={(e) => setItem({ required: e.target.checked || undefined })}>{t('entity.required')}</Checkbox>
                <Checkbox checked={!!sel.hidden} onChange={(e) => setItem({ hidden: e.target.checked || undefined })}>{t('forms.hidden')}</Checkbox>
                <Form.Item label={t('forms.width')} style={{ marginTop: 8 }}>
                  <InputNumber min={1} max={24} value={sel.width} onChange={(v) => setItem({ width: v ?? undefined })} />
                </Form.Item>
                <Button size="small" onClick={() => setSelected(null)}>{t('forms.settings')}</Button>
              </Form>
            ) : (
              <Form layout="vertical" size="small">
                <Form.Item label={t('forms.public')}>
                  <Switch checked={!!form.public} onChange={(v) => set({ public: v })} data-testid="form-public" />
                </Form.Item>
                <Form.Item label={t('forms.titleZh')}>
                  <Input value={(form.title as Record<string, string>)?.['zh-CN']} onChange={(e) => set({ title: { ...((form.title as Record<string, string>) ?? {}), 'zh-CN': e.target.value } })} />
                </Form.Item>
                <Form.Item label={t('forms.titleEn')}>
                  <Input value={(form.title as Record<string, string>)?.en} onChange={(e) => set({ title: { ...((form.title as Record<string, string>) ?? {}), en: e.target.value } })} />
                </Form.Item>
                <Form.Item label={t('forms.defaults')} extra={t('forms.defaultsHelp')}>
                  <Input.TextArea rows={3} value={defaultsText} onChange={(e) => setDefaultsText(e.target.value)} placeholder="source=web" style={{ fontFamily: 'monospace' }} data-testid="form-defaults" />
                </Form.Item>
                <Form.Item label={t('forms.hiddenParams')}>
                  <Select mode="tags" open={false} value={form.hidden ?? []} onChange={(v) => set({ hidden: v.length ? v : undefined })} placeholder="utm_source" />
                </Form.Item>
                <Form.Item label={t('forms.successMessage')}>
                  <Input value={succ['zh-CN'] ?? ''} onChange={(e) => set({ success: { ...(form.success ?? {}), message: { ...succ, 'zh-CN': e.target.value } } })} />
                </Form.Item>
                <Form.Item label={t('forms.consent')}>
                  <Input.TextArea rows={2} value={(form.consent as Record<string, string>)?.['zh-CN'] ?? ''} onChange={(e) => set({ consent: e.target.value ? { ...((form.consent as Record<string, string>) ?? {}), 'zh-CN': e.target.value } : undefined })} />
                </Form.Item>
              </Form>
            )}
          </Card>
        </Col>
      </Row>
      </DndContext>
    </div>
  );
}
