// Completion sources of the expression and script editors: what exists at a node.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import type { EntityDef } from '../../api/types';
import { labelText } from '../../lib/labels';
import type { FlowCtx } from './FlowContext';

/** expr-lang functions most flows need (https://expr-lang.org/docs/language-definition). */
export const EXPR_FUNCTIONS: [string, string][] = [
  ['len', 'len(list or text)'], ['now', 'now()'], ['duration', 'duration("72h")'], ['date', 'date("2024-01-31")'],
  ['any', 'any(list, {.name contains "x"})'], ['all', 'all(list, {# > 0})'], ['filter', 'filter(list, {# > 0})'], ['map', 'map(list, {.name})'],
  ['count', 'count(list, {# > 0})'], ['sum', 'sum(list)'], ['max', 'max(a, b)'], ['min', 'min(a, b)'], ['upper', 'upper(text)'], ['lower', 'lower(text)'],
  ['trim', 'trim(text)'], ['split', 'split(text, ",")'], ['join', 'join(list, ", ")'], ['string', 'string(x)'], ['int', 'int(x)'], ['float', 'float(x)'],
  ['round', 'round(x)'], ['abs', 'abs(x)'], ['first', 'first(list)'], ['last', 'last(list)'],
];

/** trigger.record.<field> (labelled, typed), steps.<node>.<output> and functions, under prefix ('' for expr, 'input.' for scripts). */
export function completionsFor(ctx: FlowCtx, lang: string, prefix = ''): Completion[] {
  const out: Completion[] = [];
  const ent: EntityDef | undefined = ctx.triggerEntity ? ctx.entities[ctx.triggerEntity] : undefined;
  out.push({ label: `${prefix}trigger`, type: 'variable', detail: lang.startsWith('zh') ? '触发数据' : 'what started the run' });
  if (ent) {
    out.push({ label: `${prefix}trigger.record`, type: 'variable', detail: labelText(ent.label, lang, ent.slug) });
    for (const k of ['id', 'owner_id', 'created_at']) out.push({ label: `${prefix}trigger.record.${k}`, type: 'property', detail: k });
    for (const f of ent.fields ?? []) {
      out.push({ label: `${prefix}trigger.record.${f.key}`, type: 'property', detail: `${labelText(f.label, lang, f.key)} · ${f.type}`, boost: 2 });
    }
    out.push({ label: `${prefix}trigger.old`, type: 'variable', detail: lang.startsWith('zh') ? '修改前的值' : 'values before the change' });
  } else {
    out.push({ label: `${prefix}trigger.input`, type: 'variable' }, { label: `${prefix}trigger.body`, type: 'variable' });
  }
  out.push({ label: `${prefix}steps`, type: 'variable', detail: lang.startsWith('zh') ? '前面步骤的输出' : 'outputs of earlier steps' });
  for (const n of ctx.upstream) {
    out.push({ label: `${prefix}steps.${n.id}`, type: 'variable', detail: n.name });
    for (const o of n.outputs) out.push({ label: `${prefix}steps.${n.id}.${o}`, type: 'property', detail: n.name });
  }
  if (!prefix) for (const [f, sig] of EXPR_FUNCTIONS) out.push({ label: f, type: 'function', detail: sig, apply: `${f}(` });
  return out;
}

/** The host API scripts may call (docs/scripting.md). */
export const HOST_API: [string, string][] = [
  ['records.find', 'records.find(entity, filter?, {limit, sort}?)'], ['records.get', 'records.get(entity, id)'],
  ['records.create', 'records.create(entity, values)'], ['records.update', 'records.update(entity, id, values)'],
  ['http.fetch', 'http.fetch(url, {method, headers, body}?)'], ['crypto.hmac', "crypto.hmac('sha256', key, data, encoding?)"],
  ['crypto.hash', "crypto.hash('sha256', data, encoding?)"], ['crypto.randomUUID', 'crypto.randomUUID()'], ['crypto.randomBytes', 'crypto.randomBytes(n, encoding?)'],
  ['encoding.base64Encode', 'encoding.base64Encode(data)'], ['encoding.base64Decode', 'encoding.base64Decode(text)'],
  ['encoding.hexEncode', 'encoding.hexEncode(data)'], ['encoding.hexDecode', 'encoding.hexDecode(text)'],
  ['log', 'log(...values)'],
];

/** A CodeMirror completion source over dotted paths. */
export function pathSource(options: () => Completion[]) {
  return (c: CompletionContext): CompletionResult | null => {
    const word = c.matchBefore(/[\w.]+/);
    if (!word || (word.from === word.to && !c.explicit)) return null;
    return { from: word.from, options: options(), validFor: /^[\w.]*$/ };
  };
}
