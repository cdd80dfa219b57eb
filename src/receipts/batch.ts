import { getAddress } from 'viem'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { SchemaError } from '../errors/base.ts'
import { Reader } from '../format/reader.ts'
import { hexToBytes, toHex, type Hex } from '../merkle/bytes.ts'
import { getProof, placeLeaves, processProof, sortLeafOrder } from '../merkle/core.ts'
import { keccak256, keccakWasm } from '../merkle/keccak.ts'
import { hashNodesRange } from '../merkle/keccakWasm.mjs'
import { checkDomain, readDomain, readTypes } from './document.ts'
import { checkCharged, readAddress, readBytes32, readReceiptMessage, readUint, receiptDigest, receiptMessageJson, ReceiptError, RECEIPT_FIELDS, type UsageReceipt } from './receipt.ts'
import { signDigest } from './signature.ts'
import { decodeReceiptFast, digestOfWords, STRUCT_SIZE } from './fastpath.ts'
import { addressOf, privateKeyBytes, type PrivateKey } from './sign.ts'
import type { ReceiptVerifier, VerifiedReceipt } from './verify.ts'
import { BATCH_TYPES, encodeStruct, RECEIPT_TYPES, typedDataDigest, USAGE_BATCH_TYPE, USAGE_BATCH_TYPEHASH, USAGE_RECEIPT_TYPE, type ReceiptDomain } from './types.ts'

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

export type ReceiptBatchDocument = {
  format: typeof RECEIPT_BATCH_FORMAT
  domain: ReceiptDomain
  types: typeof BATCH_TYPES
  primaryType: 'UsageBatch'
  message: Record<keyof BatchHeader, string>
  signature: Hex
  receipts: Array<Record<(typeof RECEIPT_FIELDS)[number], string>>
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
    receipts: receipts.map(receiptMessageJson),
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

function checkInBatch(receipt: UsageReceipt, header: BatchHeader, index: number | undefined): void {
  const where = index === undefined ? 'receipt' : `receipts[${index}]`
  for (const key of ['provider', 'deploymentId', 'epoch'] as const)
    if (receipt[key] !== header[key]) throw new ReceiptError('batch-mismatch', `${where}.${key} is ${receipt[key]}, but the batch header says ${header[key]}`)
}

/**
 * Verifies a whole batch: header signature, provider allowed, every receipt
 * valid and of the header's provider, deployment and epoch, count and root.
 * All or nothing: any failure rejects the batch, naming the receipt.
 */
export function verifyBatch(verifier: ReceiptVerifier, document: unknown): VerifiedReceipt[] {
  const { header, signature, items } = schema(() => {
    const r = new Reader(RECEIPT_BATCH_FORMAT, document)
    r.object(['format', 'domain', 'types', 'primaryType', 'message', 'signature', 'receipts'])
    r.field('format').literal([RECEIPT_BATCH_FORMAT])
    r.field('primaryType').literal(['UsageBatch'])
    readTypes(r.field('types'), 'UsageBatch', USAGE_BATCH_TYPE)
    checkDomain(readDomain(r.field('domain')), verifier.domain)
    const header = readHeader(r.field('message'))
    const items = r.field('receipts').array({ min: 1, max: MAX_BATCH_RECEIPTS })
    return { header, signature: r.field('signature').value, items }
  })
  verifier.signatures.check(signature, batchHeaderDigest(header, verifier.separator), header.provider)
  verifier.checkAllowed({ provider: header.provider, deploymentId: header.deploymentId } as UsageReceipt)
  if (items.length !== header.count)
    throw new ReceiptError('batch-mismatch', `the header counts ${header.count} receipts, the batch holds ${items.length}`)
  const digests = new Uint8Array(32 * items.length)
  const words = new Uint8Array(STRUCT_SIZE)
  const receipts = items.map((item, i) => {
    // Fast path first; the precise reader names the field when it declines.
    let receipt = decodeReceiptFast(item.value, words)
    if (receipt) digestOfWords(words, verifier.separator, digests, 32 * i)
    else {
      receipt = schema(() => readReceiptMessage(item))
      digests.set(receiptDigest(receipt, verifier.separator), 32 * i)
    }
    checkInBatch(receipt, header, i)
    try {
      checkCharged(receipt)
    } catch (error) {
      throw new ReceiptError('charged-mismatch', `receipts[${i}]: ${(error as ReceiptError).shortMessage}`)
    }
    return receipt
  })
  const root = toHex(receiptsRoot(digests))
  if (root !== header.receiptsRoot)
    throw new ReceiptError('batch-root', `the receipts hash to root ${root}, the signed header says ${header.receiptsRoot}`, 'A receipt was altered, added or removed after signing.')
  return receipts.map((receipt, i) => ({ receipt, digest: toHex(digests, 32 * i, 32 * i + 32) }))
}

/** One receipt of a batch with its inclusion proof, verifiable on its own. */
export function batchedReceipt(batch: ReceiptBatchDocument, index: number, separator: Uint8Array): BatchedReceiptDocument {
  const message = batch.receipts[index]
  if (!message) throw new ReceiptError('batch-mismatch', `the batch has no receipt ${index}`)
  const digests = new Uint8Array(32 * batch.receipts.length)
  batch.receipts.forEach((m, i) => digests.set(receiptDigest(readReceiptMessage(new Reader(RECEIPT_BATCH_FORMAT, m)), separator), 32 * i))
  const { nodes, treeIndexOf } = receiptsTree(digests)
  return {
    format: BATCHED_RECEIPT_FORMAT,
    domain: batch.domain,
    types: RECEIPT_TYPES,
    primaryType: 'UsageReceipt',
    message,
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
  checkInBatch(receipt, header, undefined)
  checkCharged(receipt)
  const digest = receiptDigest(receipt, verifier.separator)
  if (toHex(processProof(digest, proof.map((p) => hexToBytes(p, 32)))) !== header.receiptsRoot)
    throw new ReceiptError('batch-root', `the proof does not place receipt ${toHex(digest)} under the batch root ${header.receiptsRoot}`)
  return { receipt, digest: toHex(digest) }
}

