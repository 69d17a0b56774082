import { Result } from 'antd';
import { useTranslation } from 'react-i18next';

/** The 403 shown for a designer route the user may not open; its own chunk (antd's Result
 * carries large illustrations the app frame does not need on the first page). */
export default function DesignRefused() {
  const { t } = useTranslation();
  return <Result status="403" title="403" subTitle={<span data-testid="design-refused">{t('shell.designRefused')}</span>} />;
}
