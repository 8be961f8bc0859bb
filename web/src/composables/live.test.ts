import { effectScope } from 'vue'
import { describe, expect, it, vi } from 'vitest'

import { refetchVisible, useLiveRefetch, visibleCount } from './live'

describe('live refetch', () => {
  it('reloads the queries of the screens on view, and stops when a screen goes', () => {
    const overview = vi.fn()
    const inbox = vi.fn()
    const first = effectScope()
    const second = effectScope()
    first.run(() => useLiveRefetch(overview))
    second.run(() => useLiveRefetch(inbox, inbox))

    refetchVisible()
    expect(overview).toHaveBeenCalledTimes(1)
    expect(inbox).toHaveBeenCalledTimes(2)

    const before = visibleCount()
    first.stop()
    expect(visibleCount()).toBe(before - 1)
    refetchVisible()
    expect(overview).toHaveBeenCalledTimes(1)
    expect(inbox).toHaveBeenCalledTimes(4)
    second.stop()
  })
})
