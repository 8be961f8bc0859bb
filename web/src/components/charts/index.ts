import { defineAsyncComponent } from 'vue'

/** The chart component, loaded (with ECharts) the first time a screen shows a chart. */
export const LazyChart = defineAsyncComponent(() => import('./EChart.vue'))
