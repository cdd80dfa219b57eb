/**
 * `npm run bench`: every figure is measured in this run, fomo-kit side by side
 * with the named anchors, and the table is written to docs/benchmarks.md.
 * `--quick` skips OpenZeppelin's 1,000,000-leaf build (about 2.5 minutes).
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { keccakBackend } from '../../src/merkle/keccak.ts'
import { secp256k1 } from '../../src/receipts/secp256k1.ts'
import { benchReceipts } from './receipts.bench.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')
const quick = process.argv.includes('--quick')
const log = (line: string) => process.stderr.write(`${line}\n`)

type TreeRun = { impl: string; n: number; ms: number; root: string; peakRssMB: number; baselineRssMB: number }

async function tree(impl: 'fomo' | 'oz', n: number): Promise<TreeRun> {
  log(`tree: ${impl} ${n.toLocaleString('en-US')} leaves`)
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'tree-child.ts'), impl, String(n)], { cwd: root, maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').pop() as string)
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

const trees: Record<string, TreeRun> = {}
for (const n of [100_000, 1_000_000]) {
  trees[`fomo-${n}`] = await tree('fomo', n)
  if (n === 100_000 || !quick) trees[`oz-${n}`] = await tree('oz', n)
  const oz = trees[`oz-${n}`]
  if (oz && oz.root !== trees[`fomo-${n}`]!.root) throw new Error(`roots differ at ${n} leaves`)
}
const receipts = await benchReceipts(log)

const lines: string[] = []
const cpu = cpus()[0]?.model ?? 'unknown CPU'
lines.push('# Benchmarks', '')
lines.push(`Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpu}), ${f(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`)
lines.push(`keccak backend: ${keccakBackend}; secp256k1 backend: ${secp256k1.name}. Every figure comes from the same run; ratios are what count on a shared machine.`, '')
lines.push('## Merkle tree build, (address, uint256) leaves', '')
lines.push('Each build runs in a fresh process from the same in-memory values (what `StandardMerkleTree.of` takes). Time covers the build call; peak RSS is the whole process; build memory is peak RSS minus the RSS just before the build (runtime and input values excluded).', '')
lines.push('| leaves | implementation | time | peak RSS | build memory | time vs OpenZeppelin | build memory vs OpenZeppelin |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: |')
for (const n of [100_000, 1_000_000]) {
  const ours = trees[`fomo-${n}`]!
  const oz = trees[`oz-${n}`]
  const build = (r: TreeRun) => r.peakRssMB - r.baselineRssMB
  lines.push(`| ${f(n)} | fomo-kit StandardTree.build | ${f(ours.ms / 1000, 2)} s | ${f(ours.peakRssMB)} MB | ${f(build(ours))} MB | ${oz ? `${f(oz.ms / ours.ms, 1)}x faster` : 'not run (--quick)'} | ${oz ? `${f((build(ours) / build(oz)) * 100)} %` : 'not run'} |`)
  if (oz) lines.push(`| ${f(n)} | @openzeppelin/merkle-tree StandardMerkleTree.of | ${f(oz.ms / 1000, 2)} s | ${f(oz.peakRssMB)} MB | ${f(build(oz))} MB | 1x | 100 % |`)
}
lines.push('', 'Targets: at 100,000 leaves at least 30x faster than OpenZeppelin with at most 1/4 of its peak memory; 1,000,000 leaves in at most 3 s.', '')
lines.push('## Receipt verification', '')
lines.push('| what | receipts | time | receipts/s | vs viem (one core) |', '| --- | ---: | ---: | ---: | ---: |')
const rows: Array<[string, keyof typeof receipts]> = [
  ['viem `recoverTypedDataAddress`, one core', 'viem'],
  ['fomo-kit `ReceiptVerifier.verify`, one core, parsed documents', 'oneCore'],
  ['fomo-kit `VerifierPool`, all cores, from JSON text', 'pool'],
  ['fomo-kit `verifyBatch` (batches of 12,500), one core, parsed', 'batchOneCore'],
  ['fomo-kit `VerifierPool.verifyBatch`, all cores, from JSON text', 'batchPool'],
]
for (const [label, key] of rows) {
  const r = receipts[key]!
  lines.push(`| ${label} | ${f(r.receipts)} | ${f(r.seconds, 2)} s | ${f(r.perSecond)} | ${f(r.perSecond / receipts.viem!.perSecond, 1)}x |`)
}
lines.push('', 'Targets: per-call signed receipts at least 25,000/s using both cores; batch-signed receipts at least 300,000/s.', '')
const path = join(root, 'docs', 'benchmarks.md')
const previous = await readFile(path, 'utf8').catch(() => '')
const marker = '<!-- end of generated section -->'
const tail = previous.includes(marker) ? previous.slice(previous.indexOf(marker)) : `${marker}\n`
await writeFile(path, `${lines.join('\n')}\n${tail}`)
log(lines.join('\n'))
