import { useQueries } from '@tanstack/react-query';
import { api } from '../../api/client';
import { defPath, unwrapDefinition } from '../../api/defs';
import type { Role } from '../../api/admin';
import type { EntityDef, FieldDef } from '../../api/types';

/** The app's entity definitions (shared cache with useDefinition), by slug. */
export function useEntityDefs(app: string | undefined, slugs: string[]): Record<string, EntityDef> {
  const qs = useQueries({
    queries: slugs.map((s) => ({
      queryKey: ['def', app, 'entities', s],
      enabled: !!app,
      queryFn: async () => unwrapDefinition<EntityDef>(await api(defPath(app!, 'entities', s))),
      staleTime: 60_000,
    })),
  });
  const out: Record<string, EntityDef> = {};
  for (const q of qs) {
    const d = q.data?.def;
    if (d) out[d.slug] = d;
  }
  return out;
}

const OWNING = new Set(['relation', 'user', 'team']);

/**
 * The entities that are shared catalogues (products, price lists) rather than records people
 * own, so a new role sees all of them by default:
 * - the app's roles say so: a role that limits some entity to its owner's rows grants this one
 *   with scope "all";
 * - or its shape says so: line items of another entity pick it, and it has no stages and no
 *   relation, user or team field of its own.
 */
export function catalogueEntities(entities: EntityDef[], roles: Role[]): Set<string> {
  const out = new Set<string>();
  for (const r of roles) {
    const perms = r.permissions.filter((p) => p.resource.startsWith('entity:') && p.resource !== 'entity:*');
    if (!perms.some((p) => p.scope === 'own')) continue;
    for (const p of perms) if (p.scope === 'all') out.add(p.resource.slice('entity:'.length));
  }
  const picked = new Set<string>();
  for (const e of entities)
    for (const f of e.fields ?? [])
      if (f.type === 'lines') for (const c of (f.fields ?? []) as FieldDef[]) if (c.type === 'relation' && c.target) picked.add(c.target);
  for (const e of entities) {
    if (!picked.has(e.slug) || e.stages) continue;
    if (!(e.fields ?? []).some((f) => OWNING.has(f.type))) out.add(e.slug);
  }
  return out;
}

/** The row scope a resource starts with in the role editor. */
export function defaultScope(resource: string, catalogue: Set<string>): string {
  if (!resource.startsWith('entity:')) return 'all';
  return catalogue.has(resource.slice('entity:'.length)) ? 'all' : 'own';
}
