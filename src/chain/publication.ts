/**
 * An epoch as the chain takes it: the sealed directory with its proofs (when proven), the commitment a registry
 * stores for it, the proofs as calldata, and an account's reward leaves ready to claim.
 */
import { encodeAbiParameters, keccak256, zeroHash, type Address, type Hex } from 'viem'
import { EpochDirectoryError, readSealedEpoch, type SealedEpoch } from '../epoch/directory.ts'
import type { StandardTree } from '../merkle/tree.ts'
import { readProofsFile, type EpochProofs } from '../proofs/files.ts'
import { signalsOf } from '../proofs/prove.ts'
import type { BatchProof } from '../proofs/groth16.ts'

/** A sealed epoch and its proofs.json, when it was proven (fomo prove). */
export type PublishedEpoch = SealedEpoch & { proofs: EpochProofs | undefined }

export async function readPublishedEpoch(dir: string): Promise<PublishedEpoch> {
  const sealed = await readSealedEpoch(dir)
  const proofs = await readProofsFile(dir)
  if (proofs && proofs.epoch !== sealed.epoch) throw new EpochDirectoryError(`proofs.json proves epoch ${proofs.epoch}, the directory holds epoch ${sealed.epoch}`)
  return { ...sealed, proofs }
}

/** A batch proof as the registry takes it; snarkjs orders each G2 coordinate pair the other way round from the EVM. */
export function proofCalldata(p: BatchProof) {
  const { pi_a: a, pi_b: b, pi_c: c } = p.proof
  return {
    a: [BigInt(a[0]!), BigInt(a[1]!)] as const,
    b: [
      [BigInt(b[0]![1]!), BigInt(b[0]![0]!)],
      [BigInt(b[1]![1]!), BigInt(b[1]![0]!)],
    ] as const,
    c: [BigInt(c[0]!), BigInt(c[1]!)] as const,
    signals: signalsOf(p) as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint],
  }
}

/** keccak256(abi.encode(chainId, registry)): binds a commitment to one chain and one contract. */
export function commitmentDomain(chainId: number, registry: Address): Hex {
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'address' }], [BigInt(chainId), registry]))
}

export function commitmentOf(epoch: PublishedEpoch, chainId: number, registry: Address) {
  return {
    spendRoot: epoch.spendRoot,
    rewardRoot: epoch.rewardRoot,
    totalGross: epoch.totals.gross,
    totalCharged: epoch.totals.charged,
    receiptCount: epoch.totals.receipts,
    manifestHash: epoch.manifestSha256,
    domain: commitmentDomain(chainId, registry),
    proofsHash: epoch.proofs?.proofsHash ?? zeroHash,
  }
}

/** The account's reward leaves with proofs, ready for claimMany. */
export function claimsOf(tree: StandardTree, account: Address) {
  const a = account.toLowerCase()
  const claims: Array<{ account: Address; token: Address; cumulative: bigint; proof: Hex[] }> = []
  for (const [i, v] of tree.entries()) if (v[0] === a) claims.push({ account: v[0] as Address, token: v[1] as Address, cumulative: BigInt(v[2] as string), proof: tree.getProof(i) as Hex[] })
  return claims
}
