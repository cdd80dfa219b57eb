/**
 * The OpenZeppelin Merkle tree over flat buffers. A tree of n leaves is the
 * array of 2n-1 nodes of 32 bytes in heap order: node i has children 2i+1 and
 * 2i+2, the leaves fill indices n-1..2n-2 in reverse order of the sorted leaf
 * list, and a parent is keccak256 of its two children in ascending order. This
 * is exactly `makeMerkleTree` of @openzeppelin/merkle-tree, and what
 * OpenZeppelin's MerkleProof verifies on chain.
 */
import { BaseError } from '../base/errors.ts'
import { compareWords } from '../base/bytes.ts'
import { keccak256 } from '../base/keccak.ts'

export class MerkleProofError extends BaseError {
  override name = 'MerkleProofError'
  constructor(message: string) {
    super('MERKLE_PROOF_INVALID', message)
  }
}

const scratch = new Uint8Array(64)

/** keccak256(sorted(a, b)) of two 32-byte words read from buffers. */
export function hashPair(a: Uint8Array, ai: number, b: Uint8Array, bi: number): Uint8Array {
  if (compareWords(a, ai, b, bi) <= 0) {
    scratch.set(a.subarray(ai, ai + 32), 0)
    scratch.set(b.subarray(bi, bi + 32), 32)
  } else {
    scratch.set(b.subarray(bi, bi + 32), 0)
    scratch.set(a.subarray(ai, ai + 32), 32)
  }
  return keccak256(scratch)
}

/**
 * The order of leaves by hash, ascending; ties (equal hashes) keep input order,
 * as the stable sort of OpenZeppelin does. LSD radix sort on the first 32 bits,
 * then full comparisons only inside runs sharing those bits.
 */
export function sortLeafOrder(hashes: Uint8Array, n: number): Uint32Array {
  const prefix = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    const o = 32 * i
    prefix[i] = (((hashes[o] as number) << 24) | ((hashes[o + 1] as number) << 16) | ((hashes[o + 2] as number) << 8) | (hashes[o + 3] as number)) >>> 0
  }
  let order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let next = new Uint32Array(n)
  const counts = new Uint32Array(65536)
  for (const shift of [0, 16]) {
    counts.fill(0)
    for (let i = 0; i < n; i++) (counts[(prefix[i] as number) >>> shift & 0xffff] as number)++
    let total = 0
    for (let b = 0; b < 65536; b++) {
      const c = counts[b] as number
      counts[b] = total
      total += c
    }
    for (let k = 0; k < n; k++) {
      const i = order[k] as number
      const b = ((prefix[i] as number) >>> shift) & 0xffff
      next[counts[b] as number] = i
      ;(counts[b] as number)++
    }
    ;[order, next] = [next, order]
  }
  // Runs with equal 32-bit prefixes: stable insertion sort on the full hash.
  for (let start = 0; start < n; ) {
    let end = start + 1
    while (end < n && prefix[order[end] as number] === prefix[order[start] as number]) end++
    for (let k = start + 1; k < end; k++) {
      const item = order[k] as number
      let j = k - 1
      while (j >= start && compareWords(hashes, 32 * (order[j] as number), hashes, 32 * item) > 0) {
        order[j + 1] = order[j] as number
        j--
      }
      order[j + 1] = item
    }
    start = end
  }
  return order
}

/**
 * The node buffer of a tree with its leaves (in `order`) placed and internal
 * nodes still zero; `shared` allocates it on shared memory for worker threads.
 */
export function placeLeaves(hashes: Uint8Array, order: Uint32Array, shared = false): Uint8Array {
  const n = order.length
  if (n === 0) throw new BaseError('MERKLE_EMPTY', 'a Merkle tree needs at least one leaf', { metaMessages: ['Give at least one value.'] })
  const size = 2 * n - 1
  const nodes = new Uint8Array(shared ? new SharedArrayBuffer(32 * size) : new ArrayBuffer(32 * size))
  // Both buffers hold 32-byte words at 32-byte offsets: copy them as 8 words.
  const from32 = new Uint32Array(hashes.buffer, hashes.byteOffset, hashes.length / 4)
  const to32 = new Uint32Array(nodes.buffer)
  for (let k = 0; k < n; k++) {
    const src = 8 * (order[k] as number)
    const dst = 8 * (size - 1 - k)
    for (let w = 0; w < 8; w++) to32[dst + w] = from32[src + w] as number
  }
  return nodes
}

export const isLeafIndex = (nodeCount: number, treeIndex: number) =>
  Number.isInteger(treeIndex) && treeIndex >= 0 && treeIndex < nodeCount && 2 * treeIndex + 1 >= nodeCount

/** Sibling hashes from a leaf to the root. */
export function getProof(nodes: Uint8Array, treeIndex: number): Uint8Array[] {
  const count = nodes.length / 32
  if (!isLeafIndex(count, treeIndex)) throw new MerkleProofError(`index ${treeIndex} is not a leaf of this tree`)
  const proof: Uint8Array[] = []
  for (let i = treeIndex; i > 0; i = (i - 1) >> 1) {
    const sibling = i % 2 === 1 ? i + 1 : i - 1
    proof.push(nodes.slice(32 * sibling, 32 * sibling + 32))
  }
  return proof
}

/** Folds a proof onto a leaf hash; the result is the root the proof claims. */
export function processProof(leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  if (leaf.length !== 32) throw new MerkleProofError('a leaf hash is 32 bytes')
  let node = leaf
  for (const sibling of proof) {
    if (sibling.length !== 32) throw new MerkleProofError('every proof element is 32 bytes')
    node = hashPair(node, 0, sibling, 0)
  }
  return node
}

export type MultiProof<T> = { leaves: T[]; proof: Uint8Array[]; proofFlags: boolean[] }

/** OpenZeppelin's multiproof for a set of leaf indices (leaves returned in the order the proof consumes them). */
export function getMultiProof(nodes: Uint8Array, treeIndices: readonly number[]): MultiProof<number> {
  const count = nodes.length / 32
  for (const i of treeIndices) if (!isLeafIndex(count, i)) throw new MerkleProofError(`index ${i} is not a leaf of this tree`)
  const indices = [...treeIndices].sort((a, b) => b - a)
  for (let k = 1; k < indices.length; k++)
    if (indices[k] === indices[k - 1]) throw new MerkleProofError(`leaf ${indices[k]} is listed twice`)
  const stack = [...indices]
  const proof: Uint8Array[] = []
  const proofFlags: boolean[] = []
  let head = 0
  while (head < stack.length && (stack[head] as number) > 0) {
    const j = stack[head++] as number
    const s = j % 2 === 1 ? j + 1 : j - 1
    const p = (j - 1) >> 1
    if (head < stack.length && s === stack[head]) {
      proofFlags.push(true)
      head++
    } else {
      proofFlags.push(false)
      proof.push(nodes.slice(32 * s, 32 * s + 32))
    }
    stack.push(p)
  }
  if (indices.length === 0) proof.push(nodes.slice(0, 32))
  return { leaves: indices, proof, proofFlags }
}

/**
 * The root a multiproof claims. Rejects what the OpenZeppelin multiproof
 * forgery (CVE-2023-34459) used: it requires leaves + proof = flags + 1 and
 * every proof element consumed, and it refuses an empty leaf set.
 */
export function processMultiProof(multiproof: MultiProof<Uint8Array>): Uint8Array {
  const { leaves, proof, proofFlags } = multiproof
  if (leaves.length === 0) throw new MerkleProofError('a multiproof must prove at least one leaf')
  if (leaves.length + proof.length !== proofFlags.length + 1)
    throw new MerkleProofError(`leaves (${leaves.length}) + proof (${proof.length}) must equal proofFlags (${proofFlags.length}) + 1`)
  for (const node of [...leaves, ...proof]) if (node.length !== 32) throw new MerkleProofError('every node is 32 bytes')
  const queue: Uint8Array[] = [...leaves]
  let q = 0
  let p = 0
  for (const flag of proofFlags) {
    const a = queue[q++]
    const b = flag ? queue[q++] : proof[p++]
    if (a === undefined || b === undefined) throw new MerkleProofError('the multiproof runs out of nodes')
    queue.push(hashPair(a, 0, b, 0))
  }
  if (p !== proof.length) throw new MerkleProofError('the multiproof leaves proof elements unused')
  if (queue.length - q !== 1) throw new MerkleProofError('the multiproof does not reduce to one root')
  return queue[q] as Uint8Array
}
