/**
 * Issue 14, getting receipts in: `fomo ingest` takes what `fomo export-receipts` writes (batch lines included),
 * checks every line before sending, prints a summary and stores nothing twice; its retries outlast a server
 * restart; a client hanging up is not the service's failure.
 */
import { once } from 'node:events'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { receiptExportLines } from '../../src/aggregator/export.ts'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import { closeWorkers } from '../../src/merkle/parallel.ts'
import { fomo } from '../helpers.ts'
import { liveReceipt, liveReceipts, serve, start, stop } from '../aggregator/processes.ts'
import { databaseUrl, freshLocation } from '../aggregator/stores.ts'
import { batch, signed, verifiedColumns, worldConfig } from '../aggregator/world.ts'

const config = worldConfig()
const backend = () => (databaseUrl() ? 'postgres' : 'pglite')
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fomo-ingest-'))
})
afterAll(() => closeWorkers())

/** A store holding config and the given receipts, with its `--data-dir`/`--database-url` arguments. */
async function seeded(docs: unknown[] = []): Promise<{ args: string[]; location: { dataDir?: string; databaseUrl?: string } }> {
  const location = await freshLocation(backend())
  const store = await openStore(location)
  await store.setConfig(config)
  if (docs.length) await store.insertReceipts(verifiedColumns(docs), docs.map((_, index) => ({ index })))
  await store.close()
  return { location, args: location.databaseUrl ? ['--database-url', location.databaseUrl] : ['--data-dir', location.dataDir!] }
}

async function count(location: { dataDir?: string; databaseUrl?: string }): Promise<number> {
  const store = await openStore(location)
  try {
    return await store.receiptCount()
  } finally {
    await store.close()
  }
}

describe('fomo ingest', () => {
  it('ingests an export-receipts file with batch lines, prints a summary, and a resend stores nothing twice', async () => {
    const epoch = Math.floor(Date.now() / 86_400_000)
    const perCall = liveReceipts(5)
    const batched = batch([10, 12, 14].map((i) => liveReceipt(i, { deployment: 0 })))
    const source = await openStore(await freshLocation(backend()))
    await source.setConfig(config)
    await source.insertReceipts(verifiedColumns(perCall), perCall.map((_, index) => ({ index })))
    const lines: string[] = []
    for await (const { line } of receiptExportLines(source, epoch)) lines.push(line)
    await source.close()
    const file = join(dir, 'export.ndjson')
    await writeFile(file, `${[...lines, JSON.stringify(batched)].join('\n')}\n`)

    const { args, location } = await seeded()
    const server = await serve(args)
    try {
      const sent = await fomo(['ingest', '--url', server.url, '--in', file, '--batch-size', '2'])
      expect(sent.code, sent.stderr).toBe(0)
      expect(JSON.parse(sent.stdout)).toMatchObject({ lines: 6, receipts: 5, batches: 1, requests: 4, accepted: 8, duplicates: 0, rejected: 0, rejections: [] })
      const again = await fomo(['ingest', '--url', server.url, '--in', file])
      expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicates: 8, rejected: 0 })
    } finally {
      await stop(server)
    }
    expect(await count(location)).toBe(8)
  })

  it('names the line of a bad item and sends nothing; rejections carry their line numbers', async () => {
    const docs = liveReceipts(4, 100)
    const file = join(dir, 'bad.ndjson')
    const texts = docs.map((d) => JSON.stringify(d))
    await writeFile(file, `${texts[0]}\n\n${texts[1]}\n${texts[2]!.slice(0, 40)}\n${texts[3]}\n`)
    const { args, location } = await seeded()
    const server = await serve(args)
    try {
      const bad = await fomo(['ingest', '--url', server.url, '--in', file])
      expect(bad.code).toBe(1)
      expect(bad.stderr.split('\n')[0]).toMatch(new RegExp(`^error: ${file}: receipt on line 4: not JSON: .*; fix that line and run again \\(nothing was sent\\)$`))
      expect(await count(location)).toBe(0)
      // A receipt the aggregator rejects is named by its line.
      const wrongDay = JSON.stringify(signed(liveReceipt(300, { timestamp: BigInt(Math.floor(Date.now() / 1000) - 3 * 86_400) })))
      await writeFile(file, `${texts[0]}\n${wrongDay}\n`)
      const some = await fomo(['ingest', '--url', server.url, '--in', file])
      expect(some.code).toBe(1)
      expect(JSON.parse(some.stdout)).toMatchObject({ accepted: 1, rejected: 1, rejections: [{ line: 2, reason: 'epoch-mismatch' }] })
    } finally {
      await stop(server)
    }
  })

  it('keeps retrying while the aggregator restarts (--retry-seconds), then delivers once', async () => {
    const { args, location } = await seeded()
    // A port nobody listens on yet: the aggregator comes up on it a few seconds after ingest starts.
    const probe = createServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const port = (probe.address() as { port: number }).port
    probe.close()
    const file = join(dir, 'late.ndjson')
    await writeFile(file, `${liveReceipts(3, 200).map((d) => JSON.stringify(d)).join('\n')}\n`)
    const ingest = start(['ingest', '--url', `http://127.0.0.1:${port}`, '--in', file, '--retry-seconds', '90'])
    await new Promise((r) => setTimeout(r, 2_500))
    const server = start(['serve', ...args, '--port', String(port), '--quiet'])
    try {
      expect(await ingest.exited).toBe(0)
      expect(JSON.parse(ingest.output().split('\n').find((l) => l.startsWith('{'))!)).toMatchObject({ accepted: 3, rejected: 0, retries: expect.any(Number) })
    } finally {
      await stop(server)
    }
    expect(await count(location)).toBe(3)
  })
})

describe('the HTTP service', () => {
  let store: Store
  let service: AggregatorService
  let port: number
  beforeAll(async () => {
    store = await openStore(await freshLocation(backend()))
    await store.setConfig(config)
    service = await AggregatorService.create({ store, now: () => BigInt(Date.now()) * 1_000_000n, threads: 1 })
    port = (await service.listen(0)).port
  })
  afterAll(async () => {
    await service.close()
    await store.close()
  })

  it('does not count a client that hangs up mid-request as a 503', async () => {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write('POST /v1/receipts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{"format":')
    await new Promise((r) => setTimeout(r, 200))
    socket.destroy()
    await new Promise((r) => setTimeout(r, 300))
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    expect(metrics).toContain('fomo_http_requests_total{route="/v1/receipts",status="499"} 1')
    expect(metrics).not.toContain('status="503"')
  })
})
