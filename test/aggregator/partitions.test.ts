/**
 * Receipts partitioned by epoch on both engines: partitions created ahead (and by the service), the default
 * partition that takes receipts of an epoch without one, retention (export, verify, then drop or detach, only past
 * the dispute window and never on an export that does not verify), and the migration from the unpartitioned
 * schema on a populated store.
 */
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { migrate, MIGRATIONS } from '../../src/aggregator/migrations.ts'
import { main } from '../../src/cli/main.ts'
import { exportEpoch, exportPath, readExport, verifyExport } from '../../src/aggregator/retention.ts'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openSql, type Sql } from '../../src/aggregator/sql.ts'
import { openStore, type SqlStore, type Store } from '../../src/aggregator/store.ts'
import { verifyBatch } from '../../src/receipts/batchVerify.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { BACKENDS, databaseUrl, freshLocation, freshStore, type Backend } from './stores.ts'
import { address, batch, DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, NOW, receipt, signed, verifiedColumns, worldConfig, worldInputs } from './world.ts'

const config = worldConfig()
const DAY = 86_400n
const S = 1_000_000_000n
/** Epochs E-2 and E-1 are sealed (at SEALED_AT), E and E+1 are open. */
const E = EPOCH
const SEALED_AT = (BigInt(E) * DAY + 3_600n) * S

const inputs = (epoch: number) => worldInputs(epoch, config)

const perCall = (epoch: number) => Array.from({ length: 6 }, (_, i) => signed(receipt(i, { epoch })))
const batchOf = (epoch: number) => batch([20, 22, 24, 26].map((i) => receipt(i, { epoch, deployment: 0 })))

async function ingest(store: Store, docs: unknown[]) {
  const results = await store.insertReceipts(verifiedColumns(docs), docs.map((_, index) => ({ index })))
  return docs.map((_, i) => results.get(i)!)
}

async function ingestBatch(store: Store, document: ReturnType<typeof batchOf>) {
  const columns = verifyBatch(new ReceiptVerifier({ domain: config.domain }), document)
  const root = document.message.receiptsRoot
  const results = await store.insertReceipts(columns, Array.from({ length: columns.length }, (_, index) => ({ index, batchRoot: root })), { document: JSON.stringify(document), root, size: columns.length })
  return [...results.values()].map((r) => r.status)
}

/** Four epochs of per-call and batch-signed receipts; the first two with inputs and sealed. */
async function populate(store: Store): Promise<void> {
  for (const epoch of [E - 2, E - 1, E, E + 1]) {
    expect((await ingest(store, perCall(epoch))).map((r) => r.status)).toEqual(Array(6).fill('accepted'))
    expect(await ingestBatch(store, batchOf(epoch))).toEqual(Array(4).fill('accepted'))
  }
  for (const epoch of [E - 2, E - 1]) {
    await store.setEpochInputs(inputs(epoch))
    await store.seal(epoch, { now: SEALED_AT })
  }
}

const sqlOf = (store: Store): Sql => (store as SqlStore).sql
const TABLES = ['config', 'configs', 'providers', 'epochs', 'receipts', 'batches', 'epoch_inputs', 'stakes', 'rewards', 'artifacts']

/** Every row of every table as normalised JSON (jsonb sorts keys), sorted; sealed_at is new with partitioning. */
async function dump(sql: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const t of TABLES) out[t] = (await sql.query<{ j: string }>(`SELECT (to_jsonb(t) - 'sealed_at')::text AS j FROM ${t} t`)).map((r) => r.j).sort()
  return out
}

const relkind = async (sql: Sql, name: string) => (await sql.query<{ k: string }>(`SELECT relkind::text AS k FROM pg_class WHERE relname = $1`, [name]))[0]?.k

const open: Store[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

describe.each(BACKENDS)('partitioned receipts on %s', (backend: Backend) => {
  const skip = backend === 'postgres' && !databaseUrl()
  const make = async () => {
    const s = await freshStore(backend)
    open.push(s)
    await s.setConfig(config)
    return s
  }
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'fomo-retention-'))
    dirs.push(d)
    return d
  }

  it.skipIf(skip)('creates partitions ahead, takes receipts of an epoch without one in the default partition, and moves them when it is created', async () => {
    const store = await make()
    const sql = sqlOf(store)
    expect(await relkind(sql, 'receipts')).toBe('p')
    expect(await relkind(sql, 'batches')).toBe('p')
    expect(await store.ensurePartitions([E, E + 1])).toEqual([E, E + 1])
    expect(await store.ensurePartitions([E, E + 1])).toEqual([])
    expect(await store.partitionEpochs()).toEqual([E, E + 1])

    await ingest(store, perCall(E))
    // No partition for E + 5 yet: the insert does not fail, the default partitions take the rows.
    expect((await ingest(store, perCall(E + 5))).map((r) => r.status)).toEqual(Array(6).fill('accepted'))
    expect(await ingestBatch(store, batchOf(E + 5))).toEqual(Array(4).fill('accepted'))
    const where = async (epoch: number) =>
      (await sql.query<{ t: string; n: string }>(`SELECT tableoid::regclass::text AS t, count(*)::text AS n FROM receipts WHERE epoch = $1 GROUP BY 1`, [epoch])).map((r) => `${r.t}:${r.n}`)
    expect(await where(E)).toEqual([`receipts_epoch_${E}:6`])
    expect(await where(E + 5)).toEqual(['receipts_default:10'])
    const before = await store.epochTotals(E + 5)
    expect(before).toMatchObject({ receipts: 10, batches: 1 })

    expect(await store.ensurePartitions([E + 5])).toEqual([E + 5])
    expect(await where(E + 5)).toEqual([`receipts_epoch_${E + 5}:10`])
    expect((await sql.query<{ t: string }>(`SELECT tableoid::regclass::text AS t FROM batches WHERE epoch = $1`, [E + 5])).map((r) => r.t)).toEqual([`batches_epoch_${E + 5}`])
    expect(await store.epochTotals(E + 5)).toEqual(before)
    // Deduplication holds across the move: the same receipts and batch again are duplicates.
    expect((await ingest(store, perCall(E + 5))).map((r) => r.status)).toEqual(Array(6).fill('duplicate'))
    expect(await ingestBatch(store, batchOf(E + 5))).toEqual(Array(4).fill('duplicate'))
    expect(await store.receiptCount()).toBe(16)

    // The service creates the previous, current and next three epochs' partitions when it starts (in the background; closing waits for it).
    const service = await AggregatorService.create({ store, now: () => NOW, threads: 1 })
    await service.close()
    expect(await store.partitionEpochs()).toEqual([E - 1, E, E + 1, E + 2, E + 3, E + 5])
  })

  it.skipIf(skip)('retains a sealed epoch past its dispute window only through an export that verifies, and refuses its receipts afterwards', { timeout: 600_000 }, async () => {
    const store = await make()
    await populate(store)
    // E - 1 gets no partition: its rows stay in the default one (a node that was away when it was current).
    await store.ensurePartitions([E - 2, E, E + 1])
    const dir = await tmp()
    const window = 86_400
    const later = SEALED_AT + BigInt(window) * S + S
    const totals = await store.epochTotals(E - 2)
    expect(totals).toMatchObject({ receipts: 10, batches: 1 })
    const count = await store.receiptCount()

    // Within the window, for an open epoch: refused before anything is written.
    await expect(store.retainEpoch(E - 2, { dir, mode: 'drop', windowSeconds: window, now: SEALED_AT + 3_600n * S })).rejects.toThrow(/within its dispute window/)
    await expect(store.retainEpoch(E, { dir, mode: 'drop', windowSeconds: window, now: later })).rejects.toThrow(/is not sealed/)
    await expect(stat(exportPath(dir, E - 2))).rejects.toThrow()

    // An export missing a line (a lost batch) does not verify: nothing is removed.
    const path = exportPath(dir, E - 2)
    await exportEpoch(store, E - 2, path)
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    expect(lines).toHaveLength(7)
    await writeFile(path, `${lines.slice(0, -1).join('\n')}\n`)
    await expect(verifyExport(store, E - 2, path)).rejects.toThrow(/does not match epoch .* in the store \(the store holds 10 receipts, the export 6\); nothing was removed/)
    // Retention uses a file already there only when it is byte for byte the store's export.
    await expect(store.retainEpoch(E - 2, { dir, mode: 'drop', windowSeconds: window, now: later })).rejects.toThrow(/is not the store's export of epoch .*; nothing was removed/)
    // A changed amount breaks the receipt's signature: named by its line.
    await writeFile(path, `${[lines[0]!.replace(/"grossAmount":"(\d+)"/, (_, g) => `"grossAmount":"${BigInt(g) + 1n}"`), ...lines.slice(1)].join('\n')}\n`)
    await expect(verifyExport(store, E - 2, path)).rejects.toThrow(/line 1: .*nothing was removed/)
    // Removal itself compares the store with what the export held.
    await expect(
      store.removeEpochReceipts(E - 2, { expected: { ...totals, charged: totals.charged + 1n }, mode: 'drop', windowSeconds: window, exportFile: path, exportSha256: '00', now: later }),
    ).rejects.toThrow(/the export does not match the store \(charged .*\); nothing was removed/)
    expect(await store.epochTotals(E - 2)).toEqual(totals)
    expect(await store.retained(E - 2)).toBeUndefined()
    expect(await store.partitionEpochs()).toContain(E - 2)

    // A link where the export goes could be pointed elsewhere once verified: refused.
    await rm(path)
    await symlink(join(dir, 'elsewhere.ndjson'), path)
    await expect(store.retainEpoch(E - 2, { dir, mode: 'drop', windowSeconds: window, now: later })).rejects.toThrow(/is not a regular file; nothing was removed/)
    await rm(path)
    // A good export: written, verified, then the partitions are dropped.
    const before = await store.epochStatus(E - 2)
    const dropped = await store.retainEpoch(E - 2, { dir, mode: 'drop', windowSeconds: window, now: later })
    expect(dropped).toMatchObject({ epoch: E - 2, ...totals, mode: 'drop', exported: true, alreadyRetained: false, exportFile: path })
    expect((await readExport(store, E - 2, path)).totals).toEqual(totals)
    expect(await store.partitionEpochs()).not.toContain(E - 2)
    expect(await relkind(sqlOf(store), `receipts_epoch_${E - 2}`)).toBeUndefined()
    expect(await store.receiptCount()).toBe(count - 10)
    // The sealed epoch's status still gives its totals (its manifest's), not zero.
    expect(before).toMatchObject({ status: 'sealed', receipts: 10 })
    expect(await store.epochStatus(E - 2)).toEqual(before)
    expect(await store.retained(E - 2)).toMatchObject({ receipts: 10, exportFile: path })
    expect(await store.retainEpoch(E - 2, { dir, mode: 'drop', windowSeconds: window, now: later })).toMatchObject({ alreadyRetained: true })

    // Detached: the epoch's rows leave the receipts table and stay in a table of their own, those that were in the
    // default partition included.
    expect((await sqlOf(store).query<{ n: string }>(`SELECT count(*)::text AS n FROM receipts_default WHERE epoch = $1`, [E - 1]))[0]!.n).toBe('10')
    // A dispute window that is no number of seconds is refused.
    await expect(store.removeEpochReceipts(E - 1, { expected: totals, mode: 'detach', windowSeconds: -1, exportFile: path, exportSha256: '00', now: later })).rejects.toThrow(/dispute window -1 is not a number of seconds/)
    // The store's own export, already there, is used as it is.
    await exportEpoch(store, E - 1, exportPath(dir, E - 1))
    const placed = await readFile(exportPath(dir, E - 1))
    const detached = await store.retainEpoch(E - 1, { dir, mode: 'detach', windowSeconds: window, now: later })
    expect(detached).toMatchObject({ epoch: E - 1, receipts: 10, mode: 'detach', exported: false })
    expect((await readFile(exportPath(dir, E - 1))).equals(placed)).toBe(true)
    expect(await store.epochTotals(E - 1)).toMatchObject({ receipts: 0, batches: 0 })
    expect((await sqlOf(store).query<{ n: string }>(`SELECT count(*)::text AS n FROM receipts_retained_${E - 1}`))[0]!.n).toBe('10')

    // Afterwards: receipts of the epoch are refused, saying why; no partition comes back; no second export.
    const again = await ingest(store, perCall(E - 2))
    expect(again.map((r) => r.status)).toEqual(Array(6).fill('rejected'))
    expect(again[0]!.message).toMatch(new RegExp(`epoch ${E - 2} is sealed and its receipts were exported and removed from the store`))
    expect(await store.ensurePartitions([E - 2])).toEqual([])
    await expect(async () => {
      for await (const _ of store.exportReceipts(E - 2)) void _
    }).rejects.toThrow(/removed from the store \(retention, drop\)/)
    // The next epoch still seals: rewards are cumulative over a table retention does not touch.
    await store.setEpochInputs(inputs(E))
    expect((await store.seal(E, { now: later })).alreadySealed).toBe(false)
  })

  it.skipIf(skip || backend === 'pglite')('fomo retention: sealed epochs past the window, each through a verified export; refuses without --drop or --detach', async () => {
    const location = await freshLocation(backend)
    const store = await openStore(location)
    await store.setConfig(config)
    await populate(store)
    await store.close()
    const dir = await tmp()
    const run = async (args: string[]) => {
      const out = { stdout: '', stderr: '' }
      const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), env: {}, cwd: dir, interactive: false }
      const code = await main(['retention', ...args, '--database-url', location.databaseUrl!], io)
      return { code, ...out, lines: out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) }
    }
    const refused = await run(['--before', String(E + 2), '--out', 'exports'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/give --drop .* or --detach/)
    // Sealed in the test world's past: a window of a day has passed, the epochs E and E + 1 are not sealed.
    const done = await run(['--before', String(E + 2), '--out', 'exports', '--drop', '--dispute-window', '86400'])
    expect(done.code).toBe(0)
    expect(done.lines).toMatchObject([
      { epoch: E - 2, retained: true, mode: 'drop', receipts: 10, batches: 1, exported: true, file: exportPath(join(dir, 'exports'), E - 2) },
      { epoch: E - 1, retained: true, mode: 'drop', receipts: 10, batches: 1, exported: true },
    ])
    expect((await run(['--before', String(E + 2), '--out', 'exports', '--drop'])).lines).toEqual([])
    const after = await openStore(location)
    open.push(after)
    expect(await after.receiptCount()).toBe(20)
  })

  // PGlite opens three databases here; on a loaded machine that takes minutes.
  it.skipIf(skip)('migrates a populated unpartitioned store and loses nothing: every row, the totals, and what sealing gives', { timeout: 600_000 }, async () => {
    // The reference: the same history on a store created partitioned.
    const reference = await make()
    await populate(reference)
    const expected = await dump(sqlOf(reference))
    expect(expected.receipts).toHaveLength(40)
    expect(expected.batches).toHaveLength(4)

    // The same rows in a store at schema version 3 (unpartitioned tables).
    const location = await freshLocation(backend)
    if (location.dataDir) dirs.push(location.dataDir)
    const old = await openSql(location)
    try {
      expect(await migrate(old, 3)).toBe(3)
      expect(await relkind(old, 'receipts')).toBe('r')
      for (const t of TABLES) {
        const rows = expected[t]!
        if (rows.length > 0) await old.query(`INSERT INTO ${t} SELECT * FROM jsonb_populate_recordset(NULL::${t}, $1::jsonb)`, [`[${rows.join(',')}]`])
      }
    } finally {
      await old.close()
    }

    const migrated = await openStore(location)
    open.push(migrated)
    const sql = sqlOf(migrated)
    expect((await sql.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations'))[0]!.v).toBe(MIGRATIONS.at(-1)!.version)
    expect(await relkind(sql, 'receipts')).toBe('p')
    expect(await relkind(sql, 'receipts_v3')).toBeUndefined()
    expect(await migrated.partitionEpochs()).toEqual([E - 2, E - 1, E, E + 1])
    expect(await dump(sql)).toEqual(expected)
    expect((await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM receipts_default'))[0]!.n).toBe('0')
    for (const epoch of [E - 2, E - 1, E, E + 1]) {
      expect(await migrated.epochTotals(epoch)).toEqual(await reference.epochTotals(epoch))
      expect(await migrated.epochStatus(epoch)).toEqual(await reference.epochStatus(epoch))
    }
    expect(await migrated.artifacts(E - 1)).toEqual(await reference.artifacts(E - 1))
    const exported = async (s: Store, epoch: number) => {
      const items: unknown[] = []
      for await (const item of s.exportReceipts(epoch)) items.push(item)
      return items
    }
    expect(await exported(migrated, E)).toEqual(await exported(reference, E))

    // Sealing the next epoch gives the same roots and files on both.
    for (const s of [reference, migrated]) await s.setEpochInputs(inputs(E))
    const sealedAt = (BigInt(E + 1) * DAY + 60n) * S
    const [a, b] = [await reference.seal(E, { now: sealedAt }), await migrated.seal(E, { now: sealedAt })]
    expect(b).toEqual(a)
    // The migrated store still deduplicates: everything again is a duplicate.
    expect((await ingest(migrated, perCall(E + 1))).map((r) => r.status)).toEqual(Array(6).fill('duplicate'))
    expect(await ingestBatch(migrated, batchOf(E + 1))).toEqual(Array(4).fill('duplicate'))
    expect(await migrated.receiptCount()).toBe(40)
  })
})
