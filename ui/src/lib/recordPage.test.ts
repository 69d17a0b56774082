import { describe, expect, it } from 'vitest';
import { fileKind, formatSize, localizeMessage, panelTitle, stageSteps, stageWindow, type RelatedPanel } from './recordPage';

describe('localizeMessage', () => {
  it.each([
    ['进入合同前需完成法务审核 / Legal review is required before the contract stage', 'en', 'Legal review is required before the contract stage'],
    ['进入合同前需完成法务审核 / Legal review is required before the contract stage', 'zh-CN', '进入合同前需完成法务审核'],
    ['Legal review first / 先完成法务审核', 'zh-CN', '先完成法务审核'],
    ['moving from "a" to "b" is not allowed yet (不满足阶段推进条件)', 'en', 'moving from "a" to "b" is not allowed yet'],
    ['moving from "a" to "b" is not allowed yet (不满足阶段推进条件)', 'zh-CN', '不满足阶段推进条件'],
    ['请上传带客户名称的正式报价单', 'en', '请上传带客户名称的正式报价单'],
    ['请上传 A / B 两份文件', 'en', '请上传 A / B 两份文件'],
    ['Upload the quote (PDF)', 'zh-CN', 'Upload the quote (PDF)'],
  ])('%s in %s', (msg, lang, want) => {
    expect(localizeMessage(msg, lang)).toBe(want);
  });
});

describe('stageSteps', () => {
  const order = ['new', 'proposal', 'negotiation', 'won', 'lost'];
  it('marks done, current and the next gate', () => {
    const steps = stageSteps(order, 'proposal', [
      { stage: 'new', allowed: true },
      { stage: 'proposal', allowed: true, current: true },
      { stage: 'negotiation', allowed: false, message: 'upload the quote' },
      { stage: 'won', allowed: true },
      { stage: 'lost', allowed: true },
    ], ['won', 'lost']);
    expect(steps.map((s) => s.status)).toEqual(['finish', 'process', 'error', 'wait', 'wait']);
    expect(steps[2]).toMatchObject({ next: true, blocked: true, message: 'upload the quote' });
    expect(steps.filter((s) => s.next)).toHaveLength(1);
  });
  it('a passing next gate waits; terminal stages are never next', () => {
    expect(stageSteps(order, 'negotiation', [{ stage: 'won', allowed: true }], ['won', 'lost']).some((s) => s.next)).toBe(false);
    const s = stageSteps(order, 'new', [{ stage: 'proposal', allowed: true }], ['won', 'lost']);
    expect(s[1]).toMatchObject({ next: true, blocked: false, status: 'wait' });
  });
  it('a record in no stage has the first stage next', () => {
    const s = stageSteps(order, undefined, [], []);
    expect(s[0].next).toBe(true);
    expect(s.every((x) => x.status === 'wait')).toBe(true);
  });
});

describe('stageWindow', () => {
  // the sales deal: new_lead first_call demo_done proposal negotiation contract won lost
  it.each([
    ['all fit', 8, 3, 8, { start: 0, end: 8 }],
    ['the drawer (5 slots) at proposal: before, current, next; menus both sides', 8, 3, 5, { start: 2, end: 5 }],
    ['at the first stage: no earlier menu', 8, 0, 5, { start: 0, end: 4 }],
    ['in no stage: as at the first', 8, -1, 5, { start: 0, end: 4 }],
    ['at the last stage: no later menu', 8, 7, 5, { start: 4, end: 8 }],
    ['near the end: the window reaches it', 8, 5, 5, { start: 4, end: 8 }],
    ['a phone (4 slots): current and next', 8, 3, 4, { start: 3, end: 5 }],
    ['fewer than 4 slots count as 4: current and next', 8, 3, 2, { start: 3, end: 5 }],
    ['4 stages always fit', 4, 2, 1, { start: 0, end: 4 }],
    ['at the first stage on a phone', 8, 0, 4, { start: 0, end: 3 }],
  ] as const)('%s', (_name, n, at, fits, want) => {
    const w = stageWindow(n, at, fits);
    expect(w).toEqual(want);
    expect(w.end - w.start + (w.start > 0 ? 1 : 0) + (w.end < n ? 1 : 0)).toBeLessThanOrEqual(Math.max(4, fits));
  });
});

describe('files', () => {
  it.each([
    ['image/png', 'a.png', 'image'],
    ['image/jpeg', 'a.jpg', 'image'],
    ['application/pdf', '报价单.pdf', 'pdf'],
    [undefined, 'scan.PDF', 'pdf'],
    ['image/svg+xml', 'x.svg', 'other'],
    ['text/csv', 'a.csv', 'other'],
  ])('%s %s is %s', (type, name, want) => {
    expect(fileKind(type, name)).toBe(want);
  });
  it('formats sizes', () => {
    expect([formatSize(812), formatSize(12_600), formatSize(4_718_592), formatSize(undefined)]).toEqual(['812 B', '12.3 KB', '4.5 MB', '']);
  });
});

describe('panelTitle', () => {
  const p = (x: Partial<RelatedPanel>): RelatedPanel => ({ entity: 'quote', field: 'deal', direction: 'in', filter: {}, count: 0, label: { en: 'Quote', 'zh-CN': '报价单' }, ...x });
  it('names incoming panels by entity, twins by field too, outgoing by field', () => {
    const a = p({});
    const b = p({ entity: 'contract', label: { en: 'Contract' } });
    const c = p({ entity: 'contract', field: 'renewal_of', field_label: { en: 'Renewal of' }, label: { en: 'Contract' } });
    const o = p({ entity: 'account', field: 'account', field_label: { en: 'Account', 'zh-CN': '客户' }, direction: 'out' });
    const all = [a, b, c, o];
    expect(panelTitle(a, all, 'zh-CN')).toBe('报价单');
    expect(panelTitle(c, all, 'en')).toBe('Contract · Renewal of');
    expect(panelTitle(o, all, 'zh-CN')).toBe('客户');
  });
});
