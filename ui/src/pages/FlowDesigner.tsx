import { ApartmentOutlined, CaretRightOutlined, DeleteOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { useQueries, useQuery } from '@tanstack/react-query';
import {
  Background, Controls, Handle, MiniMap, Position, ReactFlow, ReactFlowProvider, addEdge, useEdgesState, useNodesState, useReactFlow,
  type Connection, type Edge, type Node, type NodeChange, type EdgeChange, type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Alert, App, Button, Card, Col, Collapse, Form, Input, Row, Select, Skeleton, Space, Switch, Tag, Tooltip, Typography } from 'antd';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, errorMessage, type FieldError } from '../api/client';
import { defList, defPath, unwrapDefinition, useApp, useDefinition, useSaveDefinition } from '../api/defs';
import type { CatalogOperation, EntityDef, FlowDef, FormDef, TestSample, TriggerDef } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import CredentialSelect from '../components/CredentialSelect';
import SchemaForm from '../components/SchemaForm';
import AiNodeForm from '../components/flow/AiNodeForm';
import UndoRedo from '../components/UndoRedo';
import { ConditionWidget } from '../components/flow/ConditionWidget';
import { FlowContext, type FlowCtx, type UpstreamNode } from '../components/flow/FlowContext';
import { RECORD_TRIGGERS, RunBanner, TestRunModal, ValueTable, useRunPoll, type RunWithSteps } from '../components/flow/TestRun';
import { RerunPanel, type RerunResult } from '../components/flow/Rerun';
import { paramLabels } from '../components/flow/ValueTable';
import { CronInput, WebhookSettings } from '../components/flow/triggerWidgets';
import { categoryOf, normalizeCatalog, schemaOf, type Catalog } from '../lib/catalog';
import { TRIGGER_TYPES, autoLayout, canConnect, defaultParams, flowErrors, fromCanvas, nextNodeId, placeFree, portsOf, toCanvas, uniqueName, upstreamOf, type CanvasEdge, type CanvasNode, type FlowErrors } from '../lib/flow';
import { labelText } from '../lib/labels';
import { useUndoable, useUnsavedGuard } from '../lib/undo';

type StepData = CanvasNode['data'] & { ports: string[]; label: string };

/** Publish errors of the designer's last failed save/publish, read by the canvas nodes. */
const ErrorsContext = createContext<FlowErrors>({ nodes: {}, trigger: {} });
/** Status of each node in the test run shown on the canvas. */
const RunContext = createContext<Record<string, string>>({});

const TRIGGER_ID = '__trigger';
const STATUS_STYLE: Record<string, { border: string; bg: string }> = {
  succeeded: { border: '#52c41a', bg: '#f6ffed' }, failed: { border: '#ff4d4f', bg: '#fff2f0' }, waiting: { border: '#faad14', bg: '#fffbe6' },
  running: { border: '#1677ff', bg: '#e6f4ff' }, skipped: { border: '#d9d9d9', bg: '#fafafa' },
};

function StepNode({ data, selected, id }: NodeProps<Node<StepData>>) {
  const ports = data.ports;
  const { t, i18n } = useTranslation();
  const cat = useCatalog().data?.nodes.find((c) => c.type === data.nodeType);
  const typeLabel = labelText(cat?.label ?? cat?.title, i18n.language, t(`nodes.${data.nodeType}`, { defaultValue: data.nodeType }));
  const bad = !!useContext(ErrorsContext).nodes[data.label];
  const status = useContext(RunContext)[id];
  const st = status ? STATUS_STYLE[status] : undefined;
  return (
    <div
      className={`flow-node${selected ? ' selected' : ''}`}
      data-testid={`flow-node-${data.label}`}
      data-name={data.name || data.label}
      data-error={bad || undefined}
      data-status={status}
      style={bad ? { borderColor: '#ff4d4f', boxShadow: '0 0 0 2px rgba(255,77,79,0.25)' } : st ? { borderColor: st.border, background: st.bg, boxShadow: `0 0 0 2px ${st.border}33` } : undefined}
    >
      <Handle type="target" position={Position.Top} />
      <div><b>{data.name || typeLabel}</b></div>
      <div className="type" title={data.nodeType}>{data.name && data.name !== typeLabel ? typeLabel : null}{status && <Tag style={{ marginLeft: 4, fontSize: 10, lineHeight: '14px' }} color={status === 'succeeded' ? 'success' : status === 'failed' ? 'error' : status === 'waiting' ? 'warning' : 'default'} data-testid={`node-status-${data.label}`}>{t(`runStatus.${status}`, { defaultValue: status })}</Tag>}</div>
      {ports.length === 0 ? (
        <Handle type="source" position={Position.Bottom} />
      ) : (
        <div style={{ display: 'flex', justifyContent: 'space-around', marginTop: 6, fontSize: 10, color: '#888' }}>
          {ports.map((p, i) => (
            <span key={p} style={{ position: 'relative' }}>
              {t(`ports.${p}`, { defaultValue: p })}
              <Handle type="source" id={p} position={Position.Bottom} style={{ left: `${((i + 1) / (ports.length + 1)) * 100}%`, background: p === 'false' || p === 'rejected' ? '#ff4d4f' : p === 'true' || p === 'approved' ? '#52c41a' : undefined }} />
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

/** The trigger drawn as the flow's first node (not part of the definition's nodes). */
function TriggerNode({ data, selected }: NodeProps<Node<{ title: string; detail: string }>>) {
  const { t } = useTranslation();
  return (
    <div className={`flow-node trigger-node${selected ? ' selected' : ''}`} data-testid="flow-node-trigger" style={{ borderColor: '#722ed1', background: '#f9f0ff' }}>
      <div style={{ fontSize: 10, color: '#722ed1' }}>{t('flows.trigger')}</div>
      <div><b>{data.title}</b></div>
      {data.detail && <div className="type">{data.detail}</div>}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { step: StepNode, trigger: TriggerNode };

export function useCatalog() {
  return useQuery({ queryKey: ['catalog'], queryFn: async () => normalizeCatalog(await api('/api/v1/catalog')), staleTime: 300_000, retry: false });
}

function TriggerForm({ trigger, onChange, forms, catalog, pollPath, errors, ctx }: { trigger: TriggerDef; onChange: (t: TriggerDef) => void; forms: { slug: string; label: string }[]; catalog: Catalog; pollPath?: string; errors?: Record<string, string>; ctx: FlowCtx }) {
  const { t, i18n } = useTranslation();
  const ent = trigger.entity ? ctx.entities[trigger.entity] : undefined;
  const set = (patch: Partial<TriggerDef>) => {
    const next: TriggerDef = { ...trigger, ...patch };
    for (const [k, v] of Object.entries(next)) if (v === '' || v === undefined) delete next[k];
    onChange(next);
  };
  const type = trigger.type;
  return (
    <Form layout="vertical" size="small" data-testid="trigger-form">
      {errors && Object.keys(errors).length > 0 && (
        <Alert type="error" showIcon style={{ marginBottom: 12 }} data-testid="trigger-errors"
          title={<ul style={{ margin: 0, paddingLeft: 18 }}>{Object.entries(errors).map(([k, m]) => <li key={k}>{k ? <Typography.Text code>{k}</Typography.Text> : null} {m}</li>)}</ul>} />
      )}
      <Form.Item label={t('flows.triggerType')}>
        <Select value={type} onChange={(v) => onChange({ type: v })} options={TRIGGER_TYPES.map((x) => ({ value: x, label: t(`triggers.${x}`) }))} data-testid="trigger-type" />
      </Form.Item>
      {['record.created', 'record.updated', 'stage.changed', 'record.deleted', 'record.activity'].includes(type) && (
        <Form.Item label={t('common.entity')}>
          <Select value={trigger.entity} onChange={(v) => set({ entity: v })} options={ctx.entityList.map((e) => ({ value: e.slug, label: e.label }))} data-testid="trigger-entity" showSearch={{ optionFilterProp: 'label' }} />
        </Form.Item>
      )}
      {type === 'record.updated' && (
        <Form.Item label={t('flows.whenFields')}>
          <Select mode="multiple" value={trigger.fields ?? []} onChange={(v) => set({ fields: v.length ? v : undefined })}
            options={(ent?.fields ?? []).map((f) => ({ value: f.key, label: labelText(f.label, i18n.language, f.key) }))} />
        </Form.Item>
      )}
      {type === 'record.activity' && (
        <Form.Item label={t('flows.activityTypes')} help={t('flows.activityTypesHelp')}>
          <Select mode="tags" value={(trigger.activities as string[] | undefined) ?? []} onChange={(v: string[]) => set({ activities: v.length ? v : undefined })}
            tokenSeparators={[',', ' ']} data-testid="trigger-activities" />
        </Form.Item>
      )}
      {type === 'stage.changed' && (
        <Space>
          {(['from', 'to'] as const).map((k) => (
            <Select key={k} allowClear style={{ width: 140 }} placeholder={t(`entity.${k}`)} value={trigger[k] as string | undefined} onChange={(v) => set({ [k]: v })}
              options={((ent?.stages as { order?: string[] } | undefined)?.order ?? []).map((s) => ({ value: s, label: s }))} />
          ))}
        </Space>
      )}
      {type === 'form.submitted' && (
        <Form.Item label={t('kinds.forms')}>
          <Select value={trigger.form} onChange={(v) => set({ form: v })} options={forms.map((e) => ({ value: e.slug, label: e.label }))} />
        </Form.Item>
      )}
      {type === 'webhook' && (
        <>
          <WebhookSettings hookKey={trigger.key} secret={trigger.secret as string | undefined} onChange={(p) => set(p)} />
          <Form.Item label={t('flows.mode')}>
            <Select value={trigger.mode ?? 'async'} onChange={(v) => set({ mode: v })} options={[{ value: 'async', label: 'async' }, { value: 'sync', label: 'sync' }]} />
          </Form.Item>
        </>
      )}
      {type === 'cron' && (
        <>
          <Form.Item label={t('flows.schedule')}>
            <CronInput value={trigger.schedule} onChange={(v) => set({ schedule: v })} timezone={trigger.timezone as string | undefined} />
          </Form.Item>
          <Form.Item label={t('flows.timezone')}>
            <Input value={trigger.timezone} placeholder="Asia/Shanghai" onChange={(e) => set({ timezone: e.target.value })} />
          </Form.Item>
        </>
      )}
      {type === 'poll' && <PollTriggerFields trigger={trigger} set={set} catalog={catalog} lang={i18n.language} pollPath={pollPath} />}
      {type !== 'cron' && type !== 'manual' && (
        <Form.Item label={t('fb.triggerCondition')}>
          {RECORD_TRIGGERS.includes(type) ? (
            <ConditionWidget value={trigger.condition as string | undefined} onChange={(v) => set({ condition: v })} root="record" entity={ctx.triggerEntity} testId="trigger-condition" />
          ) : (
            <Input value={trigger.condition} onChange={(e) => set({ condition: e.target.value })} style={{ fontFamily: 'monospace' }} placeholder={type === 'poll' ? 'trigger.item.amount > 0' : 'trigger.body.amount > 0'} />
          )}
        </Form.Item>
      )}
    </Form>
  );
}

/** GET /api/v1/apps/{app}/flows/{flow}/poll (the keys the designer shows). */
interface PollStatus {
  next_poll_at: string;
  last_polled_at: string | null;
  last_error: string | null;
  failures: number;
  items_total: number;
}

/** The fields of a poll trigger: the connector's polling trigger, credential, interval and the trigger's parameters. */
function PollTriggerFields({ trigger, set, catalog, lang, pollPath }: { trigger: TriggerDef; set: (p: Partial<TriggerDef>) => void; catalog: Catalog; lang: string; pollPath?: string }) {
  const { t } = useTranslation();
  // health of the published trigger (404 until the poller picked the flow up)
  const status = useQuery({
    queryKey: ['poll', pollPath],
    queryFn: () => api<PollStatus>(pollPath!),
    enabled: !!pollPath,
    retry: false,
    refetchInterval: 30_000,
  });
  const st = status.data;
  const tr = catalog.triggers.find((x) => x.connector === trigger.connector && x.operation === trigger.trigger);
  const schema = tr ? schemaOf(tr) : undefined;
  return (
    <>
      <Form.Item label={t('flows.pollTrigger')} extra={catalog.triggers.length ? t('flows.pollHelp') : t('flows.noPollTriggers')}>
        <Select
          data-testid="poll-trigger"
          value={trigger.connector ? `${trigger.connector}/${trigger.trigger}` : undefined}
          options={catalog.triggers.map((x) => ({ value: `${x.connector}/${x.operation}`, label: labelText(x.label, lang, `${x.connector}.${x.operation}`) }))}
          onChange={(v: string) => {
            const [connector, id] = v.split('/');
            set({ connector, trigger: id, params: undefined });
          }}
        />
      </Form.Item>
      <Form.Item label={t('flows.credential')}>
        <CredentialSelect connector={String(trigger.connector ?? '')} value={trigger.credential as string | undefined} onChange={(v) => set({ credential: v })} />
      </Form.Item>
      <Form.Item label={t('flows.interval')} extra={t('flows.intervalHelp')}>
        <Input value={trigger.interval as string | undefined} placeholder="5m" onChange={(e) => set({ interval: e.target.value })} style={{ width: 120 }} />
      </Form.Item>
      {st && (
        <Alert
          data-testid="poll-status"
          style={{ marginBottom: 12 }}
          type={st.last_error ? 'warning' : 'info'}
          title={st.last_error ? t('flows.pollFailed', { error: st.last_error, count: st.failures }) : t('flows.pollOk', { count: st.items_total })}
          description={t('flows.pollTimes', {
            last: st.last_polled_at ? new Date(st.last_polled_at).toLocaleString(lang) : '—',
            next: new Date(st.next_poll_at).toLocaleString(lang),
          })}
        />
      )}
      {schema && (
        <SchemaForm
          key={`${trigger.connector}/${trigger.trigger}`}
          schema={schema}
          value={(trigger.params as Record<string, unknown>) ?? {}}
          onChange={(p) => set({ params: p })}
        />
      )}
    </>
  );
}

/** Output keys a node is known to produce (for completion and conditions on upstream steps). */
function outputsOf(n: CanvasNode, entities: Record<string, EntityDef>, run?: RunWithSteps): string[] {
  const step = run?.steps?.filter((s) => s.node === n.id).pop();
  if (step?.output && typeof step.output === 'object' && !Array.isArray(step.output)) return Object.keys(step.output as object);
  const p = n.data.params ?? {};
  switch (n.data.nodeType) {
    case 'record.create':
    case 'record.update':
      return ['id', ...(entities[String(p.entity ?? '')]?.fields ?? []).map((f) => f.key)];
    case 'set':
    case 'transform':
      return Object.keys((p.values as object) ?? {});
    case 'approval':
      return ['outcome', 'levels'];
    case 'task':
      return ['outcome', 'comment', 'completed_by'];
    case 'assign':
      return ['user_id', 'user_name', 'manager_id'];
    default:
      return [];
  }
}

function Designer() {
  const { app = '', slug = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const q = useDefinition<FlowDef>(app, 'flows', slug);
  const appQ = useApp(app);
  const catalogQ = useCatalog();
  // stable while loading: decorate (and the effect re-decorating nodes) depends on catalog.nodes
  const catalog: Catalog = useMemo(() => catalogQ.data ?? normalizeCatalog(null), [catalogQ.data]);
  const [base, setBase] = useState<FlowDef | null>(null);
  const [nodes, setNodes, onNodesChangeRaw] = useNodesState<Node<StepData>>([]);
  const [edges, setEdges, onEdgesChangeRaw] = useEdgesState<Edge>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [runOpen, setRunOpen] = useState(false);
  // a run opened from the runs list (?run=) shows its node states on the canvas
  const [searchParams] = useSearchParams();
  const [runId, setRunId] = useState<string | null>(() => searchParams.get('run'));
  const [showMap, setShowMap] = useState(false);
  const [errs, setErrs] = useState<FlowErrors>({ nodes: {}, trigger: {} });
  // palette groups the analyst folded (the rest stay open, also groups that appear once the catalog loads)
  const [folded, setFolded] = useState<string[]>([]);
  const rf = useReactFlow();
  const canvasRef = useRef<HTMLDivElement>(null);
  const hist = useUndoable<FlowDef | null>(null);
  useUnsavedGuard(hist.dirty);
  const mergeKey = useRef<string | undefined>(undefined);
  const seen = useRef<string>('null');
  const clipboard = useRef<{ nodes: CanvasNode[]; edges: CanvasEdge[] } | null>(null);
  const { save, publish } = useSaveDefinition(app, 'flows');
  const runQ = useRunPoll(runId);
  const run = runQ.data;
  // the draft's pinned test sample: kept apart from the undo history (pinning saves it at once)
  const [pinned, setPinned] = useState<TestSample | null>(null);
  // "run from this node" results of the run on the canvas, by node
  const [reruns, setReruns] = useState<Record<string, RerunResult>>({});
  useEffect(() => setReruns({}), [runId]);

  const decorate = useCallback(
    (n: CanvasNode): Node<StepData> => {
      const cat = catalog.nodes.find((c) => c.type === n.data.nodeType);
      return { ...n, data: { ...n.data, label: n.id, ports: portsOf(n.data.nodeType, n.data.params, cat?.ports) } };
    },
    [catalog.nodes],
  );

  const load = useCallback(
    (d: FlowDef) => {
      setBase(d);
      const c = toCanvas(d);
      // nodes and edges that did not change keep their objects (and React Flow's measurements):
      // an undo re-renders what it changed, not the whole canvas
      setNodes((prev) => {
        const old = new Map(prev.map((n) => [n.id, n]));
        return c.nodes.map((n) => {
          const next = decorate(n);
          const o = old.get(n.id);
          return o && o.position.x === next.position.x && o.position.y === next.position.y && JSON.stringify(o.data) === JSON.stringify(next.data) ? o : next;
        });
      });
      setEdges((prev) => {
        const old = new Map(prev.map((e) => [e.id, e]));
        return c.edges.map((e) => {
          const o = old.get(e.id);
          return o && o.source === e.source && o.target === e.target && (o.sourceHandle ?? null) === (e.sourceHandle ?? null) ? o : { ...e, label: e.label ?? undefined };
        });
      });
    },
    [decorate, setNodes, setEdges],
  );

  useEffect(() => {
    if (q.data && base === null) {
      const { test_sample: sample, ...def } = q.data.def ?? ({} as Partial<FlowDef>);
      setPinned(sample ?? null);
      const d: FlowDef = q.data.def ? { ...def, slug: def.slug ?? slug, trigger: def.trigger ?? { type: 'manual' }, nodes: def.nodes ?? [] } : { slug, trigger: { type: 'manual' }, nodes: [], edges: [] };
      // the history holds canvas-made definitions, so loading one back gives the same JSON
      const c = toCanvas(d);
      const norm = fromCanvas(d, c.nodes, c.edges);
      seen.current = JSON.stringify(norm);
      hist.reset(norm);
      load(norm);
    }
  }, [q.data, base, slug, load, hist]);

  // the catalog may arrive after the definition: recompute ports (e.g. wait_event's event/timeout) so edges find their handles
  useEffect(() => {
    setNodes((ns) => ns.map((n) => decorate(n as unknown as CanvasNode)));
  }, [decorate, setNodes]);

  const getDefinition = useCallback(() => (base ? fromCanvas(base, nodes as unknown as CanvasNode[], edges as CanvasEdge[]) : undefined), [base, nodes, edges]);
  // what is saved: the canvas's definition with the pinned sample
  const getSaveDefinition = useCallback(() => {
    const d = getDefinition();
    return d && pinned ? { ...d, test_sample: pinned } : d;
  }, [getDefinition, pinned]);

  // one history for canvas and property edits: canvas changes are recorded, undo/redo is applied back to the canvas
  useEffect(() => {
    if (!base || hist.value === null) return;
    const h = JSON.stringify(hist.value);
    if (h !== seen.current) {
      seen.current = h;
      load(hist.value);
      return;
    }
    const d = getDefinition();
    const c = JSON.stringify(d);
    if (c !== seen.current) {
      seen.current = c;
      hist.set(d!, mergeKey.current);
    }
    mergeKey.current = undefined;
  }, [base, nodes, edges, hist, load, getDefinition]);

  const onNodesChange = useCallback(
    (changes: NodeChange<Node<StepData>>[]) => {
      const own = changes.filter((c) => !('id' in c) || c.id !== TRIGGER_ID);
      const moved = own.find((c) => c.type === 'position');
      mergeKey.current = moved && 'id' in moved ? `move:${moved.id}` : undefined;
      if (own.some((c) => c.type === 'select' && c.selected)) {
        const s = own.find((c) => c.type === 'select' && c.selected);
        if (s && 'id' in s) setSelected(s.id);
      }
      if (changes.some((c) => c.type === 'select' && c.id === TRIGGER_ID && c.selected)) setSelected(null);
      onNodesChangeRaw(own);
    },
    [onNodesChangeRaw],
  );
  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => onEdgesChangeRaw(changes.filter((c) => !('id' in c) || !c.id.startsWith('t-'))), [onEdgesChangeRaw]);

  const onConnect = useCallback(
    (c: Connection) => {
      if (c.source === TRIGGER_ID || !canConnect(edges as CanvasEdge[], c.source, c.target, c.sourceHandle)) return;
      setEdges((eds) => addEdge({ ...c, id: `e-${c.source}-${c.target}-${c.sourceHandle ?? ''}`, label: c.sourceHandle ?? undefined }, eds));
    },
    [edges, setEdges],
  );

  const catLabel = useCallback(
    (type: string) => {
      const n = catalog.nodes.find((c) => c.type === type);
      return labelText(n?.label ?? n?.title, i18n.language, t(`nodes.${type}`, { defaultValue: type }));
    },
    [catalog.nodes, i18n.language, t],
  );

  const triggerPos = useMemo(() => {
    const inbound = new Set(edges.map((e) => e.target));
    const roots = nodes.filter((n) => !inbound.has(n.id));
    const top = nodes.length ? Math.min(...nodes.map((n) => n.position.y)) : 160;
    return { x: roots[0]?.position.x ?? 80, y: top - 130 };
  }, [nodes, edges]);

  const addNode = (type: string, position?: { x: number; y: number }) => {
    const id = nextNodeId(type, nodes.map((n) => n.id));
    const from = position ? undefined : nodes.find((n) => n.id === selected);
    const lowest = nodes.reduce<Node<StepData> | undefined>((m, n) => (!m || n.position.y > m.position.y ? n : m), undefined);
    const want = position ?? (from ? { x: from.position.x, y: from.position.y + 110 } : lowest ? { x: lowest.position.x, y: lowest.position.y + 110 } : { x: triggerPos.x, y: triggerPos.y + 130 });
    const spot = placeFree(want, [...nodes.map((n) => n.position), triggerPos]);
    const name = uniqueName(catLabel(type), nodes.map((n) => n.data.name));
    const n: CanvasNode = { id, type: 'step', position: spot, data: { nodeType: type, name, params: defaultParams(type) } };
    setNodes((ns) => [...ns.map((x) => ({ ...x, selected: false })), { ...decorate(n), selected: true }]);
    if (from) {
      // clicked in the palette with a node selected: the new node follows it (on its first free port)
      const used = new Set(edges.filter((e) => e.source === from.id).map((e) => e.sourceHandle ?? ''));
      const port = from.data.ports.find((p) => !used.has(p)) ?? from.data.ports[0];
      setEdges((eds) => addEdge({ id: `e-${from.id}-${id}-${port ?? ''}`, source: from.id, target: id, sourceHandle: port ?? null, label: port }, eds));
    }
    setSelected(id);
    // keep the new node in sight: refit when it lands outside the visible part of the canvas
    const el = canvasRef.current;
    if (el) {
      const tl = rf.screenToFlowPosition({ x: el.getBoundingClientRect().left, y: el.getBoundingClientRect().top });
      const br = rf.screenToFlowPosition({ x: el.getBoundingClientRect().right, y: el.getBoundingClientRect().bottom });
      if (spot.x < tl.x || spot.y < tl.y || spot.x + 180 > br.x || spot.y + 80 > br.y) window.setTimeout(() => void rf.fitView({ maxZoom: 1, padding: 0.2 }), 50);
    }
  };

  const deleteNode = (id: string) => {
    setNodes((ns) => ns.filter((n) => n.id !== id));
    setEdges((es) => es.filter((e) => e.source !== id && e.target !== id));
    setSelected(null);
  };

  // the canvas refits when its width changes (window resized, phone rotated, panels stacked)
  useEffect(() => {
    const el = canvasRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    let width = el.clientWidth;
    let timer = 0;
    const ro = new ResizeObserver(() => {
      if (Math.abs(el.clientWidth - width) < 8) return;
      width = el.clientWidth;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void rf.fitView({ maxZoom: 1, padding: 0.2 }), 60);
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      window.clearTimeout(timer);
    };
  }, [rf, base === null]); // eslint-disable-line react-hooks/exhaustive-deps

  const autoArrange = () => {
    const pos = autoLayout(nodes.map((n) => ({ id: n.id })), edges.map((e) => ({ from: e.source, to: e.target })));
    setNodes((ns) => ns.map((n) => ({ ...n, position: { x: pos[n.id].x, y: pos[n.id].y + 130 } })));
    window.setTimeout(() => rf.fitView({ maxZoom: 1, padding: 0.2 }), 50);
  };

  // copy/paste of the selected nodes (with the edges between them) while no text field has the focus
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (!(e.ctrlKey || e.metaKey) || (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.isContentEditable))) return;
      const k = e.key.toLowerCase();
      if (k === 'c') {
        const sel = nodes.filter((n) => n.selected) as unknown as CanvasNode[];
        if (!sel.length) return;
        const ids = new Set(sel.map((n) => n.id));
        clipboard.current = { nodes: sel, edges: (edges as CanvasEdge[]).filter((x) => ids.has(x.source) && ids.has(x.target)) };
      } else if (k === 'v' && clipboard.current) {
        e.preventDefault();
        const taken = nodes.map((n) => n.position);
        const allIds = nodes.map((n) => n.id);
        const names = nodes.map((n) => n.data.name);
        const map = new Map<string, string>();
        const fresh: Node<StepData>[] = [];
        for (const n of clipboard.current.nodes) {
          const id = nextNodeId(n.data.nodeType, allIds);
          allIds.push(id);
          map.set(n.id, id);
          const name = uniqueName(n.data.name || catLabel(n.data.nodeType), names);
          names.push(name);
          const position = placeFree({ x: n.position.x + 40, y: n.position.y + 40 }, taken);
          taken.push(position);
          fresh.push({ ...decorate({ ...n, id, position, data: { ...n.data, name, params: structuredClone(n.data.params) } }), selected: true });
        }
        setNodes((ns) => [...ns.map((x) => ({ ...x, selected: false })), ...fresh]);
        setEdges((es) => [...es, ...clipboard.current!.edges.map((x) => ({ ...x, id: `e-${map.get(x.source)}-${map.get(x.target)}-${x.sourceHandle ?? ''}`, source: map.get(x.source)!, target: map.get(x.target)! }))]);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [nodes, edges, decorate, catLabel, setNodes, setEdges]);

  const groups = useMemo(() => {
    const g = new Map<string, typeof catalog.nodes>();
    for (const n of catalog.nodes) g.set(categoryOf(n), [...(g.get(categoryOf(n)) ?? []), n]);
    return [...g.entries()];
  }, [catalog.nodes]);

  // what property widgets may refer to: entities with their fields, reports, flows, upstream steps
  const entitySlugs = useMemo(() => defList(appQ.data, 'entities').map((e) => e.slug), [appQ.data]);
  const entityQs = useQueries({
    queries: entitySlugs.map((s) => ({ queryKey: ['def', app, 'entities', s], queryFn: async () => unwrapDefinition<EntityDef>(await api(defPath(app, 'entities', s))), staleTime: 60_000 })),
  });
  const entityDefs = entityQs.map((x) => x.data?.def ?? null);
  const entities = useMemo(() => {
    const m: Record<string, EntityDef> = {};
    for (const d of entityDefs) if (d) m[d.slug] = d;
    return m;
  }, [JSON.stringify(entityDefs.map((d) => d?.slug ?? '')), entityQs.filter((x) => x.isSuccess).length]); // eslint-disable-line react-hooks/exhaustive-deps
  const formSlug = base?.trigger.type === 'form.submitted' ? (base.trigger.form as string | undefined) : undefined;
  const formQ = useDefinition<FormDef>(app, 'forms', formSlug ?? '', !!formSlug);
  const triggerEntity = base ? (base.trigger.type === 'form.submitted' ? (formQ.data?.def?.entity as string | undefined) : RECORD_TRIGGERS.includes(base.trigger.type) ? (base.trigger.entity as string | undefined) : undefined) : undefined;
  const listOf = (kind: 'entities' | 'reports' | 'flows' | 'forms') => defList(appQ.data, kind).map((d) => ({ slug: d.slug, label: labelText((d as { label?: never }).label ?? (d as { name?: never }).name, i18n.language, d.slug) }));

  const ctx: FlowCtx = useMemo(() => {
    const sel = nodes.find((n) => n.id === selected);
    const up: UpstreamNode[] = sel
      ? upstreamOf(sel.id, edges).map((id) => nodes.find((n) => n.id === id)).filter((n): n is Node<StepData> => !!n)
          .map((n) => ({ id: n.id, name: n.data.name || n.id, type: n.data.nodeType, outputs: outputsOf(n as unknown as CanvasNode, entities, run) }))
      : [];
    return {
      app,
      entities,
      entityList: entitySlugs.map((s) => ({ slug: s, label: labelText(entities[s]?.label, i18n.language, s) })),
      reports: listOf('reports'),
      flows: listOf('flows').filter((f) => f.slug !== slug),
      triggerEntity,
      upstream: up,
      sample: run ? { trigger: run.trigger, steps: Object.fromEntries((run.steps ?? []).map((s) => [s.node, s.output])) } : undefined,
    };
  }, [app, entities, entitySlugs, i18n.language, appQ.data, slug, triggerEntity, nodes, edges, selected, run]); // eslint-disable-line react-hooks/exhaustive-deps

  const statuses = useMemo(() => {
    const m: Record<string, string> = {};
    for (const s of run?.steps ?? []) m[s.node] = s.status;
    return m;
  }, [run]);

  if (!base) return q.isError ? <Alert type="error" title={errorMessage(q.error)} /> : <Skeleton active />;
  const sel = nodes.find((n) => n.id === selected);
  const selCat = sel ? catalog.nodes.find((c) => c.type === sel.data.nodeType) : undefined;
  const updateSel = (patch: Partial<StepData>, key?: string) => {
    mergeKey.current = key ?? `param:${selected}:${Object.keys(patch).join(',')}`;
    setNodes((ns) => ns.map((n) => (n.id === selected ? decorate({ ...n, data: { ...n.data, ...patch } } as CanvasNode) : n)));
  };
  let schema = schemaOf(selCat);
  let op: CatalogOperation | undefined;
  if (sel?.data.nodeType === 'connector') {
    const p = sel.data.params;
    op = catalog.operations.find((o) => o.connector === p.connector && o.operation === p.operation);
    schema = op ? schemaOf(op) : undefined;
  }
  // 422 paths like nodes[3].params.expr index the definition just sent, i.e. the current canvas order
  const onErrors = (fe: FieldError[]) => setErrs(flowErrors(fe, getDefinition()!));
  const selErrs = sel ? errs.nodes[sel.id] : undefined;
  const badNodes = Object.keys(errs.nodes).length;
  const mustPublish = hist.dirty || !q.data?.meta.published_version || q.data?.meta.modified !== false;
  const publishNow = async () => {
    try {
      await save.mutateAsync({ slug, def: getSaveDefinition() });
      await publish.mutateAsync({ slug });
      hist.markSaved();
      onErrors([]);
      return true;
    } catch (e) {
      const fe = (e as { fieldErrors?: FieldError[] }).fieldErrors ?? [];
      onErrors(fe);
      message.error(errorMessage(e));
      return false;
    }
  };
  const selStep = sel ? run?.steps?.filter((s) => s.node === sel.id).pop() : undefined;
  /** saves unsaved changes first: the re-run uses the saved draft's node */
  const saveDraft = async () => {
    if (!hist.dirty) return true;
    try {
      await save.mutateAsync({ slug, def: getSaveDefinition() });
      hist.markSaved();
      onErrors([]);
      return true;
    } catch (e) {
      onErrors((e as { fieldErrors?: FieldError[] }).fieldErrors ?? []);
      message.error(errorMessage(e));
      return false;
    }
  };
  const triggerTitle = t(`triggers.${base.trigger.type}`, { defaultValue: base.trigger.type });
  const triggerDetail = triggerEntity ? labelText(entities[triggerEntity]?.label, i18n.language, triggerEntity) : base.trigger.type === 'webhook' ? String(base.trigger.key ?? '') : base.trigger.type === 'cron' ? String(base.trigger.schedule ?? '') : '';
  const inbound = new Set(edges.map((e) => e.target));
  const displayNodes: Node[] = [
    // fixed size: the trigger node is rebuilt each render, so it must not wait for a measurement
    { id: TRIGGER_ID, type: 'trigger', position: triggerPos, data: { title: triggerTitle, detail: triggerDetail }, draggable: false, deletable: false, selected: selected === null && !!nodes.length, width: 180, height: 72, measured: { width: 180, height: 72 } },
    ...nodes,
  ];
  const displayEdges: Edge[] = [
    ...nodes.filter((n) => !inbound.has(n.id)).map((n) => ({ id: `t-${n.id}`, source: TRIGGER_ID, target: n.id, deletable: false, selectable: false, style: { strokeDasharray: '4 3', stroke: '#722ed1' } })),
    ...edges.map((e) => (e.sourceHandle ? { ...e, label: t(`ports.${e.sourceHandle}`, { defaultValue: e.sourceHandle }) } : e)),
  ];

  return (
    <FlowContext.Provider value={ctx}>
    <div>
      <Space style={{ marginBottom: 8 }}>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>{t('flows.designer')}: {slug}</Typography.Title>
      </Space>
      <DefToolbar
        app={app}
        kind="flows"
        slug={slug}
        getDefinition={getSaveDefinition}
        onErrors={onErrors}
        onSaved={hist.markSaved}
        extra={
          <>
            <UndoRedo h={hist} />
            <Tooltip title={t('fb.autoLayout')}><Button icon={<ApartmentOutlined />} onClick={autoArrange} aria-label={t('fb.autoLayout')} data-testid="auto-layout" /></Tooltip>
            <Button type="primary" ghost icon={<CaretRightOutlined />} onClick={() => setRunOpen(true)} data-testid="flow-run">{t('fb.testRun')}</Button>
            <Link to={`/apps/${app}/flows/${slug}/runs`}><Button icon={<UnorderedListOutlined />}>{t('flows.runs')}</Button></Link>
          </>
        }
      />
      {run && <RunBanner run={run} onClose={() => setRunId(null)} onRefresh={() => void runQ.refetch()} />}
      {runQ.isError && <Alert type="error" showIcon closable onClose={() => setRunId(null)} title={errorMessage(runQ.error)} style={{ marginBottom: 8 }} />}
      {badNodes > 0 && <Alert type="warning" showIcon title={t('flows.errorsOnNodes')} style={{ marginBottom: 8 }} data-testid="flow-node-errors" />}
      {catalogQ.isError && <Alert type="warning" showIcon title={t('flows.noCatalog')} style={{ marginBottom: 8 }} />}
      <Row gutter={[12, 12]}>
        <Col xs={24} lg={4}>
          <Card size="small" title={t('flows.palette')} styles={{ body: { maxHeight: 620, overflow: 'auto', padding: 8 } }}>
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 4 }}>{t('fb.paletteHelp')}</Typography.Paragraph>
            <Collapse
              size="small"
              ghost
              activeKey={groups.map(([g]) => g).filter((g) => !folded.includes(g))}
              onChange={(open) => { const o = ([] as string[]).concat(open); setFolded(groups.map(([g]) => g).filter((g) => !o.includes(g))); }}
              items={groups.map(([g, list]) => ({
                key: g,
                label: t(`flows.cat.${g}`, { defaultValue: g }),
                children: list.map((n) => (
                  <div
                    key={n.type}
                    className="palette-item"
                    draggable
                    onDragStart={(e) => e.dataTransfer.setData('application/tessera-node', n.type)}
                    onClick={() => addNode(n.type)}
                    data-testid={`node-palette-${n.type}`}
                    title={labelText(n.description, i18n.language, '')}
                  >
                    {catLabel(n.type)}
                  </div>
                )),
              }))}
            />
          </Card>
        </Col>
        <Col xs={24} lg={13}>
          <div ref={canvasRef} style={{ height: 640, border: '1px solid #f0f0f0', borderRadius: 8, background: '#fff', position: 'relative' }} data-testid="flow-canvas">
            <ErrorsContext.Provider value={errs}>
            <RunContext.Provider value={statuses}>
            <ReactFlow
              nodes={displayNodes}
              edges={displayEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange as never}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeClick={(_e, n) => setSelected(n.id === TRIGGER_ID ? null : n.id)}
              onPaneClick={() => setSelected(null)}
              onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; }}
              onDrop={(e) => {
                e.preventDefault();
                const type = e.dataTransfer.getData('application/tessera-node');
                if (!type) return;
                const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
                addNode(type, { x: p.x - 90, y: p.y - 30 });
              }}
              fitView
              fitViewOptions={{ maxZoom: 1, padding: 0.2 }}
              deleteKeyCode={['Delete', 'Backspace']}
            >
              <Background />
              <Controls />
              {showMap && <MiniMap pannable zoomable position="top-right" style={{ width: 140, height: 90, opacity: 0.9 }} />}
            </ReactFlow>
            </RunContext.Provider>
            </ErrorsContext.Provider>
            <div style={{ position: 'absolute', left: 50, bottom: 10, zIndex: 5, background: '#fff', padding: '2px 6px', borderRadius: 4 }}>
              <Switch size="small" checked={showMap} onChange={setShowMap} /> <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('fb.minimap')}</Typography.Text>
            </div>
          </div>
        </Col>
        <Col xs={24} lg={7}>
          <Card size="small" title={sel ? (sel.data.name || catLabel(sel.data.nodeType)) : t('flows.trigger')} styles={{ body: { maxHeight: 620, overflow: 'auto' } }} data-testid="node-panel"
            extra={sel && <Button size="small" danger type="text" icon={<DeleteOutlined />} onClick={() => deleteNode(sel.id)} aria-label={t('common.delete')} data-testid="node-delete" />}
          >
            {sel ? (
              <>
                {selErrs && (
                  <Alert type="error" showIcon style={{ marginBottom: 12 }} data-testid="node-errors" title={t('flows.nodeHasErrors')}
                    description={<ul style={{ margin: 0, paddingLeft: 18 }}>{Object.entries(selErrs).map(([k, m]) => <li key={k}>{k ? <Typography.Text code>{k}</Typography.Text> : null} {m}</li>)}</ul>} />
                )}
                {selStep && (
                  <Card size="small" type="inner" style={{ marginBottom: 12 }} data-testid="node-last-run"
                    title={<Space>{t('fb.lastRun')}<Tag color={selStep.status === 'succeeded' ? 'success' : selStep.status === 'failed' ? 'error' : 'warning'}>{t(`runStatus.${selStep.status}`, { defaultValue: selStep.status })}</Tag>{selStep.port && <Tag>{t(`ports.${selStep.port}`, { defaultValue: selStep.port })}</Tag>}</Space>}>
                    {selStep.error ? <Alert type="error" showIcon title={String(selStep.error)} style={{ marginBottom: 8 }} /> : null}
                    <Typography.Text strong>{t('fb.stepInput')}</Typography.Text>
                    <ValueTable value={selStep.input} labels={paramLabels(schema, i18n.language)} entity={entities[String(sel.data.params.entity ?? '')]} testId="node-run-input" />
                    <div style={{ height: 8 }} />
                    <Typography.Text strong>{t('fb.stepOutput')}</Typography.Text>
                    <ValueTable value={selStep.output} entity={entities[String(sel.data.params.entity ?? '')]} testId="node-run-output" />
                    {run && (
                      <RerunPanel app={app} slug={slug} runId={run.id} node={sel.id} waits={!!selCat?.waits} result={reruns[sel.id]} beforeRun={saveDraft}
                        onResult={(r) => setReruns((m) => ({ ...m, [sel.id]: r }))} entity={entities[String(sel.data.params.entity ?? '')]} labels={paramLabels(schema, i18n.language)} />
                    )}
                  </Card>
                )}
                <Form layout="vertical" size="small">
                  <Form.Item label={t('flows.nodeName')} extra={<Typography.Text type="secondary" style={{ fontSize: 11 }}>{catLabel(sel.data.nodeType)} · {sel.id}</Typography.Text>}>
                    <Input value={sel.data.name} onChange={(e) => updateSel({ name: e.target.value }, `name:${sel.id}`)} data-testid="node-name" />
                  </Form.Item>
                  {sel.data.nodeType === 'connector' && (
                    <Form.Item label={t('flows.operation')}>
                      <Select
                        showSearch={{ optionFilterProp: "label" }}
                        value={sel.data.params.connector ? `${sel.data.params.connector}/${sel.data.params.operation}` : undefined}
                        options={catalog.operations.map((o) => ({ value: `${o.connector}/${o.operation}`, label: labelText(o.label, i18n.language, `${o.connector}.${o.operation}`) }))}
                        onChange={(v: string) => {
                          const [connector, operation] = v.split('/');
                          updateSel({ params: { connector, operation } });
                        }}
                      />
                    </Form.Item>
                  )}
                </Form>
                {labelText(selCat?.description, i18n.language, '') && <Typography.Paragraph type="secondary">{labelText(selCat?.description, i18n.language, '')}</Typography.Paragraph>}
                {sel.data.nodeType === 'connector' && sel.data.params.connector === 'ai' ? (
                  <AiNodeForm key={`${sel.id}-${String(sel.data.params.operation ?? '')}`} params={sel.data.params} schema={schema} errors={selErrs} onChange={(p) => updateSel({ params: p })} />
                ) : sel.data.nodeType === 'connector' ? (
                  <>
                    <Form layout="vertical" size="small">
                      <Form.Item label={t('flows.credential')}>
                        <CredentialSelect connector={String(sel.data.params.connector ?? '')} value={sel.data.params.credential as string | undefined} onChange={(v) => updateSel({ params: { ...sel.data.params, credential: v } })} />
                      </Form.Item>
                    </Form>
                    <SchemaForm
                      key={`${sel.id}-${String(sel.data.params.operation ?? '')}`}
                      schema={schema}
                      value={(sel.data.params.input && typeof sel.data.params.input === 'object' ? sel.data.params.input : {}) as Record<string, unknown>}
                      onChange={(p) => updateSel({ params: { ...sel.data.params, input: p } })}
                      errors={selErrs}
                    />
                  </>
                ) : (
                  <SchemaForm key={sel.id} schema={schema} value={sel.data.params} onChange={(p) => updateSel({ params: p })} errors={selErrs} nodeType={sel.data.nodeType} />
                )}
              </>
            ) : (
              <TriggerForm
                trigger={base.trigger}
                onChange={(tr) => { mergeKey.current = 'trigger'; setBase({ ...base, trigger: tr }); }}
                forms={listOf('forms')}
                catalog={catalog}
                errors={errs.trigger}
                ctx={ctx}
                pollPath={base.trigger.type === 'poll' && q.data?.meta.published_version ? `/api/v1/apps/${app}/flows/${slug}/poll` : undefined}
              />
            )}
          </Card>
        </Col>
      </Row>
      <TestRunModal open={runOpen} onClose={() => setRunOpen(false)} slug={slug} trigger={base.trigger} entity={triggerEntity} mustPublish={mustPublish} publish={publishNow} onStarted={setRunId}
        pinned={pinned} onPinned={setPinned} />
    </div>
    </FlowContext.Provider>
  );
}

export default function FlowDesigner() {
  return (
    <ReactFlowProvider>
      <Designer />
    </ReactFlowProvider>
  );
}
