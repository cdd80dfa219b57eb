/**
 * An epoch as the chain takes it: the sealed directory with its proofs (when proven), the commitment a registry
 * stores for it, the proofs as calldata, and an account's reward leaves ready to claim.
 */
import { zeroHash, type Address, type Hex } from 'viem'
import { EpochDirectoryError, readSealedEpoch, type SealedEpoch } from '../epoch/directory.ts'
import { ledgerHash } from '../epoch/ledger.ts'
import { distributorDomain, rewardLeafOf } from '../epoch/rewards.ts'
import { spendLeafOf, type SpendLeaf } from '../epoch/spend.ts'
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

/** A batch proof's public signals as the registry takes them (uint256[17], BATCH_PUBLIC_SIGNALS order). */
type BatchSignals = readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint]

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
    signals: signalsOf(p) as unknown as BatchSignals,
  }
}

/**
 * Refuses to publish a reward tree made for another distributor: on this one its leaves would not verify, so
 * every claim would fail. Sealing takes the distributor from the configuration's receipt domain.
 */
export function checkRewardDomain(epoch: PublishedEpoch, chainId: number, registry: Address): void {
  const expected = distributorDomain(chainId, registry)
  for (const [i, v] of epoch.rewardTree.entries()) {
    const found = rewardLeafOf(v).domain
    if (found.toLowerCase() !== expected)
      throw new EpochDirectoryError(
        `epoch ${epoch.epoch}'s reward tree was made for another distributor (leaf #${i} has domain ${found}); registry ${registry} on chain ${chainId} has domain ${expected}`,
        'Seal the epoch with the configuration whose receipt domain names this chain and this registry (its verifyingContract).',
      )
  }
}

export function commitmentOf(epoch: PublishedEpoch, chainId: number, registry: Address) {
  return {
    spendRoot: epoch.spendRoot,
    rewardRoot: epoch.rewardRoot,
    totalGross: epoch.totals.gross,
    totalCharged: epoch.totals.charged,
    receiptCount: epoch.totals.receipts,
    manifestHash: epoch.manifestSha256,
    domain: distributorDomain(chainId, registry),
    proofsHash: epoch.proofs?.proofsHash ?? zeroHash,
    configHash: epoch.configHash,
    // Zero when inputs.json records no snapshot: the registry refuses it (stakes must be read from the chain).
    snapshotBlock: epoch.snapshotBlock ?? 0n,
    ledgerHash: ledgerHash(epoch.ledger),
  }
}

/** The spend tree's leaf `index` with its proof, as `challengeStake` takes them. */
export function spendLeafProof(tree: StandardTree, index: number): { leaf: SpendLeaf; proof: Hex[] } {
  return { leaf: spendLeafOf(tree.at(index)), proof: tree.getProof(index) as Hex[] }
}

/** The account's reward leaves with proofs, ready for claimMany. */
export function claimsOf(tree: StandardTree, account: Address) {
  const a = account.toLowerCase()
  const claims: Array<{ account: Address; token: Address; cumulative: bigint; proof: Hex[] }> = []
  for (const [i, v] of tree.entries()) {
    const leaf = rewardLeafOf(v)
    if (leaf.account === a) claims.push({ account: leaf.account, token: leaf.token, cumulative: leaf.amount, proof: tree.getProof(i) as Hex[] })
  }
  return claims
}
