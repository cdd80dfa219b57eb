/**
 * The audit's receipts check: every receipt of the given file is verified against the providers of config.json
 * and must be of the audited epoch; the file is streamed and folded into (deployment, user) totals as it is read,
 * so memory follows the users, not the receipts. Large files are verified on the verifier pool's worker threads.
 * Repeats (the same digest twice) count once: digests are spilled to disk in buckets and compared per bucket at
 * the end, so no set of every digest is held in memory.
 */
import { open, mkdtemp, readFile, rm, type FileHandle } from 'node:fs/promises'
import { tmpdir, availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { Hex } from '../base/bytes.ts'
import { toHex } from '../base/bytes.ts'
import { parseJsonDocument } from '../base/json.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import { sortSpend, type EpochReceipt, type SpendRow } from '../epoch/spend.ts'
import { verifyBatch } from '../receipts/batchVerify.ts'
import { ReceiptColumns } from '../receipts/columns.ts'
import { readBatchPart, readReceiptsText, ReceiptFileError, RECEIPT_BATCH_PART_FORMAT } from '../receipts/file.ts'
import { RECEIPT_BATCH_FORMAT } from '../receipts/batchDecode.ts'
import { VerifierPool } from '../receipts/pool.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

/** Where the receipts are: a file (streamed) or text already in memory. */
export type ReceiptsSource = { path: string } | { text: string }

export type AuditedReceipts = {
  spend: SpendRow[]
  /** Every counted receipt, kept only when asked (proof checks need them). */
  receipts: EpochReceipt[] | undefined
  count: number
  duplicates: number
  /** Seconds spent reading and verifying, and resolving repeats. */
  seconds: { verify: number; repeats: number }
}

/** Files at least this large are verified on worker threads (starting them costs more than small files take). */
const POOL_BYTES = 4 << 20
/** Per-call receipt lines sent to the pool at once. */
const TEXT_CHUNK = 4096
const READ_BYTES = 4 << 20

/**
 * Verifies and counts the receipts of `source` for `epoch`. Throws an AuditDiscrepancy naming the first bad line
 * (verification first, then epochs, as a whole-file check would), with the same words as `readReceiptsText`.
 */
export async function auditReceipts(source: ReceiptsSource, config: AggregatorConfig, epoch: number, checks: Checks, options: { keep?: boolean; threads?: number; poolBytes?: number } = {}): Promise<AuditedReceipts> {
  const registry = ProviderRegistry.from(config.providers)
  const verifier = new ReceiptVerifier({ domain: config.domain, registry })
  let file: FileHandle | undefined
  let size: number
  if ('path' in source) {
    file = await open(source.path, 'r')
    size = (await file.stat()).size
  } else size = source.text.length
  const threads = options.threads ?? availableParallelism()
  const pool = size >= (options.poolBytes ?? POOL_BYTES) && threads > 1 ? new VerifierPool({ domain: config.domain, registry, threads }) : undefined
  const counter = new SpendCounter(epoch, options.keep ?? false)
  const started = performance.now()
  let repeats: Repeats | undefined
  try {
    repeats = await Repeats.open()
    const pending: Array<Promise<() => void>> = []
    const inFlight = pool ? 4 * threads : 1
    let texts: string[] = []
    let lines: number[] = []
    // A later job may fail before an earlier one is taken: each is awaited in order, never left unhandled.
    const track = (job: Promise<() => void>) => {
      job.catch(() => undefined)
      pending.push(job)
    }
    const settle = async (limit: number) => {
      while (pending.length > limit) (await pending.shift()!)()
    }
    const flushTexts = async () => {
      if (texts.length === 0) return
      const [t, l] = [texts, lines]
      texts = []
      lines = []
      track(verifyTexts(t, l, verifier, pool).then((columns) => () => counter.add(columns, l, repeats!)))
      await settle(inFlight)
    }
    for await (const { text, line } of nonEmptyLines(file, 'text' in source ? source.text : undefined)) {
      const kind = sniffFormat(text)
      if (kind === 'receipt') {
        texts.push(text)
        lines.push(line)
        if (texts.length >= TEXT_CHUNK) await flushTexts()
        continue
      }
      await flushTexts()
      track(verifyBatchLine(text, line, kind, verifier, pool).then((columns) => () => counter.add(columns, columns.length === 0 ? [] : new Array<number>(columns.length).fill(line), repeats!)))
      await settle(inFlight)
    }
    await flushTexts()
    await settle(0)
    const verifySeconds = (performance.now() - started) / 1000
    const resolved = performance.now()
    const duplicates = await repeats.resolve(counter)
    if (counter.wrongEpoch) {
      const { line, requestId, epoch: other } = counter.wrongEpoch
      throw new AuditDiscrepancy('receipt', `receipt on line ${line} (requestId ${requestId}) is for epoch ${other}`, String(epoch), String(other))
    }
    const count = counter.count - duplicates
    checks.push(`receipts: ${count} signatures verified against the providers of config.json${duplicates ? ` (${duplicates} repeats counted once)` : ''}`)
    return { spend: counter.rows(), receipts: counter.kept(repeats.dropped), count, duplicates, seconds: { verify: verifySeconds, repeats: (performance.now() - resolved) / 1000 } }
  } catch (error) {
    if (error instanceof ReceiptFileError) throw new AuditDiscrepancy('receipt', error.shortMessage)
    throw error
  } finally {
    await file?.close()
    await pool?.close()
    await repeats?.close()
  }
}

/** The lines of a file (or text) that are not blank, trimmed, with their 1-based numbers. */
async function* nonEmptyLines(file: FileHandle | undefined, text: string | undefined): AsyncGenerator<{ text: string; line: number }> {
  let line = 0
  if (text !== undefined) {
    for (const l of text.split('\n')) {
      line++
      const t = l.trim()
      if (t !== '') yield { text: t, line }
    }
    return
  }
  let rest = ''
  const buf = Buffer.allocUnsafe(READ_BYTES)
  for (;;) {
    const { bytesRead } = await file!.read(buf, 0, buf.length, null)
    if (bytesRead === 0) break
    // Cut at the last newline so no UTF-8 character or line is split between reads.
    const end = buf.lastIndexOf(0x0a, bytesRead - 1)
    if (end < 0) {
      rest += buf.toString('utf8', 0, bytesRead)
      continue
    }
    const chunk = rest + buf.toString('utf8', 0, end)
    rest = buf.toString('utf8', end + 1, bytesRead)
    for (const l of chunk.split('\n')) {
      line++
      const t = l.trim()
      if (t !== '') yield { text: t, line }
    }
  }
  line++
  const t = rest.trim()
  if (t !== '') yield { text: t, line }
}

/** The kind of a line from its format field, without parsing it (a batch can be megabytes). */
function sniffFormat(text: string): 'receipt' | 'batch' | 'part' {
  const at = text.indexOf('"format"')
  if (at < 0) return 'receipt'
  const head = text.slice(at, at + 80)
  if (head.includes(`"${RECEIPT_BATCH_PART_FORMAT}"`)) return 'part'
  if (head.includes(`"${RECEIPT_BATCH_FORMAT}"`)) return 'batch'
  return 'receipt'
}

/**
 * A line verified on this thread with the whole-file reader: it throws the ReceiptFileError the file check names
 * (same line number, same words), or returns the line's receipts when the pool refused what this thread accepts.
 */
function verifyLineHere(text: string, line: number, verifier: ReceiptVerifier): ReceiptColumns {
  const read = readReceiptsText(`${'\n'.repeat(line - 1)}${text}`, verifier)
  const columns = new ReceiptColumns(read.receipts.length)
  read.receipts.forEach((r, i) => columns.set(i, r.receipt, r.digest))
  return columns
}

async function verifyTexts(texts: string[], lines: number[], verifier: ReceiptVerifier, pool: VerifierPool | undefined): Promise<ReceiptColumns> {
  let columns: ReceiptColumns
  if (pool) columns = await pool.verifyTexts(texts)
  else {
    columns = new ReceiptColumns(texts.length)
    texts.forEach((t, i) => {
      let document: unknown
      try {
        document = parseJsonDocument(t, `line ${lines[i]}`)
      } catch {
        return columns.fail(i, 'internal', 'not JSON')
      }
      verifier.verifyInto(document, columns, i)
    })
  }
  for (let i = 0; i < texts.length; i++) if (!columns.valid[i]) return verifySlow(texts, lines, verifier)
  return columns
}

/** A chunk with a receipt the fast path refused: each line on this thread, so the first bad one is named exactly. */
function verifySlow(texts: string[], lines: number[], verifier: ReceiptVerifier): ReceiptColumns {
  const parts = texts.map((t, i) => verifyLineHere(t, lines[i]!, verifier))
  return ReceiptColumns.concat(parts)
}

async function verifyBatchLine(text: string, line: number, kind: 'batch' | 'part', verifier: ReceiptVerifier, pool: VerifierPool | undefined): Promise<ReceiptColumns> {
  if (kind === 'batch') {
    if (pool) {
      const { columns, error } = await pool.verifyBatch(text)
      if (!error && columns.failures.length === 0) return columns
    } else {
      try {
        return verifyBatch(verifier, parseJsonDocument(text, `line ${line}`))
      } catch {
        // Named below, with the file's words.
      }
    }
  } else {
    try {
      const part = readBatchPart(parseJsonDocument(text, `line ${line}`))
      const all = verifyBatch(verifier, part.batch)
      if (part.receipts.every((k) => k < all.length)) {
        const columns = new ReceiptColumns(part.receipts.length)
        part.receipts.forEach((k, i) => columns.set(i, all.receipt(k), all.digest.subarray(32 * k, 32 * k + 32)))
        return columns
      }
    } catch {
      // Named below, with the file's words.
    }
  }
  return verifyLineHere(text, line, verifier)
}

/** (deployment, user) totals folded from verified columns, keyed by the raw 52 bytes of the pair. */
class SpendCounter {
  count = 0
  wrongEpoch: { line: number; requestId: Hex; epoch: number } | undefined
  /** Row numbers (in #list) by pair key. */
  readonly #rows = new Map<string, number>()
  readonly #list: SpendRow[] = []
  readonly #receipts: EpochReceipt[] | undefined

  constructor(
    readonly epoch: number,
    keep: boolean,
  ) {
    this.#receipts = keep ? [] : undefined
  }

  add(columns: ReceiptColumns, lines: readonly number[], repeats: Repeats): void {
    const n = columns.length
    const dep = Buffer.from(columns.deploymentId.buffer, columns.deploymentId.byteOffset, columns.deploymentId.byteLength)
    const user = Buffer.from(columns.user.buffer, columns.user.byteOffset, columns.user.byteLength)
    const { epoch: epochs, grossAmount, chargedAmount, discountBps } = columns
    for (let i = 0; i < n; i++) {
      if (epochs[i] !== this.epoch && !this.wrongEpoch) this.wrongEpoch = { line: lines[i]!, requestId: columns.receipt(i).requestId, epoch: epochs[i]! }
      const key = dep.toString('latin1', 32 * i, 32 * i + 32) + user.toString('latin1', 20 * i, 20 * i + 20)
      const gross = grossAmount[i]!
      const charged = chargedAmount[i]!
      const bps = discountBps[i]!
      let r = this.#rows.get(key)
      if (r === undefined) {
        r = this.#list.length
        this.#list.push({ deploymentId: toHex(dep, 32 * i, 32 * i + 32), user: toHex(user, 20 * i, 20 * i + 20), gross: 0n, charged: 0n, count: 0n, minDiscountBps: bps, maxDiscountBps: bps })
        this.#rows.set(key, r)
      }
      const row = this.#list[r]!
      row.gross += gross
      row.charged += charged
      row.count++
      if (bps < row.minDiscountBps) row.minDiscountBps = bps
      if (bps > row.maxDiscountBps) row.maxDiscountBps = bps
      repeats.add(columns.digest, i, this.count, r, gross, charged)
      this.#receipts?.push({ digest: columns.digestHex(i), deploymentId: row.deploymentId, provider: toHex(columns.provider, 20 * i, 20 * i + 20), user: row.user, gross, discountBps: bps, charged })
      this.count++
    }
  }

  /** Takes a repeated receipt back out of its row. */
  remove(row: number, gross: bigint, charged: bigint): void {
    const r = this.#list[row]!
    r.gross -= gross
    r.charged -= charged
    r.count--
  }

  rows(): SpendRow[] {
    return sortSpend(this.#list.filter((r) => r.count > 0n))
  }

  kept(dropped: ReadonlySet<number>): EpochReceipt[] | undefined {
    return dropped.size === 0 ? this.#receipts : this.#receipts?.filter((_, i) => !dropped.has(i))
  }
}

/**
 * Receipts by digest, spilled to 256 bucket files by the digest's first byte: (digest, receipt number, row, gross,
 * charged) records, each bucket read back alone at the end to find repeats. Memory: the buckets' write buffers.
 */
class Repeats {
  static readonly RECORD = 32 + 4 + 4 + 8 + 8
  static readonly BUFFER = 16 << 10
  readonly dropped = new Set<number>()
  readonly #buffers = Array.from({ length: 256 }, () => Buffer.allocUnsafe(Repeats.BUFFER))
  readonly #used = new Uint32Array(256)
  readonly #files: Array<FileHandle | undefined> = new Array(256)
  readonly #writes: Array<Promise<unknown>> = []

  private constructor(readonly dir: string) {}

  static async open(): Promise<Repeats> {
    return new Repeats(await mkdtemp(join(tmpdir(), 'fomo-audit-')))
  }

  add(digests: Uint8Array, i: number, ordinal: number, row: number, gross: bigint, charged: bigint): void {
    const b = digests[32 * i]!
    let buf = this.#buffers[b]!
    let at = this.#used[b]!
    if (at + Repeats.RECORD > buf.length) {
      this.#spill(b, buf.subarray(0, at))
      buf = this.#buffers[b] = Buffer.allocUnsafe(Repeats.BUFFER)
      at = 0
    }
    buf.set(digests.subarray(32 * i, 32 * i + 32), at)
    buf.writeUInt32LE(ordinal, at + 32)
    buf.writeUInt32LE(row, at + 36)
    buf.writeBigUInt64LE(gross, at + 40)
    buf.writeBigUInt64LE(charged, at + 48)
    this.#used[b] = at + Repeats.RECORD
  }

  #spill(b: number, bytes: Buffer): void {
    const previous = this.#writes[b] ?? Promise.resolve()
    this.#writes[b] = previous.then(async () => {
      this.#files[b] ??= await open(join(this.dir, `bucket-${b}`), 'a')
      await this.#files[b]!.write(bytes)
    })
  }

  /** Finds the repeats (later occurrences of a digest, in file order), takes them out of the counts; their number. */
  async resolve(counter: SpendCounter): Promise<number> {
    let repeats = 0
    for (let b = 0; b < 256; b++) {
      await this.#writes[b]
      const tail = this.#buffers[b]!.subarray(0, this.#used[b]!)
      const spilled = this.#files[b] ? await readFile(join(this.dir, `bucket-${b}`)) : undefined
      const records = spilled ? Buffer.concat([spilled, tail]) : tail
      const seen = new Set<string>()
      for (let at = 0; at < records.length; at += Repeats.RECORD) {
        const key = records.toString('latin1', at, at + 32)
        if (!seen.has(key)) {
          seen.add(key)
          continue
        }
        repeats++
        this.dropped.add(records.readUInt32LE(at + 32))
        counter.remove(records.readUInt32LE(at + 36), records.readBigUInt64LE(at + 40), records.readBigUInt64LE(at + 48))
      }
    }
    return repeats
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#writes)
    await Promise.all(this.#files.map((f) => f?.close()))
    await rm(this.dir, { recursive: true, force: true })
  }
}
