// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { Widget } from '../api/types';
import { addWidget, ensureIds, fromLayout, globalFilterJSON, parseGlobalFilter, stackLayout, toLayout } from './dashboardLayout';

const w = (report: string, x: number, y: number, ww = 12, h = 8, id?: string): Widget => ({ report, x, y, w: ww, h, ...(id ? { id } : {}) });

describe('dashboard grid model', () => {
  it('gives widgets unique ids without changing the ones they have', () => {
    expect(ensureIds([w('a', 0, 0, 12, 8, 'w2'), w('b', 0, 8), w('c', 12, 0)]).map((x) => x.id)).toEqual(['w2', 'w1', 'w3']);
  });

  it('maps widgets to grid items, clamping sizes into the 24 columns', () => {
    expect(toLayout([w('a', 20, 0, 12, 1, 'a1')])).toEqual([{ i: 'a1', x: 12, y: 0, w: 12, h: 2, minW: 2, minH: 2 }]);
    expect(toLayout([w('a', -3, -1, 40, 6, 'a1')])[0]).toMatchObject({ x: 0, y: 0, w: 24, h: 6 });
  });

  it('takes a drag or resize back into the widgets', () => {
    const ws = [w('a', 0, 0, 12, 8, 'a1'), w('b', 12, 0, 12, 8, 'b1')];
    const moved = fromLayout(ws, [{ i: 'b1', x: 0, y: 8, w: 24, h: 10 }]);
    expect(moved).toEqual([w('a', 0, 0, 12, 8, 'a1'), w('b', 0, 8, 24, 10, 'b1')]);
    expect(fromLayout(ws, toLayout(ws))).toEqual(ws); // round trip
  });

  it('adds a dropped report where it was dropped, or below everything', () => {
    const ws = [w('a', 0, 0, 12, 8, 'w1'), w('b', 12, 0, 12, 10, 'w2')];
    expect(addWidget(ws, 'kpi', { x: 12, y: 10, w: 6, h: 4 })[2]).toEqual({ id: 'w3', report: 'kpi', x: 12, y: 10, w: 6, h: 4 });
    expect(addWidget(ws, 'kpi')[2]).toEqual({ id: 'w3', report: 'kpi', x: 0, y: 10, w: 12, h: 8 });
    expect(addWidget([], 'kpi', { x: 20, w: 12 })[0]).toMatchObject({ x: 12, y: 0 });
  });

  it('stacks widgets in reading order on a phone', () => {
    const ws = [w('c', 0, 8), w('b', 12, 0), w('a', 0, 0)];
    expect(stackLayout(ws).map((x) => x.report)).toEqual(['a', 'b', 'c']);
  });
});

describe('global filter pickers', () => {
  it('builds the filter of the pickers and reads it back', () => {
    const g = { owner: ['u1'], team: [], fields: { channel: ['web', 'sem'], office: [] } };
    const f = globalFilterJSON(g);
    expect(f).toEqual({ owner_id: { in: ['u1'] }, channel: { in: ['web', 'sem'] } });
    expect(parseGlobalFilter(JSON.stringify(f))).toEqual({ owner: ['u1'], fields: { channel: ['web', 'sem'] } });
    expect(globalFilterJSON({})).toBeNull();
    expect(parseGlobalFilter('{"stage":"won","or":[]}')).toEqual({ fields: { stage: ['won'] } });
    expect(parseGlobalFilter('not json')).toEqual({});
  });
});
