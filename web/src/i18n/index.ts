// Chinese first; English on switch. The choice is kept in the browser.
import { createI18n } from 'vue-i18n'

import { en } from './en'
import { zhCN } from './zh-CN'

export type MessageSchema = typeof zhCN
export type Language = 'zh-CN' | 'en'
const LANGUAGE_KEY = 'ccms.language'

export function savedLanguage(): Language {
  return window.localStorage.getItem(LANGUAGE_KEY) === 'en' ? 'en' : 'zh-CN'
}

export function rememberLanguage(language: Language): void {
  window.localStorage.setItem(LANGUAGE_KEY, language)
  document.documentElement.lang = language
}

export const i18n = createI18n<[MessageSchema], Language, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})
