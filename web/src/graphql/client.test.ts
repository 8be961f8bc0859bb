import { describe, expect, it } from 'vitest'

import { endsTheSession } from './client'

describe('a WebSocket closed by the server', () => {
  it('ends the session on 4401 (session ended) and 4403 (token refused), not on other closes', () => {
    expect(endsTheSession(4401)).toBe(true)
    expect(endsTheSession(4403)).toBe(true)
    for (const code of [1000, 1001, 1006, 4400, 4408, 4500]) expect(endsTheSession(code)).toBe(false)
  })
})
