// The trend chart's series from the server's fit: yearly totals, the fitted line at each year
// and the forecast, and the 95 % interval as a band (a transparent base plus its width, stacked).
import type { EmissionTrendQuery } from '@/gql/graphql'

export type Trend = EmissionTrendQuery['emissionTrend']

export interface TrendSeries {
  years: string[]
  totals: Array<number | null>
  // Yearly totals left out of the fit (coverage below the threshold), drawn apart; null elsewhere.
  excluded: Array<number | null>
  // Each year's share of the scope reporting, 0 to 1 (null: no point or an empty scope).
  coverage: Array<number | null>
  fitted: Array<number | null>
  bandBase: Array<number | null>
  bandWidth: Array<number | null>
}

export function trendSeries(trend: Trend): TrendSeries {
  const years = trend.points.map((p) => p.year)
  const all = trend.forecastYear && !years.includes(trend.forecastYear) ? [...years, trend.forecastYear] : years
  const line = (year: number) =>
    trend.slope === null || trend.intercept === null ? null : trend.intercept + trend.slope * year
  const lastWithData = [...trend.points].reverse().find((p) => p.emissions !== null)?.year ?? null
  const hasBand = trend.forecastYear !== null && trend.forecastLower !== null && trend.forecastUpper !== null
  return {
    years: all.map(String),
    totals: all.map((year) => {
      const p = trend.points.find((q) => q.year === year)
      return p && p.inFit ? p.emissions : null
    }),
    excluded: all.map((year) => {
      const p = trend.points.find((q) => q.year === year)
      return p && !p.inFit ? p.emissions : null
    }),
    coverage: all.map((year) => trend.points.find((p) => p.year === year)?.coverage ?? null),
    fitted: all.map((year) => (year === trend.forecastYear ? trend.forecast : line(year))),
    // The band opens from the fitted value of the last year with data to the forecast's interval.
    bandBase: all.map((year) => {
      if (!hasBand) return null
      if (year === trend.forecastYear) return trend.forecastLower
      return year === lastWithData ? line(year) : null
    }),
    bandWidth: all.map((year) => {
      if (!hasBand) return null
      if (year === trend.forecastYear) return (trend.forecastUpper ?? 0) - (trend.forecastLower ?? 0)
      return year === lastWithData ? 0 : null
    }),
  }
}
