/**
 * The batch tree: an OpenZeppelin SimpleMerkleTree whose leaves are the receipts' EIP-712 digests, the tree a
 * batch header's `receiptsRoot` commits to.
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { placeLeaves, sortLeafOrder } from '../merkle/core.ts'
import { keccakWasm } from '../base/keccak.ts'
import { hashNodesRange } from '../base/keccakWasm.mjs'

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
