// Undo/redo history and the unsaved-changes guard shared by every designer.
import { App } from 'antd';
import { useCallback, useContext, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { UNSAFE_DataRouterContext, useBlocker, useNavigate } from 'react-router';

/** An undo history: past states, the present, undone states; `merge` coalesces typing. */
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** the merge key of the last change: a change with the same key replaces it */
  lastKey?: string;
}

export const HISTORY_LIMIT = 100;

export function historyOf<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/** Applies a change; an equal state is no change; a change with the previous merge key replaces it. */
export function pushHistory<T>(h: History<T>, next: T, key?: string): History<T> {
  if (Object.is(next, h.present) || JSON.stringify(next) === JSON.stringify(h.present)) return h;
  if (key && key === h.lastKey && h.past.length) return { past: h.past, present: next, future: [], lastKey: key };
  const past = [...h.past, h.present].slice(-HISTORY_LIMIT);
  return { past, present: next, future: [], lastKey: key };
}

export function undoHistory<T>(h: History<T>): History<T> {
  if (!h.past.length) return h;
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future] };
}

export function redoHistory<T>(h: History<T>): History<T> {
  if (!h.future.length) return h;
  return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1) };
}

function isTyping(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'TEXTAREA' || (tag === 'INPUT' && !['checkbox', 'radio', 'button'].includes((el as HTMLInputElement).type)) || el.isContentEditable;
}

export interface Undoable<T> {
  value: T;
  /** records a change (merge: a key such as "label:name" so typing is one step) */
  set: (next: T | ((prev: T) => T), merge?: string) => void;
  /** replaces the state and forgets the history (a loaded or restored definition) */
  reset: (value: T) => void;
  undo: () => void;
  redo: () => void;
  canUndo: boolean;
  canRedo: boolean;
  /** the state differs from the last reset/markSaved */
  dirty: boolean;
  markSaved: () => void;
}

/**
 * State with undo/redo. Ctrl+Z / Cmd+Z undoes and Ctrl+Shift+Z / Ctrl+Y redoes while no text
 * field has the focus (there the browser's own undo applies).
 */
export function useUndoable<T>(initial: T, opts: { keys?: boolean } = {}): Undoable<T> {
  const [h, setH] = useState<History<T>>(() => historyOf(initial));
  const [saved, setSaved] = useState<string>(() => JSON.stringify(initial));
  const set = useCallback((next: T | ((prev: T) => T), merge?: string) => {
    setH((cur) => pushHistory(cur, typeof next === 'function' ? (next as (p: T) => T)(cur.present) : next, merge));
  }, []);
  const reset = useCallback((value: T) => {
    setH(historyOf(value));
    setSaved(JSON.stringify(value));
  }, []);
  const undo = useCallback(() => setH(undoHistory), []);
  const redo = useCallback(() => setH(redoHistory), []);
  const present = useRef(h.present);
  present.current = h.present;
  const markSaved = useCallback(() => setSaved(JSON.stringify(present.current)), []);
  const keys = opts.keys !== false;
  useEffect(() => {
    if (!keys) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || isTyping(e)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        undo();
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        redo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [keys, undo, redo]);
  return {
    value: h.present,
    set,
    reset,
    undo,
    redo,
    canUndo: h.past.length > 0,
    canRedo: h.future.length > 0,
    dirty: JSON.stringify(h.present) !== saved,
    markSaved,
  };
}

/** Asks before leaving a designer with unsaved changes: closing the tab, and in-app navigation. */
export function useUnsavedGuard(dirty: boolean) {
  const dataRouter = useContext(UNSAFE_DataRouterContext);
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onUnload);
    return () => window.removeEventListener('beforeunload', onUnload);
  }, [dirty]);
  // useBlocker needs a data router; with <BrowserRouter> in-app links are guarded by a click
  // listener instead. The router kind never changes while the app runs, so the hook order is stable.
  if (dataRouter) {
    // eslint-disable-next-line react-hooks/rules-of-hooks
    useBlockerGuard(dirty);
  } else {
    // eslint-disable-next-line react-hooks/rules-of-hooks
    useLinkGuard(dirty);
  }
}

function useConfirmLeave() {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  return useCallback(
    (onOk: () => void, onCancel?: () => void) =>
      modal.confirm({ title: t('designer.leaveTitle'), content: t('designer.leaveBody'), okText: t('designer.leave'), cancelText: t('designer.stay'), okButtonProps: { danger: true, 'data-testid': 'leave-confirm' } as { danger: boolean }, onOk, onCancel }),
    [modal, t],
  );
}

function useBlockerGuard(dirty: boolean) {
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  const confirm = useConfirmLeave();
  useEffect(() => {
    if (blocker.state === 'blocked') confirm(() => blocker.proceed(), () => blocker.reset());
  }, [blocker, confirm]);
}

function useLinkGuard(dirty: boolean) {
  const navigate = useNavigate();
  const confirm = useConfirmLeave();
  useEffect(() => {
    if (!dirty) return;
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      const a = (e.target as HTMLElement | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!a || a.target === '_blank' || a.origin !== window.location.origin || a.pathname === window.location.pathname) return;
      e.preventDefault();
      e.stopPropagation();
      const to = a.pathname + a.search + a.hash;
      confirm(() => navigate(to));
    };
    document.addEventListener('click', onClick, true);
    return () => document.removeEventListener('click', onClick, true);
  }, [dirty, navigate, confirm]);
}
