import { describe, expect, it } from 'vitest'

import { isImportReport, isRefusal } from './importReport'

describe("the energy import's answer", () => {
  it('tells a report from a refusal', () => {
    const report = { written: 2, errorCount: 1, errors: [{ line: 3, code: 'UNKNOWN_UNIT', field: 'unit', message: 'x' }], missingFactors: 0, warnings: [] }
    const refusal = { code: 'UNAUTHENTICATED', message: 'Authentication required' }
    expect(isImportReport(report)).toBe(true)
    expect(isRefusal(report)).toBe(false)
    expect(isImportReport(refusal)).toBe(false)
    expect(isRefusal(refusal)).toBe(true)
    expect(isImportReport(null)).toBe(false)
  })
})
