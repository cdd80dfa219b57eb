/**
 * The gateway's durable receipt queue: append-only segment files of records (format fomo-gateway-record-v1, one JSON
 * line each) written with group commit (one durable O_DSYNC write for every record waiting), a forwarding cursor
 * (fomo-gateway-cursor-v1) saying how far the aggregator has them, and an index from digest and request id to record,
 * for the receipts callers fetch. A record is on disk before `append` resolves: the gateway answers a call only then.
 * Opening recovers from a crash: a torn last line is cut off, the index is rebuilt, and receipts recorded unsigned
 * (batch signing) that no batch covers yet are handed back for signing.
 *
 * With `durability: 'disk'` the segment being written is zero-filled ahead of its end (PostgreSQL does the same with
 * its WAL segments): a write into blocks already written and synced changes no metadata, so its O_DSYNC write needs
 * no journal commit, only the data's. The records of a segment end at its first NUL byte (JSON text never holds one);
 * a closed segment is cut to its records.
 */
import { constants as fsConstants, writev } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Hex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import { syncPath } from '../base/fsync.ts'
import { acquireLock } from '../base/lock.ts'
import { parseJsonDocument } from '../base/json.ts'
import { Reader } from '../base/reader.ts'
import { readBatchDocument, RECEIPT_BATCH_FORMAT, type ReceiptBatchDocument } from '../receipts/batchDecode.ts'
import { checkDomain, readSignedReceipt, RECEIPT_FORMAT, type SignedReceiptDocument } from '../receipts/document.ts'
import { readBytes32, readReceiptMessage, receiptMessageJson, type UsageReceipt } from '../receipts/receipt.ts'
import type { ReceiptDomain } from '../receipts/types.ts'
import { RECEIPT_TYPES, USAGE_RECEIPT_TYPE } from '../receipts/types.ts'
import { QueueError } from './errors.ts'

export const RECORD_FORMAT = 'fomo-gateway-record-v1'
export const CURSOR_FORMAT = 'fomo-gateway-cursor-v1'

/**
 * A signed per-call receipt; a receipt recorded unsigned, to be batch-signed; or a signed batch with the digests of
 * its receipts in order.
 */
export type QueueRecord =
  | { kind: 'receipt'; digest: Hex; document: SignedReceiptDocument }
  | { kind: 'unsigned'; digest: Hex; receipt: UsageReceipt }
  | { kind: 'batch'; digests: Hex[]; document: ReceiptBatchDocument }

/** A place in the queue: a byte offset in a segment. */
export type Position = { segment: number; offset: number }

/** Where a receipt's record is: its line, and its place in the batch for a batch record. */
type Entry = { segment: number; offset: number; length: number; index: number }

export type QueueOptions = {
  /** The receipt domain every record must be under (documents of another domain are refused on reading). */
  domain: ReceiptDomain
  /** A segment is closed once this large (default 64 MiB). */
  segmentBytes?: number
  /** Receipts the lookup index keeps, oldest dropped first (default 1,000,000). */
  maxIndex?: number
  /**
   * When `append` resolves (and the gateway answers): `disk` (default) once the records are on the disk (O_DSYNC),
   * so nothing answered is lost to a power cut; `process` once the kernel holds them (a plain append), so nothing
   * answered is lost when the gateway process dies, even by kill -9, but a power cut or kernel crash can lose the
   * last answered records.
   */
  durability?: QueueDurability
  /**
   * How far ahead of its records the segment being written is zero-filled, with `durability: 'disk'` (default 4 MiB;
   * 0: not at all, each durable write then also commits the file's new size).
   */
  zeroFillBytes?: number
  /**
   * Fault injection (tests): writes a group's lines (`what: 'records'`) or a zero fill (`'zeros'`) at `position` in
   * place of the file write; it may write part of them, then throw.
   */
  write?: ((fd: number, buffers: Buffer[], position: number, what: 'records' | 'zeros') => Promise<void>) | undefined
}

/** What opening the queue cut off the last segment, if anything: its torn last write (see ReceiptQueue.recovered). */
export type QueueRecovery = { segment: string; offset: number; bytes: number; savedTo?: string }

export type QueueDurability = 'disk' | 'process'

const SEGMENT = /^segment-(\d{8})\.ndjson$/
const segmentName = (n: number) => `segment-${String(n).padStart(8, '0')}.ndjson`
const NEWLINE = 0x0a
/**
 * Segments are written at the offsets the queue keeps (each group after the last), with O_DSYNC for `durability:
 * 'disk'`: each group's one write returns once durable, one system call and one trip through libuv's thread pool
 * instead of a write and an fdatasync.
 */
const WRITE_DSYNC = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_DSYNC
const WRITE = fsConstants.O_WRONLY | fsConstants.O_CREAT
const ZERO_FILL_BYTES = 4 * 1024 * 1024
/** Zeros written a piece of this size at a time (one buffer, repeated). */
const ZEROS = Buffer.alloc(1024 * 1024)

export class ReceiptQueue {
  readonly #dir: string
  readonly #domain: ReceiptDomain
  readonly #segmentBytes: number
  readonly #maxIndex: number
  readonly #durable: boolean
  readonly #zeroFillBytes: number
  /** Durable size of every segment (the end of its records), in order. */
  readonly #sizes = new Map<number, number>()
  readonly #byDigest = new Map<string, Entry>()
  readonly #byRequestId = new Map<string, string>()
  /** Receipts recorded unsigned that no batch covers yet. */
  readonly #unsigned = new Map<string, UsageReceipt>()
  #current = 0
  #handle: FileHandle | undefined
  #waiting: Array<{ lines: string[]; records: QueueRecord[]; resolve: () => void; reject: (error: Error) => void }> = []
  #flushing = false
  #broken: Error | undefined
  readonly #write: (fd: number, buffers: Buffer[], position: number, what: 'records' | 'zeros') => Promise<void>
  #closed = false
  /** What recovery cut off the last segment when the queue was opened (the gateway logs it). */
  recovered: QueueRecovery | undefined
  /** The end of the current segment's zero-filled bytes (its size on disk); records are written below it. */
  #zeroed = 0
  /** The zero fill in flight, if any. */
  #zeroing: Promise<void> | undefined
  /** A zero fill of the current segment failed: its records are appended from there on. */
  #fillFailed = false
  #appended: Array<() => void> = []
  #cursor: Position = { segment: 1, offset: 0 }

  private constructor(dir: string, options: QueueOptions) {
    this.#dir = dir
    this.#domain = options.domain
    this.#segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024
    this.#maxIndex = options.maxIndex ?? 1_000_000
    this.#durable = (options.durability ?? 'disk') === 'disk'
    this.#zeroFillBytes = this.#durable ? (options.zeroFillBytes ?? ZERO_FILL_BYTES) : 0
    if (!Number.isSafeInteger(this.#zeroFillBytes) || this.#zeroFillBytes < 0) throw new QueueError(`zeroFillBytes must be a whole number of bytes, not ${options.zeroFillBytes}`, 'Give 0 (no zero fill) or a size such as 4194304.')
    this.#write = options.write ?? writeAll
  }

  /** Opens (creating) the queue in `dir`, recovering from a crash. */
  static async open(dir: string, options: QueueOptions): Promise<ReceiptQueue> {
    const queue = new ReceiptQueue(dir, options)
    await mkdir(dir, { recursive: true })
    await lockQueue(dir)
    try {
      await queue.#recover()
    } catch (error) {
      await queue.#handle?.close().catch(() => undefined)
      await unlink(join(dir, LOCK_FILE)).catch(() => undefined)
      throw error
    }
    return queue
  }

  get cursor(): Position {
    return { ...this.#cursor }
  }

  /** The durable end of the queue. */
  get end(): Position {
    return { segment: this.#current, offset: this.#sizes.get(this.#current) ?? 0 }
  }

  /** Bytes recorded but not yet delivered (past the cursor). */
  get backlogBytes(): number {
    let n = 0
    for (const [segment, size] of this.#sizes) if (segment >= this.#cursor.segment) n += segment === this.#cursor.segment ? size - this.#cursor.offset : size
    return n
  }

  /** Receipts recorded unsigned that wait for a batch, oldest first. */
  unsigned(): Array<{ digest: Hex; receipt: UsageReceipt }> {
    return [...this.#unsigned].map(([digest, receipt]) => ({ digest: digest as Hex, receipt }))
  }

  get unsignedCount(): number {
    return this.#unsigned.size
  }

  /** Writes records (one O_DSYNC write, or a plain write with `durability: 'process'`); resolves once they are written. */
  append(records: QueueRecord[]): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken)
    if (this.#closed) return Promise.reject(new QueueError('the receipt queue is closed', 'Open it again to append.'))
    const lines = records.map(recordLine)
    return new Promise((resolve, reject) => {
      this.#waiting.push({ lines, records, resolve, reject })
      if (!this.#flushing) void this.#flush()
    })
  }

  /** Resolves at the next durable append (or after `ms`). */
  whenAppended(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const notify = () => {
        clearTimeout(timer)
        resolve()
      }
      // On timeout the waiter leaves the list: an idle gateway would otherwise add one a second until the next append.
      const timer = setTimeout(() => {
        const at = this.#appended.indexOf(notify)
        if (at >= 0) this.#appended.splice(at, 1)
        resolve()
      }, ms).unref()
      this.#appended.push(notify)
    })
  }

  /** Whether the current segment is kept zero-filled ahead of its records (durability disk, no fill failed in it). */
  get #fillsZeros(): boolean {
    return this.#zeroFillBytes > 0 && !this.#fillFailed
  }

  /** Group commit: everything waiting goes out in one durable write, then the next group. */
  async #flush(): Promise<void> {
    this.#flushing = true
    try {
      while (this.#waiting.length > 0) {
        const group = this.#waiting.splice(0)
        try {
          if ((this.#sizes.get(this.#current) ?? 0) >= this.#segmentBytes) await this.#rotate()
          const fd = this.#handle!.fd
          const buffers: Buffer[] = []
          const placed: Array<{ record: QueueRecord; entry: Omit<Entry, 'index'> }> = []
          const start = this.#sizes.get(this.#current) ?? 0
          let offset = start
          for (const w of group)
            for (let i = 0; i < w.lines.length; i++) {
              const bytes = Buffer.from(`${w.lines[i]}\n`)
              buffers.push(bytes)
              placed.push({ record: w.records[i]!, entry: { segment: this.#current, offset, length: bytes.length - 1 } })
              offset += bytes.length
            }
          // A fill that fails (a nearly full disk) is no reason to refuse the calls: the group is written past the
          // zeros as an append, which commits the file's new size with it.
          // A failed fill is not tried again in this segment (it would rewrite the zeros it wrote, for every group).
          if (this.#fillsZeros && offset > this.#zeroed) await this.#zeroFill(offset).catch(() => undefined)
          // Opened with O_DSYNC (durability disk): the write returns once the data is on disk (a write and an fdatasync in one call).
          await this.#write(fd, buffers, start, 'records')
          this.#sizes.set(this.#current, offset)
          if (offset > this.#zeroed) this.#zeroed = offset
          for (const p of placed) this.#index(p.record, p.entry)
          // The next zero fill starts while half of this one is left, so records seldom wait for it.
          if (this.#fillsZeros && !this.#zeroing && this.#zeroed - offset < this.#zeroFillBytes / 2 && this.#zeroed < this.#segmentBytes) this.#zeroFill(this.#zeroed + 1).catch(() => undefined)
        } catch (error) {
          // The group's calls are refused (a 503: not billed), so whatever part of it reached the file is cut back
          // and synced; else a restart would find its whole lines and forward them. Nothing more is written until a
          // restart. Should the truncation fail too, a restart cuts off a torn last line, but whole lines of the
          // group would stay and be forwarded.
          const size = this.#sizes.get(this.#current) ?? 0
          await this.#zeroing?.catch(() => undefined)
          this.#zeroed = size
          await this.#handle
            ?.truncate(size)
            .then(() => this.#handle?.sync())
            .catch(() => undefined)
          this.#broken = new QueueError(`the receipt queue could not be written: ${(error as Error).message}`, 'Free disk space or fix the data directory, then restart the gateway (it recovers the queue).')
          for (const w of [...group, ...this.#waiting.splice(0)]) w.reject(this.#broken)
          return
        }
        for (const w of group) w.resolve()
        for (const notify of this.#appended.splice(0)) notify()
      }
    } finally {
      this.#flushing = false
    }
  }

  /**
   * Zero-fills the current segment until its zeroed end is at least `end`, each fill reaching on to `zeroFillBytes`
   * past where it starts (not past the segment's size), durably: the zeros are allocated, written and synced before a
   * record is written over them. One fill at a time; a caller needing more than the fill in flight covers waits for it.
   */
  async #zeroFill(end: number): Promise<void> {
    while (this.#zeroed < end) {
      if (!this.#zeroing) {
        const from = this.#zeroed
        const to = Math.max(end, Math.min(from + this.#zeroFillBytes, this.#segmentBytes))
        const pieces: Buffer[] = []
        for (let at = from; at < to; at += ZEROS.length) pieces.push(ZEROS.subarray(0, Math.min(ZEROS.length, to - at)))
        this.#zeroing = this.#write(this.#handle!.fd, pieces, from, 'zeros')
          .then(
            () => void (this.#zeroed = to),
            (error: unknown) => {
              this.#fillFailed = true
              throw error
            },
          )
          .finally(() => (this.#zeroing = undefined))
      }
      await this.#zeroing
    }
  }

  /** Closes the current segment, cut to its records and synced, and starts the next. */
  async #rotate(): Promise<void> {
    await this.#cutToRecords()
    await this.#handle?.datasync()
    await this.#handle?.close()
    this.#current++
    this.#sizes.set(this.#current, 0)
    this.#zeroed = 0
    this.#fillFailed = false
    this.#handle = await open(join(this.#dir, segmentName(this.#current)), this.#durable ? WRITE_DSYNC : WRITE)
    await syncPath(this.#dir)
  }

  /** Cuts the current segment's zero fill off (once the fill in flight, if any, is done; a failed one may have left zeros). */
  async #cutToRecords(): Promise<void> {
    await this.#zeroing?.catch(() => undefined)
    const size = this.#sizes.get(this.#current) ?? 0
    if (this.#zeroFillBytes > 0) await this.#handle?.truncate(size)
    this.#zeroed = size
  }

  /** Resolves once no group write or zero fill is in flight (a quiet moment, for tests that stop a queue abruptly). */
  async settled(): Promise<void> {
    while (this.#flushing || this.#waiting.length > 0 || this.#zeroing) {
      await this.#zeroing?.catch(() => undefined)
      await new Promise((r) => setTimeout(r, 1))
    }
  }

  #index(record: QueueRecord, at: Omit<Entry, 'index'>): void {
    if (record.kind === 'batch') {
      const ids = record.document.receipts.requestId
      record.digests.forEach((digest, index) => {
        this.#unsigned.delete(digest)
        this.#put(digest, { ...at, index }, `0x${ids.slice(2 + 64 * index, 2 + 64 * index + 64)}`)
      })
      return
    }
    if (record.kind === 'unsigned') this.#unsigned.set(record.digest, record.receipt)
    this.#put(record.digest, { ...at, index: -1 }, record.kind === 'receipt' ? record.document.message.requestId! : record.receipt.requestId)
  }

  #put(digest: string, entry: Entry, requestId: string): void {
    this.#byDigest.delete(digest)
    this.#byDigest.set(digest, entry)
    this.#byRequestId.set(requestId.toLowerCase(), digest)
    if (this.#byDigest.size > this.#maxIndex) this.#byDigest.delete(this.#byDigest.keys().next().value as string)
    if (this.#byRequestId.size > this.#maxIndex) this.#byRequestId.delete(this.#byRequestId.keys().next().value as string)
  }

  /** The record of a receipt by its digest or its request id, with its place in a batch (-1 for a per-call record). */
  async lookup(id: Hex): Promise<{ record: QueueRecord; index: number; digest: Hex } | undefined> {
    const key = id.toLowerCase()
    const digest = this.#byDigest.has(key) ? key : this.#byRequestId.get(key)
    const entry = digest === undefined ? undefined : this.#byDigest.get(digest)
    if (!entry || !this.#sizes.has(entry.segment)) return undefined
    const handle = await open(join(this.#dir, segmentName(entry.segment)), 'r')
    try {
      const bytes = Buffer.alloc(entry.length)
      await handle.read(bytes, 0, entry.length, entry.offset)
      return { record: this.#read(bytes.toString('utf8'), entry.segment, entry.offset), index: entry.index, digest: digest as Hex }
    } finally {
      await handle.close()
    }
  }

  /**
   * Records from `from` up to the durable end, at most about `maxBytes` of them (always at least one), with the
   * position after each; moves on to the next segment at the end of one.
   */
  async readFrom(from: Position, maxBytes: number): Promise<Array<{ record: QueueRecord; next: Position }>> {
    let { segment, offset } = from
    while ((this.#sizes.get(segment) ?? -1) <= offset && this.#sizes.has(segment + 1)) {
      segment++
      offset = 0
    }
    const size = this.#sizes.get(segment)
    if (size === undefined || size <= offset) return []
    const handle = await open(join(this.#dir, segmentName(segment)), 'r')
    let bytes: Buffer
    let last: number
    try {
      // At least one whole line: a line longer than maxBytes (a large batch) is read whole.
      for (let length = Math.min(size - offset, maxBytes); ; length = Math.min(size - offset, length * 2)) {
        bytes = Buffer.alloc(length)
        await handle.read(bytes, 0, length, offset)
        last = bytes.lastIndexOf(NEWLINE)
        if (last !== -1 || length === size - offset) break
      }
    } finally {
      await handle.close()
    }
    const out: Array<{ record: QueueRecord; next: Position }> = []
    let start = 0
    while (start <= last) {
      const end = bytes.indexOf(NEWLINE, start)
      out.push({ record: this.#read(bytes.toString('utf8', start, end), segment, offset + start), next: { segment, offset: offset + end + 1 } })
      start = end + 1
    }
    return out
  }

  /** Moves the forwarding cursor (everything before it is delivered), durably: temporary file, fsync, rename. */
  async setCursor(position: Position): Promise<void> {
    // The records a cursor passes must be on the disk before it is: with `durability: 'process'` they may not be yet,
    // and a cursor past a segment's end after a power cut would skip the records written there next.
    if (!this.#durable) await this.#handle?.datasync()
    const path = join(this.#dir, 'cursor.json')
    const tmp = `${path}.tmp`
    const handle = await open(tmp, 'w')
    try {
      await handle.writeFile(`${JSON.stringify({ format: CURSOR_FORMAT, segment: position.segment, offset: position.offset })}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
    this.#cursor = { ...position }
  }

  /**
   * Deletes the segments wholly delivered whose last write is older than `retainMs` (their receipts can no longer be
   * fetched from the gateway); returns how many.
   */
  async prune(retainMs: number, nowMs: number): Promise<number> {
    let removed = 0
    for (const segment of [...this.#sizes.keys()].sort((a, b) => a - b)) {
      if (segment >= this.#cursor.segment || segment === this.#current) break
      const path = join(this.#dir, segmentName(segment))
      if (nowMs - (await stat(path)).mtimeMs < retainMs) break
      await unlink(path)
      this.#sizes.delete(segment)
      removed++
    }
    if (removed > 0) for (const [digest, entry] of this.#byDigest) if (!this.#sizes.has(entry.segment)) this.#byDigest.delete(digest)
    return removed
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.settled()
    // A queue closed in order leaves its segments as their records; one killed leaves the zero fill, cut at opening.
    if (!this.#broken) await this.#cutToRecords().catch(() => undefined)
    await this.#handle?.close()
    this.#handle = undefined
    await unlink(join(this.#dir, LOCK_FILE)).catch(() => undefined)
  }

  /** A record line read back: the envelope and its documents validated (under the queue's domain). */
  #read(text: string, segment: number, offset: number): QueueRecord {
    try {
      return readRecord(parseJsonDocument(text, `${segmentName(segment)} at byte ${offset}`), this.#domain)
    } catch (error) {
      if (error instanceof BaseError) throw new QueueError(`${join(this.#dir, segmentName(segment))} at byte ${offset}: ${error.shortMessage}`, 'The queue was written by another version or altered; move it away to start a new one.')
      throw error
    }
  }

  async #recover(): Promise<void> {
    const segments = (await readdir(this.#dir))
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
    for (const [i, segment] of segments.entries()) {
      const path = join(this.#dir, segmentName(segment))
      const bytes = await readFile(path)
      // The records end at the first NUL byte: the zero fill of a segment being written when the gateway stopped.
      const nul = bytes.indexOf(0)
      const limit = nul === -1 ? bytes.length : nul
      let start = 0
      for (let end = bytes.indexOf(NEWLINE); end !== -1 && end < limit; end = bytes.indexOf(NEWLINE, start)) {
        const text = bytes.toString('utf8', start, end)
        this.#index(this.#read(text, segment, start), { segment, offset: start, length: end - start })
        start = end + 1
      }
      if (start < bytes.length) {
        const last = i === segments.length - 1
        // A line cut short by a crash (never acknowledged: its call got no answer) is dropped, with whatever follows
        // it: a power cut can leave the sectors of the last group's one write on the disk in any order. Zero fill
        // alone is cut off too.
        let tail = bytes.length
        while (tail > limit && bytes[tail - 1] === 0) tail--
        if (!last && (start < limit || tail > limit)) throw new QueueError(`${path} ends in a partial line but is not the last segment`, 'The queue was altered; move it away to start a new one.')
        if (start < tail) {
          this.recovered = { segment: segmentName(segment), offset: start, bytes: tail - start }
          // Bytes past a hole of zeros come from the last write torn by a power cut, or from a damaged disk: kept
          // aside, so what was cut can be looked at.
          if (tail > limit) {
            this.recovered.savedTo = await this.#keepAside(path, start, bytes.subarray(start, tail))
          }
        }
        const handle = await open(path, 'r+')
        try {
          await handle.truncate(start)
          // Written before the records that will go over this place again, or a power cut could bring the cut part back.
          await handle.datasync()
        } finally {
          await handle.close()
        }
      }
      this.#sizes.set(segment, start)
    }
    this.#current = segments.at(-1) ?? 1
    if (segments.length === 0) this.#sizes.set(this.#current, 0)
    this.#zeroed = this.#sizes.get(this.#current) ?? 0
    this.#handle = await open(join(this.#dir, segmentName(this.#current)), this.#durable ? WRITE_DSYNC : WRITE)
    this.#cursor = await this.#readCursor(segments[0] ?? 1)
  }

  /** Writes the bytes recovery cuts past a hole into a new file beside the segment, synced; its path. */
  async #keepAside(path: string, offset: number, bytes: Buffer): Promise<string> {
    for (let n = 1; ; n++) {
      const savedTo = `${path}.cut-at-${offset}${n > 1 ? `-${n}` : ''}`
      try {
        // 'wx': a cut kept aside before (another power cut at the same place) is never overwritten.
        await writeFile(savedTo, bytes, { flag: 'wx' })
        await syncPath(savedTo)
        await syncPath(this.#dir)
        return savedTo
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue
        throw new QueueError(`${path}: the ${bytes.length} bytes after byte ${offset} (past a hole of zeros) could not be kept aside before cutting them: ${(error as Error).message}`, 'Free disk space, then restart the gateway; nothing was cut.')
      }
    }
  }

  async #readCursor(first: number): Promise<Position> {
    const path = join(this.#dir, 'cursor.json')
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined
      throw error
    })
    if (text === undefined) return { segment: first, offset: 0 }
    const r = new Reader(CURSOR_FORMAT, parseJsonDocument(text, path))
    r.object(['format', 'segment', 'offset'])
    r.field('format').literal([CURSOR_FORMAT])
    const position = { segment: Number(r.field('segment').integer(1)), offset: Number(r.field('offset').integer()) }
    // Segments before the cursor may have been pruned.
    if (position.segment < first) return { segment: first, offset: 0 }
    // Past the end of what recovery found (records lost with a machine, never with a cursor saved after them): what
    // is written next starts at that end, and the cursor with it.
    const size = this.#sizes.get(position.segment)
    if (size !== undefined && position.offset > size) return { segment: position.segment, offset: size }
    return position
  }
}

/** The lock file that names the process with the queue open (src/base/lock.ts). */
const LOCK_FILE = 'LOCK'

/**
 * Takes the queue for this process. Two processes writing one queue would write over each other's records (each
 * writes at the offsets it keeps), so a queue another running process holds is refused. A lock left by a process
 * that is gone (killed) is taken over, as is one of this process (a queue reopened without closing, in tests).
 */
function lockQueue(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE)
  return acquireLock(path, {
    inUse: (pid) =>
      new QueueError(`${dir} is in use by another process (pid ${pid}, named in ${path})`, 'Run one gateway per data directory: stop the other one, or give this one its own --data-dir. If no gateway runs, delete the LOCK file.'),
    failed: (message, hint) => new QueueError(message, hint),
  })
}

/** The published types and the last domain serialised: the same on every per-call record. */
const TYPES_JSON = JSON.stringify(RECEIPT_TYPES)
let lastDomain: { domain: ReceiptDomain; json: string } | undefined

/**
 * A record as its line (without the newline): unsigned receipts as their JSON message. A per-call receipt's line is
 * put together around its domain and types serialised once (the published types never change; the domain is the
 * signer's one object): for a record built in the order of its type, byte for byte what JSON.stringify makes of it.
 */
export function recordLine(record: QueueRecord): string {
  if (record.kind === 'unsigned') return JSON.stringify({ format: RECORD_FORMAT, kind: record.kind, digest: record.digest, message: receiptMessageJson(record.receipt) })
  if (record.kind === 'receipt' && record.document.types === RECEIPT_TYPES) {
    const d = record.document
    if (lastDomain?.domain !== d.domain) lastDomain = { domain: d.domain, json: JSON.stringify(d.domain) }
    return `{"format":"${RECORD_FORMAT}","kind":"receipt","digest":${JSON.stringify(record.digest)},"document":{"format":${JSON.stringify(d.format)},"domain":${lastDomain.json},"types":${TYPES_JSON},"primaryType":${JSON.stringify(d.primaryType)},"message":${JSON.stringify(d.message)},"signature":${JSON.stringify(d.signature)}}}`
  }
  return JSON.stringify({ format: RECORD_FORMAT, ...record })
}

/** Validates a record (fomo-gateway-record-v1) and the document it holds, under `domain`. */
export function readRecord(value: unknown, domain: ReceiptDomain): QueueRecord {
  const r = new Reader(RECORD_FORMAT, value)
  const kind = r.field('kind').literal(['receipt', 'unsigned', 'batch'])
  if (kind === 'receipt') {
    r.object(['format', 'kind', 'digest', 'document'])
    r.field('format').literal([RECORD_FORMAT])
    r.field('document').field('format').literal([RECEIPT_FORMAT])
    checkDomain(readSignedReceipt(r.field('document').value, USAGE_RECEIPT_TYPE).domain, domain)
    return { kind, digest: readBytes32(r.field('digest')), document: r.field('document').value as SignedReceiptDocument }
  }
  if (kind === 'unsigned') {
    r.object(['format', 'kind', 'digest', 'message'])
    r.field('format').literal([RECORD_FORMAT])
    return { kind, digest: readBytes32(r.field('digest')), receipt: readReceiptMessage(r.field('message')) }
  }
  r.object(['format', 'kind', 'digests', 'document'])
  r.field('format').literal([RECORD_FORMAT])
  r.field('document').field('format').literal([RECEIPT_BATCH_FORMAT])
  const { header } = readBatchDocument(r.field('document').value, domain)
  const digests = r.field('digests').array({ min: header.count, max: header.count }).map((d) => readBytes32(d))
  return { kind, digests, document: r.field('document').value as ReceiptBatchDocument }
}

/**
 * Writes every buffer, in order, from `position` (fs.writev on the descriptor: less per call than FileHandle.writev),
 * going on after a short write.
 */
function writeAll(fd: number, buffers: Buffer[], position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const write = (rest: Buffer[], at: number) =>
      writev(fd, rest, at, (error, written) => {
        if (error) return reject(error)
        const next = at + written
        let i = 0
        while (i < rest.length && written >= rest[i]!.length) written -= rest[i++]!.length
        if (i === rest.length) return resolve()
        write([rest[i]!.subarray(written), ...rest.slice(i + 1)], next)
      })
    write(buffers, position)
  })
}
