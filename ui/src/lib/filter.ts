// Simple filter rows (one value text per row) <-> the records API filter JSON. The full model
// with groups and typed values is lib/condition.ts (FilterInput); this adapter keeps the record
// list's quick filter working on the same serialiser.
import { type CondRow, toFilter } from './condition';

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
  const items: CondRow[] = rows
    .filter((r) => r.field && r.op)
    .map((r) => {
      const numeric = numericFields.includes(r.field);
      if (r.op === 'in') return { field: r.field, op: 'in', value: r.value.split(',').map((x) => coerce(x.trim(), numeric)).filter((x) => x !== '') };
      if (r.op === 'empty') return { field: r.field, op: r.value === 'false' ? 'not_empty' : 'empty' };
      return { field: r.field, op: r.op, value: coerce(r.value, numeric) };
    });
  return toFilter({ mode, items });
}

/** Encodes the filter for the `filter` query parameter (undefined when empty). */
export function encodeFilter(f: Record<string, unknown> | null): string | undefined {
  return f ? JSON.stringify(f) : undefined;
}
