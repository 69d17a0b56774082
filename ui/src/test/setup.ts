// Loaded before every vitest file (vite.config.ts test.setupFiles). jsdom lacks a few browser
// APIs antd and echarts call; without these stubs each call prints a "Not implemented" trace.
if (typeof window !== 'undefined') {
  const computed = window.getComputedStyle.bind(window);
  // jsdom implements no pseudo-element styles: answer the element's own (antd only reads sizes).
  window.getComputedStyle = ((elt: Element) => computed(elt)) as typeof window.getComputedStyle;
  window.scrollTo = (() => {}) as typeof window.scrollTo;
  Element.prototype.scrollTo ??= function scrollTo() {};
  Element.prototype.scrollIntoView ??= function scrollIntoView() {};
  // No canvas in jsdom: charts render nothing (src/lib/echarts.test.ts renders SVG in node).
  HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement['getContext'];
}
