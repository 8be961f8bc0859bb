// The messages are complete: both languages have the same keys, every error code of the
// schema has a message, and every key the code asks for exists.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { errorKey } from '@/composables/errors'

import { en } from './en'
import { zhCN } from './zh-CN'

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keys(value, `${prefix}${key}.`),
  )
}

function lookup(tree: Tree, path: string): string | Tree | undefined {
  return path.split('.').reduce<string | Tree | undefined>((node, part) => (typeof node === 'object' ? node[part] : undefined), tree)
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name: string) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'gql' ? [] : sources(path)
    return /\.(vue|ts)$/.test(name) && !name.endsWith('.test.ts') ? [path] : []
  })
}

const SRC = join(__dirname, '..')

describe('messages', () => {
  it('has the same keys in Chinese and English, none empty', () => {
    expect(keys(en as Tree).sort()).toEqual(keys(zhCN as Tree).sort())
    for (const key of keys(zhCN as Tree)) {
      expect(lookup(zhCN as Tree, key), key).not.toBe('')
      expect(lookup(en as Tree, key), key).not.toBe('')
    }
  })

  it('has a message in both languages for every ErrorCode of the schema, and no other', () => {
    const schema = readFileSync(join(SRC, '../../schema.graphql'), 'utf8')
    const block = /enum ErrorCode \{([\s\S]*?)\}/.exec(schema)?.[1] ?? ''
    const codes = block
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[A-Z_]+$/.test(line))
    expect(codes.length).toBeGreaterThan(60)
    expect(Object.keys(zhCN.errors).sort()).toEqual([...codes].sort())
    expect(Object.keys(en.errors).sort()).toEqual([...codes].sort())
    for (const code of codes) expect(errorKey(code)).toBe(`errors.${code}`)
  })

  it('names a message for codes outside the enum too', () => {
    expect(errorKey('UNAUTHENTICATED')).toBe('topLevelErrors.UNAUTHENTICATED')
    expect(errorKey('SOMETHING_NEW')).toBe('topLevelErrors.UNEXPECTED')
    expect(errorKey(null)).toBe('topLevelErrors.UNEXPECTED')
  })

  it('has every key the screens ask for by name', () => {
    const used = new Set<string>()
    for (const file of sources(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z]+(?:\.[a-zA-Z0-9_]+)+)'/g)) {
        used.add(match[1] as string)
      }
    }
    expect(used.size).toBeGreaterThan(150)
    const missing = [...used].filter((key) => typeof lookup(zhCN as Tree, key) !== 'string')
    expect(missing).toEqual([])
  })
})
