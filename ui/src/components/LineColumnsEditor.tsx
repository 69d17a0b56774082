import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Card, Checkbox, Col, Input, Row, Select, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { FieldDef } from '../api/types';
import { LINE_FIELD_TYPES, isValidKey } from '../lib/entity';
import { optionValue } from '../lib/labels';
import { fieldLabel } from './FieldInput';

interface Props {
  value?: FieldDef[];
  onChange?: (cols: FieldDef[]) => void;
  entitySlugs: string[];
  /** the fields of a target entity (for the fill pickers) */
  targetFields?: (slug: string) => FieldDef[];
}

/** Editor of the columns of a lines field, by pickers: label, key, type, required, target,
 * fill mapping (column <- field of the picked record), read-only, options and formula. */
export default function LineColumnsEditor({ value, onChange, entitySlugs, targetFields }: Props) {
  const { t, i18n } = useTranslation();
  const cols = value ?? [];
  const set = (i: number, patch: Partial<FieldDef>) => {
    const next = cols.map((c, j) => (j === i ? { ...c, ...patch } : c));
    for (const [k, v] of Object.entries(patch)) if (v === undefined || v === false || v === '') delete next[i][k];
    onChange?.(next);
  };
  const move = (i: number, d: number) => {
    const j = i + d;
    if (j < 0 || j >= cols.length) return;
    const next = [...cols];
    [next[i], next[j]] = [next[j], next[i]];
    onChange?.(next);
  };
  const typeOptions = LINE_FIELD_TYPES.map((ft) => ({ value: ft, label: `${t(`fieldTypes.${ft}`)} (${ft})` }));
  const labelOf = (c: FieldDef, lang: string) => (typeof c.label === 'string' ? c.label : c.label?.[lang]) ?? '';

  return (
    <div data-testid="line-columns">
      {cols.map((c, i) => {
        const fill = (c.fill ?? {}) as Record<string, string>;
        const others = cols.filter((x) => x.key !== c.key && x.type !== 'formula');
        const tf = c.target && targetFields ? targetFields(c.target) : [];
        const badKey = !!c.key && !isValidKey(c.key);
        return (
          <Card key={i} size="small" style={{ marginBottom: 8 }} data-testid="line-column">
            <Row gutter={8}>
              <Col xs={12} md={6}>
                <Input placeholder={t('entity.labelZh')} value={labelOf(c, 'zh-CN')} onChange={(e) => set(i, { label: { ...(typeof c.label === 'object' ? c.label : {}), 'zh-CN': e.target.value } })} data-testid="line-column-label-zh" />
              </Col>
              <Col xs={12} md={6}>
                <Input placeholder={t('entity.labelEn')} value={labelOf(c, 'en')} onChange={(e) => set(i, { label: { ...(typeof c.label === 'object' ? c.label : {}), en: e.target.value } })} data-testid="line-column-label-en" />
              </Col>
              <Col xs={12} md={5}>
                <Input placeholder={t('entity.key')} status={badKey ? 'error' : undefined} value={c.key} onChange={(e) => set(i, { key: e.target.value.trim() })} data-testid="line-column-key" />
              </Col>
              <Col xs={12} md={7}>
                <Select style={{ width: '100%' }} value={c.type} options={typeOptions} onChange={(v) => set(i, { type: v })} data-testid="line-column-type" />
              </Col>
            </Row>
            <Space wrap style={{ marginTop: 8 }}>
              <Checkbox checked={!!c.required} onChange={(e) => set(i, { required: e.target.checked })}>{t('entity.required')}</Checkbox>
              <Checkbox checked={!!c.readonly} onChange={(e) => set(i, { readonly: e.target.checked })}>{t('lines.readonly')}</Checkbox>
              {c.type === 'relation' && (
                <Select style={{ minWidth: 160 }} placeholder={t('entity.target')} value={c.target} options={entitySlugs.map((s) => ({ value: s, label: s }))} onChange={(v) => set(i, { target: v })} data-testid="line-column-target" />
              )}
              <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => move(i, -1)} aria-label={t('lines.up')} />
              <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === cols.length - 1} onClick={() => move(i, 1)} aria-label={t('lines.down')} />
              <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => onChange?.(cols.filter((_, j) => j !== i))} aria-label={t('common.delete')} />
            </Space>
            {c.type === 'select' && (
              <Select mode="tags" open={false} style={{ width: '100%', marginTop: 8 }} placeholder={t('entity.options')} value={(c.options ?? []).map(optionValue)} onChange={(v: string[]) => set(i, { options: v })} />
            )}
            {c.type === 'formula' && (
              <Input style={{ marginTop: 8, fontFamily: 'monospace' }} placeholder="line.quantity * line.unit_price" value={c.formula} onChange={(e) => set(i, { formula: e.target.value })} data-testid="line-column-formula" />
            )}
            {c.type === 'relation' && c.target && (
              <div style={{ marginTop: 8 }}>
                <Typography.Text type="secondary">{t('lines.fill')}</Typography.Text>
                {Object.entries(fill).map(([to, from]) => (
                  <Space key={to} style={{ display: 'flex', marginTop: 4 }} wrap>
                    <Select style={{ minWidth: 140 }} value={to} options={others.map((o) => ({ value: o.key, label: fieldLabel(o, i18n.language) }))}
                      onChange={(v) => { const f = { ...fill }; delete f[to]; f[v] = from; set(i, { fill: f }); }} />
                    ←
                    {tf.length ? (
                      <Select style={{ minWidth: 140 }} value={from} options={tf.map((o) => ({ value: o.key, label: fieldLabel(o, i18n.language) }))} onChange={(v) => set(i, { fill: { ...fill, [to]: v } })} />
                    ) : (
                      <Input style={{ width: 140 }} value={from} onChange={(e) => set(i, { fill: { ...fill, [to]: e.target.value } })} />
                    )}
                    <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => { const f = { ...fill }; delete f[to]; set(i, { fill: Object.keys(f).length ? f : undefined }); }} />
                  </Space>
                ))}
                <Button size="small" type="dashed" style={{ marginTop: 4 }} icon={<PlusOutlined />}
                  disabled={others.every((o) => o.key in fill)}
                  onClick={() => { const to = others.find((o) => !(o.key in fill)); if (to) set(i, { fill: { ...fill, [to.key]: tf.find((x) => x.key === to.key)?.key ?? '' } }); }}>
                  {t('lines.fillTo')}
                </Button>
              </div>
            )}
          </Card>
        );
      })}
      <Button icon={<PlusOutlined />} type="dashed" block onClick={() => onChange?.([...cols, { key: `col_${cols.length + 1}`, type: 'text' }])} data-testid="line-column-add">
        {t('lines.addColumn')}
      </Button>
    </div>
  );
}
