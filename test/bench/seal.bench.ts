/**
 * Sealing and auditing at scale: an epoch of 10^5, 10^6 (and, with `--seal-max=10000000`, 10^7) batch-signed
 * receipts of many users is stored through the public Store API (`insertReceipts`), sealed from the embedded
 * PGlite store and from a PostgreSQL server, exported (`fomo export-receipts`'s lines) and audited by the built
 * `fomo audit --receipts`. Sealing runs in a fresh process (this file with `--child`) and auditing is the built
 * command, so each time and peak RSS belongs to one job.
 */
import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { toHex, type Hex } from '../../src/base/bytes.ts'
import { keccak256 } from '../../src/base/keccak.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { receiptExportLines } from '../../src/aggregator/export.ts'
import { chargedAmount } from '../../src/economics/revenue.ts'
import { writeEpochDirectory } from '../../src/epoch/directory.ts'
import { SEAL_PHASES } from '../../src/epoch/seal.ts'
import { signBatch } from '../../src/receipts/batchSign.ts'
import { verifyBatch } from '../../src/receipts/batchVerify.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { addressOf } from '../../src/receipts/sign.ts'
import { domainSeparator } from '../../src/receipts/types.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { BIN } from '../helpers.ts'
import { DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, PROVIDER_KEYS, worldConfig } from '../aggregator/world.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')

/** Receipts per signed batch. */
const BATCH = 12_500

export type SealRun = { store: string; seconds: number; peakRssMB: number; phases: Record<string, number> }
export type AuditRun = { seconds: number; peakRssMB: number; phases: Record<string, number> }
export type SealBench = { receipts: number; users: number; fillSeconds: Record<string, number>; seals: SealRun[]; audit: AuditRun; exportSeconds: number; fileMB: number }

/** The users of a run: n/10, at most 10^6; user i's address is keccak(i)'s first 20 bytes. */
export const usersFor = (n: number) => Math.min(1_000_000, Math.max(1, Math.floor(n / 10)))

export function userAddress(i: number): Hex {
  const seed = new Uint8Array(4)
  new DataView(seed.buffer).setUint32(0, i)
  return toHex(keccak256(seed).subarray(0, 20))
}

/**
 * Batch b of the epoch: receipts b*BATCH.. of one provider and deployment (alternating), user of receipt i is
 * i mod users, amounts vary; signed with the provider's key (one signature per batch).
 */
export function batchText(b: number, n: number, users: number, addresses: Hex[]): string {
  const config = worldConfig()
  const d = b % 2
  const provider = addressOf(PROVIDER_KEYS[d]!)
  const receipts: UsageReceipt[] = []
  const requestSeed = new Uint8Array(8)
  for (let i = b * BATCH; i < Math.min(n, (b + 1) * BATCH); i++) {
    new DataView(requestSeed.buffer).setUint32(0, EPOCH)
    new DataView(requestSeed.buffer).setUint32(4, i)
    const gross = 1_000n + BigInt((i * 7919) % 100_003)
    receipts.push({
      deploymentId: d === 0 ? DEPLOYMENT_A : DEPLOYMENT_B,
      provider,
      user: addresses[i % users]!,
      epoch: EPOCH,
      requestId: toHex(keccak256(requestSeed)),
      timestamp: BigInt(EPOCH) * 86_400n + BigInt(i % 86_000),
      inputTokens: 100 + (i % 900),
      outputTokens: 40 + (i % 300),
      grossAmount: gross,
      discountBps: 0,
      chargedAmount: chargedAmount(gross, 0n),
    })
  }
  return JSON.stringify(signBatch(receipts, PROVIDER_KEYS[d]!, config.domain, domainSeparator(config.domain)))
}

/** Stakes for every 10th user on both deployments, so the reward tree has many leaves. */
function epochInputs(users: number, addresses: Hex[]) {
  const stakes = new Map<Hex, bigint>()
  for (let u = 0; u < users; u += 10) stakes.set(addresses[u]!, 10n ** 18n * BigInt(1 + (u % 1000)))
  const deployment = { opex: 0n, circulatingSupply: 10n ** 30n, stakes }
  return { epoch: EPOCH, deployments: new Map([[DEPLOYMENT_A, deployment], [DEPLOYMENT_B, { ...deployment, stakes: new Map(stakes) }]]) }
}

/** Fills a store: configuration, inputs and every batch through insertReceipts (verified first, as the service does). */
async function fill(store: Store, n: number, batches: Iterable<string>, addresses: Hex[], users: number): Promise<number> {
  const config = worldConfig()
  const verifier = new ReceiptVerifier({ domain: config.domain })
  await store.setConfig(config, { now: BigInt(EPOCH) * 86_400n * 1_000_000_000n })
  await store.setEpochInputs(epochInputs(users, addresses))
  const start = performance.now()
  for (const text of batches) {
    const document = JSON.parse(text) as { message: { receiptsRoot: string } }
    const columns = verifyBatch(verifier, document)
    const root = document.message.receiptsRoot.toLowerCase()
    const rows = Array.from({ length: columns.length }, (_, index) => ({ index, batchRoot: root }))
    const stored = await store.insertReceipts(columns, rows, { document: text, root, size: columns.length })
    for (const r of stored.values()) if (r.status !== 'accepted') throw new Error(`a benchmark receipt was not stored: ${JSON.stringify(r)}`)
  }
  if ((await store.receiptCount()) !== n) throw new Error(`the store holds ${await store.receiptCount()} receipts, expected ${n}`)
  return (performance.now() - start) / 1000
}

/** Seals in a fresh process (what `fomo seal` does: open the store, seal, write the directory); its report. */
async function sealIn(location: { dataDir: string } | { databaseUrl: string }, out: string, label: string): Promise<SealRun> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify({ location, out })], { cwd: root, maxBuffer: 1 << 20 })
  return { store: label, ...(JSON.parse(stdout.trim().split('\n').pop()!) as Omit<SealRun, 'store'>) }
}

async function sealChild(location: { dataDir: string } | { databaseUrl: string }, out: string): Promise<void> {
  const start = performance.now()
  const store = await openStore(location)
  const opened = performance.now()
  const sealed = await store.seal(EPOCH)
  const sealedAt = performance.now()
  await writeEpochDirectory(out, EPOCH, sealed.files)
  const written = performance.now()
  await store.close()
  const phase = (name: string) => performance.getEntriesByName(name).reduce((s, e) => s + e.duration, 0) / 1000
  const settle = phase(SEAL_PHASES.settle)
  const trees = phase(SEAL_PHASES.trees)
  const artifacts = phase(SEAL_PHASES.artifacts)
  const storeSeconds = (sealedAt - opened) / 1000
  const phases = { open: (opened - start) / 1000, sql: storeSeconds - settle - trees - artifacts, settle, trees, artifacts, write: (written - sealedAt) / 1000 }
  console.log(JSON.stringify({ seconds: (written - start) / 1000, peakRssMB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20, phases }))
}

/** `fomo audit <dir> --receipts <file> --timings` (the built command), timed from spawn to exit, with its peak RSS. */
async function audit(dir: string, receipts: string): Promise<AuditRun> {
  const start = performance.now()
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'maxrss-kb %M', process.execPath, BIN, 'audit', dir, '--receipts', receipts, '--timings'], { cwd: root, maxBuffer: 64 << 20 })
  const seconds = (performance.now() - start) / 1000
  if (!stdout.includes('audit passed')) throw new Error(`the audit did not pass:\n${stdout}\n${stderr}`)
  const rss = /maxrss-kb (\d+)/.exec(stderr)
  const timings = stderr.split('\n').find((l) => l.startsWith('{"seconds"'))
  return { seconds, peakRssMB: Number(rss?.[1] ?? 0) / 1024, phases: timings ? (JSON.parse(timings) as { seconds: Record<string, number> }).seconds : {} }
}

export async function benchSeal(log: (line: string) => void, options: { sizes?: number[]; postgres?: (() => Promise<{ url: string; stop: () => void }>) | undefined } = {}): Promise<SealBench[]> {
  const results: SealBench[] = []
  const stops: Array<() => void> = []
  for (const n of options.sizes ?? [100_000, 1_000_000]) {
    const dir = await mkdtemp(join(tmpdir(), 'fomo-seal-bench-'))
    try {
      const users = usersFor(n)
      const addresses = Array.from({ length: users }, (_, i) => userAddress(i))
      log(`seal: signing ${n.toLocaleString('en-US')} receipts of ${users.toLocaleString('en-US')} users in batches of ${BATCH.toLocaleString('en-US')}`)
      // Past 10^6 the batches (about 4 MB of text each) are signed as they are stored rather than held all at once,
      // and only the PostgreSQL server is filled: 10^7 rows through the embedded store take over 20 minutes to write.
      const large = n > 1_000_000
      const count = Math.ceil(n / BATCH)
      const held = large ? [] : Array.from({ length: count }, (_, b) => batchText(b, n, users, addresses))
      const batches = large ? (function* () { for (let b = 0; b < count; b++) yield batchText(b, n, users, addresses) })() : held
      const fillSeconds: Record<string, number> = {}
      const seals: SealRun[] = []
      const locations: Array<[string, { dataDir: string } | { databaseUrl: string }]> = []
      // A fresh server per size: each run seals its epoch once.
      const pg = await options.postgres?.()
      if (!large || !pg) locations.push(['PGlite (embedded)', { dataDir: join(dir, 'pglite') }])
      if (pg) locations.push(['PostgreSQL server', { databaseUrl: pg.url }])
      stops.push(() => pg?.stop())
      let exportSeconds = 0
      const receiptsFile = join(dir, 'receipts.ndjson')
      for (const [label, location] of locations) {
        log(`seal: filling ${label}`)
        const store = await openStore(location)
        try {
          fillSeconds[label] = await fill(store, n, batches, addresses, users)
          if (label === locations[0]![0]) {
            log('seal: exporting the receipts')
            const start = performance.now()
            const file = createWriteStream(receiptsFile)
            for await (const { line } of receiptExportLines(store, EPOCH)) if (!file.write(`${line}\n`)) await new Promise<void>((r) => file.once('drain', () => r()))
            await new Promise((r, j) => file.end((e?: Error | null) => (e ? j(e) : r(undefined))))
            exportSeconds = (performance.now() - start) / 1000
          }
        } finally {
          await store.close()
        }
        log(`seal: sealing ${label}`)
        seals.push(await sealIn(location, join(dir, `sealed-${seals.length}`), label))
        log(`seal: ${JSON.stringify(seals[seals.length - 1])}`)
      }
      held.length = 0
      const { size } = await import('node:fs/promises').then((fs) => fs.stat(receiptsFile))
      log('seal: fomo audit --receipts')
      const audited = await audit(join(dir, 'sealed-0', `epoch-${EPOCH}`), receiptsFile)
      results.push({ receipts: n, users, fillSeconds, seals, audit: audited, exportSeconds, fileMB: size / 2 ** 20 })
      log(`seal: ${JSON.stringify(results[results.length - 1])}`)
    } finally {
      for (const stop of stops.splice(0)) stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return results
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The "Seal and audit at scale" section of docs/benchmarks.md. */
export function sealBenchSection(results: SealBench[]): string[] {
  const lines: string[] = []
  lines.push('## Seal and audit at scale', '')
  lines.push(
    "One epoch of batch-signed receipts (batches of 12,500, one signature each, two deployments), users = receipts / 10, every 10th user staking; stored through `Store.insertReceipts`, sealed in a fresh process (open the store, `Store.seal`, write the epoch directory: what `fomo seal` does) from the embedded PGlite store and from a PostgreSQL 15 server, then audited by the built `fomo audit <dir> --receipts <file>` from the store's export. Peak RSS is the whole process (PGlite runs inside it; the PostgreSQL server's own memory is not counted).",
    '',
  )
  lines.push('| receipts | users | store | seal | seal peak RSS | audit | audit peak RSS | receipts file |', '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |')
  for (const r of results)
    for (const [k, s] of r.seals.entries())
      lines.push(`| ${f(r.receipts)} | ${f(r.users)} | ${s.store} | ${f(s.seconds, 1)} s | ${f(s.peakRssMB)} MB | ${k === 0 ? `${f(r.audit.seconds, 1)} s` : ''} | ${k === 0 ? `${f(r.audit.peakRssMB)} MB` : ''} | ${k === 0 ? `${f(r.fileMB)} MB` : ''} |`)
  lines.push('', 'Where the time goes, in seconds. Seal: opening the store; SQL (the aggregate per (deployment, user), inputs, earlier rewards, and storing rewards and artifacts, all in the sealing transaction); settlement; the spend and reward trees and the ledger; the artifacts as bytes; writing the directory. Audit: reading the artifacts; reading, verifying (worker threads) and counting the receipts; resolving repeats; the recomputed seal; comparing.', '')
  lines.push('| receipts | store | open | SQL | settle | trees | artifacts | write | audit: read | receipts | repeats | recompute | compare |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of results)
    for (const [k, s] of r.seals.entries()) {
      const p = s.phases
      const a = r.audit.phases
      const audit = k === 0 ? [a.read, a.receipts, a.repeats, a.recompute, a.compare].map((x) => f(x ?? 0, 2)).join(' | ') : ' | | | | '
      lines.push(`| ${f(r.receipts)} | ${s.store} | ${[p.open, p.sql, p.settle, p.trees, p.artifacts, p.write].map((x) => f(x ?? 0, 2)).join(' | ')} | ${audit} |`)
    }
  if (results.some((r) => r.receipts > 1_000_000))
    lines.push('', 'Past 10^6 receipts only the PostgreSQL server is filled and sealed (the embedded store is for one node with smaller epochs: writing 10^7 rows through it takes over 20 minutes), the receipts are exported from it, and its fill time includes signing the batches as they are stored.')
  lines.push('', `Filling the stores (not part of the figures above): ${results.map((r) => Object.entries(r.fillSeconds).map(([s, t]) => `${f(r.receipts)} receipts into ${s} in ${f(t, 1)} s`).join(', ')).join('; ')}.`)
  return lines
}

// `node --import tsx test/bench/seal.bench.ts [n ...] [--pglite-only]` runs the benchmark; `--child <json>` is one seal (sealIn).
if (import.meta.filename === process.argv[1]) {
  const child = process.argv.indexOf('--child')
  if (child > 0) {
    const { location, out } = JSON.parse(process.argv[child + 1]!) as { location: { dataDir: string } | { databaseUrl: string }; out: string }
    await sealChild(location, out)
    process.exit(0)
  }
  const sizes = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number)
  const { postgresAvailable, startPostgres } = await import('../setup/pgserver.ts')
  // `--pglite-only`: the embedded store alone, at every size (10^7 included: its fill alone takes a quarter of an hour or more).
  const server = postgresAvailable() && !process.argv.includes('--pglite-only')
  const results = await benchSeal((l) => process.stderr.write(`${l}\n`), { ...(sizes.length ? { sizes } : {}), postgres: server ? () => startPostgres({ fsync: true }) : undefined })
  console.log(sealBenchSection(results).join('\n'))
}
