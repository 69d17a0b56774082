// Pure layout logic of the form designer.
import type { FormDef, FormItem } from '../api/types';

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

/** Inserts a field item at index (end when index is undefined); no-op if already placed. */
export function addToLayout(layout: FormItem[], field: string, index?: number): FormItem[] {
  if (placedFields(layout).includes(field)) return layout;
  const out = layout.slice();
  const at = index === undefined || index < 0 || index > out.length ? out.length : index;
  out.splice(at, 0, { field });
  return out;
}

/** Removes a top-level item. */
export function removeFromLayout(layout: FormItem[], index: number): FormItem[] {
  return layout.filter((_, i) => i !== index);
}

/** Moves a top-level item. */
export function moveInLayout(layout: FormItem[], from: number, to: number): FormItem[] {
  if (from === to || from < 0 || from >= layout.length || to < 0 || to >= layout.length) return layout;
  const out = layout.slice();
  const [x] = out.splice(from, 1);
  out.splice(to, 0, x);
  return out;
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
