import { describe, expect, it } from 'vitest'

import { useCursorPager } from './pager'

describe('the cursor pager', () => {
  it('goes forward by end cursors and back through the ones it came by', () => {
    const pager = useCursorPager()
    expect(pager.after.value).toBeNull()
    pager.next('c1')
    pager.next('c2')
    expect([pager.page.value, pager.after.value]).toEqual([3, 'c2'])
    pager.previous()
    expect([pager.page.value, pager.after.value, pager.hasPrevious.value]).toEqual([2, 'c1', true])
    pager.next(null) // no next page: stays
    expect(pager.page.value).toBe(2)
    pager.reset()
    expect([pager.page.value, pager.after.value, pager.hasPrevious.value]).toEqual([1, null, false])
  })
})
