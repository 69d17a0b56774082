// Field keys generated from labels: "客户电话" -> "ke_hu_dian_hua", "Customer phone" ->
// "customer_phone"; always a valid key (lower snake case, starts with a letter, <= 40 chars) and
// unique among the taken keys. Pinyin comes from pinyin-pro, loaded only by the designers.
import { useEffect, useState } from 'react';

export type PinyinFn = (s: string) => string;

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const MAX = 40;

/** A key from a label (pinyin for Chinese characters when pinyin is given; dropped otherwise). */
export function slugKey(label: string, pinyin?: PinyinFn): string {
  let s = (label ?? '').trim();
  if (pinyin && CJK.test(s)) s = pinyin(s);
  s = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!s) return 'field';
  if (!/^[a-z]/.test(s)) s = `f_${s}`;
  return s.slice(0, MAX).replace(/_+$/, '');
}

/** base, or base_2, base_3, ... when taken. */
export function uniqueKey(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) {
    const k = `${base.slice(0, MAX - String(i).length - 1)}_${i}`;
    if (!used.has(k)) return k;
  }
}

/** The key for a new field: from the English label when given, else the Chinese one. */
export function keyFromLabels(labels: { en?: string; 'zh-CN'?: string }, taken: Iterable<string>, pinyin?: PinyinFn): string {
  const src = labels.en?.trim() || labels['zh-CN']?.trim() || '';
  return uniqueKey(slugKey(src, pinyin), taken);
}

let loading: Promise<PinyinFn> | null = null;

/** Loads pinyin-pro once (a separate chunk) and returns the converter. */
export function loadPinyin(): Promise<PinyinFn> {
  loading ??= import('pinyin-pro').then((m) => (s: string) => m.pinyin(s, { toneType: 'none', type: 'array', nonZh: 'consecutive', v: true }).join(' '));
  return loading;
}

/** The pinyin converter once loaded (undefined until then; keys fall back to a slug). */
export function usePinyin(): PinyinFn | undefined {
  const [fn, setFn] = useState<PinyinFn | undefined>(undefined);
  useEffect(() => {
    let live = true;
    loadPinyin().then((f) => live && setFn(() => f), () => undefined);
    return () => {
      live = false;
    };
  }, []);
  return fn;
}
