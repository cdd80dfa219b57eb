/**
 * The audit's chain checks: the commitment a registry holds for the epoch (final, else pending) against the one
 * the directory gives, the staking contracts pinned with its configuration, every spend leaf's stake where a
 * challenge would read it, and node reads that name what was being read when they fail.
 */
import { pinnedConfig, pinnedContent } from '../epoch/config.ts'
import { rewardParameters, rewardParamsHash } from '../epoch/ledger.ts'
import { getContract, zeroAddress, type Address, type PublicClient } from 'viem'
import { readSpendTree, stakeFaults } from '../chain/challenges.ts'
import { readOpenedLedger } from '../chain/judge.ts'
import { omissionFaults, type OmissionFault } from '../chain/attestations.ts'
import { ChainError } from '../chain/contracts.ts'
import { EpochFunding, RevenueSettlement, RewardDistributor } from '../chain/contracts.generated.ts'
import { epochRevenue } from '../chain/settlement.ts'
import { spendLeafOf } from '../epoch/spend.ts'
import type { Hex } from '../base/bytes.ts'
import { fundingFault, revenueFault } from './funding.ts'
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
  checks.push(`chain: the ${state} commitment of epoch ${epoch} in ${chain.registry} equals the directory's (roots, totals, manifest hash, domain, proofs hash, configuration hash, snapshot block)`)
  // The staking contracts the registry pinned with this configuration are those config.json and inputs.json name.
  for (const d of sealed.config.deployments) {
    const pinned = (await read(() => registry.read.stakingOf([onChain.configHash, d.id]))).toLowerCase()
    if (d.staking !== pinned) throw new AuditDiscrepancy('config', `deployment ${d.id}: staking contract pinned with configuration ${onChain.configHash}`, pinned, d.staking ?? 'none (config.json)')
    const recorded = sealed.inputs.deployments.get(d.id)?.snapshot?.staking
    if (recorded !== undefined && recorded !== pinned) throw new AuditDiscrepancy('stake', `deployment ${d.id}: inputs.json's snapshot was read from another staking contract than the pinned one`, pinned, recorded)
  }
  // The registry pinned exactly the staking contracts and attestation keys config.json names (no key of the admin's
  // own under which invented receipts would be proven).
  const keyed = sealed.config.providers.filter((p) => p.attestationKey !== undefined)
  const content = pinnedContent(pinnedConfig(sealed.config))
  const pinnedContentOnChain = await read(() => registry.read.pinnedContentOf([onChain.configHash]))
  if (pinnedContentOnChain !== content)
    throw new AuditDiscrepancy('config', `what the registry pinned with configuration ${onChain.configHash} (deployments, staking contracts, attestation keys)`, `${content} (config.json)`, pinnedContentOnChain)
  // The reward parameters the judge recomputes rewards with are config.json's.
  const params = rewardParamsHash(rewardParameters(sealed.config))
  const paramsOnChain = await read(() => registry.read.rewardParamsOf([onChain.configHash]))
  if (paramsOnChain !== params)
    throw new AuditDiscrepancy('config', `the reward parameters the registry pinned with configuration ${onChain.configHash}`, `${params} (config.json)`, paramsOnChain)
  // What sealing credits from config.json (the emission, each deployment's staking-fund and incentive releases) is what
  // the registry's epoch funding moves into the distributor at finalization.
  const funding = await read(() => registry.read.epochFunding())
  if (funding !== zeroAddress) {
    const f = getContract({ abi: EpochFunding.abi, address: funding, client: { public: chain.client } })
    const [epochSeconds, emissionPerEpoch, streams] = await read(() => Promise.all([f.read.epochSeconds(), f.read.emissionPerEpoch(), f.read.streams()]))
    const fault = fundingFault(sealed.config, epoch, { epochSeconds, emissionPerEpoch, streams: streams.map((s) => ({ deploymentId: s.deploymentId, kind: s.kind, token: s.token as Hex, total: s.total, startEpoch: s.startEpoch })) })
    if (fault) throw new AuditDiscrepancy('config', fault.what, fault.expected, fault.found)
    checks.push(`chain: the emission and the ${streams.length} vesting streams of the epoch funding ${funding} are what config.json credits (dailyEmission, raised, incentiveReserve, graduationEpoch)`)
  }
  // The revenue paid to the settlement: each deployment's charged revenue, and at least the issuer yield the tree credits.
  const settlement = await read(() => registry.read.revenueSettlement())
  if (settlement !== zeroAddress) {
    const due = epochRevenue(
      [...(await readSpendTree(dir)).entries()].map(([, v]) => spendLeafOf(v)),
      sealed.config.deployments.map((d) => ({ id: d.id as Hex, opex: sealed.inputs.deployments.get(d.id as Hex)?.opex ?? 0n })),
    )
    const events = await read(() => chain.client.getContractEvents({ address: settlement, abi: RevenueSettlement.abi, eventName: 'RevenuePaid', args: { epoch: BigInt(epoch) }, fromBlock: 0n, strict: true }))
    const paid = events.map((e) => ({ deploymentId: e.args.deploymentId, charged: e.args.charged, opex: e.args.opex, issuerYield: e.args.issuerYield }))
    const fault = revenueFault(due, paid, state === 'final')
    if (fault) throw new AuditDiscrepancy('chain', fault.what, fault.expected, fault.found)
    checks.push(`chain: the revenue settlement ${settlement} holds ${paid.length} payment${paid.length === 1 ? '' : 's'} of epoch ${epoch}; what is paid in full sent at least the issuer yield the reward tree credits`)
  }
  checks.push(`chain: config.json is the configuration the commitment names (${onChain.configHash}); its ${sealed.config.deployments.length} staking contracts and ${keyed.length} attestation keys are the ones pinned with it, and so are its reward parameters`)
  // Every stake in the spend leaves, read where a challenge would read it: anyone could revoke a pending epoch with one.
  const ledger = await readOpenedLedger(dir)
  const faults = await read(() => stakeFaults(chain.client, chain.registry, ledger, onChain))
  const fault = faults[0]
  if (fault)
    throw new AuditDiscrepancy(
      'stake',
      `spend list entry #${fault.index} (deployment ${fault.leaf.deploymentId}, user ${fault.leaf.user}): stake at block ${onChain.snapshotBlock} (${faults.length} leaf${faults.length > 1 ? 's' : ''} wrong; challengeable with challengeStake while pending)`,
      fault.staking === zeroAddress ? 'a deployment the pinned configuration has' : `${fault.actual} (on chain, ${fault.staking})`,
      fault.staking === zeroAddress ? `deployment ${fault.leaf.deploymentId}` : `${fault.leaf.stake} (spend leaf)`,
    )
  checks.push(`chain: the stakes of all ${ledger.spend.length} spend list entries are the pinned staking contracts' eligible stakes at block ${onChain.snapshotBlock}`)
  // Every attestation a provider recorded on chain for the epoch is proven whole (anyone revokes a pending one that is not).
  const omissions = await read(() => omissionFaults(chain.client, chain.registry, epoch, onChain.configHash))
  if (omissions.length > 0) throw omissionDiscrepancy(omissions)
  checks.push(`chain: every attestation recorded on chain for epoch ${epoch} is proven whole by its proofs`)
  // Rewards are cumulative: the manifest must name the manifest of the final epoch before this one (none for the
  // first), or its reward tree could reset or rewrite what was already owed. For a pending epoch that is the last final
  // one; for a final epoch, the greatest epoch finalized before it (from the registry's EpochFinalized events).
  let before: bigint | null
  if (state === 'pending') {
    const [hasFinalized, last] = await read(() => Promise.all([registry.read.hasFinalized(), registry.read.lastFinalizedEpoch()]))
    before = hasFinalized ? last : null
  } else {
    const finalized = await read(() => chain.client.getContractEvents({ address: chain.registry, abi: RewardDistributor.abi, eventName: 'EpochFinalized', fromBlock: 0n, strict: true }))
    before = finalized.map((l) => l.args.epoch).reduce<bigint | null>((m, e) => (e < BigInt(epoch) && (m === null || e > m) ? e : m), null)
  }
  const expectedPrevious = before !== null ? (await read(() => registry.read.finalCommitment([before]))).manifestHash.toLowerCase() : null
  const previous = sealed.manifest.previousManifestSha256
  const found = previous === null ? null : `0x${previous}`
  const name = (h: string | null) => (h === null ? 'none' : h)
  const which = state === 'pending' ? 'the last final epoch' : 'the final epoch before it'
  if (found !== expectedPrevious)
    throw new AuditDiscrepancy('chain', `epoch ${epoch}'s manifest names as previous manifest ${name(found)}, but ${which} in ${chain.registry} is ${before !== null ? `epoch ${before}` : 'none'}`, name(expectedPrevious), name(found))
  checks.push(`chain: epoch ${epoch} builds on ${which} (${before !== null ? `epoch ${before}, manifest ${expectedPrevious}` : 'none: the first'})`)
}

/** The discrepancy of recorded attestations an epoch's proofs leave out (the first named). */
export function omissionDiscrepancy(omissions: readonly OmissionFault[]): AuditDiscrepancy {
  const o = omissions[0]!
  if (o.recordedEpoch !== o.epoch)
    return new AuditDiscrepancy(
      'proof',
      `the pending proposal of epoch ${o.epoch} skips epoch ${o.recordedEpoch}, not final, for which provider ${o.provider} recorded an attestation on chain (deployment ${o.deploymentId}, key ${o.providerKey}): once epoch ${o.epoch} is final, epoch ${o.recordedEpoch} can never be proposed (challengeable with challengeSkip while pending)`,
      `epoch ${o.recordedEpoch} proposed first`,
      `epoch ${o.epoch}`,
    )
  return new AuditDiscrepancy(
    'proof',
    `the attestation provider ${o.provider} recorded on chain for deployment ${o.deploymentId} (key ${o.providerKey}) is not proven whole by the epoch's proofs (${omissions.length} left out; challengeable with challengeOmission while pending)`,
    String(o.recorded),
    o.proven === 0n ? 'none' : String(o.proven),
  )
}
