import { CaretRightOutlined, DeleteOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { useMutation, useQuery } from '@tanstack/react-query';
import {
  Background, Controls, Handle, MiniMap, Position, ReactFlow, ReactFlowProvider, addEdge, useEdgesState, useNodesState, useReactFlow,
  type Connection, type Edge, type Node, type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Alert, App, Button, Card, Col, Collapse, Form, Input, Modal, Row, Select, Skeleton, Space, Typography } from 'antd';
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, errorMessage, type FieldError } from '../api/client';
import { defList, useApp, useDefinition } from '../api/defs';
import type { CatalogOperation, FlowDef, TriggerDef } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import SchemaForm, { JsonInput } from '../components/SchemaForm';
import { categoryOf, normalizeCatalog, schemaOf, type Catalog } from '../lib/catalog';
import { TRIGGER_TYPES, canConnect, defaultParams, flowErrors, fromCanvas, nextNodeId, portsOf, toCanvas, type CanvasEdge, type CanvasNode, type FlowErrors } from '../lib/flow';
import { labelText } from '../lib/labels';

type StepData = CanvasNode['data'] & { ports: string[]; label: string };

/** Publish errors of the designer's last failed save/publish, read by the canvas nodes. */
const ErrorsContext = createContext<FlowErrors>({ nodes: {}, trigger: {} });

function StepNode({ data, selected }: NodeProps<Node<StepData>>) {
  const ports = data.ports;
  const { t, i18n } = useTranslation();
  const cat = useCatalog().data?.nodes.find((c) => c.type === data.nodeType);
  const typeLabel = labelText(cat?.label ?? cat?.title, i18n.language, t(`nodes.${data.nodeType}`, { defaultValue: data.nodeType }));
  const bad = !!useContext(ErrorsContext).nodes[data.label];
  return (
    <div
      className={`flow-node${selected ? ' selected' : ''}`}
      data-testid={`flow-node-${data.label}`}
      data-error={bad || undefined}
      style={bad ? { borderColor: '#ff4d4f', boxShadow: '0 0 0 2px rgba(255,77,79,0.25)' } : undefined}
    >
      <Handle type="target" position={Position.Top} />
      <div><b>{data.name || data.label}</b></div>
      <div className="type" title={data.nodeType}>{typeLabel}</div>
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

const nodeTypes = { step: StepNode };

export function useCatalog() {
  return useQuery({ queryKey: ['catalog'], queryFn: async () => normalizeCatalog(await api('/api/v1/catalog')), staleTime: 300_000, retry: false });
}

function TriggerForm({ trigger, onChange, entities, forms, catalog, pollPath, errors }: { trigger: TriggerDef; onChange: (t: TriggerDef) => void; entities: string[]; forms: string[]; catalog: Catalog; pollPath?: string; errors?: Record<string, string> }) {
  const { t, i18n } = useTranslation();
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
      {['record.created', 'record.updated', 'stage.changed', 'record.deleted'].includes(type) && (
        <Form.Item label={t('common.entity')}>
          <Select value={trigger.entity} onChange={(v) => set({ entity: v })} options={entities.map((e) => ({ value: e, label: e }))} />
        </Form.Item>
      )}
      {type === 'record.updated' && (
        <Form.Item label={t('flows.whenFields')}>
          <Select mode="tags" open={false} value={trigger.fields ?? []} onChange={(v) => set({ fields: v.length ? v : undefined })} />
        </Form.Item>
      )}
      {type === 'stage.changed' && (
        <Space>
          <Input addonBefore={t('entity.from')} value={trigger.from} onChange={(e) => set({ from: e.target.value })} />
          <Input addonBefore={t('entity.to')} value={trigger.to} onChange={(e) => set({ to: e.target.value })} />
        </Space>
      )}
      {type === 'form.submitted' && (
        <Form.Item label={t('kinds.forms')}>
          <Select value={trigger.form} onChange={(v) => set({ form: v })} options={forms.map((e) => ({ value: e, label: e }))} />
        </Form.Item>
      )}
      {type === 'webhook' && (
        <>
          <Form.Item label={t('flows.webhookKey')} extra={trigger.key ? `POST /hooks/${trigger.key}` : undefined}>
            <Input value={trigger.key} onChange={(e) => set({ key: e.target.value })} />
          </Form.Item>
          <Form.Item label={t('flows.mode')}>
            <Select value={trigger.mode ?? 'async'} onChange={(v) => set({ mode: v })} options={[{ value: 'async', label: 'async' }, { value: 'sync', label: 'sync' }]} />
          </Form.Item>
        </>
      )}
      {type === 'cron' && (
        <>
          <Form.Item label={t('flows.schedule')} extra="0 9 * * 1-5">
            <Input value={trigger.schedule} onChange={(e) => set({ schedule: e.target.value })} style={{ fontFamily: 'monospace' }} />
          </Form.Item>
          <Form.Item label={t('flows.timezone')}>
            <Input value={trigger.timezone} placeholder="Asia/Shanghai" onChange={(e) => set({ timezone: e.target.value })} />
          </Form.Item>
        </>
      )}
      {type === 'poll' && <PollTriggerFields trigger={trigger} set={set} catalog={catalog} lang={i18n.language} pollPath={pollPath} />}
      {type !== 'cron' && type !== 'manual' && (
        <Form.Item label={t('flows.condition')}>
          <Input value={trigger.condition} onChange={(e) => set({ condition: e.target.value })} style={{ fontFamily: 'monospace' }} placeholder={type === 'poll' ? 'trigger.item.amount > 0' : 'record.score >= 50'} />
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
        <Input value={trigger.credential as string | undefined} onChange={(e) => set({ credential: e.target.value })} />
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

function Designer() {
  const { app = '', slug = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const nav = useNavigate();
  const q = useDefinition<FlowDef>(app, 'flows', slug);
  const appQ = useApp(app);
  const catalogQ = useCatalog();
  // stable while loading: decorate (and the effect re-decorating nodes) depends on catalog.nodes
  const catalog: Catalog = useMemo(() => catalogQ.data ?? normalizeCatalog(null), [catalogQ.data]);
  const [base, setBase] = useState<FlowDef | null>(null);
  const [nodes, setNodes, onNodesChange] = useNodesState<Node<StepData>>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [runOpen, setRunOpen] = useState(false);
  const [runInput, setRunInput] = useState<unknown>({});
  const [errs, setErrs] = useState<FlowErrors>({ nodes: {}, trigger: {} });
  // palette groups the analyst folded (the rest stay open, also groups that appear once the catalog loads)
  const [folded, setFolded] = useState<string[]>([]);
  const rf = useReactFlow();

  const decorate = useCallback(
    (n: CanvasNode): Node<StepData> => {
      const cat = catalog.nodes.find((c) => c.type === n.data.nodeType);
      return { ...n, data: { ...n.data, label: n.id, ports: portsOf(n.data.nodeType, n.data.params, cat?.ports) } };
    },
    [catalog.nodes],
  );

  useEffect(() => {
    if (q.data && base === null) {
      const d: FlowDef = q.data.def ? { ...q.data.def, trigger: q.data.def.trigger ?? { type: 'manual' }, nodes: q.data.def.nodes ?? [] } : { slug, trigger: { type: 'manual' }, nodes: [], edges: [] };
      setBase(d);
      const c = toCanvas(d);
      setNodes(c.nodes.map(decorate));
      setEdges(c.edges.map((e) => ({ ...e, label: e.label ?? undefined })));
    }
  }, [q.data, base, slug, decorate, setNodes, setEdges]);

  // the catalog may arrive after the definition: recompute ports (e.g. wait_event's event/timeout) so edges find their handles
  useEffect(() => {
    setNodes((ns) => ns.map((n) => decorate(n as unknown as CanvasNode)));
  }, [decorate, setNodes]);

  const run = useMutation({
    mutationFn: () => api<{ run_id?: string; id?: string }>(`/api/v1/apps/${encodeURIComponent(app)}/flows/${encodeURIComponent(slug)}/run`, { method: 'POST', body: runInput ?? {} }),
    onSuccess: (r) => {
      setRunOpen(false);
      const id = r?.run_id ?? r?.id;
      message.success(t('flows.started'));
      nav(id ? `/runs/${id}` : `/apps/${app}/flows/${slug}/runs`);
    },
    onError: (e) => message.error(errorMessage(e)),
  });

  const onConnect = useCallback(
    (c: Connection) => {
      if (!canConnect(edges as CanvasEdge[], c.source, c.target, c.sourceHandle)) return;
      setEdges((eds) => addEdge({ ...c, id: `e-${c.source}-${c.target}-${c.sourceHandle ?? ''}`, label: c.sourceHandle ?? undefined }, eds));
    },
    [edges, setEdges],
  );

  const addNode = (type: string, position?: { x: number; y: number }) => {
    const id = nextNodeId(type, nodes.map((n) => n.id));
    const n: CanvasNode = { id, type: 'step', position: position ?? { x: 120 + nodes.length * 20, y: 60 + nodes.length * 90 }, data: { nodeType: type, params: defaultParams(type) } };
    setNodes((ns) => [...ns, decorate(n)]);
    setSelected(id);
  };

  const groups = useMemo(() => {
    const g = new Map<string, typeof catalog.nodes>();
    for (const n of catalog.nodes) g.set(categoryOf(n), [...(g.get(categoryOf(n)) ?? []), n]);
    return [...g.entries()];
  }, [catalog.nodes]);

  if (!base) return q.isError ? <Alert type="error" title={errorMessage(q.error)} /> : <Skeleton active />;
  const sel = nodes.find((n) => n.id === selected);
  const selCat = sel ? catalog.nodes.find((c) => c.type === sel.data.nodeType) : undefined;
  const updateSel = (patch: Partial<StepData>) =>
    setNodes((ns) => ns.map((n) => (n.id === selected ? decorate({ ...n, data: { ...n.data, ...patch } } as CanvasNode) : n)));
  let schema = schemaOf(selCat);
  let op: CatalogOperation | undefined;
  if (sel?.data.nodeType === 'connector') {
    const p = sel.data.params;
    op = catalog.operations.find((o) => o.connector === p.connector && o.operation === p.operation);
    schema = op ? schemaOf(op) : undefined;
  }
  const getDefinition = () => fromCanvas(base, nodes as unknown as CanvasNode[], edges as CanvasEdge[]);
  // 422 paths like nodes[3].params.expr index the definition just sent, i.e. the current canvas order
  const onErrors = (fe: FieldError[]) => setErrs(flowErrors(fe, getDefinition()));
  const selErrs = sel ? errs.nodes[sel.id] : undefined;
  const choices: Record<string, string[]> = {
    entity: defList(appQ.data, 'entities').map((e) => e.slug),
    report: defList(appQ.data, 'reports').map((e) => e.slug),
    flow: defList(appQ.data, 'flows').map((e) => e.slug).filter((f) => f !== slug),
  };
  const badNodes = Object.keys(errs.nodes).length;

  return (
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
        getDefinition={getDefinition}
        onErrors={onErrors}
        extra={
          <>
            <Button icon={<CaretRightOutlined />} onClick={() => setRunOpen(true)} data-testid="flow-run">{t('flows.run')}</Button>
            <Link to={`/apps/${app}/flows/${slug}/runs`}><Button icon={<UnorderedListOutlined />}>{t('flows.runs')}</Button></Link>
          </>
        }
      />
      {badNodes > 0 && <Alert type="warning" showIcon title={t('flows.errorsOnNodes')} style={{ marginBottom: 8 }} data-testid="flow-node-errors" />}
      {catalogQ.isError && <Alert type="warning" showIcon title={t('flows.noCatalog')} style={{ marginBottom: 8 }} />}
      <Row gutter={12}>
        <Col span={4}>
          <Card size="small" title={t('flows.palette')} styles={{ body: { maxHeight: 620, overflow: 'auto', padding: 8 } }}>
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
                    {labelText(n.label ?? n.title, i18n.language, t(`nodes.${n.type}`, { defaultValue: n.type }))}
                  </div>
                )),
              }))}
            />
          </Card>
        </Col>
        <Col span={13}>
          <div style={{ height: 640, border: '1px solid #f0f0f0', borderRadius: 8, background: '#fff' }} data-testid="flow-canvas">
            <ErrorsContext.Provider value={errs}>
            <ReactFlow
              nodes={nodes}
              edges={edges.map((e) => (e.sourceHandle ? { ...e, label: t(`ports.${e.sourceHandle}`, { defaultValue: e.sourceHandle }) } : e))}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeClick={(_e, n) => setSelected(n.id)}
              onPaneClick={() => setSelected(null)}
              onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; }}
              onDrop={(e) => {
                e.preventDefault();
                const type = e.dataTransfer.getData('application/tessera-node');
                if (type) addNode(type, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
              }}
              fitView
              fitViewOptions={{ maxZoom: 1 }}
              deleteKeyCode={['Delete', 'Backspace']}
            >
              <Background />
              <Controls />
              <MiniMap pannable zoomable />
            </ReactFlow>
            </ErrorsContext.Provider>
          </div>
        </Col>
        <Col span={7}>
          <Card size="small" title={sel ? `${t('flows.node')}: ${sel.id}` : t('flows.trigger')} styles={{ body: { maxHeight: 620, overflow: 'auto' } }}
            extra={sel && <Button size="small" danger type="text" icon={<DeleteOutlined />} onClick={() => { setNodes((ns) => ns.filter((n) => n.id !== sel.id)); setEdges((es) => es.filter((e) => e.source !== sel.id && e.target !== sel.id)); setSelected(null); }} />}
          >
            {sel ? (
              <>
                {selErrs && (
                  <Alert type="error" showIcon style={{ marginBottom: 12 }} data-testid="node-errors" title={t('flows.nodeHasErrors')}
                    description={<ul style={{ margin: 0, paddingLeft: 18 }}>{Object.entries(selErrs).map(([k, m]) => <li key={k}>{k ? <Typography.Text code>{k}</Typography.Text> : null} {m}</li>)}</ul>} />
                )}
                <Form layout="vertical" size="small">
                  <Form.Item label={t('flows.nodeType')}><Typography.Text code>{sel.data.nodeType}</Typography.Text></Form.Item>
                  <Form.Item label={t('flows.nodeName')}><Input value={sel.data.name} onChange={(e) => updateSel({ name: e.target.value })} /></Form.Item>
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
                {sel.data.nodeType === 'connector' ? (
                  <>
                    <Form layout="vertical" size="small">
                      <Form.Item label={t('flows.credential')}>
                        <Input value={sel.data.params.credential as string} onChange={(e) => updateSel({ params: { ...sel.data.params, credential: e.target.value || undefined } })} />
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
                  <SchemaForm key={sel.id} schema={schema} value={sel.data.params} onChange={(p) => updateSel({ params: p })} errors={selErrs} choices={choices} nodeType={sel.data.nodeType} />
                )}
              </>
            ) : (
              <TriggerForm
                trigger={base.trigger}
                onChange={(tr) => setBase({ ...base, trigger: tr })}
                entities={defList(appQ.data, 'entities').map((e) => e.slug)}
                forms={defList(appQ.data, 'forms').map((e) => e.slug)}
                catalog={catalog}
                errors={errs.trigger}
                pollPath={base.trigger.type === 'poll' && q.data?.meta.published_version ? `/api/v1/apps/${app}/flows/${slug}/poll` : undefined}
              />
            )}
          </Card>
        </Col>
      </Row>
      <Modal title={t('flows.run')} open={runOpen} onCancel={() => setRunOpen(false)} onOk={() => run.mutate()} confirmLoading={run.isPending} okButtonProps={{ 'data-testid': 'flow-run-ok' }}>
        <Typography.Paragraph type="secondary">{t('flows.runInput')}</Typography.Paragraph>
        <JsonInput value={runInput} onChange={setRunInput} rows={6} />
      </Modal>
    </div>
  );
}

export default function FlowDesigner() {
  return (
    <ReactFlowProvider>
      <Designer />
    </ReactFlowProvider>
  );
}
