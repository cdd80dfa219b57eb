import { getAddress } from 'viem'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { chargedAmountSmall } from '../economics/revenue.ts'
import { SchemaError } from '../base/errors.ts'
import { isCanonicalDecimal } from '../base/decimal.ts'
import { Reader } from '../base/reader.ts'
import { hexToBytes, toHex, writeUint64, type Hex } from '../base/bytes.ts'
import { getProof, placeLeaves, processProof, sortLeafOrder } from '../merkle/core.ts'
import { keccak256, keccakWasm } from '../base/keccak.ts'
import { hashNodesRange } from '../base/keccakWasm.mjs'
import { checkDomain, readDomain, readTypes } from './document.ts'
import { checkCharged, MAX_RECEIPT_AMOUNT, readAddress, readBytes32, readReceiptMessage, readUint, receiptDigest, receiptMessageJson, ReceiptError, RECEIPT_FIELDS, type UsageReceipt } from './receipt.ts'
import { ReceiptColumns } from './columns.ts'
import { signDigest } from './signature.ts'
import { digestOfWords, STRUCT_SIZE, writeWord } from './fastpath.ts'
import { addressOf, privateKeyBytes, type PrivateKey } from './sign.ts'
import type { ReceiptVerifier, VerifiedReceipt } from './verify.ts'
import { BATCH_TYPES, encodeStruct, RECEIPT_TYPES, typedDataDigest, USAGE_BATCH_TYPE, USAGE_BATCH_TYPEHASH, USAGE_RECEIPT_TYPE, USAGE_RECEIPT_TYPEHASH, type ReceiptDomain } from './types.ts'

/**
 * Provider-signed batches: one signature over a header that commits to the
 * receipts' EIP-712 digests through an OpenZeppelin Merkle tree
 * whose leaves are the digests. A whole batch is verified by rebuilding the root;
 * one receipt with its inclusion proof stays verifiable on its own.
 */
export const RECEIPT_BATCH_FORMAT = 'fomo-receipt-batch-v1'
export const BATCHED_RECEIPT_FORMAT = 'fomo-batched-receipt-v1'
export const MAX_BATCH_RECEIPTS = 100_000

export type BatchHeader = { provider: Hex; deploymentId: Hex; epoch: number; count: number; receiptsRoot: Hex }

/**
 * The receipts of a batch travel as columns: deployment, provider and epoch are
 * the header's, so they appear once; addresses and request ids are concatenated
 * hex; integers are arrays of decimal strings. Decoding is a few native hex
 * decodes per batch instead of an object per receipt.
 */
export type BatchColumns = {
  user: Hex
  requestId: Hex
  timestamp: string[]
  inputTokens: string[]
  outputTokens: string[]
  grossAmount: string[]
  discountBps: string[]
  chargedAmount: string[]
}

export type ReceiptBatchDocument = {
  format: typeof RECEIPT_BATCH_FORMAT
  domain: ReceiptDomain
  types: typeof BATCH_TYPES
  primaryType: 'UsageBatch'
  message: Record<keyof BatchHeader, string>
  signature: Hex
  receipts: BatchColumns
}

export type BatchedReceiptDocument = {
  format: typeof BATCHED_RECEIPT_FORMAT
  domain: ReceiptDomain
  types: typeof RECEIPT_TYPES
  primaryType: 'UsageReceipt'
  message: Record<(typeof RECEIPT_FIELDS)[number], string>
  batch: { message: Record<keyof BatchHeader, string>; signature: Hex; proof: Hex[] }
}

/**
 * The batch tree: an OpenZeppelin SimpleMerkleTree whose leaves are the
 * receipts' EIP-712 digests themselves (sorted, heap-ordered, sorted-pair
 * keccak nodes). A digest is never taken as given: verifiers recompute it from
 * the receipt, so no internal node can pose as a leaf.
 */
export function receiptsTree(digests: Uint8Array): { nodes: Uint8Array; treeIndexOf: (i: number) => number } {
  const n = digests.length / 32
  const order = sortLeafOrder(digests, n)
  const nodes = placeLeaves(digests, order)
  hashNodesRange(keccakWasm, keccak_256, nodes, 0, n - 1)
  const position = new Uint32Array(n)
  for (let k = 0; k < n; k++) position[order[k] as number] = 2 * n - 2 - k
  return { nodes, treeIndexOf: (i) => position[i] as number }
}

export function receiptsRoot(digests: Uint8Array): Uint8Array {
  return receiptsTree(digests).nodes.slice(0, 32)
}

export function batchHeaderDigest(header: BatchHeader, separator: Uint8Array): Uint8Array {
  const struct = encodeStruct(USAGE_BATCH_TYPEHASH, [header.provider, header.deploymentId, BigInt(header.epoch), BigInt(header.count), header.receiptsRoot], 'batch')
  return typedDataDigest(separator, keccak256(struct))
}

function headerJson(h: BatchHeader): Record<keyof BatchHeader, string> {
  return { provider: getAddress(h.provider), deploymentId: h.deploymentId, epoch: String(h.epoch), count: String(h.count), receiptsRoot: h.receiptsRoot }
}

function readHeader(r: Reader): BatchHeader {
  r.object(['provider', 'deploymentId', 'epoch', 'count', 'receiptsRoot'])
  return {
    provider: readAddress(r.field('provider')),
    deploymentId: readBytes32(r.field('deploymentId')),
    epoch: Number(readUint(r.field('epoch'), 0n, 0xffff_ffffn, 'a uint32')),
    count: Number(readUint(r.field('count'), 1n, BigInt(MAX_BATCH_RECEIPTS), 'a receipt count')),
    receiptsRoot: readBytes32(r.field('receiptsRoot')),
  }
}

/** Signs a batch of one provider's receipts of one deployment and epoch. */
export function signBatch(receipts: readonly UsageReceipt[], privateKey: PrivateKey, domain: ReceiptDomain, separator: Uint8Array): ReceiptBatchDocument {
  const first = receipts[0]
  if (!first) throw new ReceiptError('batch-mismatch', 'a batch needs at least one receipt')
  if (receipts.length > MAX_BATCH_RECEIPTS) throw new ReceiptError('batch-mismatch', `a batch holds at most ${MAX_BATCH_RECEIPTS} receipts`)
  const provider = addressOf(privateKey)
  const digests = new Uint8Array(32 * receipts.length)
  receipts.forEach((r, i) => {
    if (r.provider !== provider || r.deploymentId !== first.deploymentId || r.epoch !== first.epoch)
      throw new ReceiptError('batch-mismatch', `receipt ${i}: a batch holds one provider's receipts of one deployment and epoch`)
    checkCharged(r)
    digests.set(receiptDigest(r, separator), 32 * i)
  })
  const header: BatchHeader = { provider, deploymentId: first.deploymentId, epoch: first.epoch, count: receipts.length, receiptsRoot: toHex(receiptsRoot(digests)) }
  return {
    format: RECEIPT_BATCH_FORMAT,
    domain: { ...domain },
    types: BATCH_TYPES,
    primaryType: 'UsageBatch',
    message: headerJson(header),
    signature: signDigest(batchHeaderDigest(header, separator), privateKeyBytes(privateKey)),
    receipts: {
      user: `0x${receipts.map((r) => r.user.slice(2).toLowerCase()).join('')}`,
      requestId: `0x${receipts.map((r) => r.requestId.slice(2).toLowerCase()).join('')}`,
      timestamp: receipts.map((r) => r.timestamp.toString()),
      inputTokens: receipts.map((r) => String(r.inputTokens)),
      outputTokens: receipts.map((r) => String(r.outputTokens)),
      grossAmount: receipts.map((r) => r.grossAmount.toString()),
      discountBps: receipts.map((r) => String(r.discountBps)),
      chargedAmount: receipts.map((r) => r.chargedAmount.toString()),
    },
  }
}

function schema<T>(read: () => T): T {
  try {
    return read()
  } catch (error) {
    if (error instanceof SchemaError) throw new ReceiptError('schema', error.shortMessage, 'See docs/receipts.md for the batch format.')
    throw error
  }
}

function checkInBatch(receipt: UsageReceipt, header: BatchHeader): void {
  for (const key of ['provider', 'deploymentId', 'epoch'] as const)
    if (receipt[key] !== header[key]) throw new ReceiptError('batch-mismatch', `receipt.${key} is ${receipt[key]}, but the batch header says ${header[key]}`)
}

/** Reads one integer column: `count` decimal strings within [min, max] (exact: short values go through Number). */
function integerColumn(r: Reader, count: number, min: bigint, max: bigint, what: string): Float64Array | BigUint64Array {
  const items = r.value
  if (!Array.isArray(items) || items.length !== count) r.fail(`an array of ${count} decimal strings (one per receipt)`)
  const big = max > BigInt(Number.MAX_SAFE_INTEGER)
  const out = big ? new BigUint64Array(count) : new Float64Array(count)
  const lo = Number(min)
  const hi = big ? Number.MAX_SAFE_INTEGER : Number(max)
  for (let i = 0; i < count; i++) {
    const v = items[i]
    if (typeof v !== 'string' || !isCanonicalDecimal(v, 20)) new Reader(r.format, v, `${r.path}[${i}]`).fail(`${what} as a decimal string`)
    if (v.length <= 15) {
      const n = Number(v)
      if (n < lo || n > hi) new Reader(r.format, v, `${r.path}[${i}]`).fail(`${what} from ${min} to ${max}`)
      out[i] = (big ? BigInt(n) : n) as never
    } else {
      const n = BigInt(v)
      if (!big || n > max) new Reader(r.format, v, `${r.path}[${i}]`).fail(`${what} from ${min} to ${max}`)
      out[i] = n as never
    }
  }
  return out
}

/** Fills `out` with copies of `unit` by doubling the filled prefix (log n copies). */
function fillRepeated(out: Uint8Array, unit: Uint8Array): void {
  if (out.length === 0) return
  out.set(unit, 0)
  for (let filled = unit.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled))
}

/** Reads a column of `count` concatenated `width`-byte values in 0x-hex. */
function hexColumn(r: Reader, count: number, width: number, what: string): Buffer {
  const v = r.value
  if (typeof v !== 'string' || v.length !== 2 + 2 * width * count || !v.startsWith('0x')) r.fail(`0x-hex of ${count} ${what} of ${width} bytes each, concatenated`)
  const bytes = Buffer.from(v.slice(2), 'hex')
  if (bytes.length !== width * count) r.fail(`${what}: only hex digits`)
  return bytes
}

/**
 * Verifies a whole batch: header signature, provider allowed, every receipt
 * well formed with a consistent charged amount, the count, and the root of the
 * receipts' digests. All or nothing: any failure rejects the batch, naming the
 * receipt. Returns the receipts as columns.
 */
export function verifyBatch(verifier: ReceiptVerifier, document: unknown): ReceiptColumns {
  const { header, signature, columns } = schema(() => {
    const r = new Reader(RECEIPT_BATCH_FORMAT, document)
    r.object(['format', 'domain', 'types', 'primaryType', 'message', 'signature', 'receipts'])
    r.field('format').literal([RECEIPT_BATCH_FORMAT])
    r.field('primaryType').literal(['UsageBatch'])
    readTypes(r.field('types'), 'UsageBatch', USAGE_BATCH_TYPE)
    checkDomain(readDomain(r.field('domain')), verifier.domain)
    const header = readHeader(r.field('message'))
    const c = r.field('receipts')
    c.object(['user', 'requestId', 'timestamp', 'inputTokens', 'outputTokens', 'grossAmount', 'discountBps', 'chargedAmount'])
    const n = header.count
    return {
      header,
      signature: r.field('signature').value,
      columns: {
        user: hexColumn(c.field('user'), n, 20, 'addresses'),
        requestId: hexColumn(c.field('requestId'), n, 32, 'request ids'),
        timestamp: integerColumn(c.field('timestamp'), n, 0n, (1n << 64n) - 1n, 'unix seconds') as BigUint64Array,
        inputTokens: integerColumn(c.field('inputTokens'), n, 0n, 0xffff_ffffn, 'a uint32') as Float64Array,
        outputTokens: integerColumn(c.field('outputTokens'), n, 0n, 0xffff_ffffn, 'a uint32') as Float64Array,
        grossAmount: integerColumn(c.field('grossAmount'), n, 1n, MAX_RECEIPT_AMOUNT, 'a gross amount in USDC base units') as Float64Array,
        discountBps: integerColumn(c.field('discountBps'), n, 0n, 10_000n, 'basis points') as Float64Array,
        chargedAmount: integerColumn(c.field('chargedAmount'), n, 0n, MAX_RECEIPT_AMOUNT, 'a charged amount in USDC base units') as Float64Array,
      },
    }
  })
  verifier.signatures.check(signature, batchHeaderDigest(header, verifier.separator), header.provider)
  verifier.checkAllowed({ provider: header.provider, deploymentId: header.deploymentId } as UsageReceipt)
  const n = header.count
  const out = new ReceiptColumns(n)
  // The struct words shared by every receipt of the batch: type hash, deployment, provider, epoch.
  const words = new Uint8Array(STRUCT_SIZE)
  words.set(USAGE_RECEIPT_TYPEHASH, 0)
  words.set(hexToBytes(header.deploymentId, 32), 32)
  words.set(hexToBytes(header.provider, 20), 76)
  writeUint64(header.epoch, words, 152)
  const deployment = words.subarray(32, 64)
  const provider = words.subarray(76, 96)
  for (let i = 0; i < n; i++) {
    const gross = columns.grossAmount[i] as number
    const discount = columns.discountBps[i] as number
    const charged = columns.chargedAmount[i] as number
    const expected = chargedAmountSmall(gross, discount)
    if (charged !== expected)
      throw new ReceiptError('charged-mismatch', `receipts[${i}]: chargedAmount ${charged} does not match grossAmount ${gross} at ${discount} bps (expected ${expected})`)
    for (let k = 0; k < 20; k++) words[108 + k] = columns.user[20 * i + k] as number
    for (let k = 0; k < 32; k++) words[160 + k] = columns.requestId[32 * i + k] as number
    writeWord(columns.timestamp[i] as bigint, words, 192)
    writeWord(columns.inputTokens[i] as number, words, 224)
    writeWord(columns.outputTokens[i] as number, words, 256)
    writeWord(gross, words, 288)
    writeWord(discount, words, 320)
    writeWord(charged, words, 352)
    digestOfWords(words, verifier.separator, out.digest, 32 * i)
  }
  // The header's fields, the same in every row: written once, then doubled.
  out.valid.fill(1)
  out.epoch.fill(header.epoch)
  fillRepeated(out.deploymentId, deployment)
  fillRepeated(out.provider, provider)
  out.user.set(columns.user)
  out.requestId.set(columns.requestId)
  out.timestamp.set(columns.timestamp)
  out.inputTokens.set(columns.inputTokens)
  out.outputTokens.set(columns.outputTokens)
  out.discountBps.set(columns.discountBps)
  for (let i = 0; i < n; i++) {
    out.grossAmount[i] = BigInt(columns.grossAmount[i] as number)
    out.chargedAmount[i] = BigInt(columns.chargedAmount[i] as number)
  }
  const root = toHex(receiptsRoot(out.digest))
  if (root !== header.receiptsRoot)
    throw new ReceiptError('batch-root', `the receipts hash to root ${root}, the signed header says ${header.receiptsRoot}`, 'A receipt was altered, added or removed after signing.')
  return out
}

/** One receipt of a batch with its inclusion proof, verifiable on its own. */
export function batchedReceipt(batch: ReceiptBatchDocument, index: number, verifier: ReceiptVerifier): BatchedReceiptDocument {
  const columns = verifyBatch(verifier, batch)
  if (!Number.isInteger(index) || index < 0 || index >= columns.length) throw new ReceiptError('batch-mismatch', `the batch has no receipt ${index}`)
  const { nodes, treeIndexOf } = receiptsTree(columns.digest)
  return {
    format: BATCHED_RECEIPT_FORMAT,
    domain: batch.domain,
    types: RECEIPT_TYPES,
    primaryType: 'UsageReceipt',
    message: receiptMessageJson(columns.receipt(index)),
    batch: { message: batch.message, signature: batch.signature, proof: getProof(nodes, treeIndexOf(index)).map((p) => toHex(p)) },
  }
}

/** Verifies one batched receipt: the header's signature and the receipt's inclusion under its root. */
export function verifyBatchedReceipt(verifier: ReceiptVerifier, document: unknown): VerifiedReceipt {
  const { receipt, header, signature, proof } = schema(() => {
    const r = new Reader(BATCHED_RECEIPT_FORMAT, document)
    r.object(['format', 'domain', 'types', 'primaryType', 'message', 'batch'])
    r.field('format').literal([BATCHED_RECEIPT_FORMAT])
    r.field('primaryType').literal(['UsageReceipt'])
    readTypes(r.field('types'), 'UsageReceipt', USAGE_RECEIPT_TYPE)
    checkDomain(readDomain(r.field('domain')), verifier.domain)
    const b = r.field('batch')
    b.object(['message', 'signature', 'proof'])
    const proof = b.field('proof').array({ max: 64 }).map((p) => readBytes32(p))
    return { receipt: readReceiptMessage(r.field('message')), header: readHeader(b.field('message')), signature: b.field('signature').value, proof }
  })
  verifier.signatures.check(signature, batchHeaderDigest(header, verifier.separator), header.provider)
  verifier.checkAllowed(receipt)
  checkInBatch(receipt, header)
  checkCharged(receipt)
  const digest = receiptDigest(receipt, verifier.separator)
  if (toHex(processProof(digest, proof.map((p) => hexToBytes(p, 32)))) !== header.receiptsRoot)
    throw new ReceiptError('batch-root', `the proof does not place receipt ${toHex(digest)} under the batch root ${header.receiptsRoot}`)
  return { receipt, digest: toHex(digest) }
}

