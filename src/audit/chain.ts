/**
 * The audit's chain checks: the commitment a registry holds for the epoch (final, else pending) against the one
 * the directory gives, and node reads that name what was being read when they fail.
 */
import { getContract, type Address, type PublicClient } from 'viem'
import { ChainError } from '../chain/contracts.ts'
import { RewardDistributor } from '../chain/contracts.generated.ts'
import { commitmentOf, readPublishedEpoch } from '../chain/publication.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

/** A node and the registry (the distributor) the epoch was published to. */
export type ChainSource = { client: PublicClient; registry: Address }

/** A node read whose failure (unreachable node, wrong address, no such block) names what was being read. */
export async function readOnChain<T>(call: () => Promise<T>, what: string, hint: string): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const reason = (error as { shortMessage?: string }).shortMessage ?? (error as Error).message
    throw new ChainError(`cannot read ${what}: ${reason}`, hint, error)
  }
}

export async function checkChain(dir: string, epoch: number, chain: ChainSource, checks: Checks): Promise<void> {
  const sealed = await readPublishedEpoch(dir)
  const registry = getContract({ abi: RewardDistributor.abi, address: chain.registry, client: { public: chain.client } })
  const read = <T>(call: () => Promise<T>) =>
    readOnChain(call, `epoch ${epoch}'s commitment from registry ${chain.registry}`, 'Check --rpc (a JSON-RPC URL) and --registry (the distributor this epoch was published to).')
  let onChain = await read(() => registry.read.finalCommitment([BigInt(epoch)]))
  let state = 'final'
  if (/^0x0{64}$/.test(onChain.spendRoot)) {
    const [hasPending, pendingEpoch] = await read(() => Promise.all([registry.read.hasPending(), registry.read.pendingEpoch()]))
    if (!hasPending || pendingEpoch !== BigInt(epoch)) throw new AuditDiscrepancy('chain', `epoch ${epoch} is neither final nor pending in registry ${chain.registry}`)
    onChain = await read(() => registry.read.pendingCommitment())
    state = 'pending'
  }
  const expected = commitmentOf(sealed, await read(() => chain.client.getChainId()), chain.registry) as Record<string, unknown>
  for (const [field, value] of Object.entries(expected)) {
    const found = (onChain as Record<string, unknown>)[field]
    if (String(found).toLowerCase() !== String(value).toLowerCase()) throw new AuditDiscrepancy('chain', `on-chain commitment of epoch ${epoch} (${state}): ${field}`, String(value), String(found))
  }
  checks.push(`chain: the ${state} commitment of epoch ${epoch} in ${chain.registry} equals the directory's (roots, totals, manifest hash, domain, proofs hash)`)
  if (state === 'pending') {
    // Rewards are cumulative from the last final epoch: a pending epoch's manifest must name that epoch's manifest
    // (none when no epoch is final), or its reward tree could reset or rewrite what was already owed.
    const [hasFinalized, last] = await read(() => Promise.all([registry.read.hasFinalized(), registry.read.lastFinalizedEpoch()]))
    const expected = hasFinalized ? (await read(() => registry.read.finalCommitment([last]))).manifestHash.toLowerCase() : null
    const previous = sealed.manifest.previousManifestSha256
    const found = previous === null ? null : `0x${previous}`
    const name = (h: string | null) => (h === null ? 'none' : h)
    if (found !== expected)
      throw new AuditDiscrepancy(
        'chain',
        `epoch ${epoch}'s manifest names as previous manifest ${name(found)}, but the last final epoch in ${chain.registry} is ${hasFinalized ? `epoch ${last}` : 'none'}`,
        name(expected),
        name(found),
      )
    checks.push(`chain: epoch ${epoch} builds on the last final epoch (${hasFinalized ? `epoch ${last}, manifest ${expected}` : 'none: the first'})`)
  }
}
