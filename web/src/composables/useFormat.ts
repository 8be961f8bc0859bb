// Formatters bound to the current language: numbers with its separators and a unit from the
// messages, times in Asia/Shanghai.
import { useI18n } from 'vue-i18n'

import { formatDateTime, formatNumber, formatPercent, formatShareDown, type Locale } from './format'

export function useFormat() {
  const { t, locale } = useI18n()
  const current = (): Locale => (locale.value === 'en' ? 'en' : 'zh-CN')
  return {
    number: (value: number | string | null | undefined, digits = 2) => formatNumber(value, current(), digits),
    tonnes: (value: number | string | null | undefined) =>
      value === null || value === undefined ? '—' : t('units.tonnes', { value: formatNumber(value, current(), 0) }),
    tco2: (value: number | string | null | undefined) =>
      value === null || value === undefined ? '—' : t('units.tco2', { value: formatNumber(value, current(), 1) }),
    tce: (value: number | string | null | undefined) =>
      value === null || value === undefined ? '—' : t('units.tce', { value: formatNumber(value, current(), 1) }),
    percent: (value: number | string | null | undefined) => formatPercent(value, current()),
    shareDown: (value: number | string | null | undefined) => formatShareDown(value, current()),
    change: (value: number | string | null | undefined) => formatPercent(value, current(), true),
    dateTime: (iso: string | null | undefined) => formatDateTime(iso, current()),
  }
}
