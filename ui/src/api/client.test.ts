import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, buildUrl, errorMessage, errorsByField, getCsrfToken, parseProblem, setCsrfToken, uploadFile } from './client';

type Call = { url: string; init: RequestInit };
let calls: Call[] = [];

function mockFetch(status: number, body: unknown, contentType = 'application/json') {
  calls = [];
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(status === 204 ? null : text, { status, headers: { 'Content-Type': contentType } });
    }),
  );
}

beforeEach(() => {
  setCsrfToken(null);
  document.cookie = 'tessera_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
});
afterEach(() => vi.unstubAllGlobals());

describe('api client', () => {
  it('parses problem+json with field errors into ApiError', async () => {
    mockFetch(422, { type: 'about:blank', title: 'Unprocessable Entity', status: 422, detail: 'invalid definition', errors: [{ field: 'fields[1].key', code: 'invalid', message: 'bad key' }] }, 'application/problem+json');
    const err = (await api('/api/v1/apps/crm/entities/lead', { method: 'PUT', body: { slug: 'lead' } }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.message).toBe('invalid definition');
    expect(err.fieldErrors).toEqual([{ field: 'fields[1].key', code: 'invalid', message: 'bad key' }]);
    expect(errorsByField(err.fieldErrors)).toEqual({ 'fields[1].key': 'bad key' });
  });

  it('tolerates non-JSON error bodies', async () => {
    const p = await parseProblem(new Response('gateway down', { status: 502, statusText: 'Bad Gateway' }));
    expect(p.status).toBe(502);
    expect(p.detail).toBe('gateway down');
    expect(p.errors).toBeUndefined();
  });

  it('sends the CSRF header on unsafe methods only', async () => {
    setCsrfToken('tok-123');
    mockFetch(200, { ok: true });
    await api('/api/v1/apps', { method: 'POST', body: { slug: 'crm', name: 'CRM' } });
    await api('/api/v1/apps');
    const post = calls[0].init.headers as Record<string, string>;
    const get = calls[1].init.headers as Record<string, string>;
    expect(post['X-CSRF-Token']).toBe('tok-123');
    expect(post['Content-Type']).toBe('application/json');
    expect(calls[0].init.body).toBe('{"slug":"crm","name":"CRM"}');
    expect(get['X-CSRF-Token']).toBeUndefined();
    expect(calls[0].init.credentials).toBe('same-origin');
  });

  it('falls back to the tessera_csrf cookie', async () => {
    document.cookie = 'tessera_csrf=from-cookie; path=/';
    expect(getCsrfToken()).toBe('from-cookie');
    mockFetch(204, '');
    const r = await api('/api/v1/auth/logout', { method: 'POST' });
    expect(r).toBeNull();
    expect((calls[0].init.headers as Record<string, string>)['X-CSRF-Token']).toBe('from-cookie');
  });

  it('builds query strings without empty values', () => {
    expect(buildUrl('/r', { q: '张三', limit: 50, cursor: undefined, filter: '' })).toBe('/r?q=%E5%BC%A0%E4%B8%89&limit=50');
    expect(buildUrl('/r')).toBe('/r');
  });

  it('uploads multipart without a JSON content type', async () => {
    setCsrfToken('t');
    mockFetch(201, { id: 'f1', name: '报价单.pdf' });
    const f = await uploadFile(new Blob(['%PDF']), '报价单.pdf');
    expect(f.id).toBe('f1');
    expect(calls[0].init.body).toBeInstanceOf(FormData);
    expect((calls[0].init.headers as Record<string, string>)['Content-Type']).toBeUndefined();
    expect((calls[0].init.body as FormData).get('file')).toBeTruthy();
  });

  it('reports network failures as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    const err = (await api('/api/v1/me').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(errorMessage(err)).toBe('Failed to fetch');
  });

  it('errorMessage joins field errors when there is no detail', () => {
    const e = new ApiError({ status: 422, errors: [{ field: 'phone', message: 'invalid phone' }, { field: '', message: 'x' }] });
    expect(errorMessage(e)).toBe('phone: invalid phone; x');
  });
});
