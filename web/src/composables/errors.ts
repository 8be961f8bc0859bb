// Error texts come from the error code, in the user's language, so a form can say it in its own
// words; the server's message (in the language the console sends) serves other clients and logs.
// One message per ErrorCode lives in i18n/errors.*.ts.
import type { CombinedError } from '@urql/core'
import { useI18n } from 'vue-i18n'

import type { ErrorCode } from '@/gql/graphql'
import { errorsZh } from '@/i18n/errors.zh-CN'

export interface CodedError {
  code: ErrorCode
  field: string | null
}

const KNOWN = new Set<string>(Object.keys(errorsZh))
// Codes that arrive as top-level GraphQL errors rather than in a payload's `errors`.
const TOP_LEVEL = new Set(['UNAUTHENTICATED', 'SUBSCRIBER_TOO_SLOW'])

export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN.has(code)
}

/** The i18n key for a code: its own message when it has one, else a generic one. */
export function errorKey(code: string | null | undefined): string {
  if (code && isErrorCode(code)) return `errors.${code}`
  if (code && TOP_LEVEL.has(code)) return `topLevelErrors.${code}`
  return 'topLevelErrors.UNEXPECTED'
}

/** The codes of a failed request: those the server gave, or NETWORK when none came back. */
export function codesOf(error: CombinedError | null | undefined): string[] {
  if (!error) return []
  if (error.networkError && error.graphQLErrors.length === 0) return ['NETWORK']
  return error.graphQLErrors.map((e) => String((e.extensions as { code?: string } | undefined)?.code ?? ''))
}

export function useErrorText() {
  const { t } = useI18n()
  return {
    text: (code: string | null | undefined) => (code === 'NETWORK' ? t('topLevelErrors.NETWORK') : t(errorKey(code))),
    texts: (error: CombinedError | null | undefined) =>
      codesOf(error).map((code) => (code === 'NETWORK' ? t('topLevelErrors.NETWORK') : t(errorKey(code)))),
  }
}
