/**
 * What bounds batch-signed ingest: the store's insert path (`Store.insertReceipts` of verified batches, the
 * verification done beforehand and not timed) beside PostgreSQL's own ceiling for the same table, rows generated
 * inside the server (`INSERT ... SELECT FROM generate_series`, no client, no parsing), with every index and with the
 * primary key alone. All on one PostgreSQL server (fsync on), one statement per 12,500 rows as a batch is stored.
 */
import pg from 'pg'
import { openStore } from '../../src/aggregator/store.ts'
import { verifyBatch } from '../../src/receipts/batchVerify.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { EPOCH, worldConfig } from '../aggregator/world.ts'
import { batchText, userAddress } from './seal.bench.ts'

const BATCH = 12_500

export type PgInsertRun = { label: string; rows: number; seconds: number }

export async function benchPgInsert(log: (line: string) => void, server: () => Promise<{ url: string; stop: () => void }>, receipts = 250_000): Promise<PgInsertRun[]> {
  const { url, stop } = await server()
  const runs: PgInsertRun[] = []
  try {
    const store = await openStore({ databaseUrl: url })
    const config = worldConfig()
    await store.setConfig(config, { now: BigInt(EPOCH) * 86_400n * 1_000_000_000n })
    const users = receipts / 10
    const addresses = Array.from({ length: users }, (_, i) => userAddress(i))
    const verifier = new ReceiptVerifier({ domain: config.domain })
    log(`pg insert: signing and verifying ${receipts.toLocaleString('en-US')} receipts`)
    const batches = Array.from({ length: Math.ceil(receipts / BATCH) }, (_, b) => {
      const text = batchText(b, receipts, users, addresses)
      const document = JSON.parse(text) as { message: { receiptsRoot: string } }
      const columns = verifyBatch(verifier, document)
      const root = document.message.receiptsRoot.toLowerCase()
      return { text, root, columns, rows: Array.from({ length: columns.length }, (_, index) => ({ index, batchRoot: root })) }
    })
    log('pg insert: Store.insertReceipts')
    const start = performance.now()
    for (const b of batches) {
      const stored = await store.insertReceipts(b.columns, b.rows, { document: b.text, root: b.root, size: b.columns.length })
      for (const r of stored.values()) if (r.status !== 'accepted') throw new Error(`a benchmark receipt was not stored: ${JSON.stringify(r)}`)
    }
    runs.push({ label: 'fomo-kit `Store.insertReceipts` (verified batches of 12,500)', rows: receipts, seconds: (performance.now() - start) / 1000 })
    await store.close()

    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const columns = (await client.query<{ column_name: string; data_type: string }>(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'receipts' ORDER BY ordinal_position`)).rows
    // Each generated row as the store's rows are: 32-byte digests and request ids, one of two providers and deployments, n/10 users.
    const value = (name: string, type: string) =>
      name === 'epoch'
        ? '$1::bigint'
        : name === 'batch_root' || name === 'signature'
          ? (name === 'signature' ? 'NULL' : `sha256(((i / ${BATCH}))::text::bytea)`)
          : name === 'provider' || name === 'deployment_id'
            ? `sha256((i % 2)::text::bytea || '${name}'::bytea)`
            : name === 'user_address'
              ? `substr(sha256((i % ${users})::text::bytea), 1, 20)`
              : type === 'bytea'
                ? `sha256(i::text::bytea || '${name}'::bytea)`
                : name === 'ts'
                  ? `$1::bigint * 86400 + i % 86000`
                  : `(i % 1000 + 1)`
    const generated = (table: string, from: number) =>
      `INSERT INTO ${table} (${columns.map((c) => c.column_name).join(', ')}) SELECT ${columns.map((c) => value(c.column_name, c.data_type)).join(', ')} FROM generate_series(${from}::bigint, ${from + BATCH - 1}::bigint) AS i ON CONFLICT DO NOTHING`
    const timedGenerated = async (label: string, table: string, epoch: number) => {
      log(`pg insert: ${label}`)
      const t = performance.now()
      let rows = 0
      for (let from = 0; from < receipts; from += BATCH) rows += (await client.query(generated(table, from), [epoch])).rowCount ?? 0
      if (rows !== receipts) throw new Error(`${label}: ${rows} rows stored, expected ${receipts}`)
      runs.push({ label, rows, seconds: (performance.now() - t) / 1000 })
    }
    await client.query('SELECT fomo_epoch_partition($1)', [EPOCH + 1])
    await timedGenerated('PostgreSQL alone: rows generated in the server into `receipts` (its two unique indexes)', 'receipts', EPOCH + 1)
    await client.query('CREATE TABLE receipts_pk_only (LIKE receipts INCLUDING DEFAULTS)')
    await client.query('ALTER TABLE receipts_pk_only ADD PRIMARY KEY (epoch, provider, digest)')
    await timedGenerated('PostgreSQL alone: the same rows into a table with the primary key only', 'receipts_pk_only', EPOCH + 1)
    await client.end()
  } finally {
    stop()
  }
  return runs
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The "Storing receipts: the store against PostgreSQL alone" section of docs/benchmarks.md. */
export function pgInsertBenchSection(runs: PgInsertRun[]): string[] {
  const lines = ['## Storing receipts: the store against PostgreSQL alone', '']
  lines.push(
    "Batch-signed receipts are stored one row per receipt (what deduplication and the per-provider request-id check index). This section sets the store's insert path beside PostgreSQL's own ceiling for the same rows on the same server (fsync on): `Store.insertReceipts` of batches verified beforehand (verification not timed), then rows generated inside the server with `INSERT ... SELECT FROM generate_series` (no client, no parsing), into the partitioned `receipts` table and into a copy with the primary key alone; one statement per 12,500 rows, as a batch is stored.",
    '',
    '| path | rows | time | rows/s | vs PostgreSQL alone, all indexes |',
    '| --- | ---: | ---: | ---: | ---: |',
  )
  const ceiling = runs.find((r) => r.label.includes('its two unique indexes'))
  for (const r of runs) lines.push(`| ${r.label} | ${f(r.rows)} | ${f(r.seconds, 2)} s | ${f(r.rows / r.seconds)} | ${ceiling ? `${f((r.rows / r.seconds / (ceiling.rows / ceiling.seconds)) * 100)} %` : ''} |`)
  const pkOnly = runs.find((r) => r.label.includes('primary key only'))
  if (ceiling && pkOnly) {
    const rate = (r: PgInsertRun) => r.rows / r.seconds
    lines.push(
      '',
      `Reading: the target for batch-signed ingest, 200,000 receipts/s, is ${f(200_000 / rate(ceiling), 1)}x what this PostgreSQL server does alone with the table's indexes and ${f(200_000 / rate(pkOnly), 1)}x with the primary key alone, with no client at all. So no faster client path (COPY, binary parameters) reaches it while every receipt is a row, one insert stream as here (several concurrent sessions were not measured, and would have to gain more than the factor above): what is left to gain on the client side is the gap between the store and the ceiling. Reaching it needs fewer rows, one per batch, with deduplication and the request-id check moved from the row indexes to the batch and to sealing; docs/scaling.md weighs that design.`,
    )
  }
  return lines
}

if (import.meta.filename === process.argv[1]) {
  const { startPostgres } = await import('../setup/pgserver.ts')
  const n = Number(process.argv[2] ?? 250_000)
  console.log(pgInsertBenchSection(await benchPgInsert((l) => process.stderr.write(`${l}\n`), () => startPostgres({ fsync: true }), n)).join('\n'))
  process.exit(0)
}
