import type { FormInstance } from 'antd';
import { ApiError } from '../api/client';

/** Shows a 422's field errors next to the matching antd form items; true when any was shown. */
export function applyFieldErrors(form: FormInstance, e: unknown, prefix: (string | number)[] = []): boolean {
  if (!(e instanceof ApiError) || e.fieldErrors.length === 0) return false;
  const byName = new Map<string, string[]>();
  for (const fe of e.fieldErrors) {
    const name = fe.field.replace(/^(data|values|body)\./, '');
    byName.set(name, [...(byName.get(name) ?? []), fe.message]);
  }
  const known = new Set(Object.keys(form.getFieldsValue(true) ?? {}));
  const fields = [...byName.entries()].map(([name, errors]) => ({ name: [...prefix, ...name.split('.')], errors }));
  form.setFields(fields);
  return [...byName.keys()].some((k) => known.has(k.split('.')[0]));
}
