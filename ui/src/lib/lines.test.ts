import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../api/types';
import { applyFill, computeRecord, computeRows, moveRow, newRow, previewExpr, rowsOf, totalsOf } from './lines';

// the sales template's quote lines
const items: FieldDef = {
  key: 'items',
  type: 'lines',
  fields: [
    { key: 'product', type: 'relation', target: 'product', fill: { item_name: 'name', unit_price: 'price', max_discount: 'max_discount' } },
    { key: 'item_name', type: 'text', readonly: true },
    { key: 'quantity', type: 'number', default: 1 },
    { key: 'unit_price', type: 'money' },
    { key: 'discount', type: 'percent', default: 0 },
    { key: 'max_discount', type: 'percent', readonly: true },
    { key: 'line_total', type: 'formula', formula: 'round((line.quantity ?? 0) * (line.unit_price ?? 0) * (1 - (line.discount ?? 0) / 100) * 100) / 100' },
  ],
};
const quote = {
  fields: [
    items,
    { key: 'subtotal', type: 'formula', formula: 'sum(record.items ?? [], .line_total ?? 0)' },
    { key: 'discount', type: 'formula', formula: 'reduce(record.items ?? [], max(#acc, #.discount ?? 0), 0)' },
    { key: 'tax_rate', type: 'percent' },
    { key: 'tax', type: 'formula', formula: 'round((record.subtotal ?? 0) * (record.tax_rate ?? 0)) / 100' },
    { key: 'total', type: 'formula', formula: '(record.subtotal ?? 0) + (record.tax ?? 0)' },
    { key: 'over_limit', type: 'formula', formula: 'any(record.items ?? [], (.discount ?? 0) > (.max_discount ?? 0))' },
    { key: 'discount_key', type: 'formula', formula: "join(map(record.items ?? [], (.product ?? '') + ':' + string(.discount ?? 0)), ',')" },
    { key: 'unrelated', type: 'formula', formula: 'record.tax_rate * 2' },
  ] as FieldDef[],
};

describe('line items', () => {
  it('computes line totals and the set formulas like the server', () => {
    const rows = [
      { product: 'lic', quantity: 5, unit_price: 100000, discount: 15, max_discount: 10 },
      { product: 'svc', quantity: 2, unit_price: 50000, max_discount: 5 },
    ];
    expect(computeRows(items, rows).map((r) => r.line_total)).toEqual([425000, 100000]);
    const out = computeRecord(quote, { items: rows, tax_rate: 13 });
    expect(out).toMatchObject({ subtotal: 525000, tax: 68250, total: 593250, discount: 15, over_limit: true, discount_key: 'lic:15,svc:0' });
    expect(computeRecord(quote, { items: [], tax_rate: 13 })).toMatchObject({ subtotal: 0, total: 0, over_limit: false });
  });
  it('previews unknown or failing formulas as undefined instead of guessing', () => {
    expect(previewExpr('line.quantity * line.unit_price', { line: { quantity: 2 } })).toBeUndefined();
    expect(previewExpr('somethingElse(1)', {})).toBeUndefined();
    expect(previewExpr('1 +', {})).toBeUndefined();
    expect(computeRows(items, [{ quantity: 'x' }])[0].line_total).toBeUndefined();
  });
  it('evaluates the usual operators', () => {
    const cases: [string, unknown][] = [
      ['1 + 2 * 3', 7], ['(1 + 2) * 3', 9], ['10 % 4', 2], ['-2 + 5', 3], ['nil ?? 4', 4], ['3 > 2 && 1 >= 1', true],
      ['!(1 == 1) || false', false], ['"a" + "b"', 'ab'], ['2 > 1 ? "y" : "n"', 'y'], ['max(1, 7, 3)', 7], ['min([4, 2])', 2],
      ['round(2.5)', 3], ['round(-2.5)', -3], ['len([1, 2])', 2], ['"x" in ["x", "y"]', true], ['let a = 2; a * a', 4],
      ['count([1, 2, 3], # > 1)', 2], ['all([1, 2], # > 0)', true], ['filter([1, 2, 3], # != 2)', [1, 3]], ['[1, 2][-1]', 2],
    ];
    for (const [src, want] of cases) expect(previewExpr(src, {}), src).toEqual(want);
  });
  it('edits rows: defaults, moves, fills from the picked record', () => {
    expect(newRow(items)).toEqual({ quantity: 1, discount: 0 });
    const rows = [{ a: 1 }, { a: 2 }, { a: 3 }];
    expect(moveRow(rows, 0, 1)).toEqual([{ a: 2 }, { a: 1 }, { a: 3 }]);
    expect(moveRow(rows, 2, 1)).toBe(rows);
    const filled = applyFill(items, 'product', { product: 'lic', quantity: 3, unit_price: 1 }, { name: 'MES', price: 100000, max_discount: 10 });
    expect(filled).toEqual({ product: 'lic', quantity: 3, item_name: 'MES', unit_price: 100000, max_discount: 10 });
    // a cleared pick clears what it filled
    expect(applyFill(items, 'product', filled, null)).toEqual({ product: 'lic', quantity: 3 });
  });
  it('reads old JSON text and finds the totals that depend on the lines', () => {
    expect(rowsOf('[{"a":1}]')).toEqual([{ a: 1 }]);
    expect(rowsOf('not json')).toEqual([]);
    expect(rowsOf(null)).toEqual([]);
    expect(totalsOf(quote, 'items').map((f) => f.key)).toEqual(['subtotal', 'discount', 'tax', 'total', 'over_limit', 'discount_key']);
  });
});
