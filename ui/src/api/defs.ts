import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from './client';
import type { AppDetail, DefSummary } from './types';

export type DefKind = 'entities' | 'forms' | 'flows' | 'reports' | 'dashboards';
export const DEF_KINDS: DefKind[] = ['entities', 'forms', 'flows', 'reports', 'dashboards'];

const enc = encodeURIComponent;

/** Path of a definition resource. */
export function defPath(app: string, kind: DefKind, slug: string): string {
  return `/api/v1/apps/${enc(app)}/${kind}/${enc(slug)}`;
}

/**
 * Extracts the definition body from GET /apps/{app}/{kind}/{slug}. The server may answer the
 * definition itself or wrap it ({definition|draft|published, version, ...}).
 */
export function unwrapDefinition<T>(res: unknown): { def: T | null; meta: Record<string, unknown> } {
  if (!res || typeof res !== 'object') return { def: null, meta: {} };
  const r = res as Record<string, unknown>;
  for (const k of ['draft', 'definition', 'published', 'spec']) {
    const v = r[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>).slug !== undefined) {
      const meta = { ...r };
      delete meta[k];
      return { def: v as T, meta };
    }
  }
  const def: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!META_KEYS.has(k) && !(k === 'kind' && DEF_KIND_NAMES.has(v as string))) def[k] = v;
  return { def: def as T, meta: r };
}

/**
 * Keys the server adds around a definition (GET answers); they are not part of the definition body.
 * `kind` is metadata only when it names a definition kind: a report's own kind (funnel...) is body.
 */
const DEF_KIND_NAMES = new Set(['entities', 'forms', 'flows', 'reports', 'dashboards']);
const META_KEYS = new Set(['modified', 'published_version', 'updated_at', 'created_at', 'public_id', 'id', 'app_id', 'version', 'published_at', 'published_by', 'updated_by']);

/** Lists definitions of one kind from an app detail, accepting arrays of objects or slugs. */
export function defList(app: AppDetail | undefined, kind: DefKind): DefSummary[] {
  if (!app) return [];
  let v: unknown = (app as Record<string, unknown>)[kind];
  if (!v && app.definitions && typeof app.definitions === 'object') {
    const d = app.definitions as Record<string, unknown>;
    v = Array.isArray(d) ? (d as Record<string, unknown>[]).filter((x) => x.kind === kind || x.kind === kind.replace(/ies$/, 'y').replace(/s$/, '')) : d[kind];
  }
  if (!Array.isArray(v)) return [];
  return v
    .map((x) => {
      if (typeof x === 'string') return { slug: x } as DefSummary;
      const o = x as DefSummary & { draft?: Record<string, unknown>; definition?: Record<string, unknown> };
      const body = o.draft ?? o.definition ?? {};
      return { ...o, slug: o.slug ?? (body.slug as string), label: o.label ?? (body.label as DefSummary['label']) ?? (body.title as DefSummary['label']), entity: o.entity ?? (body.entity as string | undefined) };
    })
    .filter((x) => x && x.slug);
}

export function useApp(app: string | undefined) {
  return useQuery({
    queryKey: ['app', app],
    enabled: !!app,
    queryFn: () => api<AppDetail>(`/api/v1/apps/${enc(app!)}`),
  });
}

export interface AppAccess {
  loaded: boolean;
  /** save drafts, publish, see versions */
  design: boolean;
  /** export the app bundle */
  exportApp: boolean;
  /** whether the caller holds action on resource ("entity:lead", "form:web-lead", ...) */
  may: (resource: string, action: string) => boolean;
}

/** What the caller may do in an app (from the app answer's can/permissions); nothing until it loads. */
export function appAccess(detail: AppDetail | undefined): AppAccess {
  const perms = detail?.permissions ?? {};
  return {
    loaded: !!detail,
    design: !!detail?.can?.design,
    exportApp: !!detail?.can?.export,
    may: (resource, action) => (perms[resource] ?? []).includes(action),
  };
}

export function useAppAccess(app: string | undefined): AppAccess {
  return appAccess(useApp(app).data);
}

/** Loads a definition; a 404 resolves to null (new definition). */
export function useDefinition<T>(app: string, kind: DefKind, slug: string, enabled = true) {
  return useQuery({
    queryKey: ['def', app, kind, slug],
    enabled: enabled && !!app && !!slug,
    queryFn: async () => {
      try {
        return unwrapDefinition<T>(await api(defPath(app, kind, slug)));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return { def: null, meta: {} };
        throw e;
      }
    },
  });
}

export function useVersions(app: string, kind: DefKind, slug: string, enabled: boolean) {
  return useQuery({
    queryKey: ['versions', app, kind, slug],
    enabled,
    queryFn: async () => {
      const r = await api<unknown>(`${defPath(app, kind, slug)}/versions`);
      const list = Array.isArray(r) ? r : ((r as { items?: unknown[] })?.items ?? (r as { versions?: unknown[] })?.versions ?? []);
      return list as { version: number; created_at?: string; published_at?: string; created_by?: string; author?: string }[];
    },
  });
}

/** A finding that did not stop publishing (e.g. an assignee role without members). */
export interface PublishWarning {
  node?: string;
  field: string;
  code: string;
  role?: string;
  message: string;
}

/** Save draft (PUT) and publish (POST .../publish) mutations for a definition. */
export function useSaveDefinition(app: string, kind: DefKind) {
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: ({ slug, def }: { slug: string; def: unknown }) => api(defPath(app, kind, slug), { method: 'PUT', body: def }),
    onSuccess: (_r, v) => {
      void qc.invalidateQueries({ queryKey: ['app', app] });
      void qc.invalidateQueries({ queryKey: ['def', app, kind, v.slug] });
    },
  });
  const publish = useMutation({
    mutationFn: ({ slug }: { slug: string }) => api<{ version: number; warnings?: PublishWarning[] }>(`${defPath(app, kind, slug)}/publish`, { method: 'POST' }),
    onSuccess: (_r, v) => {
      void qc.invalidateQueries({ queryKey: ['app', app] });
      void qc.invalidateQueries({ queryKey: ['versions', app, kind, v.slug] });
      void qc.invalidateQueries({ queryKey: ['def', app, kind, v.slug] });
    },
  });
  return { save, publish };
}
