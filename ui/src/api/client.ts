// Thin fetch wrapper for the Tessera HTTP API: JSON bodies, cookie session with CSRF header,
// and RFC 9457 problem+json errors turned into ApiError.

/** One field-level validation error from a 422 problem. */
export interface FieldError {
  field: string;
  code?: string;
  message: string;
}

/** A parsed problem+json (or a synthetic one for network / non-JSON failures). */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  [k: string]: unknown;
}

/** Error thrown for every non-2xx answer. */
export class ApiError extends Error {
  status: number;
  problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
  /** Field errors (422), empty otherwise. */
  get fieldErrors(): FieldError[] {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

const CSRF_KEY = 'tessera.csrf';
let csrfToken: string | null = null;

/** Remembers the CSRF token returned by login or /me. */
export function setCsrfToken(token: string | null | undefined) {
  csrfToken = token ?? null;
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch {
    /* storage unavailable */
  }
}

/** The CSRF token: remembered one, else the readable tessera_csrf cookie. */
export function getCsrfToken(): string | null {
  if (csrfToken) return csrfToken;
  try {
    const s = sessionStorage.getItem(CSRF_KEY);
    if (s) return s;
  } catch {
    /* ignore */
  }
  if (typeof document !== 'undefined') {
    const m = document.cookie.match(/(?:^|;\s*)tessera_csrf=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
  }
  return null;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Parses a failed Response into a Problem, tolerating non-JSON bodies. */
export async function parseProblem(res: Response): Promise<Problem> {
  let body: unknown = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    const errors = Array.isArray(b.errors)
      ? (b.errors as unknown[])
          .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
          .map((e) => ({
            field: String(e.field ?? ''),
            code: e.code === undefined ? undefined : String(e.code),
            message: String(e.message ?? e.code ?? ''),
          }))
      : undefined;
    return {
      ...b,
      type: typeof b.type === 'string' ? b.type : undefined,
      title: typeof b.title === 'string' ? b.title : res.statusText || undefined,
      status: typeof b.status === 'number' ? b.status : res.status,
      detail: typeof b.detail === 'string' ? b.detail : typeof b.message === 'string' ? b.message : undefined,
      errors,
    };
  }
  return { status: res.status, title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) || undefined };
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined | null>;
  signal?: AbortSignal;
}

/** Called on 401 (session expired); the app sets it to redirect to /login. */
export let onUnauthorized: (() => void) | null = null;
export function setOnUnauthorized(fn: (() => void) | null) {
  onUnauthorized = fn;
}

/** Builds a URL with query parameters, dropping empty ones. */
export function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

/** Performs an API request and returns the parsed JSON (or null for empty bodies). */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = (opts.method ?? (opts.body !== undefined ? 'POST' : 'GET')).toUpperCase();
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  let body: BodyInit | undefined;
  if (opts.body instanceof FormData) {
    body = opts.body;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (!SAFE.has(method)) {
    const token = getCsrfToken();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError({ status: 0, title: 'Network error', detail: (e as Error)?.message });
  }
  if (!res.ok) {
    const problem = await parseProblem(res);
    if (res.status === 401 && onUnauthorized && !path.endsWith('/auth/login')) onUnauthorized();
    throw new ApiError(problem);
  }
  if (res.status === 204) return null as T;
  const text = await res.text();
  if (!text) return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as unknown as T;
  }
}

/** Uploads one file (multipart "file") and returns the stored file object. */
export async function uploadFile(file: File | Blob, name?: string): Promise<{ id: string; name?: string; [k: string]: unknown }> {
  const fd = new FormData();
  fd.append('file', file, name ?? (file as File).name ?? 'file');
  return api('/api/v1/files', { method: 'POST', body: fd });
}

/** Maps field errors to an object keyed by field path (first message wins). */
export function errorsByField(errors: FieldError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const k = e.field || '';
    if (!(k in out)) out[k] = e.message || e.code || '';
  }
  return out;
}

/** Human message for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    const fe = e.fieldErrors;
    if (e.problem.detail) return e.problem.detail;
    if (fe.length) return fe.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message)).join('; ');
    return e.problem.title || `HTTP ${e.status}`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
