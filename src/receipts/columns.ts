/**
 * Verified receipts as columns of typed arrays (ReceiptColumns): one column per field of the receipt schema
 * table (schema.ts), plus validity, digest and signature.
 */
import { toHex, type Hex } from '../base/bytes.ts'
import { hexToBytes } from '../base/bytes.ts'
import type { ReceiptRejection, UsageReceipt } from './receipt.ts'
import { BLANK_RECEIPT, columnArray, FIELD_LAYOUT, RECEIPT_SCHEMA, type FieldSpec, type ReceiptField } from './schema.ts'

/** Every column, in order: what is transferred and concatenated. */
const COLUMN_KEYS = ['valid', 'digest', ...RECEIPT_SCHEMA.map((f) => f.name), 'signature'] as const

/** Byte fields (copied as bytes) and integer fields (one typed-array element per receipt), precomputed. */
const BYTE_FIELDS = FIELD_LAYOUT.filter((f) => f.width > 0)
const INTEGER_FIELDS = FIELD_LAYOUT.filter((f) => f.width === 0)

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Per field, where row i's bytes are in the EIP-712 struct words: the last `width` bytes of its word,
 * big-endian, so reversed into a little-endian integer array.
 */
const WORD_COPIES = FIELD_LAYOUT.map((f) => ({ width: f.columnWidth, at: f.offset + 32 - f.columnWidth, reverse: f.width === 0 && LITTLE_ENDIAN }))

type FieldArray = Uint8Array | Uint16Array | Uint32Array | BigUint64Array

/**
 * The field columns in FIELD_LAYOUT order, as they are and as bytes, for loops indexed by field. Under a
 * symbol key, so never part of a worker message (rebuilt on first use after one).
 */
const FIELDS = Symbol('field columns in layout order')
type FieldArrays = { arrays: FieldArray[]; bytes: Uint8Array[] }

function fieldArrays(columns: ReceiptColumns): FieldArrays {
  const self = columns as unknown as Record<string, FieldArray>
  const arrays = FIELD_LAYOUT.map((f) => self[f.name]!)
  return { arrays, bytes: arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) }
}

export type ReceiptFailure = { index: number; reason: ReceiptRejection | 'internal'; message: string }

type ColumnOf<F extends FieldSpec> = F['column']['array'] extends 'bytes' ? Uint8Array : F['column']['array'] extends 'u16' ? Uint16Array : F['column']['array'] extends 'u32' ? Uint32Array : BigUint64Array

/** One typed array per receipt field (bytes fields: `width` bytes per receipt). */
export type ReceiptFieldColumns = { readonly [F in ReceiptField as F['name']]: ColumnOf<F> }

// The field columns are declared by the table-derived type above and created in the constructor.
export interface ReceiptColumns extends ReceiptFieldColumns {}

/**
 * Verified receipts as columns of typed arrays: what worker threads hand back
 * to the caller. Typed arrays are transferred without copying, where an array
 * of receipt objects would be serialised field by field, which would cost the
 * receiving thread more than the verification itself.
 */
export class ReceiptColumns {
  readonly valid: Uint8Array
  readonly digest: Uint8Array
  /** 65-byte signatures of per-call receipts (zero for batched ones). */
  readonly signature: Uint8Array
  failures: ReceiptFailure[] = [];
  [FIELDS]: FieldArrays | undefined

  constructor(readonly length: number) {
    this.valid = new Uint8Array(length)
    this.digest = new Uint8Array(32 * length)
    const self = this as unknown as Record<string, unknown>
    for (const f of RECEIPT_SCHEMA as readonly FieldSpec[]) {
      const array = columnArray(f)
      self[f.name] = new array((f.column.width / array.BYTES_PER_ELEMENT) * length)
    }
    this.signature = new Uint8Array(65 * length)
    this[FIELDS] = fieldArrays(this)
  }

  setSignature(i: number, signature: string): void {
    this.signature.set(hexToBytes(signature, 65), 65 * i)
  }

  set(i: number, r: UsageReceipt, digest: Uint8Array | Hex): void {
    this.valid[i] = 1
    if (typeof digest === 'string') this.digest.set(hexToBytes(digest, 32), 32 * i)
    else this.digest.set(digest, 32 * i)
    const self = this as unknown as Record<string, Uint8Array>
    for (let k = 0; k < BYTE_FIELDS.length; k++) {
      const f = BYTE_FIELDS[k]!
      self[f.name]!.set(hexToBytes(r[f.name] as Hex, f.width), f.width * i)
    }
    this.#setNumbers(i, r)
  }

  /** Fills row `i` from EIP-712 struct words (the fast path's buffer), which hold every field's bytes. */
  setFromWords(i: number, words: Uint8Array, digest: Uint8Array): void {
    this.valid[i] = 1
    this.digest.set(digest, 32 * i)
    const views = (this[FIELDS] ??= fieldArrays(this)).bytes
    for (let k = 0; k < WORD_COPIES.length; k++) {
      const copy = WORD_COPIES[k]!
      const view = views[k]!
      const width = copy.width
      const at = copy.at
      const base = width * i
      if (copy.reverse) for (let b = 0; b < width; b++) view[base + b] = words[at + width - 1 - b] as number
      else for (let b = 0; b < width; b++) view[base + b] = words[at + b] as number
    }
  }

  #setNumbers(i: number, r: UsageReceipt): void {
    const self = this as unknown as Record<string, Array<number | bigint>>
    for (let k = 0; k < INTEGER_FIELDS.length; k++) {
      const name = INTEGER_FIELDS[k]!.name
      self[name]![i] = r[name] as number | bigint
    }
  }

  fail(index: number, reason: ReceiptFailure['reason'], message: string): void {
    this.failures.push({ index, reason, message })
  }

  digestHex(i: number): Hex {
    return toHex(this.digest, 32 * i, 32 * i + 32)
  }

  receipt(i: number): UsageReceipt {
    const arrays = (this[FIELDS] ??= fieldArrays(this)).arrays
    const out = { ...BLANK_RECEIPT }
    for (let k = 0; k < FIELD_LAYOUT.length; k++) {
      const f = FIELD_LAYOUT[k]!
      const column = arrays[k]!
      out[f.name] = f.width > 0 ? toHex(column as Uint8Array, f.width * i, f.width * i + f.width) : (column[i] as number | bigint)
    }
    return out as UsageReceipt
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
