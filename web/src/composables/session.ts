// The signed-in user as the console knows it. Signing in or out reloads the page, so that
// every query, cache and WebSocket starts again as the new user (nothing of the previous
// user's data can linger in memory); a session that expires or is ended by the server (a
// password change, a deactivation, a new role or region: HTTP 401 or WebSocket close 4401)
// returns to the sign-in page.
import type { ChangePasswordMutation, LoginMutation, Role } from '@/gql/graphql'

import { clearSession, loadSession, saveSession, type StoredSession } from './sessionStore'

export const session: StoredSession | null = loadSession()

export function hasRole(...roles: Role[]): boolean {
  return session !== null && roles.includes(session.role)
}

export function homeFor(role: Role): string {
  return { ADMIN: '/admin/users', REGULATOR: '/overview', ENTERPRISE: '/inbox', VERIFIER: '/verifications' }[role]
}

export const CHANGE_PASSWORD = '/account/password'

/** Where a session that must change its password is sent, whatever it asked for. */
export function mustChangePassword(): boolean {
  return session?.mustChangePassword === true
}

/** Keep the session a login or a password change returned, then load `next` (or the home
 * screen) afresh; a session that must change its password goes to that screen first. */
export function signIn(payload: LoginMutation['login'] | ChangePasswordMutation['changePassword'], next: string | null): void {
  const { token, expiresAt, user, mustChangePassword: mustChange } = payload
  if (!token || !expiresAt || !user) return
  saveSession({
    token,
    expiresAt,
    username: user.username,
    role: user.role,
    regionPrefix: user.regionPrefix,
    enterpriseId: user.enterprise?.id ?? null,
    enterpriseName: user.enterprise?.name ?? null,
    mustChangePassword: mustChange,
  })
  // Only a path on this site: never follow a `next` to another origin.
  const safe = next && next.startsWith('/') && !next.startsWith('//') ? next : homeFor(user.role)
  window.location.assign(mustChange ? `${CHANGE_PASSWORD}?next=${encodeURIComponent(safe)}` : safe)
}

export function signOut(reason: 'signedOut' | 'expired' = 'signedOut'): void {
  clearSession()
  const here = window.location.pathname + window.location.search
  const query = reason === 'expired' ? `?reason=expired&next=${encodeURIComponent(here)}` : ''
  window.location.assign(`/login${query}`)
}

/** Sign out when the token expires, even if the user does nothing meanwhile. */
export function watchExpiry(): void {
  if (!session) return
  const ms = new Date(session.expiresAt).getTime() - Date.now()
  // setTimeout takes at most 2^31-1 ms; a longer session is checked again on the next load.
  if (ms < 2 ** 31 - 1) window.setTimeout(() => signOut('expired'), Math.max(0, ms))
}
