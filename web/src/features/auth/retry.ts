// TOO_MANY_ATTEMPTS comes with retryAfterSeconds: the sign-in and password forms say until when
// (in Beijing time) and stay disabled meanwhile, counting down.
import { computed, onUnmounted, ref, type Ref } from 'vue'

export interface RetryError {
  code: string
  retryAfterSeconds?: number | null
}

/** The moment a throttled attempt may be made again, or null when nothing is held back. */
export function retryAt(errors: readonly RetryError[], now: Date = new Date()): Date | null {
  const seconds = errors.find((e) => e.code === 'TOO_MANY_ATTEMPTS')?.retryAfterSeconds
  return seconds ? new Date(now.getTime() + seconds * 1000) : null
}

/** Whole seconds left until `until` (0 once it has passed). */
export function secondsLeft(until: Date | null, now: Date = new Date()): number {
  return until ? Math.max(0, Math.ceil((until.getTime() - now.getTime()) / 1000)) : 0
}

export function useRetry(): { until: Ref<Date | null>; left: Ref<number>; hold: (errors: readonly RetryError[]) => void } {
  const until = ref<Date | null>(null)
  const now = ref(new Date())
  const timer = window.setInterval(() => {
    now.value = new Date()
    if (until.value && secondsLeft(until.value, now.value) === 0) until.value = null
  }, 1000)
  onUnmounted(() => window.clearInterval(timer))
  return {
    until,
    left: computed(() => secondsLeft(until.value, now.value)),
    hold: (errors) => {
      until.value = retryAt(errors)
      now.value = new Date()
    },
  }
}
