import { describe, expect, it } from 'vitest';
import en from '../i18n/en';
import zhCN from '../i18n/zh-CN';
import { NOTIFICATION_KINDS, NOTIFICATION_MESSAGES, linkOf, messageOf, type Notification } from './notifications';

const base: Notification = { id: 'n1', kind: 'task_assigned', title: '回访客户', created_at: '2026-11-22T10:00:00Z' };

describe('notifications', () => {
  it.each([
    [{ kind: 'task_assigned', params: { task_kind: 'task' } }, 'task_assigned'],
    [{ kind: 'task_assigned', params: { task_kind: 'approval' } }, 'approval_assigned'],
    [{ kind: 'task_reminder', params: { task_kind: 'task' } }, 'task_reminder'],
    [{ kind: 'task_reminder', params: { task_kind: 'approval' } }, 'approval_reminder'],
    [{ kind: 'task_escalated' }, 'task_escalated'],
    [{ kind: 'task_delegated' }, 'task_delegated'],
    [{ kind: 'task_delegated', params: { by_name: 'Ann' } }, 'task_delegated_by'],
    [{ kind: 'approval_decided', params: { outcome: 'approved' } }, 'approval_approved'],
    [{ kind: 'approval_decided', params: { outcome: 'rejected' } }, 'approval_rejected'],
    [{ kind: 'intake_pending', record_id: 'r1', app: 'sales', entity: 'lead' }, 'intake_pending'],
    [{ kind: 'something_new' }, undefined],
  ] as [Partial<Notification>, string | undefined][])('%o -> %s', (n, key) => {
    const m = messageOf({ ...base, ...n });
    expect(m.key).toBe(key);
    expect(m.values.title).toBe('回访客户');
  });

  it('has a message in both languages for every key, and a key for every kind', () => {
    for (const k of NOTIFICATION_MESSAGES) {
      expect(en.notifications.msg[k], k).toBeTruthy();
      expect(zhCN.notifications.msg[k], k).toBeTruthy();
    }
    for (const kind of NOTIFICATION_KINDS) expect(messageOf({ ...base, kind }).key, kind).toBeTruthy();
  });

  it.each([
    [{ kind: 'task_reminder', task_id: 't1', app: 'crm', entity: 'lead', record_id: 'r1' }, '/tasks'],
    [{ kind: 'approval_decided', task_id: null, app: 'crm', entity: 'deal', record_id: 'r1', run_id: 'run1' }, '/apps/crm/entities/deal?record=r1'],
    [{ kind: 'approval_decided', run_id: 'run1' }, '/runs/run1'],
    [{ kind: 'approval_decided' }, undefined],
    [{ kind: 'intake_pending', app: 'sales', entity: 'lead', record_id: 'r1' }, '/apps/sales/entities/lead?record=r1'],
    [{ kind: 'message', params: { link: '/apps/crm/reports/weekly' }, app: 'crm', entity: 'lead', record_id: 'r1' }, '/apps/crm/reports/weekly'],
    [{ kind: 'message', params: { link: '//evil.example/x' }, run_id: 'run1' }, '/runs/run1'],
    [{ kind: 'message', params: { link: 'https://evil.example' } }, undefined],
    [{ kind: 'message', params: { link: '/a\\b' } }, undefined],
  ] as [Partial<Notification>, string | undefined][])('links %o to %s', (n, to) => {
    expect(linkOf({ ...base, ...n })).toBe(to);
  });
});
