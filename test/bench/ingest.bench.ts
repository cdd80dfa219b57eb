/**
 * Ingest load on loopback: `fomo serve` as its own process, autocannon as the
 * load tool sending per-call signed receipts in requests of 1,000, each request
 * a distinct set. Counts what the server accepted and what the store holds.
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import autocannon from 'autocannon'
import { getAddress, keccak256, toBytes } from 'viem'
import { configJson, readConfig } from '../../src/epoch/config.ts'
import { openSql } from '../../src/aggregator/sql.ts'
import { postgresAvailable, startPostgres } from '../setup/pgserver.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { addressOf, signReceipt } from '../../src/receipts/sign.ts'
import { signBatch } from '../../src/receipts/batchSign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME } from '../../src/receipts/types.ts'
import { ReceiptColumns } from '../../src/receipts/columns.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { BIN } from '../helpers.ts'

const run = promisify(execFile)

export type IngestBench = { store: string; build: string; kind: IngestKind; requests: number; receipts: number; seconds: number; acceptedPerSecond: number; accepted: number; stored: number; latencyP50: number; latencyP99: number; errors: number }

const PER_REQUEST = 1000
/** Receipts per batch document (one provider signature each), as the seal benchmark's. */
const PER_BATCH = 12_500
const BATCHES = 16

/** Per-call signed receipts posted to /v1/receipts, or batch documents posted to /v1/batches. */
export type IngestKind = 'per-call' | 'batch'

/**
 * The bench world: its configuration file and the request bodies (signed once, reused by every run: each run has a
 * fresh store): `bodies` of 1,000 per-call signed receipts, `batches` of 12,500 receipts under one signature each.
 */
export type IngestLoad = { configPath: string; bodies: string[]; batches: string[] }

export async function ingestLoad(requests: number, log: (line: string) => void): Promise<IngestLoad> {
  const keys = Array.from({ length: 8 }, (_, i) => keccak256(toBytes(`ingest bench provider ${i}`)))
  const deploymentId = keccak256(toBytes('ingest bench deployment'))
  const config = readConfig({
    format: 'fomo-aggregator-config-v1',
    domain: { name: RECEIPT_DOMAIN_NAME, version: '1', chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    tokens: { flock: getAddress(addressOf(keccak256(toBytes('flock')))), usdc: getAddress(addressOf(keccak256(toBytes('usdc')))) },
    platform: { dailyEmission: '20000' },
    deployments: [{ id: deploymentId, name: 'bench', issuer: getAddress(addressOf(keys[0]!)), mtToken: getAddress(addressOf(keys[1]!)), graduationEpoch: 0, raised: '100000', incentiveReserve: '200000' }],
    providers: keys.map((k) => ({ deploymentId, provider: getAddress(addressOf(k)) })),
  })
  const dir = await mkdtemp(join(tmpdir(), 'fomo-ingest-bench-'))
  const configPath = join(dir, 'config.json')
  await writeFile(configPath, JSON.stringify(configJson(config)))

  log(`ingest: signing ${(requests * PER_REQUEST).toLocaleString('en-US')} receipts`)
  const separator = domainSeparator(config.domain)
  const now = BigInt(Math.floor(Date.now() / 1000))
  const epoch = Number(now / 86_400n)
  const users = Array.from({ length: 2000 }, (_, i) => addressOf(keccak256(toBytes(`bench user ${i}`))))
  const providers = keys.map((k) => addressOf(k))
  const receiptAt = (i: number, p: number): UsageReceipt => {
    const gross = 1_000n + BigInt(i % 9_000)
    return {
      deploymentId,
      provider: providers[p]!,
      user: users[i % users.length]!,
      epoch,
      requestId: keccak256(toBytes(`bench request ${i}`)),
      timestamp: now - BigInt(i % 30) < BigInt(epoch) * 86_400n ? BigInt(epoch) * 86_400n : now - BigInt(i % 30),
      inputTokens: 500,
      outputTokens: 200,
      grossAmount: gross,
      discountBps: 0,
      chargedAmount: gross,
    }
  }
  const bodies: string[] = []
  for (let r = 0; r < requests; r++) {
    const items: string[] = []
    for (let k = 0; k < PER_REQUEST; k++) {
      const i = r * PER_REQUEST + k
      const p = i % keys.length
      const receipt = receiptAt(i, p)
      items.push(JSON.stringify(signReceipt(receipt, keys[p]!, config.domain, separator)))
    }
    bodies.push(`[${items.join(',')}]`)
  }
  log(`ingest: signing ${BATCHES} batches of ${PER_BATCH.toLocaleString('en-US')} receipts`)
  // Other request ids than the per-call receipts' (each run has a fresh store either way).
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    JSON.stringify(signBatch(Array.from({ length: PER_BATCH }, (_, k) => receiptAt(10_000_000 + b * PER_BATCH + k, b % keys.length)), keys[b % keys.length]!, config.domain, separator)),
  )
  return { configPath, bodies, batches }
}

/**
 * One run: `init` and `fomo serve` of the build `bin` (this tree's, or a baseline build given by
 * FOMO_BENCH_BASELINE) on a fresh store, autocannon posting the first `requests` bodies, then the stored count.
 */
export async function benchIngest(store: { dataDir?: string; databaseUrl?: string }, label: string, build: { name: string; bin: string }, load: IngestLoad, requests: number, log: (line: string) => void, kind: IngestKind = 'per-call'): Promise<IngestBench> {
  const bodies = kind === 'batch' ? load.batches : load.bodies
  const perRequest = kind === 'batch' ? PER_BATCH : PER_REQUEST
  const args = store.databaseUrl ? ['--database-url', store.databaseUrl] : ['--data-dir', store.dataDir!]
  // Each build creates its own schema: the baseline's store is never migrated by this tree's code.
  await run(process.execPath, [build.bin, 'init', '--config', load.configPath, ...args])
  const server = spawn(process.execPath, [build.bin, 'serve', ...args, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  server.stdout.on('data', (d) => (out += d))
  server.stderr.on('data', (d) => (out += d))
  // A loaded machine and a first migration can take a while; the server's output explains a failure.
  for (let i = 0; i < 2400 && !out.includes('listening') && server.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25))
  const listening = out.split('\n').find((l) => l.includes('listening'))
  if (!listening) {
    server.kill('SIGKILL')
    throw new Error(`fomo serve did not start:\n${out}`)
  }
  const url = JSON.parse(listening).listening as string

  let next = 0
  let accepted = 0
  log(`ingest (${label}, ${build.name}): autocannon, ${requests} ${kind} requests of ${perRequest}`)
  // Timed here, from the first request sent to the last answer: autocannon's duration counts whole seconds.
  let firstSent = 0
  let lastAnswer = 0
  const result = await autocannon({
    url,
    connections: 4,
    amount: requests,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: kind === 'batch' ? '/v1/batches' : '/v1/receipts',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => {
          firstSent ||= performance.now()
          return { ...req, body: bodies[next++ % requests] }
        },
        onResponse: (status: number, body: string) => {
          lastAnswer = performance.now()
          if (status === 200) accepted += JSON.parse(body).accepted
        },
      },
    ],
  } as never)
  server.kill('SIGTERM')
  await new Promise((r) => server.once('exit', r))
  // Counted through SQL, not openStore: opening would migrate the baseline's store.
  const sql = await openSql(store)
  const [row] = await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM receipts')
  await sql.close()
  const seconds = (lastAnswer - firstSent) / 1000
  return {
    store: label,
    build: build.name,
    kind,
    requests,
    receipts: requests * perRequest,
    seconds,
    acceptedPerSecond: accepted / seconds,
    accepted,
    stored: Number(row?.n ?? 0),
    latencyP50: (result as { latency: { p50: number } }).latency.p50,
    latencyP99: (result as { latency: { p99: number } }).latency.p99,
    errors: (result as { errors: number; non2xx: number }).errors + (result as { non2xx: number }).non2xx,
  }
}

export type StoreInsertBench = { store: string; build: string; requests: number; receipts: number; seconds: number; perSecond: number; stored: number }

/**
 * The store alone: `insertReceipts` of the same verified requests of 1,000, one after another on one connection,
 * with the store code of a build's dist (this tree's, or the baseline's): what one request costs the database.
 */
export async function benchStoreInsert(store: { dataDir?: string; databaseUrl?: string }, label: string, build: { name: string; bin: string }, load: IngestLoad, requests: number, log: (line: string) => void): Promise<StoreInsertBench> {
  const dist = dirname(dirname(build.bin))
  const { openStore } = (await import(join(dist, 'aggregator', 'store.js'))) as typeof import('../../src/aggregator/store.ts')
  const config = readConfig(JSON.parse(await readFile(load.configPath, 'utf8')))
  const verifier = new ReceiptVerifier({ domain: config.domain })
  const batches = load.bodies.slice(0, requests).map((body) => {
    const docs = JSON.parse(body) as unknown[]
    const columns = new ReceiptColumns(docs.length)
    docs.forEach((d, i) => verifier.verifyInto(d, columns, i))
    return { columns, rows: docs.map((_, index) => ({ index })) }
  })
  const s = await openStore(store)
  await s.setConfig(config)
  log(`ingest (${label}, ${build.name}): store only, ${requests} inserts of ${PER_REQUEST}`)
  const start = performance.now()
  for (const b of batches) await s.insertReceipts(b.columns, b.rows)
  const seconds = (performance.now() - start) / 1000
  const stored = await s.receiptCount()
  await s.close()
  return { store: label, build: build.name, requests, receipts: requests * PER_REQUEST, seconds, perSecond: (requests * PER_REQUEST) / seconds, stored }
}

/** A fresh database on the bench's PostgreSQL server. */
async function freshDatabase(url: string, name: string): Promise<string> {
  const { default: pg } = await import('pg')
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  return url.replace(/\/[^/]*$/, `/${name}`)
}

/**
 * The ingest section: on each store, this tree's build and, when FOMO_BENCH_BASELINE names a baseline build's
 * dist/cli/bin.js, that build too, run in the order baseline, this, this, baseline so that a load that drifts
 * during the run weighs on both alike.
 */
export async function ingestSection(log: (line: string) => void, f: (x: number, digits?: number) => string): Promise<string[]> {
  const baseline = process.env.FOMO_BENCH_BASELINE
  const current = { name: baseline ? 'after' : 'this build', bin: BIN }
  const builds = baseline ? [{ name: 'before', bin: baseline }, current, current, { name: 'before', bin: baseline }] : [current]
  const load = await ingestLoad(60, log)
  const runs: IngestBench[] = []
  const inserts: StoreInsertBench[] = []
  const pglite = async () => ({ dataDir: await mkdtemp(join(tmpdir(), 'fomo-ingest-')) })
  if (postgresAvailable()) {
    const pg = await startPostgres({ fsync: true })
    try {
      let n = 0
      for (const build of builds) runs.push(await benchIngest({ databaseUrl: await freshDatabase(pg.url, `fomo_ingest_${n++}`) }, 'PostgreSQL 15 server (fsync on)', build, load, 60, log))
      for (const build of builds) runs.push(await benchIngest({ databaseUrl: await freshDatabase(pg.url, `fomo_ingest_${n++}`) }, 'PostgreSQL 15 server (fsync on)', build, load, BATCHES, log, 'batch'))
      for (const build of builds) inserts.push(await benchStoreInsert({ databaseUrl: await freshDatabase(pg.url, `fomo_ingest_${n++}`) }, 'PostgreSQL 15 server (fsync on)', build, load, 60, log))
    } finally {
      pg.stop()
    }
  }
  for (const build of builds) runs.push(await benchIngest(await pglite(), 'PGlite (embedded)', build, load, 30, log))
  for (const build of builds) runs.push(await benchIngest(await pglite(), 'PGlite (embedded)', build, load, BATCHES, log, 'batch'))
  for (const build of builds) inserts.push(await benchStoreInsert(await pglite(), 'PGlite (embedded)', build, load, 30, log))
  const lines: string[] = []
  lines.push('## Aggregator ingest over HTTP', '')
  lines.push(`\`fomo serve\` in its own process on loopback; autocannon (4 connections) posts per-call signed receipts in requests of 1,000 to /v1/receipts, then batch documents of ${f(PER_BATCH)} receipts under one provider signature each to /v1/batches; each request distinct. The server verifies every signature (and each batch's root) on its worker threads and stores each request in one transaction. All on the same 2 cores: load tool, server and database.`, '')
  if (baseline)
    lines.push(
      `Before and after in one run, on fresh stores, in the order before, after, after, before per store: before is the build of ${process.env.FOMO_BENCH_BASELINE_LABEL ?? baseline}, after this tree's${process.env.FOMO_BENCH_AFTER_LABEL ? ` (${process.env.FOMO_BENCH_AFTER_LABEL})` : ''}.`,
      '',
    )
  lines.push('| store | receipts signed | build | requests | receipts | time | accepted receipts/s | accepted | stored | p50 / p99 latency | errors |', '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of runs) lines.push(`| ${r.store} | ${r.kind} | ${r.build} | ${r.requests} | ${f(r.receipts)} | ${f(r.seconds, 2)} s | ${f(r.acceptedPerSecond)} | ${f(r.accepted)} | ${f(r.stored)} | ${f(r.latencyP50)} / ${f(r.latencyP99)} ms | ${r.errors} |`)
  lines.push('', 'The store alone, in the same run: `insertReceipts` of the same requests, verified beforehand, one after another on one connection (no HTTP, no signature checks), with each build\'s store code.', '')
  lines.push('| store | build | requests | receipts | time | receipts/s | stored |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |')
  for (const r of inserts) lines.push(`| ${r.store} | ${r.build} | ${r.requests} | ${f(r.receipts)} | ${f(r.seconds, 2)} s | ${f(r.perSecond)} | ${f(r.stored)} |`)
  lines.push('', 'Targets: into the PostgreSQL server, at least 20,000 per-call signed receipts/s accepted in requests of 1,000 and at least 200,000 batch-signed receipts/s; stored count equal to accepted count.')
  return lines
}
