import { Checkbox, Col, Form, Input, InputNumber, Modal, Row, Select } from 'antd';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { FieldDef } from '../api/types';
import { FIELD_TYPES, isValidKey, typeSettings } from '../lib/entity';
import { optionValue } from '../lib/labels';
import { keyFromLabels, usePinyin } from '../lib/fieldKey';
import LineColumnsEditor from './LineColumnsEditor';

interface Props {
  open: boolean;
  field: FieldDef | null; // null = new field
  suggestedKey: string;
  existingKeys: string[];
  entitySlugs: string[];
  /** the fields of another entity of the app (the fill pickers of line columns) */
  targetFields?: (slug: string) => FieldDef[];
  onCancel: () => void;
  onOk: (f: FieldDef) => void;
  /** the type of a new field (a control dropped on a form); text when unset */
  newType?: string;
}

type FormValues = {
  key: string;
  type: string;
  [k: string]: unknown;
  label_en?: string;
  label_zh?: string;
  options?: string[];
  default?: string;
};

/** Modal editing one field of an entity, with the settings its type uses. */
export default function FieldEditor({ open, field, suggestedKey, existingKeys, entitySlugs, targetFields, onCancel, onOk, newType }: Props) {
  const { t } = useTranslation();
  const [form] = Form.useForm<FormValues>();
  const type = String(Form.useWatch('type', form) ?? field?.type ?? 'text');
  const settings = typeSettings(type);
  const pinyin = usePinyin();
  // a new field's key follows its labels until the analyst edits the key
  const keyTouched = useRef(false);
  // a control dropped on a form starts with its type's name in both languages; the key follows
  // the English label only once the analyst types it
  const enDefault = useRef(false);
  const askBoth = !field && !!newType;

  useEffect(() => {
    if (!open) return;
    keyTouched.current = false;
    form.resetFields();
    if (field) {
      const lbl = field.label;
      form.setFieldsValue({
        ...field,
        label_en: typeof lbl === 'string' ? lbl : lbl?.en,
        label_zh: typeof lbl === 'string' ? lbl : lbl?.['zh-CN'],
        options: (field.options ?? []).map(optionValue),
        default: field.default === undefined ? undefined : typeof field.default === 'string' ? field.default : JSON.stringify(field.default),
      });
    } else {
      form.setFieldsValue({ key: suggestedKey, type: newType ?? 'text' });
      enDefault.current = !!newType;
      if (newType)
        form.setFieldsValue({
          label_zh: t(`fieldTypes.${newType}`, { lng: 'zh-CN', defaultValue: newType }),
          label_en: t(`fieldTypes.${newType}`, { lng: 'en', defaultValue: newType }),
        });
    }
  }, [open, field, suggestedKey, form, newType, t]);

  const finish = (v: FormValues) => {
    const { label_en, label_zh, options, default: def, ...rest } = v;
    const out: FieldDef = { ...(field ?? {}), ...rest } as FieldDef;
    const label: Record<string, string> = {};
    if (label_en) label.en = label_en;
    if (label_zh) label['zh-CN'] = label_zh;
    out.label = Object.keys(label).length ? label : undefined;
    if (options) {
      // keep existing option objects (labels, colours) for values that remain
      const prev = new Map((field?.options ?? []).map((o) => [optionValue(o), o]));
      out.options = options.map((o) => prev.get(o) ?? o);
    }
    if (def !== undefined && def !== '') {
      let parsed: unknown = def;
      if (['number', 'money', 'percent'].includes(String(v.type))) parsed = Number(def);
      else if (v.type === 'boolean') parsed = def === 'true';
      out.default = parsed;
    } else delete out.default;
    onOk(out);
  };

  return (
    <Modal
      title={field ? t('entity.editField') : t('entity.addField')}
      open={open}
      onCancel={onCancel}
      onOk={() => form.submit()}
      width={type === 'lines' ? 880 : 640}
      okButtonProps={{ 'data-testid': 'field-ok' }}
      forceRender
    >
      <Form
        form={form}
        layout="vertical"
        onFinish={finish}
        onValuesChange={(changed: Partial<FormValues>, all: FormValues) => {
          if ('label_en' in changed) enDefault.current = false;
          if (field || keyTouched.current || !('label_en' in changed || 'label_zh' in changed)) return;
          form.setFieldsValue({ key: keyFromLabels({ en: enDefault.current ? undefined : all.label_en, 'zh-CN': all.label_zh }, existingKeys, pinyin) });
        }}
      >
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name="label_zh" label={t('entity.labelZh')} rules={askBoth ? [{ required: true, whitespace: true, message: t('entity.labelBoth') }] : undefined}>
              <Input data-testid="field-label-zh" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="label_en" label={t('entity.labelEn')} rules={askBoth ? [{ required: true, whitespace: true, message: t('entity.labelBoth') }] : undefined} extra={askBoth ? t('entity.labelEnHelp') : undefined}>
              <Input data-testid="field-label-en" />
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item
              name="key"
              label={t('entity.key')}
              extra={!field ? t('entity.keyAuto') : undefined}
              rules={[
                { required: true, message: t('common.required') },
                {
                  validator: (_r, v: string) =>
                    !v || isValidKey(v) ? Promise.resolve() : Promise.reject(new Error(t('entity.keyHelp'))),
                },
                {
                  validator: (_r, v: string) =>
                    v && v !== field?.key && existingKeys.includes(v) ? Promise.reject(new Error(t('entity.keyTaken'))) : Promise.resolve(),
                },
              ]}
            >
              <Input data-testid="field-key" onChange={() => (keyTouched.current = true)} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="type" label={t('entity.type')} rules={[{ required: true }]}>
              <Select
                data-testid="field-type"
                showSearch={{ optionFilterProp: 'label' }}
                options={FIELD_TYPES.map((ft) => ({ value: ft, label: `${t(`fieldTypes.${ft}`)} (${ft})` }))}
              />
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={12}>
          {(['required', 'unique', 'indexed', 'sensitive'] as const).map((k) => (
            <Col key={k} span={6}>
              <Form.Item name={k} valuePropName="checked" style={{ marginBottom: 8 }}>
                <Checkbox data-testid={`field-${k}`}>{t(`entity.${k}`)}</Checkbox>
              </Form.Item>
            </Col>
          ))}
        </Row>
        <Row gutter={12}>
          {settings.includes('options') && (
            <Col span={24}>
              <Form.Item name="options" label={t('entity.options')} extra={t('entity.optionsHelp')} rules={[{ required: true, message: t('common.required') }]}>
                <Select mode="tags" tokenSeparators={[',', '，']} open={false} data-testid="field-options" />
              </Form.Item>
            </Col>
          )}
          {settings.includes('min') && (
            <Col span={8}>
              <Form.Item name="min" label={t('entity.min')}>
                <InputNumber style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('max') && (
            <Col span={8}>
              <Form.Item name="max" label={t('entity.max')}>
                <InputNumber style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('precision') && (
            <Col span={8}>
              <Form.Item name="precision" label={t('entity.precision')}>
                <InputNumber min={0} max={8} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('currency') && (
            <Col span={8}>
              <Form.Item name="currency" label={t('entity.currency')}>
                <Select allowClear options={['CNY', 'USD', 'EUR', 'HKD', 'JPY'].map((c) => ({ value: c, label: c }))} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('region') && (
            <Col span={8}>
              <Form.Item name="region" label={t('entity.region')}>
                <Input placeholder="CN" />
              </Form.Item>
            </Col>
          )}
          {settings.includes('max_length') && (
            <Col span={8}>
              <Form.Item name="max_length" label={t('entity.maxLength')}>
                <InputNumber min={1} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('pattern') && (
            <Col span={16}>
              <Form.Item name="pattern" label={t('entity.pattern')}>
                <Input placeholder="^[A-Z]{2}\d+$" />
              </Form.Item>
            </Col>
          )}
          {settings.includes('target') && (
            <Col span={16}>
              <Form.Item name="target" label={t('entity.target')} rules={[{ required: true, message: t('common.required') }]}>
                <Select showSearch options={entitySlugs.map((s) => ({ value: s, label: s }))} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('multiple') && (
            <Col span={8}>
              <Form.Item name="multiple" valuePropName="checked" label=" ">
                <Checkbox>{t('entity.multiple')}</Checkbox>
              </Form.Item>
            </Col>
          )}
          {settings.includes('accept') && (
            <Col span={16}>
              <Form.Item name="accept" label={t('entity.accept')}>
                <Select mode="tags" open={false} placeholder="application/pdf" />
              </Form.Item>
            </Col>
          )}
          {settings.includes('max_size') && (
            <Col span={8}>
              <Form.Item name="max_size" label={t('entity.maxSize')}>
                <InputNumber min={1} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('prefix') && (
            <Col span={12}>
              <Form.Item name="prefix" label={t('entity.prefix')}>
                <Input placeholder="Q-" />
              </Form.Item>
            </Col>
          )}
          {settings.includes('columns') && (
            <Col span={24}>
              <Form.Item name="fields" label={t('lines.columns')} rules={[{ required: true, message: t('common.required') }]}>
                <LineColumnsEditor entitySlugs={entitySlugs} targetFields={targetFields} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('max_rows') && (
            <Col span={8}>
              <Form.Item name="max_rows" label={t('lines.maxRows')}>
                <InputNumber min={1} max={1000} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          )}
          {settings.includes('formula') && (
            <Col span={24}>
              <Form.Item name="formula" label={t('entity.formula')} rules={[{ required: true, message: t('common.required') }]}>
                <Input.TextArea rows={2} placeholder="record.amount * record.probability" style={{ fontFamily: 'monospace' }} />
              </Form.Item>
            </Col>
          )}
          {!['attachment', 'autonumber', 'formula', 'lines'].includes(type) && (
            <Col span={24}>
              <Form.Item name="default" label={t('entity.default')}>
                <Input />
              </Form.Item>
            </Col>
          )}
          <Col span={24}>
            <Form.Item name="description" label={t('entity.description')}>
              <Input />
            </Form.Item>
          </Col>
        </Row>
      </Form>
    </Modal>
  );
}
