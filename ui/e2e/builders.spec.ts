import { expect, test, type Page } from '@playwright/test';
import { RUN, login, seedLeadApp } from './helpers';

test.describe.configure({ mode: 'serial' });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/builders-${name}.png`, fullPage: true });
}

// fixme: not yet run green against a fresh build (the last run predates the title fix); enable after one green run.
test.fixme('entity designer: a key from a Chinese label, a stage gate by picking, versions compared and restored', async ({ page, request }) => {
  test.setTimeout(180_000);
  const app = `bld${RUN}`;
  await seedLeadApp(request, app);
  await login(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/apps/${app}/entities/lead/design`);
  await expect(page.getByTestId('designer-title')).toContainText('线索');

  // a new field: the key follows the Chinese label (pinyin), nothing typed into the key
  await page.getByTestId('field-add').click();
  await page.getByTestId('field-label-zh').fill('客户电话');
  await expect(page.getByTestId('field-key')).toHaveValue('ke_hu_dian_hua');
  await page.getByTestId('field-ok').click();
  await expect(page.getByTestId('field-row-ke_hu_dian_hua')).toBeVisible();
  await expect(page.getByTestId('unsaved')).toBeVisible();

  // undo and redo the new field
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('field-row-ke_hu_dian_hua')).toHaveCount(0);
  await page.getByTestId('redo').click();
  await expect(page.getByTestId('field-row-ke_hu_dian_hua')).toBeVisible();

  // the seeded gate opens as rule rows; require a PDF by picking
  await page.getByRole('tab', { name: '阶段与门禁' }).click();
  const gate = page.getByTestId('gate-require-0');
  await expect(gate.getByTestId('cond-row')).toHaveCount(1);
  await expect(gate.getByTestId('cond-file-name')).toHaveValue('报价单');
  await gate.getByTestId('cond-file-type').click();
  await page.locator('.ant-select-item-option', { hasText: 'PDF' }).click();
  await gate.getByTestId('cond-advanced').click();
  await expect(gate.getByTestId('cond-text')).toHaveValue('any(record.files ?? [], {(.name ?? "") contains "报价单" && .type == "application/pdf"})');
  await gate.getByTestId('cond-advanced').click();
  await expect(gate.getByTestId('cond-row')).toHaveCount(1);
  await shot(page, 'entity-gate-1440-zh');

  await page.getByTestId('def-publish').click();
  await expect(page.getByText('已发布版本 2')).toBeVisible();
  await expect(page.getByTestId('unsaved')).toHaveCount(0);

  // compare v1 -> v2: the new field by its label, the changed stages
  await page.getByTestId('def-versions').click();
  await expect(page.getByTestId('version-2')).toContainText('前');
  await page.getByTestId('version-compare-2').click();
  const diff = page.getByTestId('diff-list');
  await expect(diff.getByTestId('diff-added')).toContainText('客户电话 (ke_hu_dian_hua)');
  await expect(diff).toContainText('阶段');
  await shot(page, 'versions-diff-1440-zh');

  // restore v1 as the draft: the field is gone again
  await page.getByTestId('diff-back').click();
  await page.getByTestId('version-restore-1').click();
  await page.getByTestId('restore-ok').click();
  await expect(page.getByText('已将版本 1 恢复为草稿')).toBeVisible();
  await expect(page.getByTestId('field-row-ke_hu_dian_hua')).toHaveCount(0);
  await expect(page.getByTestId('field-row-phone')).toBeVisible();
});
