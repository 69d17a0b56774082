import { describe, expect, it } from 'vitest';
import type { RecordItem } from '../api/types';
import { ownerLanes } from './Kanban';

const rec = (id: string, owner: string | null): RecordItem => ({ id, data: {}, version: 1, owner_id: owner }) as RecordItem;

describe('ownerLanes', () => {
  it('groups by owner, sorted by name, records without an owner last', () => {
    const names = { map: { u1: '王五', u2: '李四' }, placeholder: 'Restricted' };
    const lanes = ownerLanes([rec('a', 'u1'), rec('b', null), rec('c', 'u2'), rec('d', 'u1'), rec('e', 'u3')], names, 'No owner');
    expect(lanes.map((l) => [l.label, l.records.map((r) => r.id).join('')])).toEqual([
      ['Restricted', 'e'],
      ['李四', 'c'],
      ['王五', 'ad'],
      ['No owner', 'b'],
    ]);
  });
});
