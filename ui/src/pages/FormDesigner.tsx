import { DeleteOutlined, DesktopOutlined, EyeOutlined, HolderOutlined, MobileOutlined, PlusOutlined } from '@ant-design/icons';
import {
  DndContext, DragOverlay, PointerSensor, pointerWithin, useDraggable, useDroppable, useSensor, useSensors,
  type CollisionDetection, type DragEndEvent, type DragMoveEvent, type DragStartEvent, type Over,
} from '@dnd-kit/core';
import { useQueryClient } from '@tanstack/react-query';
import {
  Alert, App, Button, Card, Checkbox, Col, Divider, Form, Input, InputNumber, Modal, Popconfirm, Row, Segmented, Select, Skeleton, Space, Switch, Tag, Typography,
} from 'antd';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api } from '../api/client';
import { defList, useApp, useDefinition } from '../api/defs';
import type { EntityDef, FieldDef, FormDef, FormItem, FormValidation, Label } from '../api/types';
import { ConditionInput } from '../components/ConditionBuilder';
import DefToolbar from '../components/DefToolbar';
import FieldEditor from '../components/FieldEditor';
import FieldInput, { fieldLabel } from '../components/FieldInput';
import FormView from '../components/FormView';
import UndoRedo from '../components/UndoRedo';
import { FIELD_TYPES, nextFieldKey } from '../lib/entity';
import {
  addSection, dropIndex, emptyForm, formatDefaults, insertAt, itemAt, moveTo, parseDefaults, pathOf, placedFields, removeAt, spanOf, updateAt,
  type DropAt, type Path,
} from '../lib/form';
import { labelText } from '../lib/labels';
import { hiddenFields, layoutDefaults } from '../lib/visibility';
import { useUndoable, useUnsavedGuard } from '../lib/undo';

type State = { form: FormDef; entity: EntityDef | null };
type DragData = { kind: 'type'; type: string } | { kind: 'field'; key: string } | { kind: 'section' } | { kind: 'move'; path: Path };
type Lang = 'zh-CN' | 'en';

const NUMERIC = new Set(['number', 'money', 'percent']);
const TEXTLIKE = new Set(['text', 'textarea', 'email', 'phone', 'url']);
const pathKey = (p: Path) => p.join('.');
const lbl = (l: Label | undefined): Record<string, string> => (l && typeof l === 'object' ? (l as Record<string, string>) : typeof l === 'string' ? { 'zh-CN': l, en: l } : {});
/** A bilingual label with one language changed; undefined when both are empty. */
function setLang(l: Label | undefined, lang: Lang, v: string): Record<string, string> | undefined {
  const out = { ...lbl(l), [lang]: v };
  if (!v) delete out[lang];
  return Object.values(out).some(Boolean) ? out : undefined;
}

/** Innermost droppable under the pointer (a field card inside a section wins over the section). */
const innermost: CollisionDetection = (args) => {
  const hits = pointerWithin(args);
  const area = (id: string | number) => {
    const r = args.droppableRects.get(id);
    return r ? r.width * r.height : Infinity;
  };
  return hits.sort((a, b) => area(a.id) - area(b.id)).slice(0, 1);
};

/** Where a drop over `over` at pointer y lands. */
function dropFor(over: Over | null, y: number, layoutLen: number, sectionLen: (i: number) => number, movingSection: boolean): DropAt | null {
  if (!over) return null;
  const d = over.data.current as { path?: Path; section?: number } | undefined;
  // the live position (the page or the palette may have scrolled since the drag started)
  const r = document.querySelector(`[data-drop="${over.id}"]`)?.getBoundingClientRect() ?? over.rect;
  if (d?.path) {
    if (d.path.length === 1) return { section: null, index: dropIndex(d.path[0], r.top, r.height, y) };
    if (movingSection) return { section: null, index: d.path[0] + 1 };
    return { section: d.path[0], index: dropIndex(d.path[1], r.top, r.height, y) };
  }
  if (d?.section !== undefined) {
    if (movingSection || y < r.top + 36) return { section: null, index: dropIndex(d.section, r.top, r.height, y) };
    return { section: d.section, index: sectionLen(d.section) };
  }
  return { section: null, index: layoutLen };
}

function PaletteTile({ id, data, children, testid }: { id: string; data: DragData; children: ReactNode; testid: string }) {
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id, data });
  return (
    <div ref={setNodeRef} className="palette-item" style={{ opacity: isDragging ? 0.4 : 1 }} {...attributes} {...listeners} data-testid={testid}>
      {children}
    </div>
  );
}

function Marker({ show }: { show: boolean }) {
  return show ? <div className="drop-marker" data-testid="drop-marker" /> : null;
}

/** A field on the canvas: its label, a disabled input of its type in the form's language, its help. */
function CanvasField({ it, path, field, app, lang, selected, onSelect, onRemove }: {
  it: FormItem; path: Path; field?: FieldDef; app: string; lang: Lang; selected: boolean; onSelect: () => void; onRemove: () => void;
}) {
  const { t } = useTranslation();
  const key = pathKey(path);
  const drag = useDraggable({ id: `move:${key}`, data: { kind: 'move', path } satisfies DragData });
  const drop = useDroppable({ id: `drop:${key}`, data: { path } });
  const label = field ? labelText(it.label, lang, fieldLabel(field, lang)) : it.field;
  return (
    <div
      ref={(el) => { drag.setNodeRef(el); drop.setNodeRef(el); }}
      className={`fd-field${selected ? ' selected' : ''}`}
      style={{ opacity: drag.isDragging ? 0.4 : 1 }}
      onClick={(e) => { e.stopPropagation(); onSelect(); }}
      data-testid={`form-item-${it.field}`}
      data-drop={`drop:${key}`}
      {...drag.attributes}
      {...drag.listeners}
    >
      <div className="fd-label">
        <Space size={4} wrap>
          <HolderOutlined className="drag-handle" />
          {(it.required || field?.required) && <Typography.Text type="danger">*</Typography.Text>}
          <Typography.Text strong>{label}</Typography.Text>
          {!field && <Tag color="red">{t('common.notFound', { defaultValue: '?' })}</Tag>}
          {it.visible && <Tag color="blue" icon={<EyeOutlined />}>{t('forms.conditional', { lng: lang })}</Tag>}
          {it.read_only && <Tag>{t('forms.readOnlyTag', { lng: lang })}</Tag>}
          {it.hidden && <Tag>{t('forms.hidden', { lng: lang })}</Tag>}
        </Space>
      </div>
      <div className="fd-preview">
        {field && <FieldInput field={field} app={app} value={it.default} disabled placeholder={labelText(it.placeholder, lang, '') || undefined} />}
      </div>
      {labelText(it.help, lang, '') && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{labelText(it.help, lang, '')}</Typography.Text>}
      <div className="fd-actions">
        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('forms.removeField')} onPointerDown={(e) => e.stopPropagation()} onClick={(e) => { e.stopPropagation(); onRemove(); }} data-testid={`form-item-remove-${it.field}`} />
      </div>
    </div>
  );
}

/** A section on the canvas: title, column presets, its fields in columns. */
function CanvasSection({ it, index, lang, selected, onSelect, onColumns, onRemove, children }: {
  it: FormItem; index: number; lang: Lang; selected: boolean; onSelect: () => void; onColumns: (c: number) => void; onRemove: () => void; children: ReactNode;
}) {
  const { t } = useTranslation();
  const drag = useDraggable({ id: `move:${index}`, data: { kind: 'move', path: [index] } satisfies DragData });
  const drop = useDroppable({ id: `sec:${index}`, data: { section: index } });
  return (
    <div ref={drop.setNodeRef} className={`fd-section${selected ? ' selected' : ''}`} style={{ opacity: drag.isDragging ? 0.4 : 1 }} data-testid={`form-section-${index}`} data-drop={`sec:${index}`}>
      <div ref={drag.setNodeRef} className="fd-section-head" onClick={(e) => { e.stopPropagation(); onSelect(); }} {...drag.attributes} {...drag.listeners}>
        <HolderOutlined className="drag-handle" />
        <Typography.Text strong style={{ flex: 1 }}>{labelText(it.section, lang, t('forms.section', { lng: lang }))}</Typography.Text>
        {it.visible && <Tag color="blue" icon={<EyeOutlined />}>{t('forms.conditional', { lng: lang })}</Tag>}
        {it.display === 'tab' && <Tag>{t('forms.tab', { lng: lang })}</Tag>}
        <span onPointerDown={(e) => e.stopPropagation()} onClick={(e) => e.stopPropagation()}>
          <Segmented size="small" value={it.columns ?? 1} options={[1, 2, 3].map((c) => ({ value: c, label: `${c}` }))} onChange={(v) => onColumns(Number(v))} data-testid={`section-columns-${index}`} title={t('forms.columns')} />
        </span>
        <span onPointerDown={(e) => e.stopPropagation()} onClick={(e) => e.stopPropagation()}>
          <Popconfirm title={t('forms.removeSectionConfirm')} onConfirm={onRemove} okButtonProps={{ 'data-testid': 'section-remove-ok' } as { danger?: boolean }}>
            <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('forms.remove')} data-testid={`section-remove-${index}`} />
          </Popconfirm>
        </span>
      </div>
      <div className="fd-section-body">{children}</div>
    </div>
  );
}

function Canvas({ children, dragging, width }: { children: ReactNode; dragging: boolean; width: number }) {
  const { setNodeRef } = useDroppable({ id: 'canvas', data: {} });
  return (
    <div ref={setNodeRef} className={`fd-canvas form-canvas${dragging ? ' dragging' : ''}`} style={{ maxWidth: width }} data-testid="form-canvas" data-drop="canvas">
      {children}
    </div>
  );
}

const LOOKUP_TYPES = new Set(['text', 'number', 'date', 'select', 'autonumber']);

/** Picks the fields of a relation's linked records a public form shows and searches (nothing else of them is public). */
function LookupPicker({ app, target, isPublic, value, onChange }: { app: string; target: string; isPublic: boolean; value?: string[]; onChange: (v: string[]) => void }) {
  const { t, i18n } = useTranslation();
  const tq = useDefinition<EntityDef>(app, 'entities', target);
  const options = (tq.data?.def?.fields ?? []).filter((f) => LOOKUP_TYPES.has(f.type)).map((f) => ({ value: f.key, label: fieldLabel(f, i18n.language) }));
  const missing = isPublic && !(value ?? []).length;
  return (
    <Form.Item label={t('forms.lookup')} extra={t('forms.lookupHelp')} validateStatus={missing ? 'warning' : undefined} help={missing ? t('forms.lookupNeeded') : undefined}>
      <Select mode="multiple" value={value ?? []} options={options} onChange={onChange} placeholder={t('forms.lookupPlaceholder')} data-testid="item-lookup" />
    </Form.Item>
  );
}

/** Bilingual text inputs (zh-CN and en) for one label. */
function LangInputs({ value, onChange, zh, en, area, testid }: { value?: Label; onChange: (v: Record<string, string> | undefined) => void; zh: string; en: string; area?: boolean; testid: string }) {
  const v = lbl(value);
  const C = area ? Input.TextArea : Input;
  return (
    <>
      <Form.Item label={zh}>
        <C value={v['zh-CN'] ?? ''} onChange={(e) => onChange(setLang(value, 'zh-CN', e.target.value))} data-testid={`${testid}-zh`} />
      </Form.Item>
      <Form.Item label={en}>
        <C value={v.en ?? ''} onChange={(e) => onChange(setLang(value, 'en', e.target.value))} data-testid={`${testid}-en`} />
      </Form.Item>
    </>
  );
}

export default function FormDesigner() {
  const { app = '', slug = '' } = useParams();
  const [sp] = useSearchParams();
  const { t, i18n } = useTranslation();
  const { modal } = App.useApp();
  const qc = useQueryClient();
  const q = useDefinition<FormDef>(app, 'forms', slug);
  const appQ = useApp(app);
  const h = useUndoable<State | null>(null);
  useUnsavedGuard(h.dirty);
  const state = h.value;
  const [sel, setSel] = useState<{ field?: string; section?: number } | null>(null);
  const [defaultsText, setDefaultsText] = useState('');
  const [canvasLang, setCanvasLang] = useState<Lang>(i18n.language === 'en' ? 'en' : 'zh-CN');
  const [active, setActive] = useState<DragData | null>(null);
  const [marker, setMarker] = useState<DropAt | null>(null);
  const [creating, setCreating] = useState<{ type: string; at: DropAt } | null>(null);
  const [preview, setPreview] = useState<'desktop' | 'phone' | null>(null);
  const [previewForm] = Form.useForm();
  // the preview's values: its visibility conditions are evaluated live as the analyst fills it
  const [previewValues, setPreviewValues] = useState<Record<string, unknown>>({});
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }));
  const loaded = useRef(false);
  // the pointer's current viewport position while dragging (drop markers follow it, also after a scroll)
  const lastY = useRef<number | null>(null);
  useEffect(() => {
    const onMove = (e: PointerEvent) => (lastY.current = e.clientY);
    window.addEventListener('pointermove', onMove, { passive: true });
    return () => window.removeEventListener('pointermove', onMove);
  }, []);

  useEffect(() => {
    if (q.data && !loaded.current) {
      loaded.current = true;
      const d = q.data.def ? { ...q.data.def, layout: q.data.def.layout ?? [] } : emptyForm(slug, sp.get('entity') ?? '');
      h.reset({ form: d, entity: null });
      setDefaultsText(formatDefaults(d.defaults));
    }
  }, [q.data, slug, sp, h]);
  const entitySlug = state?.form.entity ?? '';
  const entityQ = useDefinition<EntityDef>(app, 'entities', entitySlug, !!entitySlug);
  const entity: EntityDef | null = state?.entity ?? entityQ.data?.def ?? null;
  const fields = useMemo(() => entity?.fields ?? [], [entity]);
  const newFields = state?.entity ? state.entity.fields.filter((f) => !(entityQ.data?.def?.fields ?? []).some((o) => o.key === f.key)) : [];

  if (!state) return q.isError ? <Alert type="error" title={String(q.error)} /> : <Skeleton active />;
  const form = state.form;
  const layout = form.layout;
  const placed = placedFields(layout);
  const setForm = (patch: Partial<FormDef>, merge?: string) => h.set((s) => (s ? { ...s, form: { ...s.form, ...patch } } : s), merge);
  const setLayout = (l: FormItem[], merge?: string) => setForm({ layout: l }, merge);
  const publicId = (q.data?.meta?.public_id as string | undefined) ?? form.public_id;
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const title = labelText(form.title, i18n.language, '') || (entity ? labelText(entity.label, i18n.language, slug) : slug);

  const definition = (): FormDef => {
    const d: FormDef = { ...form, defaults: parseDefaults(defaultsText) };
    if (!Object.keys(d.defaults ?? {}).length) delete d.defaults;
    return d;
  };
  const saveWith = async (publish: boolean) => {
    const r = await api<{ version?: number; public_id?: string }>(`/api/v1/apps/${encodeURIComponent(app)}/forms/${encodeURIComponent(slug)}/with-entity`, {
      method: 'PUT',
      body: { form: definition(), ...(state.entity ? { entity: state.entity } : {}), publish },
    });
    void qc.invalidateQueries({ queryKey: ['app', app] });
    void qc.invalidateQueries({ queryKey: ['def', app, 'forms', slug] });
    void qc.invalidateQueries({ queryKey: ['versions', app, 'forms', slug] });
    if (state.entity) {
      void qc.invalidateQueries({ queryKey: ['def', app, 'entities', state.entity.slug] });
      void qc.invalidateQueries({ queryKey: ['versions', app, 'entities', state.entity.slug] });
    }
    return r.version;
  };

  // ---- drag and drop
  const pointerY = (ev: DragMoveEvent | DragEndEvent) => lastY.current ?? ((ev.activatorEvent as PointerEvent | null)?.clientY ?? 0) + ev.delta.y;
  const sectionLen = (i: number) => layout[i]?.items?.length ?? 0;
  const movingSection = (d: DragData | null) => d?.kind === 'section' || (d?.kind === 'move' && d.path.length === 1 && !layout[d.path[0]]?.field);
  const onDragStart = (ev: DragStartEvent) => setActive((ev.active.data.current as DragData) ?? null);
  const onDragMove = (ev: DragMoveEvent) => {
    const d = ev.active.data.current as DragData;
    const at = dropFor(ev.over, pointerY(ev), layout.length, sectionLen, movingSection(d));
    setMarker((m) => (m?.section === at?.section && m?.index === at?.index ? m : at));
  };
  const onDragEnd = (ev: DragEndEvent) => {
    const d = ev.active.data.current as DragData;
    const at = dropFor(ev.over, pointerY(ev), layout.length, sectionLen, movingSection(d));
    setActive(null);
    setMarker(null);
    if (!at || !d) return;
    if (d.kind === 'type') setCreating({ type: d.type, at });
    else if (d.kind === 'field') {
      setLayout(insertAt(layout, at, { field: d.key }));
    } else if (d.kind === 'section') {
      const next = insertAt(layout, { section: null, index: at.section === null ? at.index : at.section + 1 }, newSection());
      setLayout(next);
      setSel({ section: at.section === null ? Math.min(at.index, layout.length) : at.section + 1 });
    } else if (d.kind === 'move') {
      setLayout(moveTo(layout, d.path, at));
      if (d.path.length === 1 && !layout[d.path[0]]?.field) setSel(null);
    }
  };
  const newSection = (): FormItem => ({ section: { 'zh-CN': t('forms.newSection', { lng: 'zh-CN' }), en: t('forms.newSection', { lng: 'en' }) }, columns: 2, items: [] });

  const createField = (f: FieldDef) => {
    if (!creating || !entity) return;
    const at = creating.at;
    h.set((s) => (s ? { form: { ...s.form, layout: insertAt(s.form.layout, at, { field: f.key }) }, entity: { ...entity, fields: [...entity.fields, f] } } : s));
    setCreating(null);
    setSel({ field: f.key });
  };

  const changeEntity = (v: string) => {
    const apply = () => {
      h.set((s) => (s ? { form: { ...s.form, entity: v, layout: [] }, entity: null } : s));
      setSel(null);
    };
    if (!layout.length) return apply();
    modal.confirm({
      title: t('forms.changeEntityTitle'),
      content: t('forms.changeEntityBody'),
      okText: t('forms.changeEntity'),
      okButtonProps: { danger: true, 'data-testid': 'entity-change-ok' } as { danger: boolean },
      onOk: apply,
    });
  };

  // ---- canvas
  const isMarker = (section: number | null, index: number) => !!marker && marker.section === section && marker.index === index;
  const fieldCard = (it: FormItem, path: Path) => (
    <CanvasField
      key={it.field}
      it={it}
      path={path}
      field={byKey.get(it.field!)}
      app={app}
      lang={canvasLang}
      selected={sel?.field === it.field}
      onSelect={() => setSel({ field: it.field })}
      onRemove={() => { setLayout(removeAt(layout, path)); setSel(null); }}
    />
  );
  const canvasItems = layout.map((it, i) => {
    const before = <Marker key={`m${i}`} show={isMarker(null, i)} />;
    if (it.field) return [before, fieldCard(it, [i])];
    const items = it.items ?? [];
    const span = spanOf(it.columns);
    return [
      before,
      <CanvasSection
        key={`s${i}`}
        it={it}
        index={i}
        lang={canvasLang}
        selected={sel?.section === i}
        onSelect={() => setSel({ section: i })}
        onColumns={(c) => setLayout(updateAt(layout, [i], { columns: c }))}
        onRemove={() => { setLayout([...layout.slice(0, i), ...items, ...layout.slice(i + 1)]); setSel(null); }}
      >
        {items.length === 0 && !isMarker(i, 0) ? <div className="fd-empty">{t('forms.dropHere', { lng: canvasLang })}</div> : null}
        <Row gutter={16}>
          {items.map((x, j) => (
            <Col key={x.field} span={span}>
              <Marker show={isMarker(i, j)} />
              {fieldCard(x, [i, j])}
            </Col>
          ))}
          {isMarker(i, items.length) && <Col span={24}><Marker show /></Col>}
        </Row>
      </CanvasSection>,
    ];
  });

  // ---- property panels
  const selPath = sel?.field ? pathOf(layout, sel.field) : sel?.section !== undefined && layout[sel.section] && !layout[sel.section].field ? ([sel.section] as Path) : null;
  const selItem = selPath ? itemAt(layout, selPath) : undefined;
  const setItem = (patch: Partial<FormItem>, merge?: string) => selPath && setLayout(updateAt(layout, selPath, patch), merge && `${pathKey(selPath)}:${merge}`);
  const selField = selItem?.field ? byKey.get(selItem.field) : undefined;
  const setValidation = (patch: Partial<FormValidation>, merge: string) => {
    const v: Record<string, unknown> = { ...(selItem?.validation ?? {}), ...patch };
    for (const k of Object.keys(v)) if (v[k] === undefined || v[k] === null || v[k] === '') delete v[k];
    setItem({ validation: Object.keys(v).length ? (v as FormValidation) : undefined }, merge);
  };
  const condFields = fields.filter((f) => f.key !== selItem?.field);

  const fieldPanel = selItem && selField && (
    <Form layout="vertical" size="small" data-testid="item-props">
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        {t('forms.entityField')}: <Typography.Text code>{selField.key}</Typography.Text> · {t(`fieldTypes.${selField.type}`, { defaultValue: selField.type })}
      </Typography.Paragraph>
      <LangInputs value={selItem.label ?? selField.label} onChange={(v) => setItem({ label: v }, 'label')} zh={t('entity.labelZh')} en={t('entity.labelEn')} testid="item-label" />
      <LangInputs value={selItem.help} onChange={(v) => setItem({ help: v }, 'help')} zh={t('forms.helpZh')} en={t('forms.helpEn')} testid="item-help" />
      {selField.type !== 'boolean' && selField.type !== 'attachment' && (
        <LangInputs value={selItem.placeholder} onChange={(v) => setItem({ placeholder: v }, 'placeholder')} zh={t('forms.placeholderZh')} en={t('forms.placeholderEn')} testid="item-placeholder" />
      )}
      <Space wrap style={{ marginBottom: 8 }}>
        <Checkbox checked={!!selItem.required} onChange={(e) => setItem({ required: e.target.checked || undefined })} data-testid="item-required">{t('entity.required')}</Checkbox>
        <Checkbox checked={!!selItem.read_only} onChange={(e) => setItem({ read_only: e.target.checked || undefined })} data-testid="item-readonly">{t('forms.readOnly')}</Checkbox>
        <Checkbox checked={!!selItem.hidden} onChange={(e) => setItem({ hidden: e.target.checked || undefined })}>{t('forms.hidden')}</Checkbox>
      </Space>
      {!['attachment', 'autonumber', 'formula'].includes(selField.type) && (
        <Form.Item label={t('forms.defaultValue')}>
          <div data-testid="item-default">
            <FieldInput field={selField} app={app} value={selItem.default} onChange={(v) => setItem({ default: v === null || v === '' || (Array.isArray(v) && !v.length) ? undefined : v }, 'default')} />
          </div>
        </Form.Item>
      )}
      {selField.type === 'relation' && (
        <LookupPicker app={app} target={selField.target || form.entity} isPublic={!!form.public} value={selItem.lookup} onChange={(v) => setItem({ lookup: v.length ? v : undefined })} />
      )}
      <Form.Item label={t('forms.visibleWhen')}>
        <ConditionInput app={app} fields={condFields} root="record" value={selItem.visible ?? ''} onChange={(v) => setItem({ visible: v || undefined }, 'visible')} data-testid="item-visible" />
      </Form.Item>
      {(NUMERIC.has(selField.type) || TEXTLIKE.has(selField.type)) && (
        <>
          <Divider plain style={{ margin: '8px 0' }}>{t('forms.validation')}</Divider>
          {NUMERIC.has(selField.type) ? (
            <Space>
              <Form.Item label={t('forms.min')}><InputNumber value={selItem.validation?.min} onChange={(v) => setValidation({ min: v ?? undefined }, 'vmin')} data-testid="item-min" /></Form.Item>
              <Form.Item label={t('forms.max')}><InputNumber value={selItem.validation?.max} onChange={(v) => setValidation({ max: v ?? undefined }, 'vmax')} data-testid="item-max" /></Form.Item>
            </Space>
          ) : (
            <>
              <Space>
                <Form.Item label={t('forms.minLength')}><InputNumber min={0} value={selItem.validation?.min_length} onChange={(v) => setValidation({ min_length: v ?? undefined }, 'vminl')} data-testid="item-min-length" /></Form.Item>
                <Form.Item label={t('forms.maxLength')}><InputNumber min={0} value={selItem.validation?.max_length} onChange={(v) => setValidation({ max_length: v ?? undefined }, 'vmaxl')} data-testid="item-max-length" /></Form.Item>
              </Space>
              <Form.Item label={t('forms.pattern')}>
                <Input value={selItem.validation?.pattern ?? ''} onChange={(e) => setValidation({ pattern: e.target.value }, 'vpat')} placeholder="1[3-9]\d{9}" style={{ fontFamily: 'monospace' }} data-testid="item-pattern" />
              </Form.Item>
            </>
          )}
          <LangInputs value={selItem.validation?.message} onChange={(v) => setValidation({ message: v }, 'vmsg')} zh={t('forms.messageZh')} en={t('forms.messageEn')} testid="item-message" />
        </>
      )}
      <Button size="small" danger onClick={() => { setLayout(removeAt(layout, selPath!)); setSel(null); }}>{t('forms.removeField')}</Button>
    </Form>
  );
  const sectionPanel = selItem && !selItem.field && (
    <Form layout="vertical" size="small" data-testid="section-props">
      <LangInputs value={selItem.section} onChange={(v) => setItem({ section: v }, 'title')} zh={t('forms.sectionTitleZh')} en={t('forms.sectionTitleEn')} testid="section-title" />
      <Form.Item label={t('forms.columns')}>
        <Segmented value={selItem.columns ?? 1} options={[1, 2, 3]} onChange={(v) => setItem({ columns: Number(v) })} />
      </Form.Item>
      <Space orientation="vertical" style={{ marginBottom: 8 }}>
        <Checkbox checked={!!selItem.collapsible} onChange={(e) => setItem({ collapsible: e.target.checked || undefined, collapsed: e.target.checked ? selItem.collapsed : undefined })}>{t('forms.collapsible')}</Checkbox>
        {selItem.collapsible && <Checkbox checked={!!selItem.collapsed} onChange={(e) => setItem({ collapsed: e.target.checked || undefined })}>{t('forms.collapsed')}</Checkbox>}
        <Checkbox checked={selItem.display === 'tab'} onChange={(e) => setItem({ display: e.target.checked ? 'tab' : undefined })}>{t('forms.asTab')}</Checkbox>
      </Space>
      <Form.Item label={t('forms.visibleWhen')}>
        <ConditionInput app={app} fields={fields} root="record" value={selItem.visible ?? ''} onChange={(v) => setItem({ visible: v || undefined }, 'visible')} data-testid="section-visible" />
      </Form.Item>
    </Form>
  );
  const succ = form.success?.message;
  const formPanel = (
    <Form layout="vertical" size="small" data-testid="form-props">
      <Form.Item label={t('forms.public')}>
        <Switch checked={!!form.public} onChange={(v) => setForm({ public: v })} data-testid="form-public" />
      </Form.Item>
      <LangInputs value={form.title} onChange={(v) => setForm({ title: v }, 'title')} zh={t('forms.titleZh')} en={t('forms.titleEn')} testid="form-title" />
      <LangInputs value={succ} onChange={(v) => setForm({ success: { ...(form.success ?? {}), message: v } }, 'success')} zh={t('forms.successZh')} en={t('forms.successEn')} testid="form-success" />
      <LangInputs value={form.consent} area onChange={(v) => setForm({ consent: v }, 'consent')} zh={t('forms.consentZh')} en={t('forms.consentEn')} testid="form-consent" />
      <Form.Item label={t('forms.hiddenParams')}>
        <Select mode="tags" open={false} value={form.hidden ?? []} onChange={(v) => setForm({ hidden: v.length ? v : undefined })} placeholder="utm_source" />
      </Form.Item>
      <Form.Item label={t('forms.serverDefaults')} extra={t('forms.defaultsHelp')}>
        <Input.TextArea rows={2} value={defaultsText} onChange={(e) => setDefaultsText(e.target.value)} placeholder="source=web" style={{ fontFamily: 'monospace' }} data-testid="form-defaults" />
      </Form.Item>
    </Form>
  );

  const overlay = active && (
    <div className="palette-item" style={{ background: '#e6f4ff', borderColor: '#1677ff', width: 180 }}>
      {active.kind === 'type' ? t(`fieldTypes.${active.type}`) : active.kind === 'field' ? fieldLabel(byKey.get(active.key)!, i18n.language) : active.kind === 'section' ? t('forms.section') : itemAt(layout, active.path)?.field ?? t('forms.section')}
    </div>
  );

  return (
    <div>
      <Space style={{ marginBottom: 8 }} wrap>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="designer-title">{t('forms.designer')}: {title}</Typography.Title>
        <Typography.Text type="secondary">{slug}</Typography.Text>
        <Link to={`/apps/${app}/forms/${slug}`}>{t('forms.fill')}</Link>
      </Space>
      <DefToolbar
        app={app}
        kind="forms"
        slug={slug}
        getDefinition={definition}
        saveWith={saveWith}
        onSaved={h.markSaved}
        onRestore={(d) => {
          const f = { ...(d as FormDef), slug };
          h.set((s) => (s ? { ...s, form: { ...f, layout: f.layout ?? [] } } : s));
          setDefaultsText(formatDefaults(f.defaults));
          setSel(null);
        }}
        extra={
          <Space wrap>
            <UndoRedo h={h} />
            <Button icon={<EyeOutlined />} onClick={() => setPreview('desktop')} disabled={!entity} data-testid="form-preview">{t('forms.preview')}</Button>
            {publicId && form.public ? <a href={`/f/${publicId}`} target="_blank" rel="noreferrer" data-testid="public-link">/f/{publicId}</a> : null}
          </Space>
        }
      />
      {newFields.length > 0 && <Alert type="info" showIcon style={{ marginBottom: 8 }} title={t('forms.newFieldsPending', { count: newFields.length })} data-testid="new-fields-pending" />}
      <DndContext
        autoScroll={false} sensors={sensors} collisionDetection={innermost} onDragStart={onDragStart} onDragMove={onDragMove} onDragEnd={onDragEnd} onDragCancel={() => { setActive(null); setMarker(null); }}>
        <Row gutter={16}>
          <Col xs={24} md={6}>
            <div className="fd-palette">
            <Card size="small" title={t('forms.controls')} style={{ marginBottom: 12 }}>
              <Select
                style={{ width: '100%', marginBottom: 8 }}
                value={form.entity || undefined}
                placeholder={t('common.entity')}
                options={defList(appQ.data, 'entities').map((e) => ({ value: e.slug, label: labelText(e.label, i18n.language, e.slug) }))}
                onChange={changeEntity}
                data-testid="form-entity"
              />
              <div className="palette-grid">
                {FIELD_TYPES.map((ty) => (
                  <PaletteTile key={ty} id={`type:${ty}`} data={{ kind: 'type', type: ty }} testid={`palette-type-${ty}`}>
                    <PlusOutlined style={{ color: '#999' }} /> {t(`fieldTypes.${ty}`, { defaultValue: ty })}
                  </PaletteTile>
                ))}
              </div>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('forms.layoutGroup')}</Typography.Text>
              <PaletteTile id="section" data={{ kind: 'section' }} testid="palette-section">
                <PlusOutlined style={{ color: '#999' }} /> {t('forms.section')}
              </PaletteTile>
              <Button block size="small" onClick={() => { setLayout(addSection(layout, lbl(newSection().section) as { 'zh-CN': string; en: string })); setSel({ section: layout.length }); }} data-testid="form-add-section">
                {t('forms.addSection')}
              </Button>
            </Card>
            <Card size="small" title={t('forms.palette')}>
              {fields.filter((f) => !placed.includes(f.key)).map((f) => (
                <PaletteTile key={f.key} id={`field:${f.key}`} data={{ kind: 'field', key: f.key }} testid={`palette-${f.key}`}>
                  {fieldLabel(f, i18n.language)} <Typography.Text type="secondary">· {t(`fieldTypes.${f.type}`, { defaultValue: f.type })}</Typography.Text>
                </PaletteTile>
              ))}
              {fields.length > 0 && fields.every((f) => placed.includes(f.key)) && <Typography.Text type="secondary">{t('forms.allPlaced')}</Typography.Text>}
              <Button block size="small" style={{ marginTop: 8 }} onClick={() => setLayout(fields.filter((f) => !placed.includes(f.key)).reduce((l, f) => insertAt(l, { section: null, index: l.length }, { field: f.key }), layout))} data-testid="form-add-all">
                {t('forms.addAll')}
              </Button>
            </Card>
            </div>
          </Col>
          <Col xs={24} md={12}>
            <Space style={{ marginBottom: 8 }}>
              <Typography.Text type="secondary">{t('forms.canvasLang')}</Typography.Text>
              <Segmented size="small" value={canvasLang} options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'English' }]} onChange={(v) => setCanvasLang(v as Lang)} data-testid="canvas-lang" />
            </Space>
            <div onClick={() => setSel(null)}>
              <Canvas dragging={!!active} width={900}>
                <Typography.Title level={4} style={{ marginTop: 0 }}>{labelText(form.title, canvasLang, '') || (entity ? labelText(entity.label, canvasLang, slug) : slug)}</Typography.Title>
                {layout.length === 0 && !active && <div className="fd-empty">{t('forms.dropHere', { lng: canvasLang })}</div>}
                {canvasItems}
                <Marker show={isMarker(null, layout.length)} />
                {active && <div className="fd-end fd-empty">{t('forms.dropAtEnd')}</div>}
                {labelText(form.consent, canvasLang, '') && <Checkbox disabled>{labelText(form.consent, canvasLang, '')}</Checkbox>}
                <div style={{ marginTop: 12 }}><Button type="primary" disabled>{t('forms.submit', { lng: canvasLang })}</Button></div>
              </Canvas>
            </div>
          </Col>
          <Col xs={24} md={6}>
            <Card
              className="fd-props"
              size="small"
              title={selItem?.field ? t('forms.itemProps') : selItem ? t('forms.sectionProps') : t('forms.settings')}
              extra={selItem ? <Button size="small" type="link" onClick={() => setSel(null)} data-testid="form-settings">{t('forms.settings')}</Button> : null}
            >
              {fieldPanel || sectionPanel || formPanel}
            </Card>
          </Col>
        </Row>
        <DragOverlay dropAnimation={null}>{overlay}</DragOverlay>
      </DndContext>
      <FieldEditor
        open={!!creating}
        field={null}
        newType={creating?.type}
        suggestedKey={nextFieldKey(fields)}
        existingKeys={fields.map((f) => f.key)}
        entitySlugs={defList(appQ.data, 'entities').map((e) => e.slug)}
        onCancel={() => setCreating(null)}
        onOk={createField}
      />
      <Modal
        open={!!preview}
        onCancel={() => {
          setPreview(null);
          setPreviewValues({});
        }}
        footer={null}
        width={preview === 'phone' ? 460 : 980}
        title={
          <Space>
            {t('forms.preview')}
            <Segmented
              size="small"
              value={preview ?? 'desktop'}
              onChange={(v) => setPreview(v as 'desktop' | 'phone')}
              options={[{ value: 'desktop', icon: <DesktopOutlined />, label: t('forms.desktop') }, { value: 'phone', icon: <MobileOutlined />, label: t('forms.phone') }]}
              data-testid="preview-width"
            />
            <Segmented size="small" value={canvasLang} options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'English' }]} onChange={(v) => setCanvasLang(v as Lang)} />
          </Space>
        }
        destroyOnHidden
      >
        {entity && (
          <div style={{ width: preview === 'phone' ? 390 : '100%', margin: '0 auto', border: preview === 'phone' ? '8px solid #1f1f1f' : undefined, borderRadius: preview === 'phone' ? 24 : 0, padding: 16, maxHeight: '70vh', overflow: 'auto' }} data-testid="form-preview-frame">
            <Typography.Title level={4} style={{ marginTop: 0 }}>{labelText(form.title, canvasLang, '') || labelText(entity.label, canvasLang, slug)}</Typography.Title>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>{t('forms.previewNote')}</Typography.Paragraph>
            <Form form={previewForm} layout="vertical" onValuesChange={(_c, all) => setPreviewValues(all)} data-testid="preview-form">
              <FormView items={layout} entity={entity} app={app} lang={canvasLang} narrow={preview === 'phone'} hidden={hiddenFields(layout, form.rules, { ...layoutDefaults(layout), ...previewValues })} />
              {labelText(form.consent, canvasLang, '') && <Checkbox>{labelText(form.consent, canvasLang, '')}</Checkbox>}
              <div style={{ marginTop: 12 }}><Button type="primary" block={preview === 'phone'}>{t('forms.submit', { lng: canvasLang })}</Button></div>
            </Form>
          </div>
        )}
      </Modal>
    </div>
  );
}
