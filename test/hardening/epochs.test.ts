/**
 * Issue 14, epoch order: an epoch seals only once it has ended and after every earlier epoch with receipts; an
 * epoch before the last sealed one takes no receipt and no inputs; a mistyped or future `--epoch` is refused before
 * anything irreversible. On the PostgreSQL server when there is one (fast to open), else embedded.
 */
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEpochInputs } from '../../src/epoch/inputs.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { fomo } from '../helpers.ts'
import { databaseUrl, freshLocation } from '../aggregator/stores.ts'
import { writeConfig } from '../aggregator/processes.ts'
import { DEPLOYMENT_A, EPOCH, receipt, signed, verifiedColumns, worldConfig } from '../aggregator/world.ts'

const config = worldConfig()
const backend = () => (databaseUrl() ? 'postgres' : 'pglite')
const day = 86_400n * 1_000_000_000n
/** The clock in the middle of an epoch, in nanoseconds. */
const during = (epoch: number) => BigInt(epoch) * day + day / 2n

async function ingest(store: Store, docs: unknown[]) {
  const results = await store.insertReceipts(verifiedColumns(docs), docs.map((_, index) => ({ index })))
  return docs.map((_, i) => results.get(i)!)
}

describe('epoch order', () => {
  let store: Store
  let location: { dataDir?: string; databaseUrl?: string }
  beforeAll(async () => {
    location = await freshLocation(backend())
    store = await openStore(location)
    await store.setConfig(config)
  })
  afterAll(() => store.close())

  it('refuses to seal an epoch before it has ended, one without receipts, and one before the last sealed', async () => {
    await ingest(store, [signed(receipt(0)), signed(receipt(1, { epoch: EPOCH + 2 }))])
    // Still open at the clock: sealing would freeze receipts that may yet arrive.
    await expect(store.seal(EPOCH, { now: during(EPOCH) })).rejects.toThrow(`epoch ${EPOCH} has not ended yet (it ends at 2024-10-05T00:00:00.000Z); seal it after that, or check --epoch`)
    // A mistyped epoch: no receipts, so refused unless asked for explicitly.
    await expect(store.seal(1)).rejects.toThrow(`epoch 1 holds no receipts and no inputs; check --epoch (epochs with receipts to seal: ${EPOCH}, ${EPOCH + 2}), or give --allow-empty`)
    expect((await store.epochStatus(1)).status).toBe('open')
    await expect(store.seal(EPOCH + 2)).rejects.toThrow(`epoch ${EPOCH} holds receipts and is not sealed`)
    await store.seal(EPOCH)
    // The epoch between holds no receipts: skipped, then the later one seals.
    await store.seal(EPOCH + 2)
    await expect(store.seal(EPOCH + 1, { allowEmpty: true })).rejects.toThrow(`epoch ${EPOCH + 1} is before the last sealed epoch ${EPOCH + 2} and can no longer be sealed (rewards and manifests chain in order)`)
    expect((await store.epochStatus(EPOCH + 1)).status).toBe('open')
  })

  it('refuses receipts and inputs for an epoch before the last sealed one, storing nothing of them', async () => {
    const before = await store.receiptCount()
    const [late, sealedOne] = await ingest(store, [signed(receipt(5, { epoch: EPOCH + 1 })), signed(receipt(6))])
    expect(late).toMatchObject({ status: 'rejected', reason: 'epoch-sealed', message: `epoch ${EPOCH + 1} is before the last sealed epoch ${EPOCH + 2}; receipts for it are no longer accepted` })
    expect(sealedOne).toMatchObject({ status: 'rejected', reason: 'epoch-sealed' })
    expect(await store.receiptCount()).toBe(before)
    const inputs = readEpochInputs({ format: 'fomo-epoch-inputs-v2', epoch: EPOCH + 1, deployments: { [DEPLOYMENT_A]: { opex: '1' } } }, config)
    await expect(store.setEpochInputs(inputs)).rejects.toThrow(`epoch ${EPOCH + 1} is before the last sealed epoch ${EPOCH + 2} and can no longer be sealed`)
    // An epoch without usage after the last sealed one: sealed when asked for, or when it has inputs.
    await expect(store.seal(EPOCH + 3, { allowEmpty: true })).resolves.toMatchObject({ alreadySealed: false })
    await store.setEpochInputs({ ...inputs, epoch: EPOCH + 4 })
    await expect(store.seal(EPOCH + 4)).resolves.toMatchObject({ alreadySealed: false })
  })
})

describe('fomo seal --epoch', () => {
  it('refuses a mistyped or future epoch with one line and exit 1, before sealing or writing anything', async () => {
    const location = await freshLocation(backend())
    const args = location.databaseUrl ? ['--database-url', location.databaseUrl] : ['--data-dir', location.dataDir!]
    const dir = await writeConfig()
    expect((await fomo(['init', '--config', join(dir, 'config.json'), ...args])).code).toBe(0)
    const store = await openStore(location)
    await ingest(store, [signed(receipt(0))])
    await store.close()
    const out = await mkdtemp(join(tmpdir(), 'fomo-seal-'))
    const typo = await fomo(['seal', '--epoch', '1', '--out', out, ...args])
    expect(typo.code).toBe(1)
    expect(typo.stderr).toContain(`error: epoch 1 holds no receipts and no inputs; check --epoch (epochs with receipts to seal: ${EPOCH}), or give --allow-empty to seal an epoch without usage`)
    const future = Math.floor(Date.now() / 86_400_000) + 1
    const ahead = await fomo(['seal', '--epoch', String(future), '--out', out, ...args])
    expect(ahead.code).toBe(1)
    expect(ahead.stderr).toContain(`error: epoch ${future} has not ended yet`)
    expect(await readdir(out)).toEqual([])
    const check = await openStore(location)
    expect(await check.latestSealedEpoch()).toBe(null)
    await check.close()
    const sealed = await fomo(['seal', '--epoch', String(EPOCH), '--out', out, ...args])
    expect(sealed.code, sealed.stderr).toBe(0)
  })
})
