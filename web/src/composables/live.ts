// Live updates reach the screens through one path: a subscription event, a `Resync` or a
// reconnection of the WebSocket calls `refetchVisible()`, which asks every query currently on
// screen to reload from the server. The events say *that* something changed; the queries say
// *what* is true now, so a missed event costs nothing once the next one or a Resync arrives.
import { getCurrentScope, onScopeDispose } from 'vue'

type Refetch = () => void

const visible = new Set<Refetch>()

export function refetchVisible(): void {
  for (const refetch of [...visible]) refetch()
}

/** Register refetches for as long as the calling component (or effect scope) lives. */
export function useLiveRefetch(...refetches: Refetch[]): void {
  const run: Refetch = () => refetches.forEach((refetch) => refetch())
  visible.add(run)
  if (getCurrentScope()) onScopeDispose(() => visible.delete(run))
}

/** How many screens are listening (for tests). */
export function visibleCount(): number {
  return visible.size
}
