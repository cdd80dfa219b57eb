/** Poseidon helpers shared by the batch statement and provider attestations. */
import { poseidon2, poseidon5 } from 'poseidon-lite'

const MASK128 = (1n << 128n) - 1n

/** A 256-bit value as two field elements (high and low 128 bits). */
export const digestLimbs = (digest: bigint): [bigint, bigint] => [digest >> 128n, digest & MASK128]

/** The Poseidon Merkle root over a power-of-two number of leaves. */
export function poseidonRoot(leaves: readonly bigint[]): bigint {
  let level = [...leaves]
  while (level.length > 1) {
    const next: bigint[] = []
    for (let i = 0; i < level.length; i += 2) next.push(poseidon2([level[i]!, level[i + 1]!]))
    level = next
  }
  return level[0]!
}

/** A receipt's leaf in its batch: Poseidon(digestHi, digestLo, user, gross, charged); 0 pads a batch. */
export const receiptLeaf = (digest: bigint, user: bigint, gross: bigint, charged: bigint): bigint => poseidon5([...digestLimbs(digest), user, gross, charged])
