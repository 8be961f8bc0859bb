// The parts of ECharts the console draws with, and nothing else (the whole library is several
// times larger). This module is only reached through the lazy chart component, so ECharts is
// a chunk of its own, loaded with the first chart.
import { BarChart, LineChart } from 'echarts/charts'
import {
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent, DatasetComponent, CanvasRenderer])
