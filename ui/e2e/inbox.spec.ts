import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { RUN, token, loginAs } from './helpers';

// The approval inbox as an approver uses it on a phone: the level and route, the director's
// earlier decision and comment, a read-only summary without the fields legal may not read,
// and an approval that finishes the run.
const APP = `inbox${RUN}`;
const DIRECTOR = { email: `ibxdir${RUN}@example.com`, password: 'director-password-1', name: '王总监' };
const LEGAL = { email: `ibxlegal${RUN}@example.com`, password: 'legal-password-123', name: '李法务' };
const REP = { email: `ibxrep${RUN}@example.com`, password: 'rep-password-12345', name: '张销售' };
const MANAGER = { email: `ibxmgr${RUN}@example.com`, password: 'manager-password-1', name: '刘经理' };
let seeded = false;

const contract = {
  slug: 'contract',
  label: { en: 'Contract', 'zh-CN': '合同' },
  title_field: 'name',
  fields: [
    { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '合同名称' } },
    { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
    { key: 'cost', type: 'money', label: { en: 'Cost', 'zh-CN': '成本' } },
  ],
};

async function seed(request: APIRequestContext) {
  if (seeded) return;
  seeded = true;
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: APP, name: `Inbox ${RUN}` } })).status()).toBe(201);
  expect((await request.put(`/api/v1/apps/${APP}/entities/contract`, { headers: auth, data: contract })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${APP}/entities/contract/publish`, { headers: auth })).ok()).toBeTruthy();
  const roles = [
    { app: APP, name: 'director', permissions: [{ resource: 'app', actions: ['read'], scope: 'all' }, { resource: 'entity:contract', actions: ['read'], scope: 'all' }] },
    {
      app: APP, name: 'legal',
      permissions: [{ resource: 'app', actions: ['read'], scope: 'all' }, { resource: 'entity:contract', actions: ['read'], scope: 'all' }],
      fields: { contract: { hidden: ['cost'], readonly: [] } },
    },
    { app: APP, name: 'rep', permissions: [{ resource: 'app', actions: ['read'], scope: 'all' }, { resource: 'entity:contract', actions: ['read', 'create', 'update'], scope: 'own' }] },
    { app: APP, name: 'manager', permissions: [{ resource: 'app', actions: ['read'], scope: 'all' }, { resource: 'entity:contract', actions: ['read'], scope: 'all' }] },
  ];
  for (const r of roles) expect((await request.put('/api/v1/admin/roles', { headers: auth, data: r })).ok()).toBeTruthy();
  const ids: Record<string, string> = {};
  for (const [u, role] of [[DIRECTOR, 'director'], [LEGAL, 'legal'], [REP, 'rep'], [MANAGER, 'manager']] as const) {
    const res = await request.post('/api/v1/admin/users', { headers: auth, data: u });
    expect(res.status()).toBe(201);
    ids[role] = (await res.json()).id;
    expect((await request.put(`/api/v1/admin/users/${ids[role]}/roles`, { headers: auth, data: { roles: [{ app: APP, role }] } })).ok()).toBeTruthy();
  }
  const flow = {
    slug: 'contract-approval',
    trigger: { type: 'record.created', entity: 'contract' },
    nodes: [{
      id: 'approve', type: 'approval',
      params: {
        title: '合同审批 {{ trigger.record.name }}', record: '{{ trigger.record.id }}',
        routes: [{ name: '大额合同', when: 'trigger.record.amount > 500000', levels: [{ name: '总监', assignee: ids.director }, { name: '法务', assignee: ids.legal }] }],
        levels: [{ name: '总监', assignee: ids.director }],
      },
    }],
    edges: [],
  };
  expect((await request.put(`/api/v1/apps/${APP}/flows/contract-approval`, { headers: auth, data: flow })).ok()).toBeTruthy();
  const pub = await request.post(`/api/v1/apps/${APP}/flows/contract-approval/publish`, { headers: auth });
  expect(pub.ok(), await pub.text()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${APP}/entities/contract/records`, { headers: auth, data: { name: `华为框架合同 ${RUN}`, amount: 880000, cost: 310000 } })).status()).toBe(201);
  // the director decides level 1 with a comment
  const dirTok = (await (await request.post('/api/v1/auth/login', { data: { email: DIRECTOR.email, password: DIRECTOR.password } })).json()).token;
  const dirAuth = { Authorization: `Bearer ${dirTok}` };
  let taskId = '';
  await expect(async () => {
    const items = (await (await request.get('/api/v1/tasks?status=open', { headers: dirAuth })).json()).items;
    expect(items.length).toBe(1);
    taskId = items[0].id;
  }).toPass({ timeout: 30_000 });
  expect((await request.post(`/api/v1/tasks/${taskId}/complete`, { headers: dirAuth, data: { outcome: 'approve', comment: '价格合理，同意' } })).ok()).toBeTruthy();
}

test('as legal at 390 px an approval shows the director\'s decision and comment and is approved', async ({ page, request }) => {
  test.setTimeout(180_000);
  await seed(request);
  // en at 1440 first: the table shows the level; the detail shows the summary
  await page.setViewportSize({ width: 1440, height: 900 });
  await loginAs(page, LEGAL, 'en');
  await page.goto('/tasks');
  const row = page.getByTestId('tasks-table').locator('tr', { hasText: `华为框架合同 ${RUN}` });
  await expect(row).toBeVisible({ timeout: 30_000 });
  await expect(row.getByTestId('task-level')).toContainText('法务 / level 2 of 2');
  await row.locator('[data-testid^="task-open-"]').click();
  await expect(page.getByTestId('task-decision')).toContainText('价格合理，同意');
  await page.screenshot({ path: `test-results/inbox-en-1440.png` });
  await page.keyboard.press('Escape');

  // zh-CN at 390: cards, the detail full width, approve from it
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => localStorage.setItem('tessera.lang', 'zh-CN'));
  await page.reload();
  const card = page.getByTestId('tasks-cards').locator('.task-card', { hasText: `华为框架合同 ${RUN}` });
  await expect(card).toBeVisible({ timeout: 30_000 });
  await expect(card.getByTestId('task-level')).toContainText('法务 / 第2级（共2级）');
  await expect(card.getByTestId('task-level')).toContainText('大额合同');
  await page.screenshot({ path: `test-results/inbox-zh-390-list.png` });
  await card.click();
  const detail = page.getByTestId('task-detail');
  const decision = detail.getByTestId('task-decision');
  await expect(decision).toContainText(DIRECTOR.name);
  await expect(decision).toContainText('价格合理，同意');
  await expect(decision).toContainText('同意');
  await expect(detail.getByTestId('summary-name')).toContainText(`华为框架合同 ${RUN}`);
  await expect(detail.getByTestId('summary-amount')).toBeVisible();
  await expect(detail.getByTestId('summary-cost')).toHaveCount(0);
  // read-only: no inputs in the summary
  await expect(detail.getByTestId('task-summary').locator('input')).toHaveCount(0);
  expect(await detail.evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(390 + 0.5); // sub-pixel layout may give 390.00003
  expect(await detail.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBeTruthy();
  await page.screenshot({ path: `test-results/inbox-zh-390-detail.png`, fullPage: true });
  await detail.getByTestId('task-detail-comment').fill('条款无误');
  await detail.getByTestId('task-detail-approve').click();
  await expect(page.getByText('任务已完成')).toBeVisible();
  await expect(card).toBeHidden();
});

test('a comment mentions the manager, who gets a notification that opens the record', async ({ page, request }) => {
  test.setTimeout(180_000);
  await seed(request);
  const repTok = (await (await request.post('/api/v1/auth/login', { data: { email: REP.email, password: REP.password } })).json()).token;
  const rec = await request.post(`/api/v1/apps/${APP}/entities/contract/records`, { headers: { Authorization: `Bearer ${repTok}` }, data: { name: `腾讯续约 ${RUN}`, amount: 1000 } });
  expect(rec.status()).toBe(201);
  const recId = (await rec.json()).id as string;
  await page.setViewportSize({ width: 1440, height: 900 });
  await loginAs(page, REP, 'zh-CN');
  await page.goto(`/apps/${APP}/entities/contract?record=${recId}`);
  await page.getByRole('tab', { name: '评论' }).click();
  await page.getByTestId('comment-body').fill('@刘经理 请看一下续约条款');
  await page.getByTestId('comment-mentions').click();
  await page.keyboard.type('刘经理');
  await page.locator('.ant-select-item-option', { hasText: MANAGER.name }).click();
  await page.keyboard.press('Escape');
  await page.getByTestId('comment-submit').click();
  await expect(page.getByTestId('record-comment')).toContainText('请看一下续约条款');
  await page.screenshot({ path: 'test-results/comments-zh-1440.png' });

  // the manager's bell shows the mention; clicking it opens the record
  await page.context().clearCookies();
  await loginAs(page, MANAGER, 'zh-CN');
  await page.getByTestId('notification-bell').click();
  const note = page.getByTestId('notification-list').getByText(`${REP.name} 在「腾讯续约 ${RUN}」中提到了您`);
  await expect(note).toBeVisible({ timeout: 30_000 });
  await note.click();
  await expect(page).toHaveURL(new RegExp(`record=${recId}`));
});
