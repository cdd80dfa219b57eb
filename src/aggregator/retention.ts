/**
 * Retention of sealed epochs: an epoch's receipts are exported (the `fomo export-receipts` format), the file is read
 * back and checked against the store (every signature, counts, sums and the receipt digests), and only then are its
 * partitions dropped or detached, once the epoch's dispute window has passed. A failed or unverified export never
 * removes anything.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { link, lstat, mkdir, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { syncPath } from '../base/fsync.ts'
import { createInterface } from 'node:readline'
import { readReceiptsText, RECEIPT_BATCH_PART_FORMAT } from '../receipts/file.ts'
import { RECEIPT_BATCH_FORMAT } from '../receipts/batchDecode.ts'
import { RECEIPT_FORMAT } from '../receipts/document.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'
import { writeReceiptExport } from './export.ts'
import { StoreError } from './sql.ts'
import type { RetainedEpoch, Store } from './store.ts'

/** An epoch's receipts in figures; `digestsHash` is the sum modulo 2^256 of SHA-256 of each receipt digest (hex, 64 digits). */
export type EpochTotals = { receipts: number; batches: number; gross: bigint; charged: bigint; digestsHash: string }

export type RetentionOptions = {
  /** The directory the export is written to, as receipts-<epoch>.ndjson. */
  dir: string
  /** drop: the epoch's partitions are dropped; detach: they leave the receipts and batches tables and stay as plain tables. */
  mode: 'drop' | 'detach'
  /** Seconds after sealing the receipts stay in the store, for disputes (DEFAULT_DISPUTE_WINDOW_SECONDS). */
  windowSeconds: number
  /** The clock, nanoseconds since the Unix epoch (default: the system clock). */
  now?: bigint | undefined
}

/** What retention did: the retained epoch's record; `exported` is false when the file already there was the store's export, byte for byte, and was used. */
export type RetentionResult = RetainedEpoch & { exported: boolean; alreadyRetained: boolean }

/** Seven days: well past the registry's timelock (a day in the examples), in which an epoch can be revoked and disputed. */
export const DEFAULT_DISPUTE_WINDOW_SECONDS = 7 * 86_400

export class RetentionError extends StoreError {
  override name = 'RetentionError'
}

const UINT256 = 1n << 256n
const nowNs = () => BigInt(Date.now()) * 1_000_000n

/** The export file of an epoch in a retention directory. */
export function exportPath(dir: string, epoch: number): string {
  return join(resolve(dir), `receipts-${epoch}.ndjson`)
}

/**
 * Writes an epoch's export to `path`: written aside, synced, then linked into place, so a failed export leaves no
 * file and an existing one is never replaced.
 */
export async function exportEpoch(store: Store, epoch: number, path: string): Promise<{ receipts: number; batches: number }> {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    const counts = await writeReceiptExport(store, epoch, tmp)
    await link(tmp, path)
    return counts
  } finally {
    await rm(tmp, { force: true })
  }
}

/**
 * Reads an export back, verifying every line under the epoch's configuration, and returns its totals with the
 * file's SHA-256. Throws a RetentionError naming the first bad line.
 */
export async function readExport(store: Store, epoch: number, path: string): Promise<{ totals: EpochTotals; sha256: string }> {
  const config = await store.config(epoch)
  const verifier = new ReceiptVerifier({ domain: config.domain, registry: ProviderRegistry.from(config.providers) })
  const fileHash = createHash('sha256')
  const stream = createReadStream(path)
  stream.on('data', (d) => fileHash.update(d))
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let n = 0
  let receipts = 0
  let batches = 0
  let gross = 0n
  let charged = 0n
  let digests = 0n
  try {
    for await (const text of lines) {
      n++
      if (text.trim() === '') continue
      let read: ReturnType<typeof readReceiptsText>
      try {
        read = readReceiptsText(text, verifier)
      } catch (error) {
        throw new RetentionError(`${path} line ${n}: ${(error as Error).message.split('\n')[0]!.replace(/^receipt on line 1\b/, 'receipt')}; nothing was removed`)
      }
      // Per-call lines are written with their format first; any other line is read for it.
      const format = text.startsWith(`{"format":"${RECEIPT_FORMAT}"`) ? RECEIPT_FORMAT : (JSON.parse(text) as { format?: unknown }).format
      if (format === RECEIPT_BATCH_FORMAT || format === RECEIPT_BATCH_PART_FORMAT) batches++
      for (const r of read.receipts) {
        if (Number(r.receipt.epoch) !== epoch) throw new RetentionError(`${path} line ${n}: a receipt of epoch ${r.receipt.epoch} in the export of epoch ${epoch}; nothing was removed`)
        receipts++
        gross += r.receipt.grossAmount
        charged += r.receipt.chargedAmount
        digests += BigInt(`0x${createHash('sha256').update(Buffer.from(r.digest.slice(2), 'hex')).digest('hex')}`)
      }
    }
  } catch (error) {
    if (error instanceof RetentionError) throw error
    throw new RetentionError(`cannot read the export ${path}: ${(error as Error).message}; nothing was removed`, undefined, error)
  } finally {
    lines.close()
    stream.destroy()
  }
  return { totals: { receipts, batches, gross, charged, digestsHash: (digests % UINT256).toString(16).padStart(64, '0') }, sha256: fileHash.digest('hex') }
}

/** The first difference between two epochs' totals, in words; undefined when they are the same. */
export function totalsDiffer(store: EpochTotals, file: EpochTotals): string | undefined {
  if (store.receipts !== file.receipts) return `the store holds ${store.receipts} receipts, the export ${file.receipts}`
  if (store.batches !== file.batches) return `the store holds ${store.batches} batches, the export ${file.batches}`
  if (store.gross !== file.gross) return `gross ${store.gross} in the store, ${file.gross} in the export`
  if (store.charged !== file.charged) return `charged ${store.charged} in the store, ${file.charged} in the export`
  if (store.digestsHash !== file.digestsHash) return 'the receipt digests differ'
  return undefined
}

/** The export's totals once they match the store's; throws a RetentionError saying what differs otherwise. */
export async function verifyExport(store: Store, epoch: number, path: string): Promise<{ totals: EpochTotals; sha256: string }> {
  const read = await readExport(store, epoch, path)
  const held = await store.epochTotals(epoch)
  const differs = totalsDiffer(held, read.totals)
  if (differs) throw new RetentionError(`the export ${path} does not match epoch ${epoch} in the store (${differs}); nothing was removed`, 'Move the file away to export the epoch again.')
  return read
}

/**
 * Retains one sealed epoch past its dispute window: exports it from the store and verifies the export, places it in
 * `dir` (a file already there is used only when it is byte for byte the same, never replaced), syncs it, then
 * removes the epoch's receipts and batches.
 */
export async function retainEpoch(store: Store, epoch: number, options: RetentionOptions): Promise<RetentionResult> {
  const done = await store.retained(epoch)
  if (done) return { ...done, exported: false, alreadyRetained: true }
  const now = options.now ?? nowNs()
  const [status] = (await store.retentionStatus(epoch + 1)).filter((s) => s.epoch === epoch)
  if (!status) throw new RetentionError(`epoch ${epoch} is not sealed: its receipts stay in the store until it is sealed and its dispute window has passed`, `Run \`fomo seal --epoch ${epoch}\` first.`)
  const ends = status.sealedAt === null ? undefined : status.sealedAt + options.windowSeconds
  if (ends === undefined || now < BigInt(ends) * 1_000_000_000n)
    throw new RetentionError(`epoch ${epoch} is within its dispute window${ends === undefined ? '' : ` (until ${new Date(ends * 1000).toISOString()})`}; its receipts stay in the store until then`)
  await mkdir(options.dir, { recursive: true })
  const path = exportPath(options.dir, epoch)
  const existing = await lstat(path).catch(() => undefined)
  // A link could be pointed elsewhere after it is verified, and a FIFO would hang the read.
  if (existing && !existing.isFile()) throw new RetentionError(`${path} is not a regular file; nothing was removed`, 'Move it away: retention writes the export there itself.')
  // The export is always made afresh from the store and verified. A file already there is used only when it is
  // byte for byte that export: totals and the digests' sum alone could be matched by a forged set of receipts.
  const tmp = `${path}.${process.pid}.tmp`
  try {
    await writeReceiptExport(store, epoch, tmp)
    const verified = await verifyExport(store, epoch, tmp)
    if (existing) {
      const sha256 = await fileSha256(path)
      if (sha256 !== verified.sha256)
        throw new RetentionError(
          `${path} is not the store's export of epoch ${epoch} (its sha256 is ${sha256}, the store's export's ${verified.sha256}); nothing was removed`,
          'Move the file away (keep it if it is an older archive): retention writes the export there itself.',
        )
    } else await link(tmp, path)
    // The export must outlive a power cut before the store lets go of the receipts: the file and its directory entry.
    await syncPath(path)
    await syncPath(dirname(path))
    const retained = await store.removeEpochReceipts(epoch, { expected: verified.totals, mode: options.mode, windowSeconds: options.windowSeconds, exportFile: path, exportSha256: verified.sha256, now })
    return { ...retained, exported: !existing, alreadyRetained: false }
  } finally {
    await rm(tmp, { force: true })
  }
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
