import { Segmented } from 'antd';
import { useTranslation } from 'react-i18next';
import { setLang, type Lang } from '../i18n';

/** zh-CN / en switch; the choice is persisted in localStorage. */
export default function LangSwitch({ size }: { size?: 'small' | 'middle' }) {
  const { i18n } = useTranslation();
  return (
    <Segmented
      data-testid="lang-switch"
      size={size}
      value={i18n.language}
      onChange={(v) => setLang(v as Lang)}
      options={[
        { label: '中文', value: 'zh-CN' },
        { label: 'English', value: 'en' },
      ]}
    />
  );
}
