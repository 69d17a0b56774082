// Pure helpers of the record page: bilingual messages, the stage bar's steps, file kinds and
// sizes, and the related-record panels' titles.

import type { Label } from '../api/types';
import { labelText } from './labels';

const HAN = /\p{Script=Han}/u;

/**
 * The part of a bilingual message for lang, like the server's LocalizeMessage: "中文 / English"
 * (the templates' gate messages) and "English (中文)" (built-in messages); anything else as written.
 */
export function localizeMessage(msg: string, lang: string): string {
  const en = lang.startsWith('en');
  const i = msg.indexOf(' / ');
  if (i >= 0) {
    const a = msg.slice(0, i).trim();
    const b = msg.slice(i + 3).trim();
    if (HAN.test(a) !== HAN.test(b)) return HAN.test(a) === en ? b : a;
  }
  if (msg.endsWith(')')) {
    const j = msg.lastIndexOf(' (');
    if (j > 0) {
      const head = msg.slice(0, j).trim();
      const zh = msg.slice(j + 2, -1);
      if (HAN.test(zh) && !HAN.test(head)) return en ? head : zh;
    }
  }
  return msg;
}

/** One stage of GET .../records/{id}/stages. */
export interface StageCheck {
  stage: string;
  current?: boolean;
  allowed: boolean;
  message?: string;
}

export interface StageStep {
  stage: string;
  status: 'finish' | 'process' | 'wait' | 'error';
  /** the gate refuses a move there now */
  blocked: boolean;
  message?: string;
  /** the stage right after the current one: its gate message is shown before anyone tries */
  next: boolean;
}

/**
 * The stage bar's steps: stages before the current one are finished, the current one is in
 * progress, the next one shows its gate (error when it refuses); terminal stages other than the
 * current one are never "next". A record in no stage of the order has every stage waiting and
 * the first one as next.
 */
export function stageSteps(order: string[], current: string | undefined, checks: StageCheck[], terminal: string[] = []): StageStep[] {
  const at = current ? order.indexOf(current) : -1;
  const byStage = new Map(checks.map((c) => [c.stage, c]));
  let nextIdx = -1;
  for (let i = at + 1; i < order.length; i++) {
    if (!terminal.includes(order[i])) {
      nextIdx = i;
      break;
    }
  }
  return order.map((s, i) => {
    const c = byStage.get(s);
    const blocked = !!c && !c.allowed;
    const next = i === nextIdx;
    let status: StageStep['status'] = i < at ? 'finish' : i === at ? 'process' : 'wait';
    if (next && blocked) status = 'error';
    return { stage: s, status, blocked, message: c?.message, next };
  });
}

/** The width a stage step wants before the bar folds stages into its menus. */
export const STAGE_STEP_MIN = 100;

/**
 * Which stages the bar shows in `fits` slots (its width / STAGE_STEP_MIN, at least 4: a phone
 * still shows the current and the next stage, their titles wrapping): all of them when they fit;
 * else the stages [start, end), with one slot for a menu of the earlier stages (start > 0) and
 * one for the later ones (end < n). The window keeps the current stage (at; -1: none, as 0) and
 * the next one, then as many stages as fit, the one before the current first.
 */
export function stageWindow(n: number, at: number, fits: number): { start: number; end: number } {
  const slots = Math.max(4, fits);
  if (n <= slots) return { start: 0, end: n };
  const a = Math.max(0, at);
  let best = { start: a, end: a + 1 };
  let score: number[] | null = null;
  for (let s = 0; s < n; s++) {
    for (let e = s + 1; e <= n; e++) {
      if (e - s + (s > 0 ? 1 : 0) + (e < n ? 1 : 0) > slots) continue;
      const has = (i: number) => (i >= s && i < e ? 1 : 0);
      const sc = [has(a), a + 1 < n ? has(a + 1) : 1, e - s, a > 0 ? has(a - 1) : 1, -s];
      if (!score || greater(sc, score)) {
        best = { start: s, end: e };
        score = sc;
      }
    }
  }
  return best;
}

function greater(x: number[], y: number[]): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
}

/** How a file is previewed: an inline image, a PDF in a frame, or a download. */
export function fileKind(type: string | undefined, name: string | undefined): 'image' | 'pdf' | 'other' {
  const t = (type ?? '').toLowerCase();
  const n = (name ?? '').toLowerCase();
  if (/^image\/(png|jpeg|gif|webp)$/.test(t) || (!t && /\.(png|jpe?g|gif|webp)$/.test(n))) return 'image';
  if (t === 'application/pdf' || (!t && n.endsWith('.pdf'))) return 'pdf';
  return 'other';
}

/** URL of a stored file; inline for a preview (images and PDFs only, the server decides). */
export function fileUrl(id: string, inline = false): string {
  return `/api/v1/files/${encodeURIComponent(id)}${inline ? '?inline=1' : ''}`;
}

/** A file size for people: 812 B, 12.3 KB, 4.5 MB. */
export function formatSize(n: number | undefined): string {
  if (n == null || !Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** One panel of GET .../records/{id}/related. */
export interface RelatedPanel {
  entity: string;
  label?: Label;
  field: string;
  field_label?: Label;
  direction: 'out' | 'in';
  multiple?: boolean;
  title_field?: string;
  filter: Record<string, unknown>;
  count: number;
}

/**
 * A panel's heading: the other entity's label, and for the links of other entities also the field
 * when that entity links through several fields (or the field's label differs from this entity's).
 */
export function panelTitle(p: RelatedPanel, all: RelatedPanel[], lang: string): string {
  const ent = labelText(p.label, lang, p.entity);
  if (p.direction === 'out') return labelText(p.field_label, lang, p.field);
  const twins = all.filter((x) => x.direction === 'in' && x.entity === p.entity).length;
  return twins > 1 ? `${ent} · ${labelText(p.field_label, lang, p.field)}` : ent;
}
