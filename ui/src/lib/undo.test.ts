import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, historyOf, pushHistory, redoHistory, undoHistory } from './undo';

describe('undo history', () => {
  it('undoes and redoes in order; a new change drops the redo branch', () => {
    let h = historyOf({ n: 0 });
    h = pushHistory(h, { n: 1 });
    h = pushHistory(h, { n: 2 });
    h = undoHistory(h);
    expect(h.present).toEqual({ n: 1 });
    h = undoHistory(h);
    expect(h.present).toEqual({ n: 0 });
    expect(undoHistory(h)).toBe(h);
    h = redoHistory(h);
    expect(h.present).toEqual({ n: 1 });
    h = pushHistory(h, { n: 5 });
    expect(h.future).toEqual([]);
    expect(redoHistory(h)).toBe(h);
  });

  it('merges changes with the same key into one step and ignores equal states', () => {
    let h = historyOf('');
    for (const s of ['a', 'ab', 'abc']) h = pushHistory(h, s, 'label');
    h = pushHistory(h, 'abc', 'other');
    expect(h.past).toEqual(['']);
    h = pushHistory(h, 'abcd', 'other');
    expect(h.past).toEqual(['', 'abc']);
    expect(undoHistory(undoHistory(h)).present).toBe('');
  });

  it('keeps at most HISTORY_LIMIT steps', () => {
    let h = historyOf(0);
    for (let i = 1; i <= HISTORY_LIMIT + 20; i++) h = pushHistory(h, i);
    expect(h.past).toHaveLength(HISTORY_LIMIT);
    expect(h.past[0]).toBe(20);
  });
});
