import { describe, expect, it } from 'vitest'

import {
  formatDateTime,
  formatNumber,
  formatPercent,
  formatShareDown,
  isoToShanghaiInput,
  shanghaiInputToIso,
  timeLeft,
} from './format'

describe('numbers', () => {
  it('groups thousands in both languages', () => {
    expect(formatNumber(1234567, 'zh-CN')).toBe('1,234,567')
    expect(formatNumber('1234567.891', 'en')).toBe('1,234,567.89')
  })

  it('shows a dash for nothing and keeps zero', () => {
    expect(formatNumber(null, 'zh-CN')).toBe('—')
    expect(formatNumber(0, 'zh-CN')).toBe('0')
  })

  it('shows a fraction as a percentage', () => {
    expect(formatPercent('0.3', 'zh-CN')).toBe('30%')
    expect(formatPercent(0.6667, 'en')).toBe('66.7%')
    expect(formatPercent(0.024, 'zh-CN', true)).toBe('+2.4%')
    expect(formatPercent(-0.006, 'en', true)).toBe('-0.6%')
  })

  it('rounds a completeness down, so an incomplete total never reads 100%', () => {
    expect(formatShareDown('0.9999', 'zh-CN')).toBe('99.9%')
    expect(formatShareDown('1', 'en')).toBe('100%')
    expect(formatShareDown('0.6666', 'en')).toBe('66.6%')
    expect(formatShareDown('0.07', 'en')).toBe('7%')
    expect(formatShareDown(null, 'en')).toBe('—')
  })
})

describe('times in Asia/Shanghai', () => {
  it('shows an instant on Shanghai clocks whatever the zone it was written in', () => {
    expect(formatDateTime('2025-12-31T16:00:00Z', 'zh-CN')).toBe('2026/01/01 00:00')
    expect(formatDateTime('2025-06-30T23:59:00+08:00', 'en')).toBe('06/30/2025, 23:59')
  })

  it('sends a deadline typed in Shanghai with its +08:00 offset', () => {
    expect(shanghaiInputToIso('2025-12-31T23:59')).toBe('2025-12-31T23:59:00+08:00')
    expect(shanghaiInputToIso('2025-12-31 08:00:00')).toBe('2025-12-31T08:00:00+08:00')
    expect(() => shanghaiInputToIso('31/12/2025')).toThrow(RangeError)
  })

  it('turns an instant back into what the deadline input shows', () => {
    expect(isoToShanghaiInput('2025-12-31T15:59:00Z')).toBe('2025-12-31T23:59')
    expect(isoToShanghaiInput(shanghaiInputToIso('2026-03-31T18:00'))).toBe('2026-03-31T18:00')
  })

  it('counts the time left, and none once it has passed', () => {
    const now = new Date('2025-01-01T00:00:00Z')
    expect(timeLeft('2025-01-03T05:30:00Z', now)).toEqual({ days: 2, hours: 5, minutes: 30 })
    expect(timeLeft('2024-12-31T00:00:00Z', now)).toEqual({ days: 0, hours: 0, minutes: 0 })
  })
})
