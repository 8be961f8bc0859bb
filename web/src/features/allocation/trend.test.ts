import { describe, expect, it } from 'vitest'

import { type Trend, trendSeries } from './trend'

const point = (year: number, emissions: number | null, coverage: number | null = 1) => ({
  year,
  emissions,
  enterprises: 3,
  energyTce: '0',
  change: null,
  changeRatio: null,
  coverage,
  inFit: emissions !== null && coverage !== null && coverage >= 0.8,
})
const coverageFields = { scopeEnterprises: 3, minCoverage: 0.8, excludedYears: [], coverageNote: null }

describe('the trend chart', () => {
  it('draws a year left out of the fit apart from the fitted totals, with each year coverage', () => {
    const trend: Trend = {
      points: [point(2021, 100), point(2022, 5, 0.1), point(2023, 120)],
      slope: 10,
      intercept: -20110,
      rSquared: 1,
      forecastYear: 2024,
      forecast: 130,
      forecastLower: null,
      forecastUpper: null,
      note: null,
      missingCoefficients: [],
      ...coverageFields,
      excludedYears: [2022],
      coverageNote: 'left out of the fit: 2022',
    }
    const series = trendSeries(trend)
    expect(series.totals).toEqual([100, null, 120, null])
    expect(series.excluded).toEqual([null, 5, null, null])
    expect(series.coverage).toEqual([1, 0.1, 1, null])
  })

  it('draws the totals, the fitted line through the forecast and the interval band', () => {
    const trend: Trend = {
      points: [point(2022, 100), point(2023, 110), point(2024, 120)],
      slope: 10,
      intercept: -20120,
      rSquared: 1,
      forecastYear: 2025,
      forecast: 130,
      forecastLower: 120,
      forecastUpper: 140,
      note: null,
      missingCoefficients: [],
      ...coverageFields,
    }
    const series = trendSeries(trend)
    expect(series.years).toEqual(['2022', '2023', '2024', '2025'])
    expect(series.totals).toEqual([100, 110, 120, null])
    expect(series.fitted).toEqual([100, 110, 120, 130])
    expect(series.bandBase).toEqual([null, null, 120, 120])
    expect(series.bandWidth).toEqual([null, null, 0, 20])
  })

  it('draws no line or band when the server gave no fit', () => {
    const trend: Trend = {
      points: [point(2024, 120)],
      slope: null,
      intercept: null,
      rSquared: null,
      forecastYear: null,
      forecast: null,
      forecastLower: null,
      forecastUpper: null,
      note: 'one year of data',
      missingCoefficients: [],
      ...coverageFields,
    }
    const series = trendSeries(trend)
    expect(series.fitted).toEqual([null])
    expect(series.bandWidth).toEqual([null])
  })
})
