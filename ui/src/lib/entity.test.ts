import { describe, expect, it } from 'vitest';
import type { EntityDef } from '../api/types';
import { cleanField, groupErrors, isValidKey, moveField, nextFieldKey, normalizePath, removeField, setTransition, stagesFromField, typeSettings, upsertField, validateEntity } from './entity';

const lead: EntityDef = {
  slug: 'lead',
  label: { en: 'Lead', 'zh-CN': '线索' },
  fields: [
    { key: 'name', type: 'text', required: true },
    { key: 'phone', type: 'phone', unique: true },
    { key: 'email', type: 'email' },
    { key: 'stage', type: 'select', options: ['new', 'proposal', 'negotiation', 'won'] },
  ],
  stages: { field: 'stage', order: ['new', 'proposal', 'negotiation', 'won'], transitions: [{ from: 'proposal', to: 'negotiation', require: 'true', message: '请上传带客户名称的正式报价单' }] },
  dedupe: { keys: [['phone'], ['email']], on_duplicate: 'merge' },
};

describe('entity designer logic', () => {
  it('moves fields', () => {
    expect(moveField(lead.fields, 0, 2).map((f) => f.key)).toEqual(['phone', 'email', 'name', 'stage']);
    expect(moveField(lead.fields, 3, 0).map((f) => f.key)).toEqual(['stage', 'name', 'phone', 'email']);
    expect(moveField(lead.fields, 0, 9).map((f) => f.key)).toEqual(['name', 'phone', 'email', 'stage']);
  });

  it('validates keys', () => {
    expect(isValidKey('amount_2')).toBe(true);
    expect(isValidKey('2amount')).toBe(false);
    expect(isValidKey('Amount')).toBe(false);
    expect(nextFieldKey([{ key: 'field_1', type: 'text' }])).toBe('field_2');
  });

  it('cleans settings a type does not use', () => {
    const f = cleanField({ key: 'amount', type: 'money', currency: 'CNY', options: ['a'], target: 'x', required: false, label: { en: '', 'zh-CN': '' } });
    expect(f).toEqual({ key: 'amount', type: 'money', currency: 'CNY' });
    expect(typeSettings('select')).toContain('options');
    expect(typeSettings('relation')).toContain('target');
  });

  it('upserts fields', () => {
    const added = upsertField(lead.fields, -1, { key: 'amount', type: 'money' });
    expect(added.map((f) => f.key)).toEqual(['name', 'phone', 'email', 'stage', 'amount']);
    const replaced = upsertField(lead.fields, 0, { key: 'name', type: 'textarea' });
    expect(replaced[0].type).toBe('textarea');
  });

  it('removes a field with its references', () => {
    const noPhone = removeField(lead, 'phone');
    expect(noPhone.dedupe?.keys).toEqual([['email']]);
    const noStage = removeField(lead, 'stage');
    expect(noStage.stages).toBeUndefined();
    const bare = removeField(removeField(lead, 'phone'), 'email');
    expect(bare.dedupe).toBeUndefined();
  });

  it('derives stages from a select field and keeps valid gates', () => {
    const st = stagesFromField({ key: 'stage', type: 'select', options: ['new', { value: 'proposal' }, 'won'] }, lead.stages);
    expect(st.order).toEqual(['new', 'proposal', 'won']);
    expect(st.transitions).toEqual([]); // negotiation is gone, so its gate is dropped
    const st2 = setTransition(lead.stages!, { from: 'proposal', to: 'negotiation', require: 'false' });
    expect(st2.transitions).toHaveLength(1);
    expect(st2.transitions![0].require).toBe('false');
  });

  it('finds local definition errors with JSON paths', () => {
    expect(validateEntity(lead)).toEqual([]);
    const bad: EntityDef = { ...lead, fields: [...lead.fields, { key: 'name', type: 'select' }, { key: 'Bad', type: 'nope' }], dedupe: { keys: [['missing']] } };
    const paths = validateEntity(bad).map((e) => e.field);
    expect(paths).toEqual(expect.arrayContaining(['fields[4].key', 'fields[4].options', 'fields[5].key', 'fields[5].type', 'dedupe.keys[0][0]']));
  });

  it('normalises server error paths and groups them by field', () => {
    expect(normalizePath('fields.2.key')).toBe('fields[2].key');
    expect(normalizePath('/fields/2/options')).toBe('fields[2].options');
    expect(normalizePath('fields[3].type')).toBe('fields[3].type');
    expect(normalizePath('stages.transitions.0.require')).toBe('stages.transitions[0].require');
    const g = groupErrors([{ field: 'fields.1.key', message: 'dup' }, { field: 'stages.field', message: 'x' }]);
    expect(g.byField[1]).toEqual(['fields[1].key: dup']);
    expect(g.other).toEqual([{ path: 'stages.field', message: 'x' }]);
  });
});
