// @vitest-environment node
import { SVGRenderer } from 'echarts/renderers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReportData } from '../api/types';
import echarts from './echarts';
import { ECHART_TYPES, chartOption } from './report';

echarts.use([SVGRenderer]); // server-side rendering in the test: jsdom has no canvas

const data: ReportData = {
  columns: [{ key: 'stage', label: 'Stage' }, { key: 'owner', label: 'Owner' }, { key: 'amount', label: 'Amount', type: 'money' }],
  rows: [['new', 'ann', 10], ['won', 'bob', 20]],
} as ReportData;

describe('the trimmed echarts build', () => {
  afterEach(() => vi.restoreAllMocks());
  it.each(ECHART_TYPES)('renders every option chartOption makes for %s', (chart) => {
    const errors: unknown[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a) => void errors.push(a));
    vi.spyOn(console, 'warn').mockImplementation((...a) => void errors.push(a));
    const option = chartOption(data, chart, 'en');
    expect(option).not.toBeNull();
    const c = echarts.init(null, undefined, { renderer: 'svg', ssr: true, width: 400, height: 300 });
    c.setOption(option!);
    const svg = c.renderToSVGString();
    c.dispose();
    expect(errors).toEqual([]);
    expect(svg).toContain('<svg');
  });
});
