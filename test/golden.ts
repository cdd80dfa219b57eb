import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runDemo } from '../src/cli/demo.ts'

/**
 * The golden epoch: the demo's receipts, sealed at a fixed time from a fixed seed without a chain.
 * Its files in fixtures/golden were written by this code before any refactoring; every later version
 * of fomo-kit must reproduce them byte for byte.
 */
export const GOLDEN_DIR = join(import.meta.dirname, '..', 'fixtures', 'golden')
export const GOLDEN_NOW_NS = 1_768_478_400n * 1_000_000_000n // 2026-01-15T12:00:00Z
export const GOLDEN_SEED = 'golden'

/** Runs the golden demo into `out` and returns every file it produced that the fixture holds, by name. */
export async function goldenFiles(out: string): Promise<Map<string, Buffer>> {
  const result = await runDemo({ out, seed: GOLDEN_SEED, now: () => GOLDEN_NOW_NS, onChain: false })
  const files = new Map<string, Buffer>()
  for (const name of (await readdir(result.epochDir)).sort()) files.set(`epoch/${name}`, await readFile(join(result.epochDir, name)))
  files.set('receipts.ndjson', await readFile(result.receiptsFile))
  return files
}
