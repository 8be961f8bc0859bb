import { ZONE } from './format'

/** The year on Shanghai's calendar. */
export function shanghaiYear(now: Date = new Date()): number {
  return Number(new Intl.DateTimeFormat('en', { timeZone: ZONE, year: 'numeric' }).format(now))
}

/** The compliance year a screen opens on: last year, whose emissions are surrendered this year. */
export function defaultComplianceYear(now: Date = new Date()): number {
  return shanghaiYear(now) - 1
}
