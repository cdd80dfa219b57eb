/**
 * Provider attestations recorded on chain (`recordAttestation`): a provider makes its attestation of an epoch binding,
 * so that every proposal of the epoch must prove all of its batches, and anyone revokes one that leaves it out
 * (`challengeOmission`). Recording needs the provider's own account; finding and challenging an omission needs none.
 */
import { getContract, type Address, type Hex, type PublicClient } from 'viem'
import { unpackAttestationKey } from '../receipts/attestationKey.ts'
import { attestationMessageOf, type ProviderAttestation } from '../proofs/attestation.ts'
import { distributorDomain } from '../epoch/rewards.ts'
import { RewardDistributor } from './contracts.generated.ts'
import { ChainError, distributorAt, type Clients } from './contracts.ts'

/**
 * Records a provider's attestation on the registry it was made for, from the provider's account. Refused before any
 * transaction when the registry is another (its domain), or does not pin the attestation's key for this account;
 * recording the same attestation again is a no-op, another one of the same epoch is refused (the first is final).
 */
export async function recordAttestation(clients: Clients, registry: Address, a: ProviderAttestation): Promise<{ hash: Hex | null; message: bigint }> {
  const d = distributorAt(clients, registry)
  const message = attestationMessageOf(a)
  const domain = distributorDomain(await clients.public.getChainId(), registry)
  if (domain !== a.domain.toLowerCase())
    throw new ChainError(`the attestation of epoch ${a.epoch} is for the registry of domain ${a.domain}, not ${registry} on this chain`, "Record it on the registry the receipts' EIP-712 domain names, on its chain.")
  const keyId = unpackAttestationKey(a.key).id
  const pinned = await d.read.providerAccountOf([await d.read.configHash(), a.deploymentId, keyId])
  const account = clients.wallet.account.address
  if (pinned.toLowerCase() !== account.toLowerCase())
    throw new ChainError(
      `the registry's configuration does not pin attestation key ${a.key} of deployment ${a.deploymentId} for ${account}${/^0x0{40}$/.test(pinned) ? '' : ` (it names ${pinned})`}`,
      'Record with the provider key config.json names for the deployment, once the registry pins that configuration (fomo pin --config).',
    )
  const recorded = await d.read.recordedAttestation([BigInt(a.epoch), a.deploymentId, keyId])
  if (recorded === message) return { hash: null, message }
  if (recorded !== 0n)
    throw new ChainError(`the key already recorded another attestation of epoch ${a.epoch} for deployment ${a.deploymentId} (${recorded})`, 'An attestation, once recorded, is final: the aggregator must prove that one.')
  const hash = await d.write.recordAttestation([BigInt(a.epoch), a.deploymentId, keyId, message])
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`recordAttestation transaction ${hash} reverted`)
  return { hash, message }
}

/**
 * A recorded attestation a pending or final epoch drops, which anyone can prove: one of the epoch itself its current
 * proofs do not prove completely (`challengeOmission`), or one of an earlier epoch, not final, that the pending
 * proposal skips (`recordedEpoch` < `epoch`; once the proposal is final that epoch can never be proposed:
 * `challengeSkip`).
 */
export type OmissionFault = { epoch: number; recordedEpoch: number; deploymentId: Hex; providerKey: bigint; recorded: bigint; proven: bigint; provider: Address }

/**
 * Every attestation recorded for `epoch` whose key the configuration `configHash` pins and whose batches the epoch's
 * current proofs do not all prove, and, when `epoch` is the pending one, the first earlier epoch it skips
 * (`skippedRecording`): what `challengeOmission` and `challengeSkip` revoke a pending proposal for. Empty for an
 * honest one. Read from the registry's state alone (`recordedKeys`), no logs.
 */
export async function omissionFaults(client: PublicClient, registry: Address, epoch: number, configHash: Hex): Promise<OmissionFault[]> {
  const r = getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client } })
  const keys = await r.read.recordedKeys([BigInt(epoch)])
  const faults: OmissionFault[] = []
  for (const { deploymentId, providerKey } of keys) {
    const [provider, recorded, proven] = await Promise.all([
      r.read.providerAccountOf([configHash, deploymentId, providerKey]),
      r.read.recordedAttestation([BigInt(epoch), deploymentId, providerKey]),
      r.read.provenAttestation([BigInt(epoch), deploymentId, providerKey]),
    ])
    if (!/^0x0{40}$/.test(provider) && proven !== recorded) faults.push({ epoch, recordedEpoch: epoch, deploymentId, providerKey, recorded, proven, provider })
  }
  const [hasPending, pendingEpoch] = await Promise.all([r.read.hasPending(), r.read.pendingEpoch()])
  if (hasPending && pendingEpoch === BigInt(epoch)) {
    const [found, skipped, { deploymentId, providerKey }] = await r.read.skippedRecording()
    if (found) {
      const [provider, recorded] = await Promise.all([r.read.providerAccountOf([configHash, deploymentId, providerKey]), r.read.recordedAttestation([skipped, deploymentId, providerKey])])
      faults.push({ epoch, recordedEpoch: Number(skipped), deploymentId, providerKey, recorded, proven: 0n, provider })
    }
  }
  return faults
}

/** Revokes the pending proposal for an omission or a skipped epoch (any account may send it). */
export async function submitOmissionChallenge(clients: Clients, registry: Address, fault: OmissionFault): Promise<Hex> {
  const d = distributorAt(clients, registry)
  const skip = fault.recordedEpoch !== fault.epoch
  const hash = skip
    ? await d.write.challengeSkip([BigInt(fault.epoch), BigInt(fault.recordedEpoch), fault.deploymentId, fault.providerKey])
    : await d.write.challengeOmission([BigInt(fault.epoch), fault.deploymentId, fault.providerKey])
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`${skip ? 'challengeSkip' : 'challengeOmission'} transaction ${hash} reverted`)
  return hash
}
