import { describe, expect, it } from 'vitest';
import { exprOf, formatDuration, formatPerson, isExprValue, levelsOf, move, parseDuration, parsePerson, peopleList, peopleValue, setValue, wrapExpr, OWNER_MANAGER } from './values';

describe('people picker values', () => {
  const cases: [string, ReturnType<typeof parsePerson>][] = [
    ['0b9c6a8e-3f0e-4a53-9a57-8f5b6f1f2a10', { kind: 'user', id: '0b9c6a8e-3f0e-4a53-9a57-8f5b6f1f2a10' }],
    ['role:director', { kind: 'role', role: 'director' }],
    ['email:legal@example.com', { kind: 'email', email: 'legal@example.com' }],
    ['starter', { kind: 'starter' }],
    ['{{ trigger.record.owner_id }}', { kind: 'owner' }],
    [OWNER_MANAGER, { kind: 'owner-manager' }],
    ['{{ steps.assign.user_id }}', { kind: 'expr', text: '{{ steps.assign.user_id }}' }],
  ];
  it.each(cases)('%s round-trips', (s, ref) => {
    expect(parsePerson(s)).toEqual(ref);
    expect(formatPerson(ref)).toBe(s);
  });
  it('stores one reference as a string and several as a list', () => {
    expect(peopleValue(['role:director'], true)).toBe('role:director');
    expect(peopleValue(['role:director', 'starter'], true)).toEqual(['role:director', 'starter']);
    expect(peopleValue(['a', 'b'], false)).toBe('a');
    expect(peopleValue([], true)).toBeUndefined();
    expect(peopleList('role:x')).toEqual(['role:x']);
    expect(peopleList(['a', '', null])).toEqual(['a']);
    expect(peopleList(undefined)).toEqual([]);
  });
});

describe('field-value mapper values', () => {
  it('tells expressions from fixed values and unwraps them', () => {
    expect(isExprValue('{{ trigger.record.amount * 2 }}')).toBe(true);
    expect(isExprValue('approved')).toBe(false);
    expect(isExprValue(5)).toBe(false);
    expect(exprOf('{{ trigger.record.amount * 2 }}')).toBe('trigger.record.amount * 2');
    expect(wrapExpr(' steps.find.count ')).toBe('{{ steps.find.count }}');
    expect(exprOf(wrapExpr('a + b'))).toBe('a + b');
  });
  it('sets and clears one field', () => {
    expect(setValue({ a: 1 }, 'status', 'approved')).toEqual({ a: 1, status: 'approved' });
    expect(setValue({ a: 1, b: 2 }, 'b', '')).toEqual({ a: 1 });
    expect(setValue({ a: 1, b: [] as unknown[] }, 'b', [])).toEqual({ a: 1 });
    expect(setValue(undefined, 'x', 0)).toEqual({ x: 0 });
  });
});

describe('durations and levels', () => {
  it.each([
    ['90m', 90, 'm'], ['2h', 2, 'h'], ['7d', 7, 'd'], ['1h30m', 90, 'm'], ['48h0m0s', 2, 'd'],
  ])('%s reads as %s%s', (s, n, unit) => {
    expect(parseDuration(s)).toEqual({ n, unit });
  });
  it('writes durations', () => {
    expect(formatDuration(3, 'd')).toBe('3d');
    expect(formatDuration(0, 'h')).toBeUndefined();
  });
  it('folds a lone assignee into assignees and reorders', () => {
    expect(levelsOf([{ name: 'd', assignee: 'role:director' }])).toEqual([{ name: 'd', assignees: ['role:director'] }]);
    expect(move([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
  });
});
