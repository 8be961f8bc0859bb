import { describe, expect, it } from 'vitest'

import { isImportReport, isRefusal, isRegisterReport } from './importReport'

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

describe("the enterprise register's answer", () => {
  it('carries what was registered and the accounts made', () => {
    const report = { sheet: '企业', written: 1, errorCount: 0, errors: [], created: 1, updated: 0, accounts: [{ line: 2, creditCode: 'X', username: 'u1', oneTimePassword: 'abcd-efgh-jkmn-pqrs' }] }
    expect(isRegisterReport(report)).toBe(true)
    expect(isImportReport(report)).toBe(true)
    expect(isRegisterReport({ written: 1, errorCount: 0, errors: [], missingFactors: 0, warnings: [] })).toBe(false)
  })
})
