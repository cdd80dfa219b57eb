/**
 * Loading a sealed epoch's spend tree (`spend-tree.json`, seven-word spend leaves) as the service, a claim or a
 * challenge does, each load a fresh process from the same file: `StandardTree.loadBytes` (the file's bytes, never
 * one string) against OpenZeppelin's `StandardMerkleTree.load(JSON.parse(file))` and `StandardTree.load` of the
 * same parsed JSON. Both validate every node. Run as `tree-load.bench.ts child <impl> <file>` it is one load.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { closeWorkers } from '../../src/merkle/parallel.ts'
import { StandardTree } from '../../src/merkle/tree.ts'

const run = promisify(execFile)
const IMPLS = ['loadBytes', 'load', 'oz'] as const
type Impl = (typeof IMPLS)[number]
const LABEL: Record<Impl, string> = {
  loadBytes: 'fomo-kit StandardTree.loadBytes(file bytes)',
  load: 'fomo-kit StandardTree.load(JSON.parse(file))',
  oz: '@openzeppelin/merkle-tree StandardMerkleTree.load(JSON.parse(file))',
}
const SPEND_ENCODING = ['uint64', 'bytes32', 'address', 'uint256', 'uint256', 'uint256', 'uint256']

export type TreeLoadRun = { impl: Impl; seconds?: number; peakRssMB: number; root?: string; error?: string }
export type TreeLoadBench = { leaves: number; fileMB: number; root: string; runs: TreeLoadRun[] }

/** A spend tree of `leaves` leaves over two deployments, written as `fomo seal` writes it. */
async function spendTreeFile(dir: string, leaves: number): Promise<{ path: string; root: string }> {
  const tree = await StandardTree.build(
    (function* () {
      for (let i = 0; i < leaves; i++)
        yield ['20987', `0x${(i % 2 ? '11' : '22').repeat(32)}`, `0x${(i >> 1).toString(16).padStart(40, '0')}`, String(1_000_000 + 7919 * i), String(900_000 + 7907 * i), String(1 + (i % 50)), i % 3 ? '0' : '1000000000000000000000']
    })(),
    SPEND_ENCODING,
  )
  const path = join(dir, `spend-tree-${leaves}.json`)
  await tree.writeDump(path)
  return { path, root: tree.root }
}

export async function benchTreeLoad(log: (line: string) => void = () => undefined, sizes = [200_000, 2_000_000]): Promise<TreeLoadBench[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-tree-load-'))
  const results: TreeLoadBench[] = []
  try {
    for (const leaves of sizes) {
      const file = await spendTreeFile(dir, leaves)
      const runs: TreeLoadRun[] = []
      for (const impl of IMPLS) {
        log(`tree load: ${impl}, ${leaves.toLocaleString('en-US')} leaves`)
        const { stdout } = await run(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', import.meta.filename, 'child', impl, file.path], { maxBuffer: 1 << 20 })
        const r = JSON.parse(stdout.trim().split('\n').pop() as string) as TreeLoadRun
        if (r.root !== undefined && r.root !== file.root) throw new Error(`${impl} loaded root ${r.root}, the file's is ${file.root}`)
        runs.push(r)
      }
      results.push({ leaves, fileMB: (await stat(file.path)).size / 2 ** 20, root: file.root, runs })
      await rm(file.path)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return results
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The "Loading a spend tree" section of docs/benchmarks.md. */
export function treeLoadBenchSection(results: TreeLoadBench[]): string[] {
  const lines: string[] = ['## Loading a spend tree file', '']
  lines.push(
    "A sealed epoch's `spend-tree.json` (seven-word spend leaves, two per user over two deployments) loaded as the aggregator's proof routes, `fomo claim` and the challenges load a tree: each load a fresh process from the same file, timed from reading the file to a validated tree (every leaf and node hash recomputed), peak RSS of the whole process. `loadBytes` walks the file's bytes and never makes one string of it; the other two read it as one string and `JSON.parse` it, which V8 refuses past 2^29 - 24 characters (about 512 MiB).",
    '',
  )
  lines.push('| leaves | file | implementation | time | peak RSS | time vs OpenZeppelin |', '| ---: | ---: | --- | ---: | ---: | ---: |')
  for (const r of results) {
    const oz = r.runs.find((x) => x.impl === 'oz')
    for (const x of r.runs)
      lines.push(
        `| ${f(r.leaves)} | ${f(r.fileMB)} MB | ${LABEL[x.impl]} | ${x.seconds === undefined ? `fails: ${x.error}` : `${f(x.seconds, 2)} s`} | ${f(x.peakRssMB)} MB | ${x.impl === 'oz' ? (oz?.seconds ? '1x' : '') : x.seconds !== undefined && oz?.seconds ? `${f(oz.seconds / x.seconds, 1)}x faster` : oz?.seconds === undefined && x.seconds !== undefined ? 'loads; OpenZeppelin cannot' : ''} |`,
      )
  }
  return lines
}

async function child(impl: Impl, path: string): Promise<TreeLoadRun> {
  const start = performance.now()
  try {
    let root: string
    if (impl === 'loadBytes') root = StandardTree.loadBytes(await readFile(path), 'spend-tree.json').root
    else {
      const dump = JSON.parse(await readFile(path, 'utf8'))
      root = impl === 'load' ? StandardTree.load(dump).root : StandardMerkleTree.load(dump).root
    }
    return { impl, seconds: (performance.now() - start) / 1000, root, peakRssMB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20 }
  } catch (error) {
    return { impl, error: (error as Error).message.split('\n')[0] as string, peakRssMB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20 }
  }
}

if (import.meta.filename === process.argv[1]) {
  if (process.argv[2] === 'child') {
    console.log(JSON.stringify(await child(process.argv[3] as Impl, process.argv[4] as string)))
    await closeWorkers()
  } else {
    const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number)
    const results = await benchTreeLoad((l) => process.stderr.write(`${l}\n`), sizes.length ? sizes : undefined)
    console.log(treeLoadBenchSection(results).join('\n'))
    await closeWorkers()
  }
}
