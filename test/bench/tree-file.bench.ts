/**
 * `fomo tree build` as users meet it, whole process from file to file, side by side with OpenZeppelin doing the
 * same job (read the JSON values, `StandardMerkleTree.of`, `JSON.stringify(tree.dump())`, write): each run is a
 * fresh process timed from spawn to exit, on the same values file; the roots must agree.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { toHex } from '../../src/base/bytes.ts'
import { keccak256 } from '../../src/base/keccak.ts'
import { BIN } from '../helpers.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')

export type TreeFileRun = { seconds: number; root: string }
export type TreeFileBench = {
  n: number
  fomo: TreeFileRun & { phases: Record<string, number> }
  oz: TreeFileRun | undefined
  /** OpenZeppelin's time over fomo-kit's; undefined when OpenZeppelin was not run. */
  speedup: number | undefined
}

/** OpenZeppelin's whole job, as a user would write it. */
const OZ_SCRIPT = `
import { readFileSync, writeFileSync } from 'node:fs'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
const [input, output] = process.argv.slice(1)
const tree = StandardMerkleTree.of(JSON.parse(readFileSync(input, 'utf8')), ['address', 'uint256'])
writeFileSync(output, JSON.stringify(tree.dump()))
console.log(tree.root)
`

/** (address, uint256) values as a JSON file: the addresses of the tree benchmark, amounts of 7 to 13 digits. */
async function valuesFile(dir: string, n: number): Promise<string> {
  const seed = new Uint8Array(4)
  const parts: string[] = []
  for (let i = 0; i < n; i++) {
    new DataView(seed.buffer).setUint32(0, i)
    parts.push(`["${toHex(keccak256(seed).subarray(0, 20))}","${1_000_000 + ((i * 7919) % 1_000_003) * 1000 * (i % 7)}"]`)
  }
  const path = join(dir, `values-${n}.json`)
  await writeFile(path, `[${parts.join(',\n')}]\n`)
  return path
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now()
  const value = await fn()
  return { seconds: (performance.now() - start) / 1000, value }
}

/**
 * Times `fomo tree build` (the built command, dist/cli/bin.js) and OpenZeppelin at 100,000 and 1,000,000 leaves.
 * `quick` skips OpenZeppelin at 1,000,000 leaves (minutes). Targets: at least 10x at 100,000, at most 8 s at 1,000,000.
 */
export async function benchTreeFile(log: (line: string) => void = () => undefined, options: { quick?: boolean; sizes?: number[] } = {}): Promise<TreeFileBench[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-tree-file-'))
  const results: TreeFileBench[] = []
  try {
    for (const n of options.sizes ?? [100_000, 1_000_000]) {
      const input = await valuesFile(dir, n)
      log(`tree file: fomo tree build, ${n.toLocaleString('en-US')} leaves`)
      const fomo = await timed(() => run(process.execPath, [BIN, 'tree', 'build', '--encoding', 'address,uint256', '--in', input, '--out', join(dir, `fomo-${n}.json`), '--force'], { cwd: root, maxBuffer: 1 << 20 }))
      const built = JSON.parse(fomo.value.stdout) as { root: string; seconds: Record<string, number> }
      let oz: TreeFileRun | undefined
      if (n <= 100_000 || !options.quick) {
        log(`tree file: OpenZeppelin, ${n.toLocaleString('en-US')} leaves`)
        const ran = await timed(() => run(process.execPath, ['--input-type=module', '-e', OZ_SCRIPT, input, join(dir, `oz-${n}.json`)], { cwd: root, maxBuffer: 1 << 20 }))
        oz = { seconds: ran.seconds, root: ran.value.stdout.trim() }
        if (oz.root !== built.root) throw new Error(`roots differ at ${n} leaves: fomo ${built.root}, OpenZeppelin ${oz.root}`)
        // Both dumps load in OpenZeppelin to the same tree: compare the files' trees.
        const [a, b] = await Promise.all([readFile(join(dir, `fomo-${n}.json`), 'utf8'), readFile(join(dir, `oz-${n}.json`), 'utf8')])
        if (JSON.stringify(JSON.parse(a).tree) !== JSON.stringify(JSON.parse(b).tree)) throw new Error(`the dumps' trees differ at ${n} leaves`)
      }
      results.push({ n, fomo: { seconds: fomo.seconds, root: built.root, phases: built.seconds }, oz, speedup: oz ? oz.seconds / fomo.seconds : undefined })
      await rm(input)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return results
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The "`fomo tree build`, whole process" section of docs/benchmarks.md. */
export function treeFileBenchSection(results: TreeFileBench[]): string[] {
  const lines: string[] = []
  lines.push('## `fomo tree build`, whole process from file to file', '')
  lines.push(
    "(address, uint256) values in a JSON file to a standard-v1 dump, each run a fresh process timed from spawn to exit: the built `fomo tree build` (dist/cli/bin.js) against OpenZeppelin doing the same job as a user would write it (`JSON.parse` of the file, `StandardMerkleTree.of`, `JSON.stringify(tree.dump())`, write). The roots and the dumps' trees agree. fomo-kit's phases are its own report: reading and encoding the values (streamed, no object per value), hashing, sorting and the nodes, writing the dump (streamed from the packed buffers); start-up is the rest (loading Node and the command).",
    '',
  )
  lines.push('| leaves | fomo tree build | start-up | read | build | write | OpenZeppelin | time vs OpenZeppelin |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of results) {
    const p = r.fomo.phases
    const startup = r.fomo.seconds - (p.read ?? 0) - (p.build ?? 0) - (p.write ?? 0)
    lines.push(
      `| ${f(r.n)} | ${f(r.fomo.seconds, 2)} s | ${f(startup, 2)} s | ${f(p.read ?? 0, 2)} s | ${f(p.build ?? 0, 2)} s | ${f(p.write ?? 0, 2)} s | ${r.oz ? `${f(r.oz.seconds, 2)} s` : 'not run (--quick)'} | ${r.speedup ? `${f(r.speedup, 1)}x faster` : ''} |`,
    )
  }
  lines.push('', 'Targets: at least 10x faster than OpenZeppelin at 100,000 leaves; at most 8 s at 1,000,000 leaves.')
  return lines
}

// Run directly: `node --import tsx test/bench/tree-file.bench.ts [--quick] [n ...]`.
if (import.meta.filename === process.argv[1]) {
  const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number)
  const results = await benchTreeFile((l) => process.stderr.write(`${l}\n`), { quick: process.argv.includes('--quick'), ...(sizes.length ? { sizes } : {}) })
  console.log(JSON.stringify(results, null, 2))
}
