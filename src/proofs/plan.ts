/**
 * The batching rule: how a sealed epoch's receipts are cut into the batches that are proven, one Groth16 proof per
 * batch, and bound to their providers' attestations. The rule is deterministic so that a provider attests the same
 * batches (src/proofs/attestation.ts) and an auditor holding the receipts rebuilds them and checks each proven root.
 */
import type { Hex } from '../base/bytes.ts'
import { discountParameters } from '../economics/parameters.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochInputs } from '../epoch/inputs.ts'
import { distributorDomain } from '../epoch/rewards.ts'
import type { EpochReceipt } from '../epoch/spend.ts'
import { attestedTree, batchRoot, cutBatches, unpackAttestationKey, verifyAttestation, type ProviderAttestation } from './attestation.ts'
import { ProofError } from './groth16.ts'
import type { BatchAttestation, BatchParameters, BatchReceipt, StakeRow } from './statement.ts'

export type PlannedBatch = { deploymentId: Hex; provider: Hex; receipts: BatchReceipt[]; rows: StakeRow[]; params: BatchParameters; digests: Hex[]; attestation: BatchAttestation; attested: ProviderAttestation }

const sortHex = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>()
  for (const item of items) {
    const list = groups.get(key(item)) ?? []
    list.push(item)
    groups.set(key(item), list)
  }
  return groups
}

/**
 * Cuts an epoch's receipts into batches: per deployment (ascending id), per provider (ascending attestation key id),
 * the provider's receipts cut by the batching rule (cutBatches): the order the registry requires (strictly increasing
 * (deployment, provider key), each provider's attested batches in order). Each batch's stake table lists its users
 * in order with their snapshot stakes. Throws naming the provider when its attestation is missing, not signed by
 * its configured key or not over exactly the epoch's receipts, and naming the receipt when its discount is not the
 * one its user's snapshot stake gives: such an epoch cannot be proven.
 */
export function planBatches(epoch: number, config: AggregatorConfig, inputs: EpochInputs['deployments'], receipts: readonly EpochReceipt[], n: number, k: number, attestations: readonly ProviderAttestation[]): PlannedBatch[] {
  const discount = discountParameters(config.platform)
  // The registry the epoch is published to (the receipts' verifying contract): a proof for it is refused by any other.
  const domain = distributorDomain(config.domain.chainId, config.domain.verifyingContract)
  const batches: PlannedBatch[] = []
  const byDeployment = groupBy(receipts, (r) => r.deploymentId)
  for (const deploymentId of [...byDeployment.keys()].sort(sortHex)) {
    const snapshot = inputs.get(deploymentId)
    const circulating = snapshot?.circulatingSupply
    if (circulating === undefined || circulating === 0n)
      throw new ProofError(`deployment ${deploymentId} has receipts but no circulating supply in the epoch's inputs`, 'Proofs attest discounts against the stake snapshot; give the snapshot (fomo inputs) before sealing.')
    const params: BatchParameters = { epoch: BigInt(epoch), deploymentId: BigInt(deploymentId), domain: BigInt(domain), maxDiscountBps: discount.maxDiscountBps, multiplier: discount.multiplier, circulating }
    const providers = [...groupBy(byDeployment.get(deploymentId)!, (r) => r.provider).entries()].map(([provider, list]) => {
      const cut = cutBatches(list, n, k)
      const tree = attestedTree(cut.map((b) => batchRoot(b, n)))
      const attestation = attestationOf({ epoch, config, domain, deploymentId, provider, receipts: list.length, batches: cut.length, root: tree.root, n, k }, attestations)
      return { provider, cut, tree, attestation, key: unpackAttestationKey(attestation.key) }
    })
    for (const { provider, cut, tree, attestation, key } of providers.sort((a, b) => (a.key.id < b.key.id ? -1 : a.key.id > b.key.id ? 1 : 0))) {
      for (const [index, batch] of cut.entries()) {
        const rows: StakeRow[] = []
        const planned: PlannedBatch = {
          deploymentId,
          provider,
          receipts: [],
          rows,
          params,
          digests: batch.map((r) => r.digest),
          attestation: { key, signature: attestation.signature, path: tree.path(index), index, batches: cut.length },
          attested: attestation,
        }
        for (const r of batch) {
          const stake = snapshot?.stakes.get(r.user) ?? 0n
          if (stake > circulating) throw new ProofError(`the stake of ${r.user} in deployment ${deploymentId} (${stake}) is above the circulating supply (${circulating})`)
          const expected = stakingDiscountBps(stake, circulating, discount)
          if (BigInt(r.discountBps) !== expected)
            throw new ProofError(`receipt ${r.digest} of ${r.user} carries a ${r.discountBps} bps discount; the stake snapshot gives ${expected} bps`, 'Its charged amount cannot be proven; the report counts such receipts as discount mismatches.')
          const user = BigInt(r.user)
          if (rows.at(-1)?.user !== user) rows.push({ user, stake })
          planned.receipts.push({ digest: BigInt(r.digest), user, gross: r.gross, discountBps: BigInt(r.discountBps), charged: r.charged, row: rows.length - 1 })
        }
        batches.push(planned)
      }
    }
  }
  return batches
}

/** The provider's attestation of its receipts of a deployment, checked against its configured key and the receipts. */
function attestationOf(
  c: { epoch: number; config: AggregatorConfig; domain: Hex; deploymentId: Hex; provider: Hex; receipts: number; batches: number; root: bigint; n: number; k: number },
  attestations: readonly ProviderAttestation[],
): ProviderAttestation {
  const { epoch, config, domain, deploymentId, provider, receipts, batches, root, n, k } = c
  const who = `provider ${provider} of deployment ${deploymentId}`
  const configured = config.providers.find((p) => p.deploymentId === deploymentId && p.provider.toLowerCase() === provider)?.attestationKey
  if (!configured) throw new ProofError(`${who} has no attestation key in the configuration`, 'Give the provider its "attestationKey" (fomo keys new prints it) in config.json and pin the configuration again.')
  const found = attestations.filter((a) => a.epoch === epoch && a.deploymentId === deploymentId && a.provider === provider)
  if (found.length !== 1)
    throw new ProofError(`${found.length === 0 ? 'no' : `${found.length}`} attestation${found.length === 1 ? '' : 's'} of ${who} for epoch ${epoch}`, 'Each provider signs its receipts of the epoch once (fomo attest) after the epoch closes; give exactly one per provider and deployment.')
  const a = found[0]!
  if (a.key !== configured) throw new ProofError(`the attestation of ${who} is signed with key ${a.key}, not its configured ${configured}`)
  if (a.domain !== domain) throw new ProofError(`the attestation of ${who} is for registry domain ${a.domain}, not this epoch's ${domain}`, 'An attestation is made for one registry (config.json\'s verifying contract and chain).')
  if (!verifyAttestation(a)) throw new ProofError(`the attestation of ${who} does not carry a valid signature of its key`)
  if (a.circuit.receipts !== n || a.circuit.rows !== k)
    throw new ProofError(`the attestation of ${who} cuts batches of ${a.circuit.receipts} receipts and ${a.circuit.rows} users; the circuit takes ${n} and ${k}`, 'Have the provider attest again for this circuit.')
  if (a.receipts !== receipts || a.batches !== batches || a.root !== root)
    throw new ProofError(
      `the attestation of ${who} covers ${a.receipts} receipts in ${a.batches} batches (root ${a.root}); the epoch has ${receipts} in ${batches} (root ${root})`,
      'The provider attested another set of receipts: ingest what it attested, or have it attest the receipts of the sealed epoch.',
    )
  return a
}
