import { describe, expect, it } from 'vitest'

import { moved, percentToShare } from './order'

describe('the precedence order', () => {
  it('swaps a source with its neighbour, and stays put at either end', () => {
    expect(moved(['MANUAL', 'IMPORT', 'PLATFORM', 'IOT'], 3, -1)).toEqual(['MANUAL', 'IMPORT', 'IOT', 'PLATFORM'])
    expect(moved(['MANUAL', 'IMPORT', 'PLATFORM', 'IOT'], 0, 1)).toEqual(['IMPORT', 'MANUAL', 'PLATFORM', 'IOT'])
    expect(moved(['MANUAL', 'IMPORT'], 0, -1)).toEqual(['MANUAL', 'IMPORT'])
    expect(moved(['MANUAL', 'IMPORT'], 1, 1)).toEqual(['MANUAL', 'IMPORT'])
  })

  it('turns a percentage into the share the API takes', () => {
    expect(percentToShare(5)).toBe('0.05')
    expect(percentToShare(12.5)).toBe('0.125')
    expect(percentToShare(0)).toBe('0')
  })
})
