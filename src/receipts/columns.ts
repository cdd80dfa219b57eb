import { toHex, type Hex } from '../base/bytes.ts'
import { hexToBytes } from '../base/bytes.ts'
import type { ReceiptRejection, UsageReceipt } from './receipt.ts'

const COLUMN_KEYS = ['valid', 'digest', 'deploymentId', 'provider', 'user', 'requestId', 'epoch', 'timestamp', 'inputTokens', 'outputTokens', 'grossAmount', 'discountBps', 'chargedAmount', 'signature'] as const

export type ReceiptFailure = { index: number; reason: ReceiptRejection | 'internal'; message: string }

/**
 * Verified receipts as columns of typed arrays: what worker threads hand back
 * to the caller. Typed arrays are transferred without copying, where an array
 * of receipt objects would be serialised field by field, which would cost the
 * receiving thread more than the verification itself.
 */
export class ReceiptColumns {
  readonly valid: Uint8Array
  readonly digest: Uint8Array
  readonly deploymentId: Uint8Array
  readonly provider: Uint8Array
  readonly user: Uint8Array
  readonly requestId: Uint8Array
  readonly epoch: Uint32Array
  readonly timestamp: BigUint64Array
  readonly inputTokens: Uint32Array
  readonly outputTokens: Uint32Array
  readonly grossAmount: BigUint64Array
  readonly discountBps: Uint16Array
  readonly chargedAmount: BigUint64Array
  /** 65-byte signatures of per-call receipts (zero for batched ones). */
  readonly signature: Uint8Array
  failures: ReceiptFailure[] = []

  constructor(readonly length: number) {
    this.valid = new Uint8Array(length)
    this.digest = new Uint8Array(32 * length)
    this.deploymentId = new Uint8Array(32 * length)
    this.provider = new Uint8Array(20 * length)
    this.user = new Uint8Array(20 * length)
    this.requestId = new Uint8Array(32 * length)
    this.epoch = new Uint32Array(length)
    this.timestamp = new BigUint64Array(length)
    this.inputTokens = new Uint32Array(length)
    this.outputTokens = new Uint32Array(length)
    this.grossAmount = new BigUint64Array(length)
    this.discountBps = new Uint16Array(length)
    this.chargedAmount = new BigUint64Array(length)
    this.signature = new Uint8Array(65 * length)
  }

  setSignature(i: number, signature: string): void {
    this.signature.set(hexToBytes(signature, 65), 65 * i)
  }

  set(i: number, r: UsageReceipt, digest: Uint8Array | Hex): void {
    this.valid[i] = 1
    if (typeof digest === 'string') this.digest.set(hexToBytes(digest, 32), 32 * i)
    else this.digest.set(digest, 32 * i)
    this.deploymentId.set(hexToBytes(r.deploymentId, 32), 32 * i)
    this.provider.set(hexToBytes(r.provider, 20), 20 * i)
    this.user.set(hexToBytes(r.user, 20), 20 * i)
    this.requestId.set(hexToBytes(r.requestId, 32), 32 * i)
    this.#setNumbers(i, r)
  }

  /** Fills row `i` from EIP-712 struct words (the fast path's buffer), which hold every field's bytes. */
  setFromWords(i: number, r: UsageReceipt, words: Uint8Array, digest: Uint8Array): void {
    this.valid[i] = 1
    this.digest.set(digest, 32 * i)
    this.deploymentId.set(words.subarray(32, 64), 32 * i)
    this.provider.set(words.subarray(76, 96), 20 * i)
    this.user.set(words.subarray(108, 128), 20 * i)
    this.requestId.set(words.subarray(160, 192), 32 * i)
    this.#setNumbers(i, r)
  }

  #setNumbers(i: number, r: UsageReceipt): void {
    this.epoch[i] = r.epoch
    this.timestamp[i] = r.timestamp
    this.inputTokens[i] = r.inputTokens
    this.outputTokens[i] = r.outputTokens
    this.grossAmount[i] = r.grossAmount
    this.discountBps[i] = r.discountBps
    this.chargedAmount[i] = r.chargedAmount
  }

  fail(index: number, reason: ReceiptFailure['reason'], message: string): void {
    this.failures.push({ index, reason, message })
  }

  digestHex(i: number): Hex {
    return toHex(this.digest, 32 * i, 32 * i + 32)
  }

  receipt(i: number): UsageReceipt {
    return {
      deploymentId: toHex(this.deploymentId, 32 * i, 32 * i + 32),
      provider: toHex(this.provider, 20 * i, 20 * i + 20),
      user: toHex(this.user, 20 * i, 20 * i + 20),
      epoch: this.epoch[i] as number,
      requestId: toHex(this.requestId, 32 * i, 32 * i + 32),
      timestamp: this.timestamp[i] as bigint,
      inputTokens: this.inputTokens[i] as number,
      outputTokens: this.outputTokens[i] as number,
      grossAmount: this.grossAmount[i] as bigint,
      discountBps: this.discountBps[i] as number,
      chargedAmount: this.chargedAmount[i] as bigint,
    }
  }

  /** The buffers to transfer with postMessage. */
  transferList(): ArrayBuffer[] {
    return COLUMN_KEYS.map((k) => this[k].buffer as ArrayBuffer)
  }

  /** Rebuilds the class around columns received from a worker. */
  static revive(data: ReceiptColumns): ReceiptColumns {
    return Object.assign(Object.create(ReceiptColumns.prototype) as ReceiptColumns, data)
  }

  /** Concatenates column sets (in order). */
  static concat(parts: readonly ReceiptColumns[]): ReceiptColumns {
    const total = parts.reduce((n, p) => n + p.length, 0)
    const out = new ReceiptColumns(total)
    let offset = 0
    for (const p of parts) {
      for (const key of COLUMN_KEYS) {
        const width = out[key].length / Math.max(1, total)
        ;(out[key] as Uint8Array).set(p[key] as Uint8Array, offset * width)
      }
      out.failures.push(...p.failures.map((f) => ({ ...f, index: f.index + offset })))
      offset += p.length
    }
    return out
  }
}
