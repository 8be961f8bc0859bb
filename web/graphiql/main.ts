// GraphiQL for /graphql, built from the graphiql package so that it loads nothing from outside
// the server (strawberry's stock page fetches React and GraphiQL from a CDN).
import 'graphiql/style.css'

import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { GraphiQL } from 'graphiql'
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'

import { TOKEN_KEY } from '../src/composables/sessionStore'

// Someone signed in to the console gets their token as the default header (and for
// subscriptions, in the WebSocket's connection_init), so queries in GraphiQL run as them;
// anyone else adds `Authorization` in the headers tab.
const token = window.localStorage.getItem(TOKEN_KEY)
const headers = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined

const origin = window.location.origin
const fetcher = createGraphiQLFetcher({
  url: `${origin}/graphql`,
  subscriptionUrl: `${origin.replace(/^http/, 'ws')}/graphql`,
  wsConnectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
})

// What a first visit shows: a query that works for anyone signed in.
const defaultQuery = `# CCMS GraphQL API. Send "Authorization: Bearer <token>" (the headers tab below);
# the login mutation gives a token. Every type and field is described in the docs (top left).
{
  me {
    username
    role
    enterprise { name }
  }
}
`

const root = document.getElementById('graphiql')
if (root) {
  root.textContent = ''
  createRoot(root).render(
    createElement(GraphiQL, { fetcher, defaultQuery, defaultHeaders: headers, shouldPersistHeaders: false }),
  )
}
