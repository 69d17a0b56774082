import { describe, expect, it } from 'vitest';
import { type ImportProgress, importParts, newProgressId, progressView } from './importProgress';

const p = (over: Partial<ImportProgress>): ImportProgress => ({ rows: 0, created: 0, merged: 0, pending: 0, failed: 0, bytes_read: 0, done: false, ...over });

describe('progressView', () => {
  it.each([
    ['not started, total known', null, 0, 3000, { percent: 0, rows: 0, total: 3000 }],
    ['rows of the total', p({ rows: 1000, rows_total: 3000 }), 0, 3000, { percent: 33, rows: 1000, total: 3000 }],
    ['a later part adds the earlier parts', p({ rows: 500 }), 2000, 3000, { percent: 83, rows: 2500, total: 3000 }],
    ['the server total when the caller has none', p({ rows: 600, rows_total: 1200 }), 0, undefined, { percent: 50, rows: 600, total: 1200 }],
    ['never past 100', p({ rows: 40, done: true }), 0, 30, { percent: 100, rows: 40, total: 30 }],
    ['an empty import that is done', p({ done: true }), 0, 0, { percent: 100, rows: 0, total: 0 }],
    ['a stream: bytes of the total', p({ rows: 5000, bytes_read: 1 << 20, bytes_total: 4 << 20 }), 0, undefined, { percent: 25, rows: 5000, bytesRead: 1 << 20, bytesTotal: 4 << 20 }],
    ['a chunked stream: rows and bytes only', p({ rows: 5000, bytes_read: 2048 }), 0, undefined, { percent: 0, rows: 5000, bytesRead: 2048, bytesTotal: undefined }],
    ['a stream that is done', p({ rows: 7, bytes_read: 99, bytes_total: 99, done: true }), 0, undefined, { percent: 100, rows: 7, bytesRead: 99, bytesTotal: 99 }],
  ] as const)('%s', (_name, prog, offset, total, want) => {
    expect(progressView(prog, offset, total)).toEqual(want);
  });
});

describe('newProgressId', () => {
  it('answers ids the server accepts, a new one each time', () => {
    const a = newProgressId();
    expect(a).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(`${a}-12`).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(newProgressId()).not.toBe(a);
  });
});

describe('importParts', () => {
  const rows = (n: number, cell: string) => Array.from({ length: n }, (_, at) => ({ at, cells: [cell, 'x'] }));
  it('keeps everything in one request under the limit', () => {
    expect(importParts(rows(3000, '名称')).length).toBe(1);
  });
  it('splits by JSON size past it, keeping the order', () => {
    const parts = importParts(rows(10, 'abcdefgh'), 60); // each row: 2 + (8+3) + (1+3) = 17 bytes
    expect(parts.map((x) => x.length)).toEqual([3, 3, 3, 1]);
    expect(parts.flat().map((r) => r.at)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('sends a row larger than the limit alone', () => {
    expect(importParts(rows(2, 'x'.repeat(100)), 60).map((x) => x.length)).toEqual([1, 1]);
  });
});
