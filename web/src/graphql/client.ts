// The one GraphQL client: queries and mutations over HTTP with the bearer token, subscriptions
// over graphql-ws with the token in connection_init (browsers cannot set WebSocket headers).
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core'
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'

import { refetchVisible } from '@/composables/live'

export interface Connection {
  client: Client
  ws: WsClient
}

export function isUnauthenticated(error: CombinedError): boolean {
  return (
    error.response?.status === 401 ||
    error.graphQLErrors.some((e) => (e.extensions as { code?: string } | undefined)?.code === 'UNAUTHENTICATED')
  )
}

export function connect(token: string | null, onUnauthenticated: () => void): Connection {
  const { protocol, host } = window.location
  const ws = createWsClient({
    url: `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/graphql`,
    connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
    // Keep trying: a server restart or a network blip must not end live updates for good.
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      // Events published while the socket was down are lost: reload what is on screen.
      connected: (_socket, _payload, wasRetry) => {
        if (wasRetry) refetchVisible()
      },
    },
  })
  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    fetchOptions: (): RequestInit => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error)) onUnauthenticated()
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
  return { client, ws }
}
