/**
 * Receipts from the gateway into a real aggregator (the `fomo serve` service on an embedded store), each counted once
 * whatever happens on the way, per call and batch-signed: an aggregator that is down when the calls are made receives
 * every receipt once it is back; resending everything (a lost cursor) counts nothing twice, the aggregator answering
 * duplicates by digest; and after kill -9 of a real gateway process during a burst, every call that got its answer is
 * receipted exactly once, and nothing that no call made.
 */
import type { ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { receiptExportLines } from '../../src/aggregator/export.ts'
import type { Store } from '../../src/aggregator/store.ts'
import type { Hex } from '../../src/base/bytes.ts'
import { QUEUE_DIR } from '../../src/gateway/service.ts'
import type { SigningMode } from '../../src/gateway/signer.ts'
import { verifyBatchedReceipt } from '../../src/receipts/batchVerify.ts'
import { readReceiptsText } from '../../src/receipts/file.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { worldConfig } from '../aggregator/world.ts'
import { startStubUpstream, type StubUpstream } from '../../src/gateway/stubUpstream.ts'
import { aggregatorStore, CHAT_MODEL, EMBED_MODEL, gatewayFiles, nowNs, spawnGateway, startAggregator, startGateway, until, type TestGateway } from './world.ts'

const config = worldConfig()
const verifier = new ReceiptVerifier({ domain: config.domain })
let upstream: StubUpstream
// One store for the file (opening one takes seconds): each test counts from what it held before.
let store: Store
const children: ChildProcess[] = []

beforeAll(async () => {
  upstream = await startStubUpstream()
  store = await aggregatorStore(config)
})
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
})
afterAll(async () => {
  await store?.close()
  await upstream?.close()
})

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise((r) => server.close(r))
  return port
}

/** `n` calls of every kind through the gateway; the gross and charged amounts of their receipts, fetched and verified. */
async function calls(gw: TestGateway, n: number): Promise<{ digests: Hex[]; gross: bigint; charged: bigint; epoch: number }> {
  const client = gw.client()
  const ids = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const content = `call number ${i} ${'word '.repeat(i % 7)}`
      if (i % 3 === 0) {
        const { data, response } = await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content }], stream: true }).withResponse()
        for await (const _ of data);
        return response.headers.get('fomo-request-id')!
      }
      const { response } = await (i % 3 === 1 ? client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content }] }) : client.embeddings.create({ model: EMBED_MODEL, input: content })).withResponse()
      return response.headers.get('fomo-receipt-digest')!
    }),
  )
  await gw.service.signer.signPending()
  let gross = 0n
  let charged = 0n
  const digests: Hex[] = []
  const epochs = new Set<number>()
  for (const id of ids) {
    const document = await client.get<{ format: string }>(`/receipts/${id}`)
    const { receipt, digest } = document.format === 'fomo-batched-receipt-v1' ? verifyBatchedReceipt(verifier, document) : verifier.verify(document)
    gross += receipt.grossAmount
    charged += receipt.chargedAmount
    digests.push(digest)
    epochs.add(receipt.epoch)
  }
  // Calls made across an epoch's end would split the totals: run again.
  if (epochs.size !== 1) throw new Error('the calls straddle two epochs')
  return { digests, gross, charged, epoch: [...epochs][0]! }
}

const modes: Array<[string, SigningMode]> = [
  ['signed per call', { kind: 'call' }],
  ['batch-signed', { kind: 'batch', intervalMs: 100, maxReceipts: 1000 }],
]

describe.each(modes)('the aggregator down, then back (%s)', (_, signing) => {
  it('every receipt arrives once it is back; resending them all counts none twice', async () => {
    const port = await freePort()
    const aggregatorUrl = `http://127.0.0.1:${port}`
    let gw = await startGateway(upstream, { signing, aggregator: { url: aggregatorUrl, retryMs: 20, maxRetryMs: 100 } })
    const made = await calls(gw, 30)
    expect(new Set(made.digests).size).toBe(30)
    // Nobody listens: the forwarder keeps failing and keeps everything.
    await until(async () => /fomo_gateway_forward_failures_total \d+/.test(await (await fetch(`${gw.url}/metrics`)).text()), 5000, 'a failed delivery')
    expect(gw.service.forwarder!.drained).toBe(false)

    // The store outlives this test's aggregator: what it held before is the baseline.
    const before = await store.epochStatus(made.epoch)
    const expected = { receipts: before.receipts + 30, gross: String(BigInt(before.gross) + made.gross), charged: String(BigInt(before.charged) + made.charged) }
    const aggregator = await startAggregator({ store, config, port })
    try {
      await until(() => gw.service.forwarder!.drained, 20_000, 'the queue to drain')
      expect(await store.epochStatus(made.epoch)).toMatchObject(expected)
      expect(aggregator.service.metrics.render()).toMatch(/fomo_receipts_total\{status="accepted"\} 30\n/)

      // The cursor is lost (as after a crash before it was saved): everything is sent again.
      await gw.close()
      await rm(join(gw.dataDir, QUEUE_DIR, 'cursor.json'))
      gw = await startGateway(upstream, { signing, dataDir: gw.dataDir, aggregator: { url: aggregatorUrl, retryMs: 20, maxRetryMs: 100 } })
      await until(() => gw.service.forwarder!.drained, 20_000, 'the resent queue to drain')
      expect(aggregator.service.metrics.render()).toMatch(/fomo_receipts_total\{status="duplicate"\} 30\n/)
      expect(await store.epochStatus(made.epoch)).toMatchObject(expected)
    } finally {
      await gw.close()
      await aggregator.close()
    }
  })
})

describe.each(modes)('a gateway clock ahead of the aggregator\'s (%s)', (_, signing) => {
  it('receipts refused as from the future stay queued, and arrive once the clocks agree', async () => {
    // The aggregator's clock runs 400 s behind the gateway's, past its 300 s skew: every receipt is "future-timestamp".
    let behind = 400n * 1_000_000_000n
    const aggregator = await startAggregator({ store, config, now: () => nowNs() - behind })
    const gw = await startGateway(upstream, { signing, aggregator: { url: aggregator.url, retryMs: 20, maxRetryMs: 100 } })
    try {
      const made = await calls(gw, 12)
      const before = await store.epochStatus(made.epoch)
      await until(async () => /fomo_gateway_forward_failures_total \d+/.test(await (await fetch(`${gw.url}/metrics`)).text()), 5000, 'a refused delivery')
      expect(gw.service.forwarder!.drained).toBe(false)
      expect((await store.epochStatus(made.epoch)).receipts).toBe(before.receipts)
      behind = 0n
      await until(() => gw.service.forwarder!.drained, 20_000, 'the queue to drain once the clocks agree')
      expect(await store.epochStatus(made.epoch)).toMatchObject({ receipts: before.receipts + 12, gross: String(BigInt(before.gross) + made.gross) })
    } finally {
      await gw.close()
      await aggregator.close()
    }
  })

  it('a refusal that does not pass holds the queue for a bounded time only, then is taken as final', async () => {
    const aggregator = await startAggregator({ store, config, now: () => nowNs() - 400n * 1_000_000_000n })
    const gw = await startGateway(upstream, { signing, aggregator: { url: aggregator.url, retryMs: 20, maxRetryMs: 50, retryableForMs: 300 } })
    try {
      const made = await calls(gw, 6)
      const before = await store.epochStatus(made.epoch)
      await until(() => gw.service.forwarder!.drained, 20_000, 'the queue to pass the refusal as final')
      expect((await store.epochStatus(made.epoch)).receipts).toBe(before.receipts)
    } finally {
      await gw.close()
      await aggregator.close()
    }
  })
})

/** The digests the aggregator holds for the epoch, each verified; fails on any held twice. */
async function stored(epoch: number): Promise<Set<string>> {
  const lines: string[] = []
  for await (const { line } of receiptExportLines(store, epoch)) lines.push(line)
  const { receipts, duplicates } = readReceiptsText(lines.join('\n'), verifier)
  expect(duplicates).toBe(0)
  return new Set(receipts.map((r) => r.digest))
}

// With --queue-durability process a call is answered once the kernel holds its record, not the disk: a killed
// process still loses nothing answered.
describe.each([
  ['call', 'disk'],
  ['batch', 'disk'],
  ['call', 'process'],
])('kill -9 during a burst (--sign %s, --queue-durability %s)', (mode, durability) => {
  it('every answered call is receipted once after the restart', async () => {
    const aggregator = await startAggregator({ store, config })
    try {
      const epoch = Number(BigInt(Math.floor(Date.now() / 1000)) / 86_400n)
      const earlier = await stored(epoch)
      const files = await gatewayFiles()
      const args = [...files.args, '--upstream', upstream.url, '--aggregator', aggregator.url, '--sign', mode, '--batch-interval-ms', '200', '--queue-durability', durability]
      const first = await spawnGateway(args)
      children.push(first.child)
      const client = new OpenAI({ apiKey: files.apiKey, baseURL: `${first.url}/v1`, maxRetries: 0 })
      upstream.knobs.delayMs = 5
      const upstreamBefore = upstream.requests.length
      const answered: string[] = []
      let failed = 0
      // 40 callers in a loop; the gateway is killed once 150 calls are answered.
      let stop = false
      const callers = Array.from({ length: 40 }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          try {
            const { response } = await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: `caller ${c} call ${i}` }] }).withResponse()
            answered.push(response.headers.get('fomo-receipt-digest')!)
          } catch {
            failed++
            return
          }
        }
      })
      await until(() => answered.length >= 150, 60_000, '150 answers')
      first.child.kill('SIGKILL')
      if (first.child.exitCode === null && first.child.signalCode === null) await new Promise((r) => first.child.once('exit', r))
      stop = true
      await Promise.all(callers)
      upstream.knobs.delayMs = 0
      expect(failed).toBeGreaterThan(0)

      const second = await spawnGateway(args)
      children.push(second.child)
      const metrics = async () => (await fetch(`${second.url}/metrics`)).text()
      await until(async () => /^fomo_gateway_queue_backlog_bytes 0$/m.test(await metrics()) && /^fomo_gateway_unsigned_receipts 0$/m.test(await metrics()), 30_000, 'the restarted gateway to drain its queue')

      const held = new Set([...(await stored(epoch))].filter((d) => !earlier.has(d)))
      const missing = answered.filter((d) => !held.has(d))
      expect(missing).toEqual([])
      // Receipts of calls whose answer the kill cut off may be there too, but none that no upstream call made.
      expect(held.size).toBeGreaterThanOrEqual(answered.length)
      expect(held.size).toBeLessThanOrEqual(upstream.requests.length - upstreamBefore)
      second.child.kill('SIGTERM')
    } finally {
      await aggregator.close()
    }
  })
})
