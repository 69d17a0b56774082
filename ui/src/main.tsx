import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './i18n';
import Root from './Root';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
