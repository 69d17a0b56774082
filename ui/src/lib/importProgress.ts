// Progress of an import followed with ?progress=<id> (GET /api/v1/imports/{id}, see
// docs/records.md "Progress"): the id the wizard sends, how its rows are split into requests and
// what the progress bar shows.

/** What GET /api/v1/imports/{id} answers while an import runs and for 10 minutes after. */
export interface ImportProgress {
  rows: number;
  /** Rows of the request when the server read them whole (mapped JSON, XLSX); absent for a stream. */
  rows_total?: number;
  created: number;
  merged: number;
  pending: number;
  failed: number;
  bytes_read: number;
  bytes_total?: number;
  done: boolean;
}

/** A progress id for ?progress=: 8 to 64 letters, digits, - or _. */
export function newProgressId(): string {
  const rand = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID().replace(/-/g, '') : Math.random().toString(36).slice(2) + Date.now().toString(36);
  return `wiz-${rand.slice(0, 24)}`;
}

/**
 * Splits the wizard's mapped rows into import requests: one request (one transaction) as long
 * as the JSON stays under maxBytes (the server reads mapped JSON whole, at most 20 MiB), more
 * otherwise. Sizes are estimated from the cells' UTF-8 length plus JSON quoting.
 */
export function importParts<T extends { cells: string[] }>(rows: T[], maxBytes = 8 << 20): T[][] {
  const out: T[][] = [];
  let part: T[] = [];
  let size = 0;
  const enc = new TextEncoder();
  for (const r of rows) {
    const n = r.cells.reduce((s, c) => s + enc.encode(c).length + 3, 2);
    if (part.length > 0 && size + n > maxBytes) {
      out.push(part);
      part = [];
      size = 0;
    }
    part.push(r);
    size += n;
  }
  if (part.length) out.push(part);
  return out;
}

/** What the bar shows: rows done of a total, or (no total known) rows done and bytes read. */
export interface ProgressView {
  percent: number;
  rows: number;
  total?: number;
  bytesRead?: number;
  bytesTotal?: number;
}

/**
 * The bar of a followed import. offset: rows of earlier requests of the same wizard import;
 * total: all its rows (undefined: the server's rows_total of this request, else bytes).
 * p is null until the server has started the request.
 */
export function progressView(p: ImportProgress | null | undefined, offset = 0, total?: number): ProgressView {
  const rows = offset + (p?.rows ?? 0);
  const all = total ?? (p?.rows_total !== undefined ? offset + p.rows_total : undefined);
  if (all !== undefined) {
    const percent = all > 0 ? Math.min(100, Math.floor((rows / all) * 100)) : p?.done ? 100 : 0;
    return { percent, rows, total: all };
  }
  const read = p?.bytes_read ?? 0;
  const percent = p?.done ? 100 : p?.bytes_total ? Math.min(99, Math.floor((read / p.bytes_total) * 100)) : 0;
  return { percent, rows, bytesRead: read, bytesTotal: p?.bytes_total };
}
