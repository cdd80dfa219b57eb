import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The layers of src/, lowest first (docs/architecture.md): a module imports only from its own layer or a lower one.
 * The order follows the data: receipts are signed, gathered into an epoch, sealed into trees, proven, published on
 * chain; the aggregator runs the gathering, the auditor checks all of it, the CLI composes everything.
 */
export const LAYERS = ['base', 'economics', 'merkle', 'receipts', 'epoch', 'proofs', 'chain', 'aggregator', 'gateway', 'audit', 'cli'] as const

const SRC = join(import.meta.dirname, '..', 'src')
const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]))
const sources = files(SRC).filter((f) => /\.(ts|mts|mjs)$/.test(f))
const layerOf = (file: string) => relative(SRC, file).split(sep)[0]!
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

/** Every relative import of every source file: [from file, to file]. */
function imports(): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const file of sources) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(IMPORT)) out.push([file, resolve(dirname(file), (m[1] ?? m[2])!)])
  }
  return out
}

describe('architecture', () => {
  it('every folder of src/ is a layer of the written order', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory())
    expect(folders.filter((f) => !(LAYERS as readonly string[]).includes(f))).toEqual([])
  })

  it('no module imports from a higher layer', () => {
    const upward = imports()
      .filter(([from, to]) => LAYERS.indexOf(layerOf(to) as never) > LAYERS.indexOf(layerOf(from) as never))
      .map(([from, to]) => `${relative(SRC, from)} imports ${relative(SRC, to)} (${layerOf(from)} is below ${layerOf(to)})`)
    expect(upward).toEqual([])
  })

  it('imports resolve to files that exist (the check above sees every edge)', () => {
    const missing = imports().filter(([, to]) => !statSync(to, { throwIfNoEntry: false })).map(([from, to]) => `${relative(SRC, from)} -> ${relative(SRC, to)}`)
    expect(missing).toEqual([])
  })

  it('only the store speaks SQL: no `.sql` of a store outside src/aggregator/store*', () => {
    const offenders = sources
      .filter((f) => !/aggregator[\\/](store|sql|migrations)/.test(relative(SRC, f)))
      .filter((f) => /\bstore\.sql\b|\.sql\.query\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f))
    expect(offenders).toEqual([])
  })

  it('every source file opens with a comment saying what it is for', () => {
    const bare = sources.filter((f) => !/^(#![^\n]*\n)?\s*(\/\*\*|\/\/)/.test(readFileSync(f, 'utf8'))).map((f) => relative(SRC, f))
    expect(bare).toEqual([])
  })
})
