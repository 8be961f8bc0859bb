// The one GraphQL client: queries and mutations over HTTP with the bearer token, subscriptions
// over graphql-ws with the token in connection_init (browsers cannot set WebSocket headers).
// Both carry the console's language (Accept-Language; `language` in connection_init), so the
// server's messages and error texts come in the language the user chose.
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core'
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'
import { watch } from 'vue'

import { refetchVisible } from '@/composables/live'
import { i18n, type Language } from '@/i18n'

export interface Connection {
  client: Client
  ws: WsClient
}

function hasCode(error: CombinedError, code: string): boolean {
  return error.graphQLErrors.some((e) => (e.extensions as { code?: string } | undefined)?.code === code)
}

export function isUnauthenticated(error: CombinedError): boolean {
  return error.response?.status === 401 || hasCode(error, 'UNAUTHENTICATED')
}

// graphql-transport-ws close codes: the server ended the session (token expired, password
// changed, user deactivated or moved), or refused the token on connecting.
export const SESSION_ENDED = 4401
export const FORBIDDEN = 4403

export function endsTheSession(code: number): boolean {
  return code === SESSION_ENDED || code === FORBIDDEN
}

export interface SessionHandlers {
  onUnauthenticated: () => void
  onPasswordChangeRequired: () => void
}

export function requestHeaders(token: string | null, language: Language): Record<string, string> {
  return { 'accept-language': language, ...(token ? { authorization: `Bearer ${token}` } : {}) }
}

export function connectionParams(token: string | null, language: Language): Record<string, string> {
  return { language, ...(token ? { authorization: `Bearer ${token}` } : {}) }
}

export function connect(token: string | null, handlers: SessionHandlers): Connection {
  const { protocol, host } = window.location
  const language = (): Language => i18n.global.locale.value
  const ws = createWsClient({
    url: `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/graphql`,
    connectionParams: () => connectionParams(token, language()),
    // Keep trying: a server restart or a network blip must not end live updates for good.
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      // Events published while the socket was down are lost: reload what is on screen.
      connected: (_socket, _payload, wasRetry) => {
        if (wasRetry) refetchVisible()
      },
      closed: (event) => {
        if (token && endsTheSession((event as CloseEvent).code)) handlers.onUnauthenticated()
      },
    },
  })
  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    fetchOptions: (): RequestInit => ({ headers: requestHeaders(token, language()) }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error)) handlers.onUnauthenticated()
          else if (hasCode(error, 'PASSWORD_CHANGE_REQUIRED')) handlers.onPasswordChangeRequired()
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' }
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink)
              return { unsubscribe }
            },
          }
        },
      }),
    ],
  })
  // A switch of language: the socket reconnects with the new `language` (a terminated socket is
  // retried, and a retry refetches what is on screen), and the screens reload their texts.
  watch(i18n.global.locale, () => {
    ws.terminate()
    refetchVisible()
  })
  return { client, ws }
}
