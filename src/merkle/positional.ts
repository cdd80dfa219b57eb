/**
 * A positional Merkle tree: leaf i sits at position i, and a proof shows it. OpenZeppelin's trees hash pairs sorted,
 * which is what makes their proofs cheap, but it also hides where a leaf sits, so nothing can be shown absent from
 * one. Over leaves in key order, a positional tree shows absence by two neighbours (positions i and i + 1) whose keys
 * bracket the missing one; EpochJudge verifies such proofs on chain.
 *
 * Depth d is the smallest with 2^d >= n; positions n .. 2^d - 1 hold zero; a parent is keccak256(left || right),
 * unsorted; a proof is the d siblings from the leaf up.
 */
import type { Hex } from '../base/bytes.ts'
import { hexToBytes, toHex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import { keccak256 } from '../base/keccak.ts'

export class PositionalTreeError extends BaseError {
  override name = 'PositionalTreeError'
  constructor(message: string) {
    super('POSITIONAL_TREE', message)
  }
}

/** The depth of a positional tree of `n` leaves: the smallest d with 2^d >= n. */
export function positionalDepth(n: number): number {
  let d = 0
  while (2 ** d < n) d++
  return d
}

export class PositionalTree {
  /** levels[0] holds the leaves (padded to an even count), the last level the root. */
  readonly #levels: Uint8Array[]
  readonly length: number

  private constructor(levels: Uint8Array[], length: number) {
    this.#levels = levels
    this.length = length
  }

  /** Builds the tree over 32-byte leaf hashes, in the order given. */
  static of(leaves: readonly Hex[]): PositionalTree {
    if (leaves.length === 0) throw new PositionalTreeError('a positional tree needs at least one leaf')
    const depth = positionalDepth(leaves.length)
    let level: Uint8Array = new Uint8Array(32 * 2 ** depth)
    leaves.forEach((h, i) => level.set(hexToBytes(h, 32, `leaf ${i}`), 32 * i))
    const levels = [level]
    const pair = new Uint8Array(64)
    for (let width = 2 ** depth; width > 1; width /= 2) {
      const up = new Uint8Array(16 * width)
      for (let i = 0; i < width / 2; i++) {
        pair.set(level.subarray(64 * i, 64 * i + 64))
        up.set(keccak256(pair), 32 * i)
      }
      levels.push(up)
      level = up
    }
    return new PositionalTree(levels, leaves.length)
  }

  get root(): Hex {
    return toHex(this.#levels[this.#levels.length - 1]!, 0, 32)
  }

  /** The siblings of position `index` from the leaf up. */
  proof(index: number): Hex[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new PositionalTreeError(`position ${index} is outside the tree's ${this.length} leaves`)
    const out: Hex[] = []
    let i = index
    for (let l = 0; l < this.#levels.length - 1; l++) {
      const sibling = i ^ 1
      out.push(toHex(this.#levels[l]!, 32 * sibling, 32 * sibling + 32))
      i >>= 1
    }
    return out
  }

  /** Whether `leaf` sits at `index` of a tree of `n` leaves with `root`, as EpochJudge checks it. */
  static verify(root: Hex, n: number, index: number, leaf: Hex, proof: readonly Hex[]): boolean {
    if (index < 0 || index >= n || proof.length !== positionalDepth(n)) return false
    let node = hexToBytes(leaf, 32)
    let i = index
    const pair = new Uint8Array(64)
    for (const p of proof) {
      const sibling = hexToBytes(p, 32)
      pair.set(i & 1 ? sibling : node, 0)
      pair.set(i & 1 ? node : sibling, 32)
      node = keccak256(pair)
      i >>= 1
    }
    return toHex(node) === root.toLowerCase()
  }
}
