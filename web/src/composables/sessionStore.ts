// Where the console keeps its session between page loads. The token is a bearer token that
// expires (CCMS_TOKEN_TTL_SECONDS); nothing else secret is kept.
import type { Role } from '@/gql/graphql'

export const TOKEN_KEY = 'ccms.token'
const SESSION_KEY = 'ccms.session'

export interface StoredSession {
  token: string
  expiresAt: string
  username: string
  role: Role
  regionPrefix: string
  enterpriseId: string | null
  enterpriseName: string | null
  // After an administrator's password reset: the console shows nothing but the password change.
  mustChangePassword?: boolean
}

export function loadSession(storage: Storage = window.localStorage, now: Date = new Date()): StoredSession | null {
  const raw = storage.getItem(SESSION_KEY)
  if (!raw) return null
  try {
    const session = JSON.parse(raw) as StoredSession
    if (new Date(session.expiresAt) <= now) {
      clearSession(storage)
      return null
    }
    return session
  } catch {
    clearSession(storage)
    return null
  }
}

export function saveSession(session: StoredSession, storage: Storage = window.localStorage): void {
  storage.setItem(SESSION_KEY, JSON.stringify(session))
  storage.setItem(TOKEN_KEY, session.token)
}

export function clearSession(storage: Storage = window.localStorage): void {
  storage.removeItem(SESSION_KEY)
  storage.removeItem(TOKEN_KEY)
}
