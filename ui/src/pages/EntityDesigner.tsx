import { DeleteOutlined, EditOutlined, HolderOutlined, PlusOutlined } from '@ant-design/icons';
import { DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { SortableContext, arrayMove, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import {
  Alert, Button, Card, Checkbox, Col, Empty, Input, InputNumber, Popconfirm, Radio, Row, Select, Skeleton, Space, Table, Tabs, Tag, Typography,
} from 'antd';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import type { FieldError } from '../api/client';
import { defList, useApp, useDefinition } from '../api/defs';
import type { EntityDef, FieldDef, StagesDef } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import { ConditionInput } from '../components/ConditionBuilder';
import UndoRedo from '../components/UndoRedo';
import { useUndoable, useUnsavedGuard } from '../lib/undo';
import FieldEditor from '../components/FieldEditor';
import { emptyEntity, groupErrors, nextFieldKey, removeField, stageCandidates, stagesFromField, upsertField } from '../lib/entity';
import { labelText, optionLabel, optionValue } from '../lib/labels';

function SortableField({ f, index, errors, onEdit, onDelete }: { f: FieldDef; index: number; errors?: string[]; onEdit: () => void; onDelete: () => void }) {
  const { t, i18n } = useTranslation();
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: f.key });
  return (
    <div
      ref={setNodeRef}
      style={{ transform: CSS.Transform.toString(transform), transition, opacity: isDragging ? 0.6 : 1 }}
      className={`field-row${errors?.length ? ' error' : ''}`}
      data-testid={`field-row-${f.key}`}
    >
      <HolderOutlined className="drag-handle" {...attributes} {...listeners} aria-label={t('entity.dragToReorder')} />
      <div style={{ flex: 1, minWidth: 0 }}>
        <Space size={6} wrap>
          <Typography.Text strong>{labelText(f.label, i18n.language, f.key)}</Typography.Text>
          <Typography.Text code>{f.key}</Typography.Text>
          <Tag color="blue">{t(`fieldTypes.${f.type}`, { defaultValue: f.type })}</Tag>
          {f.required && <Tag color="red">{t('entity.required')}</Tag>}
          {f.unique && <Tag color="purple">{t('entity.unique')}</Tag>}
          {f.indexed && <Tag>{t('entity.indexed')}</Tag>}
        </Space>
        {errors?.map((e, i) => (
          <div key={i}>
            <Typography.Text type="danger" data-testid={`field-error-${index}`}>{e}</Typography.Text>
          </div>
        ))}
      </div>
      <Button size="small" type="text" icon={<EditOutlined />} onClick={onEdit} aria-label={t('common.edit')} data-testid={`field-edit-${f.key}`} />
      <Popconfirm title={t('common.confirmDelete')} onConfirm={onDelete}>
        <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} />
      </Popconfirm>
    </div>
  );
}

export default function EntityDesigner() {
  const { app = '', slug = '' } = useParams();
  const { t, i18n } = useTranslation();
  const q = useDefinition<EntityDef>(app, 'entities', slug);
  const appQ = useApp(app);
  const hist = useUndoable<EntityDef | null>(null);
  const entity = hist.value;
  const setEntity = (e: EntityDef, merge?: string) => hist.set(e, merge);
  const loaded = useRef(false);
  useUnsavedGuard(hist.dirty);
  const [editing, setEditing] = useState<{ index: number; field: FieldDef | null } | null>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));

  useEffect(() => {
    if (q.data && !loaded.current) {
      loaded.current = true;
      const d = q.data.def;
      hist.reset(d ? { ...d, fields: d.fields ?? [] } : emptyEntity(slug));
    }
  }, [q.data, slug, hist]);

  const grouped = useMemo(() => groupErrors(errors), [errors]);
  const entitySlugs = defList(appQ.data, 'entities').map((e) => e.slug);

  if (q.isLoading || !entity) return q.isError ? <Alert type="error" title={String(q.error)} /> : <Skeleton active />;

  const fields = entity.fields;
  const update = (patch: Partial<EntityDef>, merge?: string) => setEntity({ ...entity, ...patch }, merge);
  const onDragEnd = (ev: DragEndEvent) => {
    const { active, over } = ev;
    if (!over || active.id === over.id) return;
    const from = fields.findIndex((f) => f.key === active.id);
    const to = fields.findIndex((f) => f.key === over.id);
    update({ fields: arrayMove(fields, from, to) });
  };
  const label = (typeof entity.label === 'object' ? entity.label : { en: entity.label ?? '', 'zh-CN': entity.label ?? '' }) as Record<string, string>;
  const stages = entity.stages;
  const setStages = (s: StagesDef | undefined, merge?: string) => {
    const next = { ...entity };
    if (s) next.stages = s;
    else delete next.stages;
    setEntity(next, merge);
  };
  const stageField = fields.find((f) => f.key === stages?.field);
  const stageLabel = (v: string) => {
    const o = (stageField?.options ?? []).find((x) => optionValue(x) === v);
    return o ? optionLabel(o, i18n.language) : v;
  };
  const stageOptions = (stages?.order ?? []).map((s) => ({ value: s, label: stageLabel(s) }));
  const fieldOptions = fields.map((f) => ({ value: f.key, label: `${labelText(f.label, i18n.language, f.key)} (${f.key})` }));

  const fieldsTab = (
    <Card
      size="small"
      title={t('entity.fields')}
      extra={
        <Button type="primary" size="small" icon={<PlusOutlined />} onClick={() => setEditing({ index: -1, field: null })} data-testid="field-add">
          {t('entity.addField')}
        </Button>
      }
    >
      {fields.length === 0 ? (
        <Empty description={t('entity.noFields')} />
      ) : (
        <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
          <SortableContext items={fields.map((f) => f.key)} strategy={verticalListSortingStrategy}>
            {fields.map((f, i) => (
              <SortableField
                key={f.key}
                f={f}
                index={i}
                errors={grouped.byField[i]}
                onEdit={() => setEditing({ index: i, field: f })}
                onDelete={() => setEntity(removeField(entity, f.key))}
              />
            ))}
          </SortableContext>
        </DndContext>
      )}
    </Card>
  );

  const candidates = stageCandidates(fields);
  const stagesTab = (
    <Card size="small" title={t('entity.stages')}>
      <Space wrap style={{ marginBottom: 12 }}>
        <span>{t('entity.stageField')}</span>
        <Select
          style={{ minWidth: 220 }}
          allowClear
          value={stages?.field}
          placeholder={t('entity.stageFieldHelp')}
          options={candidates.map((f) => ({ value: f.key, label: `${labelText(f.label, i18n.language, f.key)} (${f.key})` }))}
          onChange={(v) => {
            const f = fields.find((x) => x.key === v);
            setStages(f ? stagesFromField(f, stages) : undefined);
          }}
          data-testid="stage-field"
        />
        {stages && (
          <Checkbox checked={!!stages.strict} onChange={(e) => setStages({ ...stages, strict: e.target.checked || undefined })}>
            {t('entity.strict')}
          </Checkbox>
        )}
      </Space>
      {grouped.other.filter((e) => e.path.startsWith('stages') && !e.path.startsWith('stages.transitions')).map((e, i) => (
        <div key={i}><Typography.Text type="danger">{`${e.path}: ${e.message}`}</Typography.Text></div>
      ))}
      {stages && (
        <>
          <div style={{ marginBottom: 12 }}>
            <Typography.Text type="secondary">{t('entity.stageOrder')}: </Typography.Text>
            <Select
              mode="multiple"
              style={{ minWidth: 400 }}
              value={stages.order}
              options={(candidates.find((f) => f.key === stages.field)?.options ?? []).map((o) => ({ value: optionValue(o), label: optionLabel(o, i18n.language) }))}
              onChange={(order) => setStages({ ...stages, order })}
            />
          </div>
          <Table
            size="small"
            pagination={false}
            rowKey={(_r, i) => String(i)}
            dataSource={stages.order.map((s) => ({ stage: s }))}
            columns={[
              { title: t('entity.stage'), dataIndex: 'stage', render: (v: string) => stageLabel(v) },
              {
                title: t('entity.probability'),
                render: (_v, r) => (
                  <InputNumber
                    min={0}
                    max={1}
                    step={0.1}
                    value={stages.probability?.[r.stage]}
                    onChange={(v) => setStages({ ...stages, probability: { ...(stages.probability ?? {}), [r.stage]: Number(v ?? 0) } })}
                  />
                ),
              },
              {
                title: t('entity.terminal'),
                render: (_v, r) => (
                  <Checkbox
                    checked={(stages.terminal ?? []).includes(r.stage)}
                    onChange={(e) =>
                      setStages({
                        ...stages,
                        terminal: e.target.checked ? [...(stages.terminal ?? []), r.stage] : (stages.terminal ?? []).filter((x) => x !== r.stage),
                      })
                    }
                  />
                ),
              },
            ]}
            style={{ marginBottom: 16 }}
          />
          <Typography.Title level={5}>{t('entity.gates')}</Typography.Title>
          {(stages.transitions ?? []).map((tr, i) => {
            const set = (patch: Partial<typeof tr>, merge?: string) => {
              const list = (stages.transitions ?? []).slice();
              list[i] = { ...tr, ...patch };
              setStages({ ...stages, transitions: list }, merge);
            };
            const errs = grouped.other.filter((e) => e.path.startsWith(`stages.transitions[${i}]`));
            return (
              <Card key={i} size="small" style={{ marginBottom: 8 }} data-testid={`gate-${i}`}>
                <Row gutter={8}>
                  <Col span={10}>
                    <Space>
                      <span>{t('entity.from')}</span>
                      <Select style={{ minWidth: 140 }} value={tr.from} placeholder={t('entity.from')} options={[{ value: '*', label: t('entity.anyStage') }, ...stageOptions]} onChange={(v) => set({ from: v })} data-testid={`gate-from-${i}`} />
                      <span>→</span>
                      <Select style={{ minWidth: 140 }} value={tr.to} placeholder={t('entity.to')} options={[{ value: '*', label: t('entity.anyStage') }, ...stageOptions]} onChange={(v) => set({ to: v })} data-testid={`gate-to-${i}`} />
                    </Space>
                  </Col>
                  <Col span={12}>
                    <Input value={tr.message} placeholder={t('entity.gateMessage')} onChange={(e) => set({ message: e.target.value }, `gate-msg-${i}`)} />
                  </Col>
                  <Col span={2}>
                    <Popconfirm title={t('common.confirmDelete')} onConfirm={() => setStages({ ...stages, transitions: (stages.transitions ?? []).filter((_x, j) => j !== i) })}>
                      <Button danger type="text" icon={<DeleteOutlined />} aria-label={t('common.delete')} />
                    </Popconfirm>
                  </Col>
                  <Col span={24} style={{ marginTop: 8 }}>
                    <Typography.Text type="secondary">{t('entity.require')}</Typography.Text>
                    <ConditionInput app={app} fields={fields} root="record" vars={fields.map((f) => ({ ...f, key: `old.${f.key}`, label: `${t('entity.before')} ${labelText(f.label, i18n.language, f.key)}` }))} value={tr.require ?? ''} onChange={(v) => set({ require: v }, `gate-req-${i}`)} data-testid={`gate-require-${i}`} />
                  </Col>
                </Row>
                {errs.map((e, k) => (
                  <Typography.Text key={k} type="danger">{`${e.path}: ${e.message}`}</Typography.Text>
                ))}
              </Card>
            );
          })}
          <Button icon={<PlusOutlined />} onClick={() => setStages({ ...stages, transitions: [...(stages.transitions ?? []), { from: stages.order[0] ?? '', to: stages.order[1] ?? '', require: '', message: '' }] })} data-testid="gate-add">
            {t('entity.addGate')}
          </Button>
        </>
      )}
    </Card>
  );

  const dedupe = entity.dedupe;
  const dedupeTab = (
    <Card size="small" title={t('entity.dedupe')}>
      <Typography.Paragraph type="secondary">{t('entity.dedupeHelp')}</Typography.Paragraph>
      {(dedupe?.keys ?? []).map((k, i) => (
        <Space key={i} style={{ marginBottom: 8 }}>
          <Select
            mode="multiple"
            style={{ minWidth: 320 }}
            value={k}
            options={fieldOptions}
            onChange={(v) => {
              const keys = dedupe!.keys.slice();
              keys[i] = v;
              update({ dedupe: { ...dedupe!, keys } });
            }}
          />
          <Button
            danger
            type="text"
            icon={<DeleteOutlined />}
            onClick={() => {
              const keys = dedupe!.keys.filter((_x, j) => j !== i);
              const next = { ...entity };
              if (keys.length) next.dedupe = { ...dedupe!, keys };
              else delete next.dedupe;
              setEntity(next);
            }}
          />
        </Space>
      ))}
      <div>
        <Button icon={<PlusOutlined />} onClick={() => update({ dedupe: { on_duplicate: 'merge', ...(dedupe ?? {}), keys: [...(dedupe?.keys ?? []), []] } })} data-testid="dedupe-add">
          {t('entity.addDedupeKey')}
        </Button>
      </div>
      {dedupe && (
        <div style={{ marginTop: 12 }}>
          <span>{t('entity.onDuplicate')}: </span>
          <Radio.Group value={dedupe.on_duplicate ?? 'merge'} onChange={(e) => update({ dedupe: { ...dedupe, on_duplicate: e.target.value } })}>
            <Radio value="merge">{t('entity.merge')}</Radio>
            <Radio value="reject">{t('entity.reject')}</Radio>
          </Radio.Group>
        </div>
      )}
      {grouped.other.filter((e) => e.path.startsWith('dedupe')).map((e, i) => (
        <div key={i}><Typography.Text type="danger">{`${e.path}: ${e.message}`}</Typography.Text></div>
      ))}
    </Card>
  );

  const jsonTab = (
    <Card size="small" title="JSON">
      <Input.TextArea value={json} onChange={(e) => setJson(e.target.value)} rows={20} style={{ fontFamily: 'monospace', fontSize: 12 }} data-testid="entity-json" />
      {jsonError && <Typography.Text type="danger">{jsonError}</Typography.Text>}
      <div style={{ marginTop: 8 }}>
        <Button
          onClick={() => {
            try {
              const v = JSON.parse(json) as EntityDef;
              setEntity({ ...v, slug, fields: Array.isArray(v.fields) ? v.fields : [] });
              setJsonError(null);
            } catch (e) {
              setJsonError((e as Error).message);
            }
          }}
        >
          {t('entity.applyJson')}
        </Button>
      </div>
    </Card>
  );

  return (
    <div>
      <Space style={{ marginBottom: 8 }}>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>
          <span data-testid="designer-title">{t('entity.designer')}: {labelText(entity.label, i18n.language, slug)}</span>
        </Typography.Title>
        <Typography.Text type="secondary" code>{slug}</Typography.Text>
        <Link to={`/apps/${app}/entities/${slug}`} data-testid="open-records">{t('entity.openRecords')}</Link>
      </Space>
      <DefToolbar app={app} kind="entities" slug={slug} getDefinition={() => entity} onErrors={setErrors} onSaved={hist.markSaved} onRestore={(d) => hist.set({ ...(d as EntityDef), slug })} extra={<UndoRedo h={hist} />} />
      <Row gutter={12} style={{ marginBottom: 12 }}>
        <Col xs={24} md={8}>
          <Input addonBefore={t('entity.labelZh')} value={label['zh-CN']} onChange={(e) => update({ label: { ...label, 'zh-CN': e.target.value } }, 'label-zh')} data-testid="entity-label-zh" />
        </Col>
        <Col xs={24} md={8}>
          <Input addonBefore={t('entity.labelEn')} value={label.en} onChange={(e) => update({ label: { ...label, en: e.target.value } }, 'label-en')} data-testid="entity-label-en" />
        </Col>
        <Col xs={24} md={8}>
          <Select
            style={{ width: '100%' }}
            allowClear
            placeholder={t('entity.titleField')}
            data-testid="title-field"
            value={entity.title_field}
            options={fieldOptions}
            onChange={(v) => update({ title_field: v })}
          />
        </Col>
      </Row>
      {grouped.other.filter((e) => !e.path.startsWith('stages') && !e.path.startsWith('dedupe')).length > 0 && (
        <Alert
          type="error"
          style={{ marginBottom: 12 }}
          title={grouped.other.filter((e) => !e.path.startsWith('stages') && !e.path.startsWith('dedupe')).map((e) => `${e.path || '/'}: ${e.message}`).join('; ')}
        />
      )}
      <Tabs
        onChange={(k) => k === 'json' && setJson(JSON.stringify(entity, null, 2))}
        items={[
          { key: 'fields', label: `${t('entity.fields')} (${fields.length})`, children: fieldsTab },
          { key: 'stages', label: t('entity.stages'), children: stagesTab },
          { key: 'dedupe', label: t('entity.dedupe'), children: dedupeTab },
          { key: 'json', label: 'JSON', children: jsonTab },
        ]}
      />
      <FieldEditor
        open={!!editing}
        field={editing?.field ?? null}
        suggestedKey={nextFieldKey(fields)}
        existingKeys={fields.map((f) => f.key)}
        entitySlugs={entitySlugs}
        targetFields={(slug) => {
          if (slug === entity.slug) return fields;
          const d = defList(appQ.data, 'entities').find((x) => x.slug === slug) as { draft?: EntityDef; definition?: EntityDef } | undefined;
          return (d?.draft ?? d?.definition)?.fields ?? [];
        }}
        onCancel={() => setEditing(null)}
        onOk={(f) => {
          let next = { ...entity, fields: upsertField(fields, editing!.index, f) };
          // keep the stage order in sync with a stage field's options
          if (next.stages && next.stages.field === f.key) next = { ...next, stages: stagesFromField(f, next.stages) };
          if (editing!.field && editing!.field.key !== f.key) {
            if (next.stages?.field === editing!.field.key) next.stages = { ...next.stages, field: f.key };
          }
          setEntity(next);
          setEditing(null);
        }}
      />
    </div>
  );
}
