// The answer of POST /import/energy.csv (api/imports.py): an HTTP route, not GraphQL, so its
// shape is read here with a guard rather than generated. Codes are the schema's ErrorCode.
import type { ErrorCode } from '@/gql/graphql'

export interface RowProblem {
  line: number
  code: ErrorCode
  field: string | null
  message: string
}

export interface ImportReport {
  written: number
  errorCount: number
  errors: RowProblem[]
  missingFactors: number
  warnings: RowProblem[]
}

export interface Refusal {
  code: ErrorCode
  field: string | null
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

export function isImportReport(value: unknown): value is ImportReport {
  return isObject(value) && typeof value.written === 'number' && Array.isArray(value.errors)
}

export function isRefusal(value: unknown): value is Refusal {
  return isObject(value) && typeof value.code === 'string' && !('written' in value)
}
