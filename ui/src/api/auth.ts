import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken } from './client';
import type { Me, User } from './types';

/** Normalises GET /me ({user, id, email, ...}) into a user. */
export function meUser(me: Me | null | undefined): User | null {
  if (!me) return null;
  const u = (me.user ?? {}) as Partial<User>;
  return { ...u, ...me, id: me.id ?? u.id ?? '', email: me.email ?? u.email ?? '', name: me.name ?? u.name, is_admin: me.is_admin ?? u.is_admin } as User;
}

/** The signed-in user (null while unknown); a 401 surfaces as error. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      const me = await api<Me>('/api/v1/me');
      if (me?.csrf_token) setCsrfToken(me.csrf_token);
      return meUser(me);
    },
    retry: false,
    staleTime: 60_000,
  });
}

/** Logs in and stores the CSRF token. */
export async function login(email: string, password: string) {
  const res = await api<{ token: string; csrf_token?: string; user: User }>('/api/v1/auth/login', {
    method: 'POST',
    body: { email, password },
  });
  setCsrfToken(res.csrf_token);
  return res;
}

/** Logs out (best effort) and clears cached data. */
export function useLogout() {
  const qc = useQueryClient();
  return async () => {
    try {
      await api('/api/v1/auth/logout', { method: 'POST' });
    } catch {
      /* the session may already be gone */
    }
    setCsrfToken(null);
    qc.clear();
  };
}
