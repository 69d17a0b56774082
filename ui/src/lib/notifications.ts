// In-app notifications (GET /api/v1/notifications): types, the message key per kind and the
// page a notification links to.

/** One notification as the API answers it. */
export interface Notification {
  id: string;
  kind: string;
  title: string;
  params?: Record<string, unknown>;
  /** Server-rendered text per language ("en", "zh-CN"), used for kinds the UI does not know. */
  text?: Record<string, string>;
  app?: string | null;
  entity?: string | null;
  task_id?: string | null;
  run_id?: string | null;
  record_id?: string | null;
  created_at: string;
  read_at?: string | null;
}

/** One page of notifications, newest first. */
export interface NotificationPage {
  items: Notification[];
  next_cursor?: string | null;
  unread_count: number;
}

/** The notification kinds the server sends. */
export const NOTIFICATION_KINDS = ['task_assigned', 'task_reminder', 'task_escalated', 'task_delegated', 'approval_decided', 'intake_pending', 'mention'] as const;

/** Message keys under notifications.msg, one per kind and variant. */
export const NOTIFICATION_MESSAGES = [
  'task_assigned', 'approval_assigned', 'task_reminder', 'approval_reminder', 'task_escalated', 'task_delegated', 'task_delegated_by',
  'approval_approved', 'approval_rejected', 'intake_pending', 'mention',
] as const;

/** The notifications.msg key for n (undefined for an unknown kind), with its interpolation values. */
export function messageOf(n: Notification): { key?: (typeof NOTIFICATION_MESSAGES)[number]; values: Record<string, string> } {
  const p = n.params ?? {};
  const approval = p.task_kind === 'approval';
  const values: Record<string, string> = { title: n.title };
  switch (n.kind) {
    case 'task_assigned':
      return { key: approval ? 'approval_assigned' : 'task_assigned', values };
    case 'task_reminder':
      return { key: approval ? 'approval_reminder' : 'task_reminder', values };
    case 'task_escalated':
      return { key: 'task_escalated', values };
    case 'task_delegated':
      if (typeof p.by_name === 'string' && p.by_name) return { key: 'task_delegated_by', values: { ...values, by: p.by_name } };
      return { key: 'task_delegated', values };
    case 'approval_decided':
      return { key: p.outcome === 'approved' ? 'approval_approved' : 'approval_rejected', values };
    case 'intake_pending':
      return { key: 'intake_pending', values };
    case 'mention':
      return { key: 'mention', values: { ...values, by: typeof p.by_name === 'string' ? p.by_name : '' } };
  }
  return { values };
}

/** A flow's notify node may name a page of this server (params.link): a path with one leading slash. */
export function safeLink(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || /[\\\s]/.test(v)) return undefined;
  return v;
}

/** Where clicking n goes: the task inbox for tasks, else the page a flow named, else the record (opened in its list), else the run. */
export function linkOf(n: Notification): string | undefined {
  if (n.kind !== 'approval_decided' && n.task_id) return '/tasks';
  const link = safeLink(n.params?.link);
  if (link) return link;
  if (n.app && n.entity && n.record_id) return `/apps/${encodeURIComponent(n.app)}/entities/${encodeURIComponent(n.entity)}?record=${encodeURIComponent(n.record_id)}`;
  if (n.run_id) return `/runs/${encodeURIComponent(n.run_id)}`;
  if (n.task_id) return '/tasks';
  return undefined;
}
