/**
 * The store on both engines: migrations, the receipts table against the receipt schema table, deduplication,
 * sealing, and the embedded store's process lock.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { ReceiptColumns } from '../receipts/columns.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'
import { BACKENDS, databaseUrl, freshLocation, type Backend } from '../../test/aggregator/stores.ts'
import { DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, address, receipt, signed, worldConfig, worldInputs } from '../../test/aggregator/world.ts'
import { migrate, MIGRATIONS } from './migrations.ts'
import { seal } from '../epoch/seal.ts'
import { SealError } from '../epoch/rewards.ts'
import { openStore, SqlStore, type Store } from './store.ts'
import { openPglite, openPostgres, openSql, redact, StoreError } from './sql.ts'
import { RECEIPT_SCHEMA } from '../receipts/schema.ts'

const config = worldConfig()
const verifier = new ReceiptVerifier({ domain: config.domain })

/** Verified columns for documents, as the worker pool would return them. */
function columnsOf(docs: unknown[]): ReceiptColumns {
  const c = new ReceiptColumns(docs.length)
  docs.forEach((d, i) => verifier.verifyInto(d, c, i))
  expect(c.failures).toEqual([])
  return c
}

async function ingest(store: Store, docs: unknown[]) {
  const c = columnsOf(docs)
  const results = await store.insertReceipts(c, docs.map((_, index) => ({ index })))
  return docs.map((_, i) => results.get(i)!.status)
}

const inputs = (epoch: number) => worldInputs(epoch, config)

const open: Store[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

describe.each(BACKENDS)('store on %s', (backend: Backend) => {
  const skip = backend === 'postgres' && !databaseUrl()
  const make = async (options: { artifactChunkBytes?: number } = {}) => {
    const s = await openStore({ ...(await freshLocation(backend)), ...options })
    open.push(s)
    await s.setConfig(config)
    return s
  }

  /** Opens a fresh store (which migrates), closes it, and hands its database to `check` through the SQL surface. */
  const afterOpening = async (check: (sql: Awaited<ReturnType<typeof openSql>>) => Promise<void>) => {
    const location = await freshLocation(backend)
    await (await openStore(location)).close()
    const sql = await openSql(location)
    try {
      await check(sql)
    } finally {
      await sql.close()
    }
  }

  it.skipIf(skip)('migrates once, idempotently', async () => {
    await afterOpening(async (sql) => {
      expect(await migrate(sql)).toBe(0)
      const rows = await sql.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version))
    })
  })

  it.skipIf(skip)('has a receipts column of the schema type for every receipt field (a new field needs a migration)', async () => {
    await afterOpening(async (sql) => {
      const rows = await sql.query<{ name: string; type: string }>(
        `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'receipts'`,
      )
      const live = new Map(rows.map((r) => [r.name, r.type]))
      for (const f of RECEIPT_SCHEMA)
        expect(live.get(f.sql.column), `receipt field ${f.name}: the receipts table has no ${f.sql.type} column ${f.sql.column}; add a migration`).toBe(f.sql.type)
      // Every other column is the row's own: identity and signature.
      const own = [...live.keys()].filter((c) => !RECEIPT_SCHEMA.some((f) => f.sql.column === c)).sort()
      expect(own, 'receipts columns that are no receipt field').toEqual(['batch_root', 'digest', 'signature'])
    })
  })

  it.skipIf(skip)('stores each receipt once: duplicates inside a request and on resend, request ids unique per provider', async () => {
    const store = await make()
    const docs = [0, 1, 2, 3].map((i) => signed(receipt(i)))
    expect(await ingest(store, [...docs, docs[0]])).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'duplicate'])
    expect(await ingest(store, docs)).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate'])
    const clash = signed(receipt(0, { gross: 5_000n, requestId: receipt(0).requestId }))
    const c = columnsOf([clash])
    const [r] = (await store.insertReceipts(c, [{ index: 0 }])).values()
    expect(r).toMatchObject({ status: 'rejected', reason: 'request-id-reused' })
    expect(await store.receiptCount()).toBe(4)
    // Every outcome in one request: what this request stored is told from what was stored before.
    const fresh = signed(receipt(4))
    const mixed = await store.insertReceipts(columnsOf([fresh, docs[1]!, clash, fresh]), [0, 1, 2, 3].map((index) => ({ index })))
    expect([0, 1, 2, 3].map((i) => mixed.get(i)?.status)).toEqual(['accepted', 'duplicate', 'rejected', 'duplicate'])
    expect(await store.receiptCount()).toBe(5)
    // Cells enter the insert unquoted: a batch root that is not 32 bytes of hex is refused and nothing is stored.
    await expect(store.insertReceipts(columnsOf([signed(receipt(5))]), [{ index: 0, batchRoot: `0x${'ab'.repeat(31)},1}` }])).rejects.toThrow(/is not 32 bytes of hex/)
    // So must the columns be typed arrays of the right size, and the row indices inside them.
    const forged = columnsOf([signed(receipt(5))])
    Object.defineProperty(forged, 'inputTokens', { value: ['5,6'] })
    await expect(store.insertReceipts(forged, [{ index: 0 }])).rejects.toThrow(/receipt column inputTokens is not a typed array of 1 rows/)
    await expect(store.insertReceipts(columnsOf([signed(receipt(5))]), [{ index: 1 }])).rejects.toThrow(/row index 1 is outside the 1 receipt columns/)
    expect(await store.receiptCount()).toBe(5)
  })

  // PGlite has no checkpointer process: without the store's own checkpoints its pg_wal grows with every write.
  it.skipIf(backend !== 'pglite')('checkpoints the embedded database once a transaction leaves enough WAL since the last checkpoint', async () => {
    const { dataDir } = await freshLocation(backend)
    const sql = await openPglite(dataDir!, { checkpointWalBytes: 1024 * 1024 })
    try {
      const redo = async () => (await sql.query<{ r: string }>('SELECT redo_lsn::text AS r FROM pg_control_checkpoint()'))[0]!.r
      const before = await redo()
      await sql.transaction((tx) => tx.exec('CREATE TABLE filler (x text)'))
      expect(await redo(), 'under 1 MiB of WAL: no checkpoint').toBe(before)
      await sql.transaction((tx) => tx.exec('INSERT INTO filler SELECT repeat(md5(i::text), 8) FROM generate_series(1, 20000) i'))
      expect(await redo(), 'over 1 MiB of WAL: a checkpoint').not.toBe(before)
    } finally {
      await sql.close()
    }
  })

  // Two server nodes on one database; PGlite is one process's own database.
  it.skipIf(skip || backend !== 'postgres')('two nodes storing the same receipts at once: each is accepted by exactly one, and stored once', async () => {
    const location = await freshLocation(backend)
    const a = await openStore(location)
    open.push(a)
    await a.setConfig(config)
    const b = await openStore(location)
    open.push(b)
    const docs = Array.from({ length: 2_000 }, (_, i) => signed(receipt(i)))
    const c = columnsOf(docs)
    const rows = docs.map((_, index) => ({ index }))
    // One request sent to two nodes (a client retrying elsewhere): the second insert waits on the first's rows.
    const [ra, rb] = await Promise.all([a.insertReceipts(c, rows), b.insertReceipts(c, rows)])
    for (let i = 0; i < docs.length; i++) expect([ra.get(i)?.status, rb.get(i)?.status].sort(), `receipt ${i}`).toEqual(['accepted', 'duplicate'])
    expect(await a.receiptCount()).toBe(docs.length)
  })

  it.skipIf(skip)('seals deterministically, refuses receipts and inputs for a sealed epoch, and keeps rewards cumulative', async () => {
    const a = await make()
    // b stores each artifact in rows of 1,000 bytes, as a store does past 32 MiB.
    const b = await make({ artifactChunkBytes: 1_000 })
    const docs = Array.from({ length: 20 }, (_, i) => signed(receipt(i, { discountBps: 0 })))
    for (const s of [a, b]) {
      await ingest(s, docs)
      await s.setEpochInputs(inputs(EPOCH))
    }
    const first = await a.seal(EPOCH)
    const second = await b.seal(EPOCH)
    expect(second.files.map((f) => [f.name, f.sha256])).toEqual(first.files.map((f) => [f.name, f.sha256]))
    const chunks = await (b as SqlStore).sql.query<{ n: string }>('SELECT count(*)::text AS n FROM artifact_chunks')
    expect(Number(chunks[0]!.n)).toBeGreaterThan(first.files.length)
    for (const s of [a, b]) {
      expect((await s.artifacts(EPOCH)).files).toEqual(first.files)
      for (const f of first.files) {
        expect(await s.artifactFile(EPOCH, f.name)).toEqual(f.content)
        const stream = (await s.artifactStream(EPOCH, f.name))!
        const chunks: Uint8Array[] = []
        for await (const c of stream.chunks()) chunks.push(c)
        expect(stream.byteLength).toBe(f.content.length)
        expect(new Uint8Array(Buffer.concat(chunks))).toEqual(f.content)
        if (s === b) expect(chunks.every((c) => c.length <= 1_000) && chunks.length === Math.ceil(f.content.length / 1_000)).toBe(true)
      }
      expect(await s.artifactStream(EPOCH, 'proofs.json')).toBeUndefined()
      expect(await s.artifactStream(EPOCH + 1, 'manifest.json')).toBeUndefined()
    }
    expect((await a.seal(EPOCH)).alreadySealed).toBe(true)
    expect((await a.seal(EPOCH)).files.map((f) => f.sha256)).toEqual(first.files.map((f) => f.sha256))

    const late = signed(receipt(99))
    const [r] = (await a.insertReceipts(columnsOf([late]), [{ index: 0 }])).values()
    expect(r).toMatchObject({ status: 'rejected', reason: 'epoch-sealed' })
    await expect(a.setEpochInputs(inputs(EPOCH))).rejects.toThrow(/is sealed/)
    expect((await a.epochStatus(EPOCH)).receipts).toBe(20)

    // The trees load in OpenZeppelin's library, and the reward tree holds cumulative totals.
    const file = (name: string, files = first.files) => JSON.parse(new TextDecoder().decode(files.find((f) => f.name === name)!.content))
    expect(StandardMerkleTree.load(file('spend-tree.json')).root).toBe(first.spendRoot)
    const reward1 = StandardMerkleTree.load(file('reward-tree.json'))
    expect(reward1.root).toBe(first.rewardRoot)

    await ingest(a, Array.from({ length: 6 }, (_, i) => signed(receipt(i, { epoch: EPOCH + 1 }))))
    await a.setEpochInputs(inputs(EPOCH + 1))
    const next = await a.seal(EPOCH + 1)
    const reward2 = StandardMerkleTree.load(file('reward-tree.json', next.files))
    const totals = (t: typeof reward1) => new Map([...t.entries()].map(([, v]) => [`${v[1]}/${v[2]}`, BigInt(v[3] as string)]))
    const t1 = totals(reward1)
    const t2 = totals(reward2)
    for (const [k, v] of t1) expect(t2.get(k)! >= v).toBe(true)
    expect(file('manifest.json', next.files).previousManifestSha256).toBe(first.files.find((f) => f.name === 'manifest.json')!.sha256)
  })

  it.skipIf(skip)('seals epochs in order only', async () => {
    const store = await make()
    await ingest(store, [signed(receipt(0)), signed(receipt(1, { epoch: EPOCH + 1 }))])
    await expect(store.seal(EPOCH + 1)).rejects.toThrow(`epoch ${EPOCH} holds receipts and is not sealed`)
    await store.seal(EPOCH)
    await expect(store.seal(EPOCH + 1)).resolves.toMatchObject({ alreadySealed: false })
  })

  it.skipIf(skip)('keeps one distributor once the store holds receipts: a configuration naming another is refused', async () => {
    const store = await make()
    const other = { ...config, domain: { ...config.domain, verifyingContract: address('another distributor') } }
    await store.setConfig(other)
    await store.setConfig(config)
    await ingest(store, [signed(receipt(0))])
    await store.seal(EPOCH)
    await expect(store.setConfig(other)).rejects.toThrow(/receipt domain cannot change once the store holds receipts .* a new distributor would pay every earlier reward again/s)
    await expect(store.setConfig({ ...config, domain: { ...config.domain, chainId: config.domain.chainId + 1 } })).rejects.toThrow('receipt domain cannot change')
    // The configuration stays as it was, and the same domain with other settings is accepted.
    expect((await store.config()).domain).toEqual(config.domain)
    await store.setConfig({ ...config, maxReceiptAgeSeconds: config.maxReceiptAgeSeconds + 60 })
  })
})

describe('sealing arithmetic', () => {
  it('refuses sums that overflow uint256', () => {
    const huge = { deploymentId: DEPLOYMENT_A, user: address('user 0'), gross: 1n << 256n, charged: 1n, count: 1n, minDiscountBps: 0, maxDiscountBps: 0 }
    expect(() => seal({ epoch: EPOCH, config, spend: [huge], inputs: new Map(), previous: [], previousManifestSha256: null })).toThrow(SealError)
  })

  it('pays out the emission: credits plus treasury remainders equal what was routed', () => {
    const spend = [0, 1, 2].map((u) => ({ deploymentId: DEPLOYMENT_A, user: address(`user ${u}`), gross: 1_000_000n * BigInt(u + 1), charged: 1_000_000n * BigInt(u + 1), count: 1n, minDiscountBps: 0, maxDiscountBps: 0 }))
    const stakes = new Map(spend.map((s) => [s.user, 1n] as const))
    const out = seal({ epoch: EPOCH, config, spend, inputs: new Map([[DEPLOYMENT_A, { opex: 0n, circulatingSupply: 10n ** 24n, stakes }]]), previous: [], previousManifestSha256: null })
    const report = JSON.parse(new TextDecoder().decode(out.files.find((f) => f.name === 'report.json')!.content))
    const a = report.deployments[0]
    const flockCredits = out.credits.filter((c) => c.token === config.tokens.flock).reduce((n, c) => n + c.amount, 0n)
    expect(flockCredits + BigInt(a.toTreasury.flock)).toBe(BigInt(a.emissionShare) + BigInt(a.stakingFundRelease))
    expect(BigInt(report.emission)).toBe(BigInt(a.emissionShare) + BigInt(report.emissionToTreasury) + BigInt(report.deployments[1].emissionShare))
  })
})

describe('PostgreSQL connection', () => {
  it('refuses a host that takes the connection and never answers, within the connect timeout, naming it', async () => {
    const { createServer } = await import('node:net')
    const held: import('node:net').Socket[] = []
    const silent = createServer((socket) => void held.push(socket))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as import('node:net').AddressInfo).port
    try {
      const started = Date.now()
      const error = await openPostgres(`postgres://fomo:secret@127.0.0.1:${port}/fomo`, { connectTimeoutMs: 300 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreError)
      expect((error as StoreError).message).toContain(`cannot connect to PostgreSQL at postgres://fomo:***@127.0.0.1:${port}/fomo`)
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      for (const s of held) s.destroy()
      await new Promise((r) => silent.close(r))
    }
  })

  it('refuses a server that lets the login through and never answers a query (a pooler whose database is away)', async () => {
    const { createServer } = await import('node:net')
    const held: import('node:net').Socket[] = []
    // The protocol's AuthenticationOk ('R', length 8, 0) and ReadyForQuery ('Z', length 5, idle), then silence.
    const ready = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49])
    const mute = createServer((socket) => {
      held.push(socket)
      socket.once('data', () => socket.write(ready))
    })
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r))
    const port = (mute.address() as import('node:net').AddressInfo).port
    try {
      const error = await openPostgres(`postgres://fomo@127.0.0.1:${port}/fomo`, { connectTimeoutMs: 300 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreError)
      expect((error as StoreError).message).toMatch(/cannot connect to PostgreSQL at postgres:\/\/fomo@127\.0\.0\.1:\d+\/fomo: .*timeout/i)
    } finally {
      for (const s of held) s.destroy()
      await new Promise((r) => mute.close(r))
    }
  })

  it('hides the password wherever the URL carries it', () => {
    expect(redact('postgres://fomo:secret@db:5432/fomo')).toBe('postgres://fomo:***@db:5432/fomo')
    expect(redact('postgres://fomo:p%40ss@db/fomo')).toBe('postgres://fomo:***@db/fomo')
    expect(redact('postgres://fomo:p@ss@db/fomo')).not.toContain('ss@db/fomo?')
    expect(redact('postgres://fomo:p@ss@db/fomo')).not.toMatch(/p@ss|ss@/)
    expect(redact('postgres://db/fomo?password=hunter2&sslmode=require')).toBe('postgres://db/fomo?password=***&sslmode=require')
    expect(redact('postgres://fomo@db/fomo')).toBe('postgres://fomo@db/fomo')
  })
})

describe('embedded store', () => {
  it('refuses a second process on the same data directory, naming the holder', async () => {
    const location = await freshLocation('pglite')
    const store = await openStore(location)
    open.push(store)
    const { writeFile } = await import('node:fs/promises')
    // Pretend another live process (this test runner's parent) holds the lock.
    await writeFile(`${location.dataDir}/fomo.lock`, String(process.ppid))
    await expect(openStore(location)).rejects.toThrow(/in use by another fomo process/)
    await writeFile(`${location.dataDir}/fomo.lock`, String(process.pid))
  })
})
