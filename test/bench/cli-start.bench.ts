/**
 * Start time of the `fomo` command, wall clock of the whole process as hyperfine measures it: `fomo --help` and
 * `fomo receipt verify` (one signed receipt) before and after the built package. Before: the TypeScript sources run
 * through tsx with every command module loaded, as bin.mjs and the eager command list did. After: dist/cli/bin.js
 * with the lazy command list, what `npm ci` builds. In between, for the split of the gain: the lazy list on the
 * sources through tsx.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

export type StartTiming = { medianMs: number; meanMs: number; minMs: number; maxMs: number }
export type StartComparison = { before: StartTiming; sourcesLazy: StartTiming; after: StartTiming }
export type CliStartBench = { runs: number; help: StartComparison; receiptVerify: StartComparison }

/** The old start: tsx, then every command module imported before dispatch (the eager list; one that fails to load is skipped). */
const EAGER = `const m = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)})
await Promise.allSettled(m.commands.map((c) => c.load()))
process.exitCode = await m.main(process.argv.slice(1))`

async function time(args: string[], runs: number): Promise<StartTiming> {
  await run(process.execPath, args, { cwd: ROOT }) // warm-up: disk cache, tsx's transform cache
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    await run(process.execPath, args, { cwd: ROOT })
    ms.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  ms.sort((a, b) => a - b)
  const round = (x: number) => Math.round(x * 10) / 10
  return { medianMs: round(ms[ms.length >> 1]!), meanMs: round(ms.reduce((a, b) => a + b, 0) / ms.length), minMs: round(ms[0]!), maxMs: round(ms[ms.length - 1]!) }
}

async function compare(args: string[], runs: number): Promise<StartComparison> {
  return {
    before: await time(['--import', 'tsx', '--input-type=module', '-e', EAGER, '--', ...args], runs),
    sourcesLazy: await time(['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), ...args], runs),
    after: await time([join(ROOT, 'dist', 'cli', 'bin.js'), ...args], runs),
  }
}

/** Measures both commands `runs` times each way (after one warm-up run), building dist first when it is stale. */
export async function benchCliStart(options: { runs?: number } = {}): Promise<CliStartBench> {
  const runs = options.runs ?? 10
  await run(process.execPath, [join(ROOT, 'test', 'build.mjs'), '--if-stale', '--allow-type-errors'], { cwd: ROOT })
  const dir = await mkdtemp(join(tmpdir(), 'fomo-cli-start-'))
  try {
    const receipt = join(dir, 'signed.json')
    const vectors = JSON.parse(await readFile(join(ROOT, 'fixtures', 'receipts', 'vectors.json'), 'utf8')) as { signed: unknown[] }
    await writeFile(receipt, JSON.stringify(vectors.signed[0]))
    return { runs, help: await compare(['--help'], runs), receiptVerify: await compare(['receipt', 'verify', '--in', receipt], runs) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.filename === process.argv[1]) console.log(JSON.stringify(await benchCliStart(), null, 2))
