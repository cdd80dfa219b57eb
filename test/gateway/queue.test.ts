/**
 * The durable receipt queue: reopening rebuilds the index and hands back receipts left unsigned, a line torn by a
 * crash is cut off, anything else unreadable (a corrupt line, another format, a foreign cursor) is refused naming
 * where; segments rotate, are read across in order, and are pruned once delivered.
 */
import { spawn } from 'node:child_process'
import { writeSync } from 'node:fs'
import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keccak256, toBytes } from 'viem'
import type { Hex } from '../../src/base/bytes.ts'
import { QueueError } from '../../src/gateway/errors.ts'
import { ReceiptQueue, recordLine, RECORD_FORMAT } from '../../src/gateway/queue.ts'
import { signReceipt } from '../../src/receipts/sign.ts'
import { ReceiptSigner } from '../../src/gateway/signer.ts'
import { receipt, worldConfig } from '../aggregator/world.ts'
import { PROVIDER_KEY } from './world.ts'

const config = worldConfig()
const domain = config.domain
const receipts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => receipt(from + i, { deployment: 0, requestId: keccak256(toBytes(`queue test ${from + i}`)) }))
const open = (dir: string, segmentBytes?: number) => ReceiptQueue.open(dir, { domain, ...(segmentBytes ? { segmentBytes } : {}) })
const tempDir = () => mkdtemp(join(tmpdir(), 'fomo-queue-'))

/** Every record from the cursor on, `chunkBytes` at a time, as `<position after it> <its line>`. */
async function readAll(queue: ReceiptQueue, chunkBytes: number): Promise<string[]> {
  const out: string[] = []
  for (let at = queue.cursor; ; ) {
    const chunk = await queue.readFrom(at, chunkBytes)
    if (chunk.length === 0) return out
    for (const c of chunk) out.push(`${c.next.segment}/${c.next.offset} ${recordLine(c.record)}`)
    at = chunk.at(-1)!.next
  }
}

describe('the receipt queue', () => {
  it('reopened, it finds every receipt by digest and request id, and hands back those no batch signed', async () => {
    const dir = await tempDir()
    let queue = await open(dir)
    const perCall = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    const batched = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'batch', intervalMs: 1000, maxReceipts: 100 })
    const [a, b, c, d] = receipts(4)
    const digestA = await perCall.record(a!)
    const digestB = await batched.record(b!)
    expect(await batched.signPending()).toBe(1)
    const digestC = await batched.record(c!)
    const digestD = await batched.record(d!)
    await queue.close()

    queue = await open(dir)
    expect(queue.unsigned().map((u) => u.digest)).toEqual([digestC, digestD])
    expect((await queue.lookup(digestA))?.record.kind).toBe('receipt')
    expect(await queue.lookup(a!.requestId)).toMatchObject({ digest: digestA, index: -1 })
    expect(await queue.lookup(digestB)).toMatchObject({ index: 0, record: { kind: 'batch', digests: [digestB] } })
    expect((await queue.lookup(d!.requestId))?.record).toMatchObject({ kind: 'unsigned', digest: digestD })
    // Signing after the restart covers them; the next reopening has nothing left unsigned.
    await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'batch', intervalMs: 1000, maxReceipts: 100 }).signPending()
    expect(queue.unsignedCount).toBe(0)
    await queue.close()
    queue = await open(dir)
    expect(queue.unsignedCount).toBe(0)
    expect(await queue.lookup(digestD)).toMatchObject({ index: 1, record: { kind: 'batch', digests: [digestC, digestD] } })
    await queue.close()
  })

  it('reads every kind of record (per call, unsigned, batch) back across rotations in small chunks, the same before and after reopening', async () => {
    const dir = await tempDir()
    const queue = await open(dir, 3000)
    const perCall = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    const batched = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'batch', intervalMs: 1000, maxReceipts: 100 })
    const rs = receipts(9)
    for (const [i, r] of rs.entries()) await (i % 3 === 0 ? perCall : batched).record(r)
    await batched.signPending()
    const live = await readAll(queue, 2000)
    expect(live.map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)).kind)).toEqual(['receipt', 'unsigned', 'unsigned', 'receipt', 'unsigned', 'unsigned', 'receipt', 'unsigned', 'unsigned', 'batch'])
    await queue.close()
    const reopened = await open(dir, 3000)
    expect(await readAll(reopened, 2000)).toEqual(live)
    await reopened.close()
  })

  it('a group write that fails part-way is cut back: its refused (unbilled) calls are not found after a restart', async () => {
    const dir = await tempDir()
    let queue = await open(dir)
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    const [kept, lost1, lost2] = receipts(3)
    await signer.record(kept!)
    await queue.close()
    // The disk fills after one whole line of a group of two has reached the file.
    queue = await ReceiptQueue.open(dir, {
      domain,
      write: async (fd, buffers, position, what) => {
        if (what === 'zeros') return void writeSync(fd, Buffer.concat(buffers), 0, undefined, position)
        writeSync(fd, buffers[0]!, 0, buffers[0]!.length, position)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      },
    })
    const failing = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    const refused = await Promise.allSettled([failing.record(lost1!), failing.record(lost2!)])
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/could not be written: ENOSPC/)
    await queue.close()
    queue = await open(dir)
    const read = await queue.readFrom(queue.cursor, 1 << 20)
    expect(read).toHaveLength(1)
    expect(await queue.lookup(lost1!.requestId)).toBeUndefined()
    expect(await queue.lookup(kept!.requestId)).toBeDefined()
    await queue.close()
  })

  it('a line torn by a crash is cut off; the queue goes on after it', async () => {
    const dir = await tempDir()
    let queue = await open(dir)
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    for (const r of receipts(3)) await signer.record(r)
    await queue.close()
    const [segment] = (await readdir(dir)).filter((n) => n.startsWith('segment-'))
    const whole = (await readFile(join(dir, segment!))).length
    await appendFile(join(dir, segment!), '{"format":"fomo-gateway-record-v1","kind":"rec')
    queue = await open(dir)
    expect((await readFile(join(dir, segment!))).length).toBe(whole)
    await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' }).record(receipts(1, 3)[0]!)
    const read = await queue.readFrom(queue.cursor, 1 << 20)
    expect(read.map((r) => r.record.kind)).toEqual(['receipt', 'receipt', 'receipt', 'receipt'])
    await queue.close()
  })

  it('zero-fills ahead of its records; a queue killed with its zero fill in place reopens with every record, the fill cut off', async () => {
    const dir = await tempDir()
    const killed = await ReceiptQueue.open(dir, { domain, zeroFillBytes: 4096 })
    const signer = new ReceiptSigner(killed, PROVIDER_KEY, domain, { kind: 'call' })
    const digests: Hex[] = []
    for (const r of receipts(12)) digests.push(await signer.record(r))
    // Records of ~1.1 KB each: the fill went on a few times, and stands ahead of the records.
    const [segment] = (await readdir(dir)).filter((n) => n.startsWith('segment-'))
    const path = join(dir, segment!)
    const bytes = await readFile(path)
    expect(bytes.length).toBeGreaterThan(killed.end.offset)
    expect(bytes.subarray(killed.end.offset).every((b) => b === 0)).toBe(true)
    // Opened again without closing the first (as after kill -9, at a moment when nothing was being written).
    await killed.settled()
    const queue = await ReceiptQueue.open(dir, { domain, zeroFillBytes: 4096 })
    expect((await readFile(path)).length).toBe(killed.end.offset)
    await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' }).record(receipts(1, 12)[0]!)
    const read = await queue.readFrom(queue.cursor, 1 << 20)
    expect(read.map((r) => (r.record.kind === 'receipt' ? r.record.digest : undefined)).slice(0, 12)).toEqual(digests)
    expect(read).toHaveLength(13)
    await queue.close()
    expect((await readFile(path)).length).toBe(queue.end.offset)
  })

  it('a zero fill that fails part-way (a nearly full disk) refuses no call: the records go on past the zeros, the fill is not tried again in that segment, and all are read back', async () => {
    const dir = await tempDir()
    let fills = 0
    const queue = await ReceiptQueue.open(dir, {
      domain,
      zeroFillBytes: 4096,
      write: async (fd, buffers, position, what) => {
        const bytes = Buffer.concat(buffers)
        if (what === 'zeros' && ++fills === 2) {
          // Half of the second fill reaches the file, then the disk is full.
          writeSync(fd, bytes, 0, bytes.length >> 1, position)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        }
        writeSync(fd, bytes, 0, undefined, position)
      },
    })
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    const digests: Hex[] = []
    for (const r of receipts(12)) digests.push(await signer.record(r))
    expect(fills).toBe(2)
    await queue.close()
    const [segment] = (await readdir(dir)).filter((n) => n.startsWith('segment-'))
    expect((await readFile(join(dir, segment!))).length).toBe(queue.end.offset)
    const reopened = await open(dir)
    expect((await reopened.readFrom(reopened.cursor, 1 << 20)).map((r) => (r.record.kind === 'receipt' ? r.record.digest : undefined))).toEqual(digests)
    await reopened.close()
  })

  it('after a power cut that left the last write with its first line torn and later bytes past a hole of zeros, all of it is cut off (and kept aside) and the queue goes on', async () => {
    const dir = await tempDir()
    let queue = await ReceiptQueue.open(dir, { domain, zeroFillBytes: 64 * 1024 })
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    for (const r of receipts(3)) await signer.record(r)
    const end = queue.end.offset
    const [segment] = (await readdir(dir)).filter((n) => n.startsWith('segment-'))
    const path = join(dir, segment!)
    // The next group's write, its first sector written and its third, not its second (never acknowledged).
    const torn = Buffer.from(receipts(3, 3).map((receipt, i) => `${recordLine({ kind: 'unsigned', digest: `0x${String(i).repeat(64)}`, receipt })}\n`).join(''))
    // The premise: the write's first line is longer than the part of it that reached the disk.
    expect(torn.indexOf('\n')).toBeGreaterThan(512)
    await queue.settled()
    const file = await import('node:fs/promises').then((fs) => fs.open(path, 'r+'))
    await file.write(torn, 0, 512, end)
    await file.write(torn, 1024, torn.length - 1024, end + 1024)
    await file.close()
    queue = await ReceiptQueue.open(dir, { domain, zeroFillBytes: 64 * 1024 })
    expect(queue.end.offset).toBe(end)
    expect((await readFile(path)).length).toBe(end)
    expect(queue.recovered).toMatchObject({ segment, offset: end, bytes: torn.length, savedTo: `${path}.cut-at-${end}` })
    const saved = await readFile(queue.recovered!.savedTo!)
    expect(saved.subarray(0, 512)).toEqual(torn.subarray(0, 512))
    expect(saved.subarray(1024)).toEqual(torn.subarray(1024))
    await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' }).record(receipts(1, 4)[0]!)
    expect((await queue.readFrom(queue.cursor, 1 << 20)).map((r) => r.record.kind)).toEqual(['receipt', 'receipt', 'receipt', 'receipt'])
    await queue.close()
  })

  it('property: every record appended, in groups, across zero fills, rotations and kills, is read back once and in order, the same before and after reopening', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ group: fc.integer({ min: 1, max: 6 }), killAfter: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(0, 1024, 3000, 20_000),
        fc.constantFrom(4000, 64 * 1024),
        fc.constantFrom('disk' as const, 'process' as const),
        async (steps, zeroFillBytes, segmentBytes, durability) => {
          const dir = await tempDir()
          const options = { domain, zeroFillBytes, segmentBytes, durability }
          let queue = await ReceiptQueue.open(dir, options)
          const written: Hex[] = []
          let n = 0
          for (const step of steps) {
            const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
            // Appended at once: the queue writes them in one or two groups.
            written.push(...(await Promise.all(receipts(step.group, n).map((r) => signer.record(r)))))
            n += step.group
            if (step.killAfter) {
              await queue.settled()
              queue = await ReceiptQueue.open(dir, options)
            }
          }
          // In small chunks, so reads stop inside segments and cross them.
          const live = await readAll(queue, 3000)
          expect(live.map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)).digest)).toEqual(written)
          await queue.close()
          const reopened = await ReceiptQueue.open(dir, options)
          expect(await readAll(reopened, 3000)).toEqual(live)
          await reopened.close()
        },
      ),
      { numRuns: 30 },
    )
  })

  it('is refused while another live process holds it, and taken over from one that is gone', async () => {
    const dir = await tempDir()
    const queue = await open(dir)
    await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' }).record(receipts(1)[0]!)
    await queue.close()
    // The parent of this process is alive: its lock stands.
    await writeFile(join(dir, 'LOCK'), String(process.ppid))
    await expect(open(dir)).rejects.toThrow(QueueError)
    await expect(open(dir)).rejects.toThrow(`in use by another process (pid ${process.ppid}`)
    // A process that has exited (a gateway killed with -9) holds nothing.
    const gone = spawn(process.execPath, ['-e', ''])
    await new Promise((r) => gone.once('exit', r))
    await writeFile(join(dir, 'LOCK'), String(gone.pid))
    const reopened = await open(dir)
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toBe(String(process.pid))
    expect((await reopened.readFrom(reopened.cursor, 1 << 20)).length).toBe(1)
    await reopened.close()
    expect((await readdir(dir)).includes('LOCK')).toBe(false)
  })

  it('a cursor past the records recovery finds (their tail lost with the machine) moves back to their end: what is written next is read', async () => {
    const dir = await tempDir()
    let queue = await ReceiptQueue.open(dir, { domain, durability: 'process' })
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    for (const r of receipts(5)) await signer.record(r)
    await queue.setCursor(queue.end)
    await queue.close()
    // The segment's last three lines lost, the cursor past them kept (as no longer happens: the cursor waits for them).
    const [segment] = (await readdir(dir)).filter((n) => n.startsWith('segment-'))
    const lines = (await readFile(join(dir, segment!), 'utf8')).split('\n')
    await writeFile(join(dir, segment!), `${lines.slice(0, 2).join('\n')}\n`)
    queue = await ReceiptQueue.open(dir, { domain, durability: 'process' })
    expect(queue.cursor).toEqual(queue.end)
    const after = receipts(2, 5)
    for (const r of after) await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' }).record(r)
    const read = await queue.readFrom(queue.cursor, 1 << 20)
    expect(read.map((r) => (r.record.kind === 'receipt' ? r.record.document.message.requestId : undefined))).toEqual(after.map((r) => r.requestId))
    await queue.close()
  })

  it('refuses a corrupt line, a record of another format and a cursor of another format, naming the file', async () => {
    const dir = await tempDir()
    const queue = await open(dir)
    await new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' }).record(receipts(1)[0]!)
    await queue.close()
    const [segment] = (await readdir(dir)).filter((n) => n.startsWith('segment-'))
    const path = join(dir, segment!)
    const good = await readFile(path, 'utf8')
    await writeFile(path, `{"not json\n${good}`)
    await expect(open(dir)).rejects.toThrow(QueueError)
    await expect(open(dir)).rejects.toThrow(`${segment} at byte 0`)
    await writeFile(path, good.replace('fomo-gateway-record-v1', 'fomo-gateway-record-v9'))
    await expect(open(dir)).rejects.toThrow(/\$\.format: expected one of "fomo-gateway-record-v1"/)
    await writeFile(path, good)
    await writeFile(join(dir, 'cursor.json'), JSON.stringify({ format: 'fomo-gateway-cursor-v0', segment: 1, offset: 0 }))
    await expect(open(dir)).rejects.toThrow(/fomo-gateway-cursor-v1/)
  })

  it('rotates segments, reads across them in order from the cursor, and prunes the delivered ones', async () => {
    const dir = await tempDir()
    const queue = await open(dir, 2000)
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    const digests: Hex[] = []
    for (const r of receipts(8)) digests.push(await signer.record(r))
    expect((await readdir(dir)).filter((n) => n.startsWith('segment-')).length).toBeGreaterThan(2)
    const seen: string[] = []
    let at = queue.cursor
    for (;;) {
      // 500 bytes is less than a record: each read still returns one whole record.
      const chunk = await queue.readFrom(at, 500)
      if (chunk.length === 0) break
      for (const c of chunk) if (c.record.kind === 'receipt') seen.push(c.record.digest)
      at = chunk.at(-1)!.next
    }
    expect(seen).toEqual(digests)
    expect(queue.backlogBytes).toBeGreaterThan(0)
    await queue.setCursor(at)
    expect(queue.backlogBytes).toBe(0)
    const removed = await queue.prune(0, Date.now() + 1000)
    expect(removed).toBeGreaterThan(0)
    expect(await queue.lookup(digests[0]!)).toBeUndefined()
    expect(await queue.lookup(digests.at(-1)!)).toBeDefined()
    await queue.close()
    const reopened = await open(dir, 2000)
    expect(reopened.cursor).toEqual(at)
    expect(reopened.backlogBytes).toBe(0)
    await reopened.close()
  })

  it('records a per-call receipt as signReceipt signs it, its line byte for byte the record as JSON.stringify makes it', async () => {
    const dir = await tempDir()
    const queue = await open(dir)
    const signer = new ReceiptSigner(queue, PROVIDER_KEY, domain, { kind: 'call' })
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.integer({ min: 0, max: 10_000 }), async (i, gross, discountBps) => {
        const r = receipt(i, { deployment: 0, requestId: keccak256(toBytes(`line ${i} ${gross} ${discountBps}`)), gross, discountBps })
        const digest = await signer.record(r)
        const found = await queue.lookup(digest)
        const expected = signReceipt(r, PROVIDER_KEY, domain)
        expect(found?.record).toEqual({ kind: 'receipt', digest, document: expected })
        const record = { kind: 'receipt' as const, digest, document: expected }
        expect(recordLine(record)).toBe(JSON.stringify({ format: RECORD_FORMAT, ...record }))
      }),
      { numRuns: 50 },
    )
    await queue.close()
  })
})
