// Filter builder model <-> the records API filter JSON ({"field":{"op":value}}, {"or":[...]}).

export interface FilterRow {
  field: string;
  op: string;
  value: string;
}

export const FILTER_OPS = ['eq', 'ne', 'contains', 'gt', 'gte', 'lt', 'lte', 'in', 'empty'] as const;

function coerce(value: string, numeric: boolean): unknown {
  if (numeric && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** Builds the filter JSON; rows with no field are ignored; mode "or" wraps them in {"or":[...]}. */
export function buildFilter(rows: FilterRow[], mode: 'and' | 'or' = 'and', numericFields: string[] = []): Record<string, unknown> | null {
  const parts: Record<string, unknown>[] = [];
  for (const r of rows) {
    if (!r.field || !r.op) continue;
    const numeric = numericFields.includes(r.field);
    let v: unknown;
    if (r.op === 'in') v = r.value.split(',').map((x) => coerce(x.trim(), numeric)).filter((x) => x !== '');
    else if (r.op === 'empty') v = r.value !== 'false';
    else v = coerce(r.value, numeric);
    parts.push({ [r.field]: { [r.op]: v } });
  }
  if (!parts.length) return null;
  if (mode === 'or') return parts.length === 1 ? parts[0] : { or: parts };
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of parts) {
    const [k, cond] = Object.entries(p)[0];
    out[k] = { ...(out[k] ?? {}), ...(cond as Record<string, unknown>) };
  }
  return out;
}

/** Encodes the filter for the `filter` query parameter (undefined when empty). */
export function encodeFilter(f: Record<string, unknown> | null): string | undefined {
  return f ? JSON.stringify(f) : undefined;
}
