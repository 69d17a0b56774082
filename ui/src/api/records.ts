import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Page, RecordItem } from './types';

const enc = encodeURIComponent;

export function recordsPath(app: string, entity: string, id?: string) {
  return `/api/v1/apps/${enc(app)}/entities/${enc(entity)}/records${id ? `/${enc(id)}` : ''}`;
}

export interface ListParams {
  q?: string;
  filter?: string;
  sort?: string;
  limit?: number;
}

/** Normalises a list answer ({items,next_cursor} or a bare array). */
export function toPage(r: unknown): Page<RecordItem> {
  if (Array.isArray(r)) return { items: r as RecordItem[], next_cursor: null };
  const o = (r ?? {}) as Page<RecordItem>;
  return { items: Array.isArray(o.items) ? o.items : [], next_cursor: o.next_cursor ?? null, display: o.display ?? {} };
}

/** Cursor-paged record list. */
export function useRecords(app: string, entity: string, p: ListParams, enabled = true) {
  return useInfiniteQuery({
    queryKey: ['records', app, entity, p],
    enabled: enabled && !!app && !!entity,
    initialPageParam: '' as string,
    queryFn: async ({ pageParam }) =>
      toPage(await api(recordsPath(app, entity), { query: { q: p.q, filter: p.filter, sort: p.sort, limit: p.limit ?? 50, cursor: pageParam || undefined } })),
    getNextPageParam: (last) => last.next_cursor || undefined,
  });
}

/** The display maps of every loaded page, merged. */
export function mergeDisplay(pages: { display?: Record<string, string> }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pages ?? []) Object.assign(out, p.display ?? {});
  return out;
}

export interface HistoryEvent {
  at?: string;
  actor?: string | null;
  actor_name?: string;
  kind?: string;
  changes?: unknown;
  [k: string]: unknown;
}

export function useHistory(app: string, entity: string, id: string | undefined) {
  return useQuery({
    queryKey: ['history', app, entity, id],
    enabled: !!id,
    queryFn: async () => {
      const r = await api<unknown>(`${recordsPath(app, entity, id)}/history`);
      const items = (Array.isArray(r) ? r : ((r as { items?: unknown[] })?.items ?? [])) as HistoryEvent[];
      const display = Array.isArray(r) ? {} : ((r as { display?: Record<string, string> })?.display ?? {});
      return { items, display };
    },
  });
}

/** One record (GET .../records/{id}); disabled without an id. */
export function useRecord(app: string, entity: string, id: string | null | undefined) {
  return useQuery({
    queryKey: ['record', app, entity, id],
    enabled: !!app && !!entity && !!id,
    retry: false,
    queryFn: () => api<RecordItem>(recordsPath(app, entity, id ?? '')),
  });
}
