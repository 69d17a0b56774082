import type { FormInstance } from 'antd';
import { ApiError } from '../api/client';

/** Shows a 422's field errors next to the matching antd form items; true when any was shown. */
export function applyFieldErrors(form: FormInstance, e: unknown, prefix: (string | number)[] = []): boolean {
  if (!(e instanceof ApiError) || e.fieldErrors.length === 0) return false;
  const byName = new Map<string, string[]>();
  for (const fe of e.fieldErrors) {
    let name = fe.field.replace(/^(data|values|body)\./, '');
    let msg = fe.message;
    // a row of a lines field ("items[2].quantity"): shown on the field, naming row and column
    const row = /^([a-z][a-z0-9_]*)\[(\d+)\]\.?(.*)$/.exec(name);
    if (row) {
      name = row[1];
      msg = `#${Number(row[2]) + 1}${row[3] ? ` ${row[3]}` : ''}: ${fe.message}`;
    }
    byName.set(name, [...(byName.get(name) ?? []), msg]);
  }
  const known = new Set(Object.keys(form.getFieldsValue(true) ?? {}));
  const fields = [...byName.entries()].map(([name, errors]) => ({ name: [...prefix, ...name.split('.')], errors }));
  form.setFields(fields);
  return [...byName.keys()].some((k) => known.has(k.split('.')[0]));
}
