import { expect, test, type Locator, type Page } from '@playwright/test';
import { RUN, clickSettled, login, seedLeadApp } from './helpers';

test.describe.configure({ mode: 'serial' });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/builders-${name}.png`, fullPage: true });
}


/** Restores version v as the draft from the versions drawer and waits for the confirmation. Only the
 * pop-up's OK click is tried again while the pop-up stays open (a click during its opening animation
 * can miss); the restore itself is waited for, never repeated (under load it takes seconds). */
async function restoreVersion(page: Page, v: number) {
  const ok = page.getByTestId('restore-ok');
  await page.getByTestId(`version-restore-${v}`).click();
  await expect(ok).toBeVisible();
  await ok.click();
  await expect(async () => {
    try {
      await expect(ok).toBeHidden({ timeout: 2000 });
    } catch (e) {
      await ok.click({ timeout: 1000 }); // still open after 2 s: the click missed
      throw e;
    }
  }).toPass({ timeout: 15_000 });
  await expect(page.getByText(`已将版本 ${v} 恢复为草稿`).first()).toBeVisible({ timeout: 20_000 });
}

test('entity designer: a key from a Chinese label, a stage gate by picking, versions compared and restored', async ({ page, request }) => {
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
  await clickSettled(page.getByTestId('field-ok'));
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
  await restoreVersion(page, 1);
  // the restored gate is back to "any type"; the fields tab lacks the new field
  await expect(gate.getByTestId('cond-file-type')).toContainText('任意类型');
  await page.getByRole('tab', { name: /字段/ }).click();
  await expect(page.getByTestId('field-row-ke_hu_dian_hua')).toHaveCount(0);
  await expect(page.getByTestId('field-row-phone')).toBeVisible();
  await shot(page, 'entity-restored-1440-zh');
});

/** Drags source onto target (by default its vertical middle; 'bottom' = just above its lower edge), as a person would with the mouse. */
async function drag(page: Page, source: Locator, target: Locator, where: 'middle' | 'bottom' | 'top' = 'middle') {
  // a dialog that is still closing (its mask fading) would take the mouse
  await expect(page.locator('.ant-modal-mask:visible')).toHaveCount(0);
  await target.scrollIntoViewIfNeeded();
  await source.scrollIntoViewIfNeeded(); // the palette scrolls on its own (sticky)
  const from = (await source.boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 12, from.y + from.height / 2 + 6, { steps: 4 });
  // the canvas grows a drop zone at its end once a drag starts: measure the target now
  await expect(page.locator('.fd-canvas.dragging')).toBeVisible();
  const to = (await target.boundingBox())!;
  const y = where === 'bottom' ? to.y + to.height - 12 : where === 'top' ? to.y + 6 : to.y + to.height / 2;
  await page.mouse.move(to.x + to.width / 2, y, { steps: 15 });
  await expect(page.getByTestId('drop-marker')).toHaveCount(1);
  await page.mouse.up();
}

/** Creates an entity field by dropping a control: the key follows the Chinese label. */
async function dropControl(page: Page, type: string, target: Locator, label: string, key: string, options: string[] = [], where: 'middle' | 'bottom' = 'bottom') {
  await drag(page, page.getByTestId(`palette-type-${type}`), target, where);
  await page.getByTestId('field-label-zh').fill(label);
  await expect(page.getByTestId('field-key')).toHaveValue(key);
  if (options.length) await page.getByTestId('field-options').click();
  for (const o of options) {
    await page.keyboard.type(o);
    await page.keyboard.press('Enter');
  }
  await clickSettled(page.getByTestId('field-ok'));
  await expect(page.getByTestId(`form-item-${key}`)).toBeVisible();
}

test('form designer: controls create fields, a two-column section with a conditional field, the public form at phone width, versions', async ({ page, request, browser }) => {
  test.setTimeout(240_000);
  const app = `fd${RUN}`;
  await seedLeadApp(request, app);
  await login(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/apps/${app}`);
  await page.getByTestId('new-forms').click();
  await page.getByTestId('new-def-slug').fill('visit');
  await page.locator('.ant-modal .ant-select').click();
  await page.locator('.ant-select-item-option', { hasText: '线索' }).click();
  await clickSettled(page.getByTestId('new-def-ok'));
  const canvas = page.getByTestId('form-canvas');
  await expect(canvas).toBeVisible();
  await expect(page.getByTestId('designer-title')).toContainText('线索');

  // a phone control dropped on the empty form creates the entity field (key from the label)
  await dropControl(page, 'phone', canvas, '手机号', 'shou_ji_hao');
  await expect(page.getByTestId('new-fields-pending')).toBeVisible();
  // an existing field dropped on the top half of the phone lands above it
  await drag(page, page.getByTestId('palette-name'), page.getByTestId('form-item-shou_ji_hao'), 'top');
  await expect(canvas.locator('[data-testid^="form-item-"]').first()).toHaveAttribute('data-testid', 'form-item-name');
  // clicking the middle of a card selects it; the property panel edits it
  await page.getByTestId('form-item-shou_ji_hao').click();
  await page.getByTestId('item-required').click();
  await page.getByTestId('item-help-zh').fill('仅用于回访');

  // a section with two columns, dropped at the bottom
  await drag(page, page.getByTestId('palette-section'), canvas, 'bottom');
  const section = page.getByTestId('form-section-2');
  await expect(section).toBeVisible();
  await section.getByTestId('section-columns-2').getByText('2').click();
  await page.getByTestId('section-title-zh').fill('饮品偏好');
  await page.getByTestId('section-title-en').fill('Drinks');
  await dropControl(page, 'select', section, '喜欢喝茶', 'xi_huan_he_cha', ['yes', 'no']);
  await dropControl(page, 'text', section, '茶的种类', 'cha_de_zhong_lei');
  // shown only when 喜欢喝茶 is "yes", picked in the condition builder
  const vis = page.getByTestId('item-visible');
  await vis.getByTestId('cond-add').click();
  await vis.getByTestId('cond-field').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '喜欢喝茶' }).click();
  await vis.getByTestId('cond-value').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: 'yes' }).click();
  await expect(page.getByTestId('form-item-cha_de_zhong_lei')).toContainText('条件显示');
  // both section fields sit side by side
  const a = (await page.getByTestId('form-item-xi_huan_he_cha').boundingBox())!;
  const b = (await page.getByTestId('form-item-cha_de_zhong_lei').boundingBox())!;
  expect(Math.abs(a.y - b.y)).toBeLessThan(4);
  expect(b.x).toBeGreaterThan(a.x + a.width - 4);

  // form settings in both languages; public
  await page.getByTestId('form-canvas').click({ position: { x: 8, y: 8 } });
  await page.getByTestId('form-public').click();
  await page.getByTestId('form-title-zh').fill('来访登记');
  await page.getByTestId('form-title-en').fill('Visitor sign-in');
  await page.getByTestId('form-success-zh').fill('感谢登记！');
  await page.getByTestId('form-success-en').fill('Thanks for signing in!');
  await shot(page, 'form-designer-1440-zh');
  await page.getByTestId('canvas-lang').getByText('English').click();
  await expect(canvas).toContainText('Visitor sign-in');
  await expect(canvas).toContainText('Drinks');
  await shot(page, 'form-designer-1440-en');

  // preview at phone width
  await page.getByTestId('form-preview').click();
  await page.getByTestId('preview-width').getByText('手机').click();
  await expect(page.getByTestId('form-preview-frame')).toContainText('Drinks');
  await shot(page, 'form-preview-390-en');
  await page.keyboard.press('Escape');

  await page.getByTestId('def-publish').click();
  await expect(page.getByText('已发布版本 1')).toBeVisible();
  await expect(page.getByTestId('unsaved')).toHaveCount(0);
  await expect(page.getByTestId('new-fields-pending')).toHaveCount(0);
  const href = await page.getByTestId('public-link').getAttribute('href');
  expect(href).toMatch(/^\/f\/[A-Za-z0-9_-]+$/);

  // the public form at 390 px: one column, the tea field appears only for "yes"; thanks in English
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
  const pp = await phone.newPage();
  await pp.goto(`${href}?lang=en`);
  await expect(pp.locator('h1')).toHaveText('Visitor sign-in');
  await expect(pp.locator('#f-cha_de_zhong_lei')).toBeHidden();
  await pp.locator('#i-name').fill('Wang Lei');
  await pp.locator('#i-shou_ji_hao').fill('13800138000');
  await pp.locator('#i-xi_huan_he_cha').selectOption('yes');
  await expect(pp.locator('#f-cha_de_zhong_lei')).toBeVisible();
  const s1 = (await pp.locator('#f-xi_huan_he_cha').boundingBox())!;
  const s2 = (await pp.locator('#f-cha_de_zhong_lei').boundingBox())!;
  expect(s2.y).toBeGreaterThan(s1.y + s1.height - 2); // stacked at phone width
  await pp.locator('#i-cha_de_zhong_lei').fill('乌龙');
  await pp.screenshot({ path: 'test-results/builders-public-form-390-en.png', fullPage: true });
  await pp.locator('#send').click();
  await expect(pp.locator('#done')).toHaveText('Thanks for signing in!');
  await pp.goto(`${href}?lang=zh-CN`);
  await expect(pp.locator('h1')).toHaveText('来访登记');
  await pp.screenshot({ path: 'test-results/builders-public-form-390-zh.png', fullPage: true });
  await phone.close();

  // change the form, compare with the previous version, restore it
  await page.getByTestId('form-item-shou_ji_hao').click();
  await page.getByTestId('item-label-zh').fill('联系手机');
  await expect(page.getByTestId('unsaved')).toBeVisible();
  await page.getByTestId('def-publish').click();
  await expect(page.getByText('已发布版本 2')).toBeVisible();
  await page.getByTestId('def-versions').click();
  await page.getByTestId('version-compare-2').click();
  await expect(page.getByTestId('diff-list')).toContainText('联系手机');
  await shot(page, 'form-versions-diff-1440-zh');
  await page.getByTestId('diff-back').click();
  await restoreVersion(page, 1);
  // v1's label again (the canvas may be showing the form in English: the control's English label is "Phone")
  await expect(page.getByTestId('form-item-shou_ji_hao')).toContainText(/手机号|Phone/);
  await expect(page.getByTestId('form-item-shou_ji_hao')).not.toContainText('联系手机');
});
