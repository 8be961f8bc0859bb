import { describe, expect, it } from 'vitest'

import { retryAt, secondsLeft } from './retry'

describe('the time to wait after too many attempts', () => {
  const now = new Date('2026-03-01T06:00:00Z')

  it('is read from TOO_MANY_ATTEMPTS and nothing else', () => {
    expect(retryAt([{ code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: 90 }], now)).toEqual(new Date('2026-03-01T06:01:30Z'))
    expect(retryAt([{ code: 'INVALID_CREDENTIALS', retryAfterSeconds: null }], now)).toBeNull()
    expect(retryAt([], now)).toBeNull()
  })

  it('counts down in whole seconds and stops at zero', () => {
    const until = new Date('2026-03-01T06:01:30Z')
    expect(secondsLeft(until, now)).toBe(90)
    expect(secondsLeft(until, new Date('2026-03-01T06:01:29.500Z'))).toBe(1)
    expect(secondsLeft(until, new Date('2026-03-01T06:02:00Z'))).toBe(0)
    expect(secondsLeft(null, now)).toBe(0)
  })
})
