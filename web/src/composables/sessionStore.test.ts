import { describe, expect, it } from 'vitest'

import { clearSession, loadSession, saveSession, type StoredSession, TOKEN_KEY } from './sessionStore'

class MemoryStorage implements Storage {
  private items = new Map<string, string>()
  get length(): number {
    return this.items.size
  }
  clear(): void {
    this.items.clear()
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null
  }
  removeItem(key: string): void {
    this.items.delete(key)
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value)
  }
}

const session: StoredSession = {
  token: 'jwt',
  expiresAt: '2025-06-01T08:00:00Z',
  username: 'gz_power',
  role: 'ENTERPRISE',
  regionPrefix: '',
  enterpriseId: '1',
  enterpriseName: '广州华润热电有限公司',
}

describe('the stored session', () => {
  it('comes back until it expires, then is forgotten', () => {
    const storage = new MemoryStorage()
    saveSession(session, storage)
    expect(storage.getItem(TOKEN_KEY)).toBe('jwt')
    expect(loadSession(storage, new Date('2025-06-01T07:59:00Z'))).toEqual(session)
    expect(loadSession(storage, new Date('2025-06-01T08:00:00Z'))).toBeNull()
    expect(storage.length).toBe(0)
  })

  it('forgets a damaged entry and is cleared on sign-out', () => {
    const storage = new MemoryStorage()
    storage.setItem('ccms.session', '{not json')
    expect(loadSession(storage)).toBeNull()
    saveSession(session, storage)
    clearSession(storage)
    expect(storage.length).toBe(0)
  })
})
