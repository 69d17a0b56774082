// The credentials page's logic: which connectors take a credential, and what a save sends.
import type { ParamSpec } from './catalog';
import type { ParamSchema } from '../api/types';

/** A connector that has credential fields, as the catalog describes it. */
export interface CredentialConnector {
  id: string;
  label?: ParamSchema['title'];
  credentials: ParamSpec[];
}

/** A saved credential as GET …/credentials lists it (never its values; fields says which are set). */
export interface SavedCredential {
  id: string;
  name: string;
  connector: string;
  fields?: string[];
}

/** The connectors of a GET /api/v1/catalog answer that take a credential, in catalog order. */
export function connectorsWithCredentials(catalog: unknown): CredentialConnector[] {
  const list = (catalog as { connectors?: unknown })?.connectors;
  if (!Array.isArray(list)) return [];
  return list
    .filter((c): c is { id: string; label?: ParamSchema['title']; credentials: ParamSpec[] } => !!c && typeof c.id === 'string' && Array.isArray(c.credentials) && c.credentials.length > 0)
    .map((c) => ({ id: c.id, label: c.label, credentials: c.credentials }));
}

/**
 * The values a save sends: the connector's fields typed in (trimmed); empty ones are left out,
 * so on a change a field left empty keeps its saved value.
 */
export function credentialPayload(values: Record<string, unknown>, fields: ParamSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set(fields.map((f) => f.key));
  for (const [k, v] of Object.entries(values)) {
    if (!known.has(k)) continue;
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && v.trim() === '') continue;
    out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}
