import { autocompletion, type Completion } from '@codemirror/autocomplete';
import { javascript } from '@codemirror/lang-javascript';
import { syntaxTree } from '@codemirror/language';
import { linter, type Diagnostic } from '@codemirror/lint';
import { ExpandOutlined } from '@ant-design/icons';
import CodeMirror, { EditorView, type Extension } from '@uiw/react-codemirror';
import { Button, Modal, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { HOST_API, completionsFor, pathSource } from './completion';
import { useFlowCtx } from './FlowContext';

/**
 * An expr-lang expression (no braces): CodeMirror with completion of trigger.record fields
 * (labelled and typed), upstream steps and functions.
 */
export function ExpressionInput({ value, onChange, placeholder, testId, minHeight }: { value?: string; onChange: (v: string) => void; placeholder?: string; testId?: string; minHeight?: number }) {
  const ctx = useFlowCtx();
  const { i18n } = useTranslation();
  const ext: Extension[] = useMemo(
    () => [autocompletion({ override: [pathSource(() => completionsFor(ctx, i18n.language))], activateOnTyping: true }), EditorView.lineWrapping],
    [ctx, i18n.language],
  );
  return (
    <div data-testid={testId ?? 'expr-editor'} className="expr-input" style={{ border: '1px solid #d9d9d9', borderRadius: 6, overflow: 'hidden', fontSize: 13 }}>
      <CodeMirror value={value ?? ''} minHeight={`${minHeight ?? 28}px`} placeholder={placeholder} extensions={ext} onChange={onChange}
        basicSetup={{ lineNumbers: false, foldGutter: false, highlightActiveLine: false, autocompletion: false }} />
    </div>
  );
}

/** Syntax errors of JavaScript code as the lezer parser sees them (shown inline before saving). */
export function jsSyntaxErrors(view: EditorView): Diagnostic[] {
  const out: Diagnostic[] = [];
  syntaxTree(view.state).iterate({
    enter: (n) => {
      if (n.type.isError) {
        const from = n.from;
        const to = Math.max(n.to, Math.min(from + 1, view.state.doc.length));
        out.push({ from, to, severity: 'error', message: 'Syntax error / 语法错误' });
      }
    },
  });
  return out;
}

function scriptCompletions(ctxOpts: Completion[]): Completion[] {
  return [...HOST_API.map(([label, detail]) => ({ label, detail, type: 'function' })), ...ctxOpts];
}

/** The script editor: completion of input.trigger.record fields and the host API, inline syntax errors, full screen on demand. */
export function ScriptEditor({ value, onChange }: { value?: string; onChange: (v: string) => void }) {
  const ctx = useFlowCtx();
  const { t, i18n } = useTranslation();
  const [full, setFull] = useState(false);
  const ext: Extension[] = useMemo(
    () => [
      javascript(),
      EditorView.lineWrapping,
      autocompletion({ override: [pathSource(() => scriptCompletions(completionsFor(ctx, i18n.language, 'input.')))] }),
      linter(jsSyntaxErrors, { delay: 300 }),
    ],
    [ctx, i18n.language],
  );
  const editor = (height: string) => (
    <div data-testid="code-editor" style={{ border: '1px solid #d9d9d9', borderRadius: 6, overflow: 'hidden', resize: 'vertical' }}>
      <CodeMirror value={value ?? ''} height={height} extensions={ext} onChange={onChange} basicSetup={{ lineNumbers: true, foldGutter: false, autocompletion: false }} />
    </div>
  );
  return (
    <>
      <div style={{ display: 'flex', justifyContent: 'flex-end', marginBottom: 4 }}>
        <Button size="small" icon={<ExpandOutlined />} onClick={() => setFull(true)} data-testid="code-fullscreen">{t('fb.fullScreen')}</Button>
      </div>
      {!full && editor('320px')}
      <Modal open={full} onCancel={() => setFull(false)} onOk={() => setFull(false)} width="92vw" title={t('fb.scriptTitle')} destroyOnHidden
        styles={{ body: { height: '72vh' } }}>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>{t('fb.scriptHelp')}</Typography.Paragraph>
        {editor('64vh')}
      </Modal>
    </>
  );
}
