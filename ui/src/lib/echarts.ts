// echarts with only the charts and components chartOption (lib/report.ts) uses: the full
// package is three times larger. A chart type or option component added to chartOption must be
// registered here too (echarts logs "... is not registered" otherwise; echarts.test.ts checks it).
import { BarChart, FunnelChart, HeatmapChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, PieChart, FunnelChart, HeatmapChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export default echarts;
