// The dashboard grid model: widgets on a 24-column grid (builder/validate) <-> the layout items
// of react-grid-layout, adding a dropped report, the phone layout, and the global filter the
// pickers build.
import type { Widget } from '../api/types';

export const GRID_COLS = 24;
export const DEFAULT_W = 12;
export const DEFAULT_H = 8;
/** Below this width (px) widgets stack in one column. */
export const PHONE_WIDTH = 640;

export interface LayoutItem {
  i: string;
  x: number;
  y: number;
  w: number;
  h: number;
  minW?: number;
  minH?: number;
}

/** Gives every widget an id (w1, w2, ...) that is unique on the dashboard; keeps the ones it has. */
export function ensureIds(widgets: Widget[]): Widget[] {
  const used = new Set(widgets.map((w) => w.id).filter(Boolean));
  let n = 1;
  return widgets.map((w) => {
    if (w.id) return w;
    while (used.has(`w${n}`)) n++;
    used.add(`w${n}`);
    return { ...w, id: `w${n}` };
  });
}

/** The grid layout of the widgets (sizes clamped to the grid). */
export function toLayout(widgets: Widget[]): LayoutItem[] {
  return ensureIds(widgets).map((w) => {
    const width = Math.min(GRID_COLS, Math.max(2, w.w || DEFAULT_W));
    return { i: w.id!, x: Math.min(Math.max(0, w.x ?? 0), GRID_COLS - width), y: Math.max(0, w.y ?? 0), w: width, h: Math.max(2, w.h || DEFAULT_H), minW: 2, minH: 2 };
  });
}

/** The widgets moved and resized as the layout says (widgets the layout lacks stay as they were). */
export function fromLayout(widgets: Widget[], layout: readonly LayoutItem[]): Widget[] {
  const at = new Map(layout.map((l) => [l.i, l]));
  return ensureIds(widgets).map((w) => {
    const l = at.get(w.id!);
    return l ? { ...w, x: l.x, y: l.y, w: l.w, h: l.h } : w;
  });
}

/** Adds a widget showing report at a grid place (a drop), or below every widget. */
export function addWidget(widgets: Widget[], report: string, place?: Partial<Pick<Widget, 'x' | 'y' | 'w' | 'h'>>): Widget[] {
  const withIds = ensureIds(widgets);
  const bottom = withIds.reduce((m, w) => Math.max(m, (w.y ?? 0) + (w.h || DEFAULT_H)), 0);
  const w = Math.min(GRID_COLS, place?.w ?? DEFAULT_W);
  const added: Widget = { report, x: Math.min(Math.max(0, place?.x ?? 0), GRID_COLS - w), y: place?.y ?? bottom, w, h: place?.h ?? DEFAULT_H };
  return ensureIds([...withIds, added]);
}

/** The phone layout: widgets in reading order (top to bottom, left to right), each full width. */
export function stackLayout(widgets: Widget[]): Widget[] {
  return [...widgets].sort((a, b) => (a.y ?? 0) - (b.y ?? 0) || (a.x ?? 0) - (b.x ?? 0));
}

/** What the dashboard's global filter pickers hold. */
export interface GlobalFilter {
  owner?: string[];
  team?: string[];
  /** select field key -> values */
  fields?: Record<string, string[]>;
}

/** The filter JSON of the pickers (null when none is set). */
export function globalFilterJSON(g: GlobalFilter): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  if (g.owner?.length) out.owner_id = { in: g.owner };
  if (g.team?.length) out.team_id = { in: g.team };
  for (const [k, v] of Object.entries(g.fields ?? {})) if (v?.length) out[k] = { in: v };
  return Object.keys(out).length ? out : null;
}

/** The pickers of a filter JSON (conditions the pickers cannot show are dropped). */
export function parseGlobalFilter(raw: string | null | undefined): GlobalFilter {
  if (!raw) return {};
  let f: Record<string, unknown>;
  try {
    f = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return {};
  }
  if (!f || typeof f !== 'object' || Array.isArray(f)) return {};
  const list = (v: unknown): string[] | undefined => {
    const x = v && typeof v === 'object' ? (v as { in?: unknown }).in : v;
    return Array.isArray(x) ? x.map(String) : typeof x === 'string' ? [x] : undefined;
  };
  const g: GlobalFilter = {};
  for (const [k, v] of Object.entries(f)) {
    if (k === 'owner_id') g.owner = list(v);
    else if (k === 'team_id') g.team = list(v);
    else if (!['and', 'or', 'not'].includes(k)) {
      const l = list(v);
      if (l) g.fields = { ...(g.fields ?? {}), [k]: l };
    }
  }
  return g;
}
