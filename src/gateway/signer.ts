/**
 * Recording a call's receipt durably, signed with the provider's key by the receipts module: one signature per call
 * (`signReceipt`), or the receipt recorded unsigned at once and signed with the others of its interval in one
 * provider batch (`signBatch`, fomo-receipt-batch-v1). Either way the receipt's digest is known, and on disk, before the
 * call is answered.
 */
import { toHex, type Hex } from '../base/bytes.ts'
import { signBatch } from '../receipts/batchSign.ts'
import { RECEIPT_FORMAT, type SignedReceiptDocument } from '../receipts/document.ts'
import { checkCharged, receiptDigest, receiptMessageJson, ReceiptError, type UsageReceipt } from '../receipts/receipt.ts'
import { addressOf, privateKeyBytes, type PrivateKey } from '../receipts/sign.ts'
import { signDigest } from '../receipts/signature.ts'
import { domainSeparator, RECEIPT_TYPES, type ReceiptDomain } from '../receipts/types.ts'
import type { ReceiptQueue } from './queue.ts'

/** One signature per call, or one per batch of the calls of each interval (at most `maxReceipts` per batch). */
export type SigningMode = { kind: 'call' } | { kind: 'batch'; intervalMs: number; maxReceipts: number }

export class ReceiptSigner {
  readonly separator: Uint8Array
  readonly #keyBytes: Uint8Array
  readonly #signer: Hex
  #timer: NodeJS.Timeout | undefined
  #signing: Promise<number> = Promise.resolve(0)
  /** A run is queued and has not started: later requests join it. */
  #queued = false

  constructor(
    readonly queue: ReceiptQueue,
    readonly privateKey: PrivateKey,
    readonly domain: ReceiptDomain,
    readonly mode: SigningMode,
    readonly onError: (error: Error) => void = () => undefined,
  ) {
    this.separator = domainSeparator(domain)
    this.#keyBytes = privateKeyBytes(privateKey)
    this.#signer = addressOf(privateKey)
  }

  /** Records the receipt of a call; resolves with its digest once the record is on disk. */
  async record(receipt: UsageReceipt): Promise<Hex> {
    const hash = receiptDigest(receipt, this.separator)
    const digest = toHex(hash)
    if (this.mode.kind === 'call') await this.queue.append([{ kind: 'receipt', digest, document: this.#sign(receipt, hash) }])
    else {
      await this.queue.append([{ kind: 'unsigned', digest, receipt }])
      if (this.queue.unsignedCount >= this.mode.maxReceipts) void this.signPending().catch(this.onError)
    }
    return digest
  }

  /**
   * The signed document of a receipt whose digest is known: what `signReceipt` makes, with the digest hashed once per
   * call instead of twice and the key decoded once.
   */
  #sign(receipt: UsageReceipt, digest: Uint8Array): SignedReceiptDocument {
    checkCharged(receipt)
    if (receipt.provider.toLowerCase() !== this.#signer)
      throw new ReceiptError('signer-mismatch', `the key is for ${this.#signer}, but the receipt's provider is ${receipt.provider}`, "Sign with the provider's own key.")
    return { format: RECEIPT_FORMAT, domain: this.domain, types: RECEIPT_TYPES, primaryType: 'UsageReceipt', message: receiptMessageJson(receipt), signature: signDigest(digest, this.#keyBytes) }
  }

  /** Batch signing every interval (receipts left unsigned by a crash are signed at the first tick). */
  start(): void {
    if (this.mode.kind !== 'batch' || this.#timer) return
    this.#timer = setInterval(() => void this.signPending().catch(this.onError), this.mode.intervalMs)
    this.#timer.unref()
  }

  /** Stops the timer after signing what is pending. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.signPending()
  }

  /**
   * Signs the receipts recorded unsigned into batches of one deployment and epoch each, and records the batches;
   * resolves with the number of receipts signed. Runs one at a time.
   */
  signPending(): Promise<number> {
    if (this.#queued) return this.#signing
    this.#queued = true
    this.#signing = this.#signing
      .catch(() => 0)
      .then(() => {
        this.#queued = false
        return this.#signPending()
      })
    return this.#signing
  }

  async #signPending(): Promise<number> {
    const pending = this.queue.unsigned()
    if (pending.length === 0 || this.mode.kind !== 'batch') return 0
    const groups = new Map<string, Array<{ digest: Hex; receipt: UsageReceipt }>>()
    for (const p of pending) {
      const key = `${p.receipt.deploymentId}/${p.receipt.epoch}`
      let group = groups.get(key)
      if (!group) groups.set(key, (group = []))
      group.push(p)
    }
    const records = []
    for (const group of groups.values())
      for (let i = 0; i < group.length; i += this.mode.maxReceipts) {
        const part = group.slice(i, i + this.mode.maxReceipts)
        records.push({ kind: 'batch' as const, digests: part.map((p) => p.digest), document: signBatch(part.map((p) => p.receipt), this.privateKey, this.domain, this.separator) })
      }
    await this.queue.append(records)
    return pending.length
  }
}
