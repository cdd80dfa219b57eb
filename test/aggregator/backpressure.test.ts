/**
 * Back-pressure of the aggregator's ingest: past its pending-bytes or queued-jobs limit the service sheds a request
 * with 503 and Retry-After before reading it, stores nothing of it, and the client's resend is stored once.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendReceipts } from '../../src/aggregator/client.ts'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { freshLocation } from './stores.ts'
import { NOW, receipt, signed, worldConfig } from './world.ts'

const config = worldConfig()
let store: Store
const services: AggregatorService[] = []

beforeAll(async () => {
  store = await openStore(await freshLocation('pglite'))
  await store.setConfig(config)
})
afterAll(async () => {
  for (const s of services) await s.close()
  await store.close()
})

async function serve(limits: { maxPendingBytes?: number; maxQueuedJobs?: number }) {
  const service = await AggregatorService.create({ store, now: () => NOW, threads: 1, limits })
  services.push(service)
  return { service, url: `http://127.0.0.1:${(await service.listen(0)).port}` }
}

const texts = (from: number, n: number) => Array.from({ length: n }, (_, k) => JSON.stringify(signed(receipt(from + k), config)))
const shed = (metrics: string) => Number(/^fomo_ingest_shed_total (\d+)$/m.exec(metrics)?.[1] ?? 0)

describe('ingest back-pressure', () => {
  it('sheds a request that would pass the pending-bytes limit, unread, and stores it once when sent again', async () => {
    const slow = `[${texts(0, 3).join(',')}]`
    const next = `[${texts(3, 3).join(',')}]`
    const { service, url } = await serve({ maxPendingBytes: slow.length + 100 })
    const before = await store.receiptCount()

    // A client holding its request open half sent: its declared length is held from the first byte.
    const port = new URL(url).port
    const held = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/receipts', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(slow) } }, (res) => {
        let body = ''
        res.on('data', (c) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
      req.on('error', reject)
      req.write(slow.slice(0, 100))
      setTimeout(() => req.end(slow.slice(100)), 500)
    })
    await new Promise((r) => setTimeout(r, 200))

    const refused = await fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: next })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    const answer = await refused.json()
    expect(answer.retry).toBe(true)
    expect(answer.error).toMatch(/overloaded: \d+ body bytes are in flight .* limit; retry after 1 s/)
    expect(await store.receiptCount()).toBe(before)

    const first = await held
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body)).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 })
    const again = await fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: next })
    expect(await again.json()).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 })
    expect(await store.receiptCount()).toBe(before + 6)
    expect(shed(service.metrics.render())).toBe(1)
  })

  it('sheds requests while verification jobs queue past the limit; a client flooding it gets every receipt stored once', async () => {
    const { service, url } = await serve({ maxQueuedJobs: 1 })
    const before = await store.receiptCount()
    const all = texts(100, 2_400)
    const waits: number[] = []
    // Twelve requests at once against one worker holding two jobs: the queue passes one job at once.
    const summary = await sendReceipts(all, {
      url,
      batchSize: 200,
      concurrency: 12,
      sleep: (ms) => {
        waits.push(ms)
        return new Promise((r) => setTimeout(r, ms / 20))
      },
    })
    expect(summary).toMatchObject({ accepted: 2_400, duplicates: 0, rejected: 0 })
    expect(await store.receiptCount()).toBe(before + 2_400)
    const count = shed(service.metrics.render())
    expect(count).toBeGreaterThan(0)
    // Every retry was a shed request (nothing else failed), and each waited at least the Retry-After.
    expect(summary.retries).toBe(count)
    expect(waits.every((ms) => ms >= 1_000)).toBe(true)
  })

  it('always lets one request in, however large against the limit', async () => {
    const { url } = await serve({ maxPendingBytes: 10 })
    const res = await fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${texts(5_000, 2).join(',')}]` })
    expect(await res.json()).toMatchObject({ accepted: 2 })
  })
})
