/**
 * The usage receipt's fields, in one table: RECEIPT_SCHEMA below. Everything that lists a receipt's fields
 * derives from it: the EIP-712 type (hence the type string and type hash), RECEIPT_FIELDS, the `UsageReceipt`
 * type, the precise reader and the JSON writer (receipt.ts), the fast path's struct words (fastpath.ts), the
 * typed-array columns (columns.ts), a batch's per-receipt columns and its verifier's words (batch*.ts), and the
 * SQL columns the aggregator inserts and exports (src/aggregator/store.ts).
 *
 * Adding a field takes:
 *   1. one row in RECEIPT_SCHEMA (name, EIP-712 type, JSON kind and range, column storage, `batch: 'column'`,
 *      SQL column name and type), at the place it takes in the EIP-712 type (the order is the type's order);
 *   2. regenerated test vectors and golden fixtures (`npx tsx test/generate-fixtures.ts`,
 *      `npx tsx test/generate-golden.ts`): the type string changes, hence every digest and signature;
 *   3. a migration in src/aggregator/migrations.ts adding the SQL column (released migrations are never edited;
 *      store.test.ts compares the live receipts table with this table and names a field without its column).
 * Code that creates receipts from scratch (the demo, fixture generators, benchmarks, test worlds) must give the
 * new field a value: `UsageReceipt` is derived from this table, so the compiler names each such place.
 * A field placed in the batch header (`batch: 'header'`) also changes the UsageBatch type (types.ts), a
 * separate protocol type; new fields belong in the per-receipt columns.
 */
import type { Hex } from '../base/bytes.ts'

/** Largest gross amount of one call: 1,000,000 USDC (a typo guard; the type allows uint64). */
export const MAX_RECEIPT_AMOUNT = 10n ** 12n

/**
 * How a field reads from and writes to JSON. `bytes32` and `address` are 0x-hex (addresses lower case or
 * EIP-55); `uint` and `amount` are canonical decimal strings within [min, max] (`amount`: max is
 * MAX_RECEIPT_AMOUNT, in USDC base units). `what` names a value in error messages; `items` names a batch
 * column of such values.
 */
export type JsonKind =
  | { readonly kind: 'bytes32'; readonly items: string }
  | { readonly kind: 'address'; readonly items: string }
  | { readonly kind: 'uint'; readonly min: bigint; readonly max: bigint; readonly what: string }
  | { readonly kind: 'amount'; readonly min: bigint; readonly what: string }

/**
 * How a field is held in ReceiptColumns: raw bytes (`width` bytes per receipt) or one element of a typed
 * array (`width` = its bytes per element). The storage also decides the JavaScript value: bytes are Hex,
 * `u64` a bigint, `u16` and `u32` a number.
 */
export type ColumnStorage =
  | { readonly array: 'bytes'; readonly width: 20 | 32 }
  | { readonly array: 'u16'; readonly width: 2 }
  | { readonly array: 'u32'; readonly width: 4 }
  | { readonly array: 'u64'; readonly width: 8 }

export type SqlType = 'bytea' | 'bigint' | 'integer' | 'numeric'

export type FieldSpec = {
  readonly name: string
  /** The EIP-712 (static ABI) type. */
  readonly type: 'bytes32' | 'address' | 'uint16' | 'uint32' | 'uint64'
  readonly json: JsonKind
  readonly column: ColumnStorage
  /** In a batch: once in the signed header, or a column with one entry per receipt. */
  readonly batch: 'header' | 'column'
  /** The column of the aggregator's `receipts` table and its PostgreSQL type (information_schema's data_type). */
  readonly sql: { readonly column: string; readonly type: SqlType }
}

const U32 = { kind: 'uint', min: 0n, max: 0xffff_ffffn, what: 'a uint32' } as const

/** The fields of `UsageReceipt`, in EIP-712 order (docs/receipts.md). */
export const RECEIPT_SCHEMA = [
  // The model deployment.
  { name: 'deploymentId', type: 'bytes32', json: { kind: 'bytes32', items: 'deployment ids' }, column: { array: 'bytes', width: 32 }, batch: 'header', sql: { column: 'deployment_id', type: 'bytea' } },
  // The signer: the compute provider's address (lower case).
  { name: 'provider', type: 'address', json: { kind: 'address', items: 'addresses' }, column: { array: 'bytes', width: 20 }, batch: 'header', sql: { column: 'provider', type: 'bytea' } },
  // The account that paid for the call.
  { name: 'user', type: 'address', json: { kind: 'address', items: 'addresses' }, column: { array: 'bytes', width: 20 }, batch: 'column', sql: { column: 'user_address', type: 'bytea' } },
  { name: 'epoch', type: 'uint32', json: U32, column: { array: 'u32', width: 4 }, batch: 'header', sql: { column: 'epoch', type: 'bigint' } },
  // Unique per provider.
  { name: 'requestId', type: 'bytes32', json: { kind: 'bytes32', items: 'request ids' }, column: { array: 'bytes', width: 32 }, batch: 'column', sql: { column: 'request_id', type: 'bytea' } },
  // Unix seconds.
  { name: 'timestamp', type: 'uint64', json: { kind: 'uint', min: 0n, max: (1n << 64n) - 1n, what: 'unix seconds' }, column: { array: 'u64', width: 8 }, batch: 'column', sql: { column: 'ts', type: 'bigint' } },
  { name: 'inputTokens', type: 'uint32', json: U32, column: { array: 'u32', width: 4 }, batch: 'column', sql: { column: 'input_tokens', type: 'bigint' } },
  { name: 'outputTokens', type: 'uint32', json: U32, column: { array: 'u32', width: 4 }, batch: 'column', sql: { column: 'output_tokens', type: 'bigint' } },
  // List price of the call before the staking discount, USDC base units.
  { name: 'grossAmount', type: 'uint64', json: { kind: 'amount', min: 1n, what: 'a gross amount in USDC base units' }, column: { array: 'u64', width: 8 }, batch: 'column', sql: { column: 'gross', type: 'numeric' } },
  { name: 'discountBps', type: 'uint16', json: { kind: 'uint', min: 0n, max: 10_000n, what: 'basis points' }, column: { array: 'u16', width: 2 }, batch: 'column', sql: { column: 'discount_bps', type: 'integer' } },
  // What the user paid: gross - floor(gross * discountBps / 10^4).
  { name: 'chargedAmount', type: 'uint64', json: { kind: 'amount', min: 0n, what: 'a charged amount in USDC base units' }, column: { array: 'u64', width: 8 }, batch: 'column', sql: { column: 'charged', type: 'numeric' } },
] as const satisfies readonly FieldSpec[]

export type ReceiptField = (typeof RECEIPT_SCHEMA)[number]
export type ReceiptFieldName = ReceiptField['name']

/** A field's JavaScript value, from its storage: bytes are Hex, u64 a bigint, u16/u32 a number. */
export type FieldValue<F extends FieldSpec> = F['column']['array'] extends 'bytes' ? Hex : F['column']['array'] extends 'u64' ? bigint : number

/** One inference call as a provider attests it (amounts in USDC base units): one property per table row. */
export type UsageReceipt = { [F in ReceiptField as F['name']]: FieldValue<F> }

type NamesOf<T extends readonly FieldSpec[]> = { readonly [K in keyof T]: T[K] extends FieldSpec ? T[K]['name'] : never }
type Eip712Of<T extends readonly FieldSpec[]> = { readonly [K in keyof T]: T[K] extends FieldSpec ? { readonly name: T[K]['name']; readonly type: T[K]['type'] } : never }

/** The fields in order (the keys of a receipt's JSON `message`). */
export const RECEIPT_FIELDS = RECEIPT_SCHEMA.map((f) => f.name) as unknown as NamesOf<typeof RECEIPT_SCHEMA>

/** The `UsageReceipt` EIP-712 type: [{ name, type }] per field. */
export const RECEIPT_EIP712_FIELDS = RECEIPT_SCHEMA.map((f) => ({ name: f.name, type: f.type })) as unknown as Eip712Of<typeof RECEIPT_SCHEMA>

/** Byte offset of field `index`'s 32-byte word in the struct words (after the type hash). */
export const wordOffset = (index: number): number => 32 * (1 + index)

/** Size of a receipt's struct words: the type hash and one word per field. */
export const STRUCT_SIZE = wordOffset(RECEIPT_SCHEMA.length)

/** Whether a field's value is a bigint (u64 storage) rather than a number or Hex. */
export const isBigField = (f: FieldSpec): boolean => f.column.array === 'u64'

/** Inclusive range of a `uint` or `amount` field. */
export function fieldRange(f: FieldSpec): { min: bigint; max: bigint; what: string } {
  if (f.json.kind === 'uint') return f.json
  if (f.json.kind === 'amount') return { min: f.json.min, max: MAX_RECEIPT_AMOUNT, what: f.json.what }
  throw new Error(`receipt field ${f.name} is not an integer`)
}

/** A field's typed array constructor (bytes: Uint8Array of `width` bytes per receipt). */
export function columnArray(f: FieldSpec): Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | BigUint64ArrayConstructor {
  switch (f.column.array) {
    case 'bytes':
      return Uint8Array
    case 'u16':
      return Uint16Array
    case 'u32':
      return Uint32Array
    case 'u64':
      return BigUint64Array
  }
}

/**
 * A field as the hot loops use it: position and kind precomputed, so a loop over these is a switch on `kind`
 * with no per-field closure. `bytes` fields sit in the last `width` bytes of their word (`at`).
 */
export type FieldLayout = {
  readonly name: ReceiptFieldName
  readonly index: number
  /** Start of the field's 32-byte word in the struct words. */
  readonly offset: number
  readonly kind: 'bytes32' | 'address' | 'number' | 'bigint'
  /** Bytes per receipt in ReceiptColumns (bytes fields), else 0. */
  readonly width: number
  /** Bytes per receipt in ReceiptColumns, any storage (the typed array's element size for integers). */
  readonly columnWidth: number
  /** Where the field's bytes start in the struct words (bytes fields: offset + 32 - width). */
  readonly at: number
  readonly min: bigint
  readonly max: bigint
  readonly minNumber: number
  readonly maxNumber: number
  /** How error messages name a value (integers) or a batch column of values (bytes). */
  readonly what: string
  readonly batch: 'header' | 'column'
}

export const FIELD_LAYOUT: readonly FieldLayout[] = RECEIPT_SCHEMA.map((f: FieldSpec, index): FieldLayout => {
  const offset = wordOffset(index)
  const range = f.json.kind === 'bytes32' || f.json.kind === 'address' ? { min: 0n, max: 0n, what: f.json.items } : fieldRange(f)
  const width = f.column.array === 'bytes' ? f.column.width : 0
  return {
    name: f.name as ReceiptFieldName,
    index,
    offset,
    kind: f.json.kind === 'bytes32' ? 'bytes32' : f.json.kind === 'address' ? 'address' : isBigField(f) ? 'bigint' : 'number',
    width,
    columnWidth: f.column.width,
    at: offset + 32 - width,
    min: range.min,
    max: range.max,
    minNumber: Number(range.min),
    maxNumber: Number(range.max),
    what: range.what,
    batch: f.batch,
  }
})

/**
 * A receipt with every field at a placeholder: hot code clones it (`{ ...BLANK_RECEIPT }`: one allocation, the
 * final shape) and fills it in. Not frozen: V8 clones a frozen object much more slowly.
 */
export const BLANK_RECEIPT: Readonly<Record<ReceiptFieldName, Hex | number | bigint>> = Object.fromEntries(
  FIELD_LAYOUT.map((f) => [f.name, f.kind === 'bigint' ? 0n : f.kind === 'number' ? 0 : '0x']),
) as Record<ReceiptFieldName, Hex | number | bigint>

/** The layout of each field by name (a dictionary without prototype). */
export const LAYOUT_BY_NAME: Readonly<Record<string, FieldLayout | undefined>> = Object.assign(Object.create(null) as Record<string, FieldLayout>, Object.fromEntries(FIELD_LAYOUT.map((f) => [f.name, f])))

/** Fields a batch carries once, in its signed header (deployment, provider, epoch). */
export const HEADER_FIELDS = RECEIPT_SCHEMA.filter((f) => f.batch === 'header')
/** Fields a batch carries as one column entry per receipt. */
export const BATCH_COLUMN_FIELDS = RECEIPT_SCHEMA.filter((f) => f.batch === 'column')

export type HeaderFieldName = Extract<ReceiptField, { batch: 'header' }>['name']
export type BatchColumnName = Extract<ReceiptField, { batch: 'column' }>['name']

/** The header fields' layouts, in table order. */
export const HEADER_LAYOUT = FIELD_LAYOUT.filter((f): f is FieldLayout & { name: HeaderFieldName } => f.batch === 'header')
/** The batch columns' layouts (name, width, range, message wording), in column order. */
export const BATCH_COLUMN_LAYOUT = FIELD_LAYOUT.filter((f): f is FieldLayout & { name: BatchColumnName } => f.batch === 'column')
