import { describe, expect, it } from 'vitest';
import { isValidKey } from './entity';
import { keyFromLabels, loadPinyin, slugKey, uniqueKey } from './fieldKey';

describe('field keys from labels', async () => {
  const pinyin = await loadPinyin();

  it.each([
    ['客户电话', 'ke_hu_dian_hua'],
    ['报价单', 'bao_jia_dan'],
    ['绿色', 'lv_se'],
    ['VIP客户', 'vip_ke_hu'],
    ['2024年预算', 'f_2024_nian_yu_suan'],
    ['金额（元）', 'jin_e_yuan'],
    ['Customer phone', 'customer_phone'],
    ['  E-mail / 邮箱 ', 'e_mail_you_xiang'],
    ['Café déjà vu', 'cafe_deja_vu'],
    ['!!!', 'field'],
    ['', 'field'],
  ])('%s -> %s', (label, key) => {
    const k = slugKey(label, pinyin);
    expect(k).toBe(key);
    expect(isValidKey(k)).toBe(true);
  });

  it('drops Chinese characters without pinyin and still gives a valid key', () => {
    expect(slugKey('客户电话')).toBe('field');
    expect(slugKey('客户 phone')).toBe('phone');
  });

  it('cuts long labels to 40 characters without a trailing underscore', () => {
    const k = slugKey('这是一个非常非常非常非常非常长的字段名称用于测试', pinyin);
    expect(k.length).toBeLessThanOrEqual(40);
    expect(k.endsWith('_')).toBe(false);
    expect(isValidKey(k)).toBe(true);
  });

  it('makes keys unique', () => {
    expect(uniqueKey('phone', ['phone', 'phone_2'])).toBe('phone_3');
    expect(keyFromLabels({ 'zh-CN': '电话' }, ['dian_hua'], pinyin)).toBe('dian_hua_2');
    expect(keyFromLabels({ en: 'Phone', 'zh-CN': '电话' }, [], pinyin)).toBe('phone');
  });
});
