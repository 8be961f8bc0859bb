// How a statistics row is named and charted. Pure functions, unit-tested.
import type { StatisticsDimension, StatisticsQuery } from '@/gql/graphql'

export type StatisticsRow = StatisticsQuery['statistics']['edges'][number]['node']
export type Metric = 'emissions' | 'energyTce' | 'allowances' | 'verifiedEmissions' | 'surplus' | 'complianceRate'

export const DIMENSIONS: StatisticsDimension[] = [
  'YEAR',
  'QUARTER',
  'MONTH',
  'PROVINCE',
  'CITY',
  'REGION',
  'INDUSTRY',
  'SECTOR',
  'ENTERPRISE',
  'ENERGY_TYPE',
]
export const METRICS: Metric[] = ['emissions', 'energyTce', 'allowances', 'verifiedEmissions', 'surplus', 'complianceRate']

type Translate = (key: string) => string

/** The label of a row's key for one dimension, e.g. "2025 Q3" or an enterprise's name. */
export function keyLabel(row: StatisticsRow, dimension: StatisticsDimension, translate: Translate): string {
  switch (dimension) {
    case 'YEAR':
      return String(row.year ?? '')
    case 'QUARTER':
      return `${row.year ?? ''} Q${row.quarter ?? ''}`
    case 'MONTH':
      return `${row.year ?? ''}-${String(row.month ?? '').padStart(2, '0')}`
    case 'PROVINCE':
      return row.province ?? ''
    case 'CITY':
      return row.city ?? ''
    case 'REGION':
      return row.regionCode ?? ''
    case 'INDUSTRY':
      return row.industryCode ?? ''
    case 'SECTOR':
      return row.sector ? translate(`sector.${row.sector}`) : ''
    case 'ENTERPRISE':
      return row.enterprise?.name ?? ''
    case 'ENERGY_TYPE':
      return row.energyType ? translate(`energyType.${row.energyType}`) : ''
  }
}

export function metricValue(row: StatisticsRow, metric: Metric): number | null {
  const value = row[metric]
  return value === null || value === undefined ? null : Number(value)
}

export interface Series {
  name: string
  values: Array<number | null>
}

/** Categories along the first dimension, one series per value of the second (or one series). */
export function pivot(
  rows: StatisticsRow[],
  dimensions: StatisticsDimension[],
  metric: Metric,
  translate: Translate,
  seriesName: string,
): { categories: string[]; series: Series[] } {
  const [first, second] = dimensions
  if (!first) return { categories: [], series: [] }
  const categories = [...new Set(rows.map((row) => keyLabel(row, first, translate)))]
  if (!second) {
    return { categories, series: [{ name: seriesName, values: rows.map((row) => metricValue(row, metric)) }] }
  }
  const names = [...new Set(rows.map((row) => keyLabel(row, second, translate)))]
  return {
    categories,
    series: names.map((name) => ({
      name,
      values: categories.map((category) => {
        const row = rows.find((r) => keyLabel(r, first, translate) === category && keyLabel(r, second, translate) === name)
        return row ? metricValue(row, metric) : null
      }),
    })),
  }
}

/** Energy (tce) stacked by energy type, one stack per row of the first dimension. */
export function stackByEnergyType(
  rows: StatisticsRow[],
  dimension: StatisticsDimension,
  translate: Translate,
): { categories: string[]; series: Series[] } {
  const categories = rows.map((row) => keyLabel(row, dimension, translate))
  const types = [...new Set(rows.flatMap((row) => row.energy.map((use) => use.energyType)))].sort()
  return {
    categories,
    series: types.map((type) => ({
      name: translate(`energyType.${type}`),
      values: rows.map((row) => {
        const use = row.energy.find((u) => u.energyType === type)
        return use ? Number(use.tce) : null
      }),
    })),
  }
}
