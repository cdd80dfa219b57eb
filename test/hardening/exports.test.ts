/**
 * Issue 14, what the store exports is what it accepted: a provider batch with rejected receipts is exported as the
 * part the epoch counts, and a provider removed mid-epoch stays in that epoch's configuration, so the epoch passes
 * its own audit; a running service picks configuration changes up without a restart.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { auditEpoch } from '../../src/audit/audit.ts'
import { receiptExportLines } from '../../src/aggregator/export.ts'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { writeEpochDirectory } from '../../src/epoch/directory.ts'
import { readEpochInputs } from '../../src/epoch/inputs.ts'
import { closeWorkers } from '../../src/merkle/parallel.ts'
import { databaseUrl, freshLocation } from '../aggregator/stores.ts'
import { DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, NOW, address, batch, receipt, signed, worldConfig } from '../aggregator/world.ts'

const config = worldConfig()
const DAY = 86_400n * 1_000_000_000n
const running: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close()
  await closeWorkers()
})

/** A store and its service on a clock the test moves. */
async function aggregator() {
  const store = await openStore(await freshLocation(databaseUrl() ? 'postgres' : 'pglite'))
  running.push(store)
  await store.setConfig(config)
  const clock = { now: NOW }
  const service = await AggregatorService.create({ store, now: () => clock.now, threads: 1 })
  running.push(service)
  const url = `http://127.0.0.1:${(await service.listen(0)).port}`
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: res.status, body: await res.json() }
  }
  return { store, clock, post }
}

/** Seals the epoch (with inputs), writes its directory and audits it against the store's receipts export. */
async function sealAndAudit(store: Store, epoch = EPOCH) {
  await store.setEpochInputs(readEpochInputs({ format: 'fomo-epoch-inputs-v2', epoch, deployments: { [DEPLOYMENT_A]: { opex: '0', circulatingSupply: '600000', stakes: { [address('user 0')]: '100' } } } }, await store.config(epoch)))
  const sealed = await store.seal(epoch)
  const dir = await writeEpochDirectory(await mkdtemp(join(tmpdir(), 'fomo-export-')), epoch, sealed.files)
  const lines: string[] = []
  for await (const { line } of receiptExportLines(store, epoch)) lines.push(line)
  const result = await auditEpoch({ dir, receiptsText: `${lines.join('\n')}\n` })
  return { lines, result, files: sealed.files }
}

describe('a provider batch with rejected receipts', () => {
  it('is stored and exported as the receipts the epoch counts, so the audit of an honest epoch passes', async () => {
    const { store, clock, post } = await aggregator()
    const early = signed(receipt(50, { deployment: 0 }))
    expect((await post('/v1/receipts', [early])).body.accepted).toBe(1)
    // Receipt 3 reuses a stored request id, receipt 4 is the stored receipt again, receipt 5 is ahead of the clock.
    const inBatch = [
      receipt(51, { deployment: 0 }),
      receipt(52, { deployment: 0 }),
      receipt(53, { deployment: 0 }),
      receipt(54, { deployment: 0, requestId: receipt(50).requestId, gross: 4242n }),
      receipt(50, { deployment: 0 }),
      receipt(55, { deployment: 0, timestamp: BigInt(EPOCH) * 86_400n + 50_000n }),
    ]
    const doc = batch(inBatch)
    const first = await post('/v1/batches', doc)
    expect(first.body).toMatchObject({ batch: 'accepted', accepted: 3, duplicates: 1, rejected: 2 })
    expect(first.body.results.map((r: { reason?: string }) => r.reason ?? null)).toEqual([null, null, null, 'request-id-reused', null, 'future-timestamp'])
    const part = (await exportLines(store)).find((l) => l.startsWith('{"format":"fomo-receipt-batch-part-v1"'))
    expect(JSON.parse(part!).receipts).toEqual([0, 1, 2])
    // Resent once the clock has passed receipt 5: it joins the stored part, counted once.
    clock.now = NOW + DAY / 4n
    expect((await post('/v1/batches', doc)).body).toMatchObject({ accepted: 1, duplicates: 4, rejected: 1 })
    expect(JSON.parse((await exportLines(store)).find((l) => l.includes('batch-part'))!).receipts).toEqual([0, 1, 2, 5])
    expect((await store.epochStatus(EPOCH)).receipts).toBe(5)
    const { result } = await sealAndAudit(store)
    expect(result.checks.join('\n')).toMatch(/receipts: 5 signatures verified/)
  })

  it('is exported as the plain batch document when every receipt of it is stored', async () => {
    const { store, post } = await aggregator()
    const doc = batch([60, 62].map((i) => receipt(i, { deployment: 0 })))
    expect((await post('/v1/batches', doc)).body).toMatchObject({ accepted: 2 })
    expect(await exportLines(store)).toEqual([JSON.stringify(doc)])
  })

  it('answers 400 to a malformed batch body, as /v1/receipts does, storing nothing', async () => {
    const { store, post } = await aggregator()
    for (const body of ['{"format":', '{"format":"fomo-receipt-batch-v1"}', '[]']) {
      const r = await post('/v1/batches', body)
      expect(r.status, body).toBe(400)
      expect(r.body).toMatchObject({ retry: false })
      expect(r.body.error).toMatch(/^malformed batch: .*; nothing was stored$/)
    }
    expect(await store.receiptCount()).toBe(0)
  })
})

async function exportLines(store: Store, epoch = EPOCH): Promise<string[]> {
  const lines: string[] = []
  for await (const { line } of receiptExportLines(store, epoch)) lines.push(line)
  return lines
}

describe('provider changes', () => {
  it('apply from the next epoch: a provider removed mid-epoch keeps its receipts of that epoch, which passes its audit', async () => {
    const { store, clock, post } = await aggregator()
    expect((await post('/v1/receipts', [0, 1, 2, 3].map((i) => signed(receipt(i))))).body.accepted).toBe(4)
    // Provider 1 (deployment B) leaves the configuration in the middle of the epoch.
    const without = { ...config, providers: config.providers.filter((p) => p.deploymentId !== DEPLOYMENT_B) }
    expect(await store.setConfig(without, { now: NOW })).toEqual({ fromEpoch: EPOCH + 1 })
    // The running service sees the change at once: late receipts of this epoch still count, the next epoch's do not.
    expect((await post('/v1/receipts', [signed(receipt(5))])).body.results[0].status).toBe('accepted')
    clock.now = NOW + DAY
    const next = await post('/v1/receipts', [signed(receipt(7, { epoch: EPOCH + 1 })), signed(receipt(8, { epoch: EPOCH + 1 }))])
    expect(next.body.results.map((r: { status: string; reason?: string }) => r.reason ?? r.status)).toEqual(['signer-not-allowed', 'accepted'])
    expect(next.body.results[0].message).toContain(`is not allowed to sign for deployment ${DEPLOYMENT_B} in epoch ${EPOCH + 1}`)
    expect((await store.config(EPOCH)).providers).toHaveLength(2)
    expect((await store.config(EPOCH + 1)).providers).toHaveLength(1)
    const { result, files } = await sealAndAudit(store)
    expect(JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'config.json')!.content)).providers).toHaveLength(2)
    expect(result.checks.join('\n')).toMatch(/receipts: 5 signatures verified/)
  })

  it('reach a running service without a restart: a provider added to a store without receipts signs at once', async () => {
    const { store, post } = await aggregator()
    const only = { ...config, providers: config.providers.filter((p) => p.deploymentId !== DEPLOYMENT_B) }
    await store.setConfig(only)
    expect((await post('/v1/receipts', [signed(receipt(1))])).body.results[0].reason).toBe('signer-not-allowed')
    expect(await store.setConfig(config)).toEqual({ fromEpoch: 0 })
    expect((await post('/v1/receipts', [signed(receipt(1))])).body.results[0].status).toBe('accepted')
  })
})
