// Shared set-up for component tests that render antd in jsdom.
import { cleanup } from '@testing-library/react';
import { afterEach, beforeAll, vi } from 'vitest';

/** Registers the hooks every antd component test needs: ResizeObserver and matchMedia stubs (jsdom has neither), and cleanup of the DOM and stubbed globals after each test. */
export function setupDom() {
  beforeAll(() => {
    globalThis.ResizeObserver ??= class {
      observe() {}
      unobserve() {}
      disconnect() {}
    } as unknown as typeof ResizeObserver;
    Object.defineProperty(window, 'matchMedia', {
      writable: true,
      value: (query: string) => ({ matches: false, media: query, onchange: null, addEventListener: () => {}, removeEventListener: () => {}, addListener: () => {}, removeListener: () => {}, dispatchEvent: () => false }),
    });
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });
}
