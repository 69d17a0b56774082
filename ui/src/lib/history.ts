// Formats record history changes: the server sends {field: [old, new]}; {field: {from,to}} is accepted too.

function show(v: unknown): string {
  if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return '∅';
  if (Array.isArray(v)) return v.map((x) => (x && typeof x === 'object' && 'name' in x ? String((x as { name: unknown }).name) : show(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One line per changed field: "field: old → new". */
export function describeChanges(
  changes: unknown,
  label: (key: string) => string = (k) => k,
  format?: (key: string, v: unknown) => string | undefined,
): string[] {
  if (!changes || typeof changes !== 'object' || Array.isArray(changes)) return [];
  return Object.entries(changes as Record<string, unknown>).map(([k, v]) => {
    const val = (x: unknown) => {
      if (x === null || x === undefined || x === '' || (Array.isArray(x) && x.length === 0)) return '∅';
      return format?.(k, x) || show(x);
    };
    if (Array.isArray(v) && v.length === 2) return `${label(k)}: ${val(v[0])} → ${val(v[1])}`;
    if (v && typeof v === 'object' && ('from' in v || 'to' in v || 'old' in v || 'new' in v)) {
      const o = v as Record<string, unknown>;
      return `${label(k)}: ${val(o.from ?? o.old)} → ${val(o.to ?? o.new)}`;
    }
    return `${label(k)}: ${val(v)}`;
  });
}
