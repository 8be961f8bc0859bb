// The answer of the file import routes (api/imports.py): HTTP routes, not GraphQL, so their
// shape is read here with a guard rather than generated. Codes are the schema's ErrorCode.
import type { ErrorCode } from '@/gql/graphql'

export interface RowProblem {
  sheet?: string // for an .xlsx workbook: the sheet the row is on
  line: number
  code: ErrorCode
  field: string | null
  message: string
}

export interface ImportReport {
  sheet?: string
  written: number
  errorCount: number
  errors: RowProblem[]
  missingFactors: number
  warnings: RowProblem[]
}

// POST /import/enterprises.csv adds what the register did and the accounts it made.
export interface CreatedAccount {
  line: number
  creditCode: string
  username: string
  oneTimePassword: string
}

export interface RegisterReport extends Omit<ImportReport, 'missingFactors' | 'warnings'> {
  created: number
  updated: number
  accounts: CreatedAccount[]
}

export interface Refusal {
  code: ErrorCode
  field: string | null
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

export function isImportReport(value: unknown): value is ImportReport {
  return isObject(value) && typeof value.written === 'number' && Array.isArray(value.errors)
}

export function isRegisterReport(value: unknown): value is RegisterReport {
  return isObject(value) && typeof value.created === 'number' && Array.isArray(value.accounts) && isImportReport(value)
}

export function isRefusal(value: unknown): value is Refusal {
  return isObject(value) && typeof value.code === 'string' && !('written' in value)
}
