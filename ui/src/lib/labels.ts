import type { Label, OptionDef } from '../api/types';

/** Text of a localized label for lang, falling back to en, zh-CN, any value, then fallback. */
export function labelText(label: Label | undefined | null, lang: string, fallback = ''): string {
  if (label == null) return fallback;
  if (typeof label === 'string') return label || fallback;
  return label[lang] || label['en'] || label['zh-CN'] || Object.values(label).find(Boolean) || fallback;
}

/** Value of a select option in either shape. */
export function optionValue(o: OptionDef): string {
  return typeof o === 'string' ? o : o.value;
}

/** Display label of a select option. */
export function optionLabel(o: OptionDef, lang: string): string {
  return typeof o === 'string' ? o : labelText(o.label, lang, o.value);
}

/** Safe list accessor: returns v when it is an array, [] otherwise. */
export function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
