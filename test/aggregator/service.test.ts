/** The aggregator's HTTP service over an embedded store: ingestion, limits, clock rules, batches, proofs, health, failures. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { readEpochInputs } from '../../src/epoch/inputs.ts'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { closeWorkers } from '../../src/merkle/parallel.ts'
import { freshLocation } from './stores.ts'
import { DEPLOYMENT_A, EPOCH, EPOCH_START, NOW, address, batch, receipt, signed, worldConfig } from './world.ts'

const config = worldConfig()
let store: Store
let service: AggregatorService
let url: string
let clock = NOW

beforeAll(async () => {
  // Artifacts in rows of 1,000 bytes, so served files stream over several chunks as large ones do.
  store = await openStore({ ...(await freshLocation('pglite')), artifactChunkBytes: 1_000 })
  await store.setConfig(config)
  service = await AggregatorService.create({ store, config, now: () => clock, threads: 1, limits: { maxBodyBytes: 200_000, maxItems: 50 } })
  url = `http://127.0.0.1:${(await service.listen(0)).port}`
})
afterAll(async () => {
  await service.close()
  await store.close()
  await closeWorkers()
})

const post = async (path: string, body: string, type = 'application/json') => {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body })
  return { status: res.status, body: await res.json() }
}
const json = (docs: unknown[]) => JSON.stringify(docs)

describe('POST /v1/receipts', () => {
  it('accepts, then answers duplicate on a resend; NDJSON works too', async () => {
    const docs = [0, 1, 2].map((i) => signed(receipt(i)))
    const first = await post('/v1/receipts', json(docs))
    expect(first.status).toBe(200)
    expect(first.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'accepted'])
    const again = await post('/v1/receipts', docs.map((d) => JSON.stringify(d)).join('\n'), 'application/x-ndjson')
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3, rejected: 0 })
    expect((await store.epochStatus(EPOCH)).receipts).toBe(3)
  })

  it('rejects bad signatures per item and stores the rest', async () => {
    const good = signed(receipt(10))
    const bad = { ...signed(receipt(11)), message: { ...signed(receipt(11)).message, outputTokens: '1' } }
    const r = await post('/v1/receipts', json([good, bad]))
    expect(r.status).toBe(200)
    expect(r.body.results[0].status).toBe('accepted')
    expect(r.body.results[1]).toMatchObject({ status: 'rejected', reason: 'signer-mismatch' })
  })

  it.each([
    ['a duplicate key', (t: string) => t.replace('"epoch":', '"epoch":"1","epoch":')],
    ['a JSON number above 2^53', (t: string) => t.replace(/"grossAmount":"\d+"/, '"grossAmount":9007199254740993')],
    ['an unknown field', (t: string) => t.replace('"epoch":', '"tip":"1","epoch":')],
    ['a wrong type', (t: string) => t.replace(/"grossAmount":"\d+"/, '"grossAmount":true')],
  ])('refuses a request with %s with 400, storing nothing', async (_name, mutate) => {
    const before = await store.receiptCount()
    const ok = JSON.stringify(signed(receipt(20)))
    const r = await post('/v1/receipts', `[${ok},${mutate(JSON.stringify(signed(receipt(21))))}]`)
    expect(r.status).toBe(400)
    expect(r.body.malformed[0].index).toBe(1)
    expect(await store.receiptCount()).toBe(before)
  })

  it('answers 400 for a body that is not JSON, 413 over the size or item limit, 415 for other content types', async () => {
    expect((await post('/v1/receipts', '[{"a":')).status).toBe(400)
    expect((await post('/v1/receipts', `[${'1,'.repeat(50)}1]`)).status).toBe(413)
    const big = await post('/v1/receipts', `["${'x'.repeat(250_000)}"]`)
    expect(big.status).toBe(413)
    expect(big.body.error).toContain('200000-byte limit')
    expect((await post('/v1/receipts', '[]', 'text/plain')).status).toBe(415)
  })

  it('applies the clock and epoch rules at the exact bounds (frozen clock, 1 ns around)', async () => {
    const skew = BigInt(config.clockSkewSeconds) * 1_000_000_000n
    const ts = EPOCH_START + 50_000n
    const doc = signed(receipt(30, { timestamp: ts }))
    clock = ts * 1_000_000_000n - skew - 1n // the receipt is 1 ns beyond the skew
    expect((await post('/v1/receipts', json([doc]))).body.results[0]).toMatchObject({ status: 'rejected', reason: 'future-timestamp' })
    clock = ts * 1_000_000_000n - skew // exactly at the bound
    expect((await post('/v1/receipts', json([doc]))).body.results[0].status).toBe('accepted')
    const maxAge = BigInt(config.maxReceiptAgeSeconds) * 1_000_000_000n
    const old = signed(receipt(31, { timestamp: ts }))
    clock = ts * 1_000_000_000n + maxAge + 1n
    expect((await post('/v1/receipts', json([old]))).body.results[0]).toMatchObject({ status: 'rejected', reason: 'too-old' })
    clock = ts * 1_000_000_000n + maxAge
    expect((await post('/v1/receipts', json([old]))).body.results[0].status).toBe('accepted')
    clock = NOW
    // A receipt whose epoch does not contain its timestamp (last second of the previous epoch).
    const edge = signed(receipt(32, { timestamp: EPOCH_START - 1n }))
    expect((await post('/v1/receipts', json([edge]))).body.results[0]).toMatchObject({ status: 'rejected', reason: 'epoch-mismatch' })
  })
})

describe('POST /v1/batches', () => {
  it('accepts a provider-signed batch and rejects an altered one whole', async () => {
    const b = batch([40, 42, 44].map((i) => receipt(i, { deployment: 0 })))
    const r = await post('/v1/batches', JSON.stringify(b))
    expect(r.body).toMatchObject({ batch: 'accepted', accepted: 3 })
    const altered = JSON.parse(JSON.stringify(b))
    altered.receipts.outputTokens[1] = '7'
    const rejected = await post('/v1/batches', JSON.stringify(altered))
    expect(rejected.body).toMatchObject({ batch: 'rejected', reason: 'batch-root', accepted: 0 })
  })
})

describe('after sealing', () => {
  it('rejects receipts of the sealed epoch, serves status, spend and reward proofs, health and metrics', async () => {
    await store.setEpochInputs(readEpochInputs({ format: 'fomo-epoch-inputs-v1', epoch: EPOCH, deployments: { [DEPLOYMENT_A]: { opex: '0', circulatingSupply: '600000', stakes: { [address('user 0')]: '1000', [address('user 2')]: '5' } } } }, config))
    const sealed = await store.seal(EPOCH)
    const late = await post('/v1/receipts', json([signed(receipt(50))]))
    expect(late.body.results[0]).toMatchObject({ status: 'rejected', reason: 'epoch-sealed' })

    const status = await (await fetch(`${url}/v1/epochs/${EPOCH}`)).json()
    expect(status).toMatchObject({ status: 'sealed', spendRoot: sealed.spendRoot })
    const r = receipt(0)
    const spend = await (await fetch(`${url}/v1/epochs/${EPOCH}/spend/${r.deploymentId}/${r.user}`)).json()
    expect(StandardMerkleTree.verify(spend.root, spend.leafEncoding, spend.value, spend.proof)).toBe(true)
    const rewards = await (await fetch(`${url}/v1/rewards/${address('user 0')}`)).json()
    expect(rewards.root).toBe(sealed.rewardRoot)
    for (const leaf of rewards.leaves) expect(StandardMerkleTree.verify(rewards.root, rewards.leafEncoding, leaf.value, leaf.proof)).toBe(true)
    expect((await fetch(`${url}/v1/rewards/${address('nobody')}`)).status).toBe(404)
    expect((await fetch(`${url}/v1/epochs/abc`)).status).toBe(400)
    // The sealed directory, file by file: what a proposal's artifacts URL points watchers to.
    expect(sealed.files.some((f) => f.content.length > 3_000)).toBe(true)
    for (const f of sealed.files) {
      const served = await fetch(`${url}/v1/epochs/${EPOCH}/files/${f.name}`)
      expect(served.status).toBe(200)
      expect(served.headers.get('content-length')).toBe(String(f.content.length))
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(f.content)
    }
    expect((await fetch(`${url}/v1/epochs/${EPOCH}/files/proofs.json`)).status).toBe(404)
    expect((await fetch(`${url}/v1/epochs/${EPOCH + 1}/files/manifest.json`)).status).toBe(404)
    expect(await (await fetch(`${url}/v1/health`)).json()).toEqual({ status: 'ok', store: 'pglite' })
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/fomo_receipts_total\{status="accepted"\} \d+/)
    expect(metrics).toContain('fomo_http_requests_total{route="/v1/receipts",status="413"}')
  })
})

describe('store failures', () => {
  it('answers 503 with retry when the database is down, and a retry after recovery is safe', async () => {
    const location = await freshLocation('pglite')
    const s = await openStore(location)
    await s.setConfig(config)
    const svc = await AggregatorService.create({ store: s, config, now: () => NOW, threads: 1 })
    const u = `http://127.0.0.1:${(await svc.listen(0)).port}`
    const docs = json([signed(receipt(60)), signed(receipt(61))])
    await s.close()
    const down = await fetch(`${u}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: docs })
    expect(down.status).toBe(503)
    expect((await down.json()).retry).toBe(true)
    await svc.close()
    const again = await openStore(location)
    const svc2 = await AggregatorService.create({ store: again, config, now: () => NOW, threads: 1 })
    const u2 = `http://127.0.0.1:${(await svc2.listen(0)).port}`
    const retry = await (await fetch(`${u2}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: docs })).json()
    expect(retry).toMatchObject({ accepted: 2, duplicates: 0 })
    expect(await again.receiptCount()).toBe(2)
    await svc2.close()
    await again.close()
  })
})
