// Numbers and times as a Chinese regulator reads them: thousands separators by locale, every
// instant in Asia/Shanghai whatever the browser's own zone, deadlines typed in Shanghai time.
export const ZONE = 'Asia/Shanghai'
const OFFSET = '+08:00' // China has had no daylight saving time since 1991

export type Locale = 'zh-CN' | 'en'

export function formatNumber(value: number | string | null | undefined, locale: Locale, maxDigits = 2): string {
  if (value === null || value === undefined || value === '') return '—'
  const number = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(number)) return String(value)
  return new Intl.NumberFormat(locale, { maximumFractionDigits: maxDigits }).format(number)
}

/** A fraction ("0.3") as a percentage ("30%"); `signed` for a change ("+2.4%"). */
export function formatPercent(value: number | string | null | undefined, locale: Locale, signed = false): string {
  if (value === null || value === undefined || value === '') return '—'
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    maximumFractionDigits: 1,
    signDisplay: signed ? 'exceptZero' : 'auto',
  }).format(Number(value))
}

/** A share that must never look complete when it is not ("0.9999" -> "99.9%", never "100%"):
 * rounded down to 0.1 %, as the server rounds completeness down. */
export function formatShareDown(value: number | string | null | undefined, locale: Locale): string {
  if (value === null || value === undefined || value === '') return '—'
  const number = Number(value)
  if (!Number.isFinite(number)) return String(value)
  return formatPercent(Math.floor(Math.round(number * 1e6) / 1e3) / 1e3, locale)
}

export function formatDateTime(iso: string | null | undefined, locale: Locale): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat(locale, {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso))
}

/** "2025-12-31T23:59" typed in Shanghai time -> "2025-12-31T23:59:00+08:00" for the API. */
export function shanghaiInputToIso(local: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2})?$/.exec(local.trim())
  if (!match) throw new RangeError(`not a date and time: ${local}`)
  return `${match[1]}T${match[2]}:00${OFFSET}`
}

/** An instant -> "YYYY-MM-DDTHH:mm" on Shanghai's clock, for a date-time input. */
export function isoToShanghaiInput(iso: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((part) => [part.type, part.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`
}

export interface Duration {
  days: number
  hours: number
  minutes: number
}

/** What is left until `iso` (zero when past). */
export function timeLeft(iso: string, now: Date = new Date()): Duration {
  const ms = Math.max(0, new Date(iso).getTime() - now.getTime())
  const minutes = Math.floor(ms / 60_000)
  return { days: Math.floor(minutes / 1440), hours: Math.floor((minutes % 1440) / 60), minutes: minutes % 60 }
}
