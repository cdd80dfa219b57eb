/**
 * Back-pressure of the aggregator's ingest: past its pending-bytes or queued-jobs limit the service sheds a request
 * with 503 and Retry-After before reading it, stores nothing of it, and the client's resend is stored once.
 * Sealed files are sent a few at a time, and a reader that stops reading is cut off.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendReceipts } from '../../src/aggregator/client.ts'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { freshLocation } from './stores.ts'
import { NOW, receipt, signed, worldConfig } from './world.ts'
import { StandardTree } from '../../src/merkle/tree.ts'
import { SPEND_LEAF_ENCODING } from '../../src/epoch/spend.ts'

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

async function serve(limits: { maxPendingBytes?: number; maxQueuedJobs?: number; requestTimeoutMs?: number; maxFileStreams?: number }, on: Store = store, now: () => bigint = () => NOW) {
  const service = await AggregatorService.create({ store: on, now, threads: 1, limits })
  services.push(service)
  return { service, url: `http://127.0.0.1:${(await service.listen(0)).port}` }
}

const texts = (from: number, n: number) => Array.from({ length: n }, (_, k) => JSON.stringify(signed(receipt(from + k), config)))
const post = (url: string, body: string) => fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5_000) throw new Error('condition not reached in 5 s')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A raw POST to /v1/receipts declaring `length` bytes, and its answer once read. */
function postRaw(url: string, length: number, agent?: Agent) {
  const req = request({ host: '127.0.0.1', port: new URL(url).port, path: '/v1/receipts', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': length } })
  const answer = new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }))
    })
    req.on('error', reject)
  })
  return { req, answer }
}

/** A POST to /v1/receipts declaring `body`'s full length with only its first `sent` bytes written. */
function halfSent(url: string, body: string, sent: number) {
  const bytes = Buffer.from(body)
  const { req, answer } = postRaw(url, bytes.length)
  answer.catch(() => {})
  req.write(bytes.subarray(0, sent))
  return { answer, finish: () => req.end(bytes.subarray(sent)), abort: () => req.destroy() }
}

const shed = (metrics: string) => Number(/^fomo_ingest_shed_total (\d+)$/m.exec(metrics)?.[1] ?? 0)

describe('ingest back-pressure', () => {
  it('sheds a request arriving while the bytes held pass the limit, unread, and stores it once when sent again', async () => {
    const slow = `[${texts(0, 3).join(',')}]`
    const next = `[${texts(3, 3).join(',')}]`
    const { service, url } = await serve({ maxPendingBytes: 300 })
    const before = await store.receiptCount()

    // A client holding its request open with 400 bytes sent: it is alone, so let in past the limit.
    const held = halfSent(url, slow, 400)
    await until(() => service.pendingBytes === 400)

    const refused = await post(url, next)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    const answer = await refused.json()
    expect(answer.retry).toBe(true)
    expect(answer.error).toMatch(/overloaded: 400 body bytes are held by requests in flight \(limit 300\); retry after 1 s/)
    expect(await store.receiptCount()).toBe(before)

    held.finish()
    const first = await held.answer
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body)).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 })
    expect(await (await post(url, next)).json()).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 })
    expect(await store.receiptCount()).toBe(before + 6)
    expect(shed(service.metrics.render())).toBe(1)
    expect(service.pendingBytes).toBe(0)
  })

  it('counts bytes received, not Content-Length promised: slow senders declaring 10 MiB do not shut ingest out', async () => {
    const { service, url } = await serve({ maxPendingBytes: 64 * 1024 })
    const before = await store.receiptCount()
    // Thirty connections each declaring a 10 MiB body (300 MiB promised) and sending 100 bytes of it.
    const promise = 'x'.repeat(10 * 1024 * 1024)
    const slow = Array.from({ length: 30 }, () => halfSent(url, promise, 100))
    await until(() => service.pendingBytes === 3_000)

    const res = await post(url, `[${texts(10_000, 2).join(',')}]`)
    expect(await res.json()).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0 })
    expect(await store.receiptCount()).toBe(before + 2)
    expect(shed(service.metrics.render())).toBe(0)
    for (const s of slow) s.abort()
    await until(() => service.pendingBytes === 0)
  })

  it('sheds mid-body a request whose bytes would pass the limit while another holds bytes, and stores nothing of it', async () => {
    const { service, url } = await serve({ maxPendingBytes: 1_000 })
    const before = await store.receiptCount()
    const held = halfSent(url, `[${texts(10_100, 3).join(',')}]`, 100)
    await until(() => service.pendingBytes === 100)

    // Under the limit when it arrives; its body (3 receipts, over 900 bytes) would pass it.
    const big = `[${texts(10_110, 3).join(',')}]`
    expect(Buffer.byteLength(big)).toBeGreaterThan(900)
    const refused = await post(url, big)
    expect(refused.status).toBe(503)
    expect((await refused.json()).error).toMatch(/overloaded: 100 body bytes are held/)
    expect(service.pendingBytes).toBe(100)
    expect(await store.receiptCount()).toBe(before)

    held.finish()
    expect((await held.answer).status).toBe(200)
    expect(await (await post(url, big)).json()).toMatchObject({ accepted: 3 })
    expect(await store.receiptCount()).toBe(before + 6)
  })

  it('a large upload shed mid-body gets its 503, not a reset, and the connection serves the next request', async () => {
    const { service, url } = await serve({ maxPendingBytes: 64 * 1024 })
    const held = halfSent(url, `[${texts(10_300, 3).join(',')}]`, 100)
    await until(() => service.pendingBytes === 100)
    // 4 MiB written at once: the service sheds it at its first chunks while the rest is still on the way.
    const big = Buffer.from(`[${texts(10_310, 1).join(',')}${' '.repeat(4 * 1024 * 1024)}]`)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const send = (body: Buffer) => {
      const { req, answer } = postRaw(url, body.length, agent)
      req.end(body)
      return answer
    }
    for (let k = 0; k < 3; k++) {
      const refused = await send(big)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('1')
      // Kept open while the rest is read and dropped: a close with bytes unread is what resets a sending client.
      expect(refused.headers.connection).toBe('keep-alive')
    }
    expect(service.pendingBytes).toBe(100)
    held.finish()
    expect((await held.answer).status).toBe(200)
    // The same kept-alive connection, once the body was read and dropped.
    expect(JSON.parse((await send(big)).body)).toMatchObject({ accepted: 1 })
    agent.destroy()
  })

  it('times out a sender that never finishes with 408 and lets its bytes go', async () => {
    const { service, url } = await serve({ maxPendingBytes: 300, requestTimeoutMs: 2_000 })
    const stalled = halfSent(url, `[${texts(10_200, 3).join(',')}]`, 400)
    await until(() => service.pendingBytes === 400)
    // The stalled request holds more than the limit: until it times out, others are shed.
    expect((await post(url, `[${texts(10_210, 1).join(',')}]`)).status).toBe(503)
    expect((await stalled.answer).status).toBe(408)
    await until(() => service.pendingBytes === 0)
    expect(await (await post(url, `[${texts(10_210, 1).join(',')}]`)).json()).toMatchObject({ accepted: 1 })
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

  it('always lets one request in, however large against the limit, beside connections that hold no bytes', async () => {
    // A timeout whose quarter is not a whole number of milliseconds (Node's check interval must be one).
    const { service, url } = await serve({ maxPendingBytes: 10, requestTimeoutMs: 1_001 })
    const idle = Array.from({ length: 3 }, () => halfSent(url, `[${texts(5_100, 1).join(',')}]`, 0))
    const res = await fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${texts(5_000, 2).join(',')}]` })
    expect(await res.json()).toMatchObject({ accepted: 2 })
    for (const c of idle) c.abort()
    // A refused body lets its bytes go too.
    expect((await post(url, '[{"not": "a receipt"}]')).status).toBe(400)
    expect(service.pendingBytes).toBe(0)
  })
})

describe('sealed file streams', () => {
  /** The store, its `artifactStream` answering a file of `size` spaces in one chunk, read once `ready` settles. */
  const withFile = (size: number, ready: Promise<void> = Promise.resolve()): Store =>
    new Proxy(store, {
      get(target, key) {
        if (key === 'artifactStream')
          return async () => ({
            byteLength: size,
            async *chunks() {
              await ready
              yield new Uint8Array(size).fill(0x20)
            },
          })
        const value = Reflect.get(target, key)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  const FILE = '/v1/epochs/20987/files/spend-tree.json'

  it('sends a few files at a time: one more is answered 503 with Retry-After, and served once a stream ends', async () => {
    let open!: () => void
    const { service, url } = await serve({ maxFileStreams: 1 }, withFile(1_000, new Promise<void>((r) => (open = r))))
    const first = fetch(`${url}${FILE}`)
    await until(() => service.fileStreams === 1)
    const shed = await fetch(`${url}${FILE}`)
    expect(shed.status).toBe(503)
    expect(shed.headers.get('retry-after')).toBe('1')
    expect((await shed.json()).error).toMatch(/1 sealed files are being sent \(limit 1\)/)
    open()
    const sent = await first
    expect(sent.status).toBe(200)
    expect((await sent.arrayBuffer()).byteLength).toBe(1_000)
    await until(() => service.fileStreams === 0)
    expect((await fetch(`${url}${FILE}`)).status).toBe(200)
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('fomo_file_streams_shed_total 1')
  })

  it('cuts off a reader that stops reading, so its stream is freed for the next', async () => {
    const size = 64 * 1024 * 1024
    const { service, url } = await serve({ maxFileStreams: 1, requestTimeoutMs: 1_000 }, withFile(size))
    let status = 0
    const reader = request({ host: '127.0.0.1', port: new URL(url).port, path: FILE }, (res) => {
      status = res.statusCode!
      // Takes the headers, then reads nothing more: the 64 MiB stay unsent past the socket's buffers.
      res.pause()
    })
    reader.on('error', () => {})
    reader.end()
    await until(() => service.fileStreams === 1 && status === 200)
    // Cut off after the stall limit (1 s), which frees the stream.
    await until(() => service.fileStreams === 0)
    reader.destroy()
    const next = await fetch(`${url}${FILE}`)
    expect(next.status).toBe(200)
    expect((await next.arrayBuffer()).byteLength).toBe(size)
  })
})

describe('proof trees and store failures', () => {
  const user = `0x${'ab'.repeat(20)}` as const
  const deployment = `0x${'cd'.repeat(32)}` as const
  const spendTree = Buffer.concat([...StandardTree.of([['20987', deployment, user, '100', '90', '1', '0']], SPEND_LEAF_ENCODING).dumpChunks()])
  /** The store with epoch 20987 sealed and holding `spendTree` (its loads counted), every other epoch open. */
  function sealedStore(loads: { n: number }, fail?: Error, file: Uint8Array = spendTree): Store {
    return new Proxy(store, {
      get(target, key) {
        if (key === 'epochSealed')
          return async (epoch: number) => {
            if (fail) throw fail
            return epoch === 20987
          }
        if (key === 'artifactFile')
          return async () => {
            loads.n++
            return new Uint8Array(file)
          }
        if (key === 'artifactStream')
          return async () => ({
            byteLength: 10,
            async *chunks() {
              throw fail
            },
          })
        const value = Reflect.get(target, key)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }

  it('a tree is loaded once and kept: requests for open epochs or malformed keys load nothing and evict nothing', async () => {
    const loads = { n: 0 }
    const { url } = await serve({}, sealedStore(loads))
    const proof = () => fetch(`${url}/v1/epochs/20987/spend/${deployment}/${user}`)
    expect((await proof()).status).toBe(200)
    expect(loads.n).toBe(1)
    const open = await Promise.all(Array.from({ length: 20 }, (_, k) => fetch(`${url}/v1/epochs/${30_000 + k}/spend/${deployment}/${user}`)))
    expect(open.map((r) => r.status)).toEqual(Array(20).fill(404))
    expect((await fetch(`${url}/v1/epochs/20987/spend/${deployment}/0x12`)).status).toBe(404)
    expect((await proof()).status).toBe(200)
    expect(loads.n).toBe(1)
  })

  it("an epoch's status is read once for the requests that ask together, and again a second later", async () => {
    const reads = { n: 0 }
    const counting = new Proxy(store, {
      get(target, key) {
        if (key === 'epochStatus')
          return async (epoch: number) => {
            reads.n++
            await new Promise((r) => setTimeout(r, 50))
            return target.epochStatus(epoch)
          }
        const value = Reflect.get(target, key)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { url } = await serve({}, counting)
    const status = () => fetch(`${url}/v1/epochs/20987`).then((r) => r.json())
    const together = await Promise.all(Array.from({ length: 10 }, status))
    expect(together.every((s) => s.epoch === 20987 && s.status === 'open')).toBe(true)
    expect(reads.n).toBe(1)
    await new Promise((r) => setTimeout(r, 1_100))
    await status()
    expect(reads.n).toBe(2)
  })

  it('a stored tree file that fails to load is answered with its error for 30 s, then loaded again', async () => {
    const loads = { n: 0 }
    let now = NOW
    const broken = new TextEncoder().encode('{"format":"standard-v1","tree":[')
    const { url } = await serve({}, sealedStore(loads, undefined, broken), () => now)
    const proof = () => fetch(`${url}/v1/epochs/20987/spend/${deployment}/${user}`)
    const first = await proof()
    expect(first.status).toBe(503)
    expect((await first.json()).error).toBe('spend-tree.json: an array or object is not closed at offset 0')
    const again = await Promise.all(Array.from({ length: 5 }, proof))
    expect(await Promise.all(again.map(async (r) => [r.status, (await r.json()).error]))).toEqual(Array(5).fill([503, 'spend-tree.json: an array or object is not closed at offset 0']))
    expect(loads.n).toBe(1)
    now += 29_000_000_000n
    expect((await proof()).status).toBe(503)
    expect(loads.n).toBe(1)
    now += 2_000_000_000n
    expect((await proof()).status).toBe(503)
    expect(loads.n).toBe(2)
  })

  it('a store whose connection resets is the service\'s failure, answered 503, not a client that left', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const { url } = await serve({}, sealedStore({ n: 0 }, reset))
    const proof = await fetch(`${url}/v1/epochs/20987/spend/${deployment}/${user}`)
    expect(proof.status).toBe(503)
    expect((await proof.json()).retry).toBe(true)
    // Failing after the headers: the connection is cut short, so the client sees the body incomplete.
    await expect(fetch(`${url}/v1/epochs/20987/files/spend-tree.json`).then((r) => r.arrayBuffer())).rejects.toThrow()
  })
})
