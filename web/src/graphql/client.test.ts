import { describe, expect, it } from 'vitest'

import { connectionParams, endsTheSession, requestHeaders } from './client'

describe('a WebSocket closed by the server', () => {
  it('ends the session on 4401 (session ended) and 4403 (token refused), not on other closes', () => {
    expect(endsTheSession(4401)).toBe(true)
    expect(endsTheSession(4403)).toBe(true)
    for (const code of [1000, 1001, 1006, 4400, 4408, 4500]) expect(endsTheSession(code)).toBe(false)
  })
})

describe('the language the server answers in', () => {
  it('goes with every request as Accept-Language, signed in or not', () => {
    expect(requestHeaders('t0k', 'en')).toEqual({ 'accept-language': 'en', authorization: 'Bearer t0k' })
    expect(requestHeaders(null, 'zh-CN')).toEqual({ 'accept-language': 'zh-CN' })
  })

  it('goes in connection_init on the WebSocket, beside the token', () => {
    expect(connectionParams('t0k', 'en')).toEqual({ language: 'en', authorization: 'Bearer t0k' })
    expect(connectionParams(null, 'zh-CN')).toEqual({ language: 'zh-CN' })
  })
})
