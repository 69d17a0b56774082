// Pure layout logic of the form designer: field items and sections (with columns), addressed by
// paths ([i] at the top level, [i, j] inside section i) and drop positions.
import type { FormDef, FormItem } from '../api/types';

/** Where an item is: [i] (top level) or [section, i]. */
export type Path = [number] | [number, number];

/** Where a drop lands: before index in the top level (section null) or in section `section`. */
export interface DropAt {
  section: number | null;
  index: number;
}

export const isSection = (it: FormItem): boolean => !it.field;

/** Field keys placed anywhere in a layout (sections included). */
export function placedFields(layout: FormItem[]): string[] {
  const out: string[] = [];
  const walk = (items: FormItem[]) => {
    for (const it of items) {
      if (it.field) out.push(it.field);
      if (it.items) walk(it.items);
    }
  };
  walk(layout ?? []);
  return out;
}

/** The item at path (undefined when there is none). */
export function itemAt(layout: FormItem[], path: Path): FormItem | undefined {
  const top = layout[path[0]];
  return path.length === 1 ? top : top?.items?.[path[1]];
}

/** The path of a field's item. */
export function pathOf(layout: FormItem[], field: string): Path | null {
  for (let i = 0; i < layout.length; i++) {
    if (layout[i].field === field) return [i];
    const j = (layout[i].items ?? []).findIndex((x) => x.field === field);
    if (j >= 0) return [i, j];
  }
  return null;
}

const clamp = (i: number, n: number) => (i < 0 || i > n || Number.isNaN(i) ? n : i);

/** Inserts item at a drop position (an index past the end appends); a section dropped into a section lands after it. */
export function insertAt(layout: FormItem[], at: DropAt, item: FormItem): FormItem[] {
  if (item.field && placedFields(layout).includes(item.field)) return layout;
  if (at.section === null || !layout[at.section] || !isSection(layout[at.section])) {
    const out = layout.slice();
    out.splice(clamp(at.index, out.length), 0, item);
    return out;
  }
  if (isSection(item)) return insertAt(layout, { section: null, index: at.section + 1 }, item);
  const out = layout.slice();
  const sec = out[at.section];
  const items = (sec.items ?? []).slice();
  items.splice(clamp(at.index, items.length), 0, item);
  out[at.section] = { ...sec, items };
  return out;
}

/** Removes the item at path. */
export function removeAt(layout: FormItem[], path: Path): FormItem[] {
  if (path.length === 1) return layout.filter((_, i) => i !== path[0]);
  return layout.map((it, i) => (i === path[0] ? { ...it, items: (it.items ?? []).filter((_, j) => j !== path[1]) } : it));
}

/** Replaces the item at path with patch applied (undefined values remove keys). */
export function updateAt(layout: FormItem[], path: Path, patch: Partial<FormItem>): FormItem[] {
  const apply = (it: FormItem): FormItem => {
    const next: Record<string, unknown> = { ...it, ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    return next as FormItem;
  };
  if (path.length === 1) return layout.map((it, i) => (i === path[0] ? apply(it) : it));
  return layout.map((it, i) => (i === path[0] ? { ...it, items: (it.items ?? []).map((x, j) => (j === path[1] ? apply(x) : x)) } : it));
}

/** Moves the item at from to a drop position (positions count before the item is taken out). */
export function moveTo(layout: FormItem[], from: Path, at: DropAt): FormItem[] {
  const item = itemAt(layout, from);
  if (!item) return layout;
  if (from.length === 1 && at.section === from[0]) return layout; // a section into itself
  let target = at;
  if (isSection(item) && at.section !== null) target = { section: null, index: at.section + 1 };
  // taking the item out shifts later positions of the same container
  const sameContainer = (from.length === 1 && target.section === null) || (from.length === 2 && target.section === from[0]);
  const fromIndex = from[from.length - 1];
  if (sameContainer) {
    if (target.index === fromIndex || target.index === fromIndex + 1) return layout;
    if (target.index > fromIndex) target = { ...target, index: target.index - 1 };
  } else if (from.length === 1 && target.section !== null && target.section > fromIndex) {
    target = { ...target, section: target.section - 1 };
  }
  return insertAt(removeAt(layout, from), target, item);
}

/** Appends a new empty section. */
export function addSection(layout: FormItem[], title: { 'zh-CN': string; en: string }, columns = 2): FormItem[] {
  return [...layout, { section: title, columns, items: [] }];
}

/** Whether a pointer at y drops before or after an element spanning top..top+height. */
export function dropIndex(index: number, top: number, height: number, y: number): number {
  return y > top + height / 2 ? index + 1 : index;
}

/** Removes fields the entity does not have (after the entity changed or a field was deleted). */
export function pruneLayout(layout: FormItem[], keys: string[]): FormItem[] {
  const ok = new Set(keys);
  return layout
    .filter((it) => !it.field || ok.has(it.field))
    .map((it) => (it.items ? { ...it, items: it.items.filter((x) => !x.field || ok.has(x.field)) } : it));
}

/** The section columns as a grid span (24 / columns). */
export function spanOf(columns: number | undefined): number {
  const c = columns && columns >= 1 && columns <= 3 ? columns : 1;
  return 24 / c;
}

/** Parses "key=value" lines into a defaults object. */
export function parseDefaults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (k) out[k] = line.slice(i + 1).trim();
  }
  return out;
}

/** Formats a defaults object as "key=value" lines. */
export function formatDefaults(d: Record<string, unknown> | undefined): string {
  return Object.entries(d ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

/** An empty form for an entity. */
export function emptyForm(slug: string, entity: string): FormDef {
  return { slug, entity, public: false, layout: [] };
}
