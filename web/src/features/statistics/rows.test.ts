import { describe, expect, it } from 'vitest'

import { keyLabel, pivot, stackByEnergyType, type StatisticsRow } from './rows'

function row(values: Partial<StatisticsRow>): StatisticsRow {
  return {
    year: null, quarter: null, month: null, province: null, city: null, regionCode: null,
    industryCode: null, sector: null, energyType: null, energyTce: '0', emissions: '0',
    recordsMissingFactor: 0, completeness: null, allowances: null, verifiedEmissions: null, surplus: null, shortfalls: null,
    noticesDue: null, noticesFulfilled: null, noticesOverdue: null, complianceRate: null,
    enterprise: null, energy: [],
    ...values,
  }
}
const translate = (key: string) => `<${key}>`

describe('statistics rows', () => {
  it('names a key the way a reader says it', () => {
    expect(keyLabel(row({ year: 2025, quarter: 3 }), 'QUARTER', translate)).toBe('2025 Q3')
    expect(keyLabel(row({ year: 2025, month: 4 }), 'MONTH', translate)).toBe('2025-04')
    expect(keyLabel(row({ sector: 'POWER' }), 'SECTOR', translate)).toBe('<sector.POWER>')
    expect(keyLabel(row({ enterprise: { id: '1', name: '广州电厂' } }), 'ENTERPRISE', translate)).toBe('广州电厂')
  })

  it('pivots two dimensions into one series per value of the second, with gaps as null', () => {
    const rows = [
      row({ year: 2024, province: '44', emissions: '10' }),
      row({ year: 2025, province: '44', emissions: '12' }),
      row({ year: 2025, province: '11', emissions: '5' }),
    ]
    const result = pivot(rows, ['YEAR', 'PROVINCE'], 'emissions', translate, 'E')
    expect(result.categories).toEqual(['2024', '2025'])
    expect(result.series).toEqual([
      { name: '44', values: [10, 12] },
      { name: '11', values: [null, 5] },
    ])
  })

  it('keeps a compliance figure that does not apply as null, not zero', () => {
    const rows = [row({ year: 2025, complianceRate: null }), row({ year: 2024, complianceRate: '0' })]
    expect(pivot(rows, ['YEAR'], 'complianceRate', translate, 'R').series[0]?.values).toEqual([null, 0])
  })

  it('stacks energy by type from each row', () => {
    const rows = [
      row({ year: 2025, energy: [{ energyType: 'DIESEL', unit: 't', quantity: '1', tce: '1.5', emissions: '3' }] }),
      row({ year: 2024, energy: [{ energyType: 'ELECTRICITY', unit: 'MWh', quantity: '10', tce: '1.2', emissions: '5' }] }),
    ]
    const result = stackByEnergyType(rows, 'YEAR', translate)
    expect(result.categories).toEqual(['2025', '2024'])
    expect(result.series).toEqual([
      { name: '<energyType.DIESEL>', values: [1.5, null] },
      { name: '<energyType.ELECTRICITY>', values: [null, 1.2] },
    ])
  })
})
