import { describe, expect, it } from 'vitest';
import { casesOf, listSources, patchAt, rulesOf } from './values';

describe('switch cases, assign rules and list sources', () => {
  it('reads switch cases and keeps unknown keys and equals cases intact', () => {
    const v = [{ port: 'big', when: 'trigger.record.amount > 500000' }, { port: 'vip', equals: 'vip', extra: 1 }, 'junk', { when: 'true' }];
    const c = casesOf(v);
    expect(c).toEqual([{ port: 'big', when: 'trigger.record.amount > 500000' }, { port: 'vip', equals: 'vip', extra: 1 }, { port: '', when: 'true' }]);
    expect(casesOf(undefined)).toEqual([]);
  });
  it('patches one row and drops keys set to undefined', () => {
    const c = casesOf([{ port: 'a', when: 'x' }, { port: 'b', when: 'y' }]);
    expect(patchAt(c, 1, { port: 'c' })).toEqual([{ port: 'a', when: 'x' }, { port: 'c', when: 'y' }]);
    expect(patchAt(c, 0, { when: undefined })).toEqual([{ port: 'a' }, { port: 'b', when: 'y' }]);
  });
  it('round-trips assign rules with a user or a team', () => {
    const v = [{ when: 'trigger.record.region == "east"', user: 'role:east' }, { when: 'true', team: 'sales' }, { user: 'starter' }];
    expect(rulesOf(v)).toEqual([{ when: 'trigger.record.region == "east"', user: 'role:east' }, { when: 'true', team: 'sales' }, { when: '', user: 'starter' }]);
    expect(JSON.parse(JSON.stringify(rulesOf(v).slice(0, 2)))).toEqual(v.slice(0, 2));
  });
  it('offers the records an upstream find returned and list outputs', () => {
    const up = [
      { id: 'find_1', name: '查找合同', type: 'record.find', outputs: [] },
      { id: 'rep', name: 'Report', type: 'report', outputs: ['rows', 'count'] },
      { id: 's', name: 'Script', type: 'script', outputs: ['ok'] },
    ];
    expect(listSources(up)).toEqual([
      { value: '{{ steps.find_1 }}', step: '查找合同' },
      { value: '{{ steps.rep.rows }}', step: 'Report', output: 'rows' },
    ]);
  });
});
