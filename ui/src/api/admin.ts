import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { User } from './types';
import { asArray } from '../lib/labels';

export interface Team {
  id: string;
  name: string;
  parent_id?: string | null;
  manager_id?: string | null;
  members?: number;
}

export interface Permission {
  resource: string;
  actions: string[];
  scope: string;
}

export interface Role {
  app: string;
  name: string;
  permissions: Permission[];
  fields?: Record<string, { hidden?: string[]; readonly?: string[] }>;
  builtin?: boolean;
}

export const ACTIONS = ['read', 'create', 'update', 'delete', 'export', 'run', 'publish', 'manage'];
export const SCOPES = ['own', 'team', 'team_tree', 'all'];

function items<T>(r: unknown): T[] {
  return asArray<T>(Array.isArray(r) ? r : (r as { items?: unknown })?.items);
}

export function useUsers(q?: string) {
  return useQuery({ queryKey: ['admin-users', q ?? ''], queryFn: async () => items<User>(await api('/api/v1/admin/users', { query: { q, limit: 500 } })) });
}

export function useTeams() {
  return useQuery({ queryKey: ['admin-teams'], queryFn: async () => items<Team>(await api('/api/v1/admin/teams')) });
}

export function useRoles(app?: string) {
  return useQuery({ queryKey: ['admin-roles', app ?? ''], queryFn: async () => items<Role>(await api('/api/v1/admin/roles', { query: { app } })) });
}

/** Builds an antd tree from flat teams (parent_id links); orphans become roots. */
export function teamTree(teams: Team[]): { key: string; title: string; team: Team; children: ReturnType<typeof teamTree> }[] {
  const ids = new Set(teams.map((t) => t.id));
  const build = (parent: string | null): ReturnType<typeof teamTree> =>
    teams
      .filter((t) => (parent === null ? !t.parent_id || !ids.has(t.parent_id) : t.parent_id === parent))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => ({ key: t.id, title: t.name, team: t, children: build(t.id) }));
  return build(null);
}

/** Toggles one action of a resource in a permission list (adding the resource with scope when needed). */
export function togglePermission(perms: Permission[], resource: string, action: string, on: boolean, scope = 'own'): Permission[] {
  const out = perms.map((p) => ({ ...p, actions: [...p.actions] }));
  let p = out.find((x) => x.resource === resource);
  if (!p) {
    if (!on) return out;
    p = { resource, actions: [], scope };
    out.push(p);
  }
  p.actions = on ? [...new Set([...p.actions, action])] : p.actions.filter((a) => a !== action);
  return out.filter((x) => x.actions.length > 0);
}
