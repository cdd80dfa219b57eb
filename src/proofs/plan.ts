/**
 * The batching rule: how a sealed epoch's receipts are cut into the batches that are proven, one Groth16 proof per
 * batch. The rule is deterministic so that an auditor holding the receipts rebuilds the same batches and checks
 * each proven root.
 */
import type { Hex } from '../base/bytes.ts'
import { discountParameters } from '../economics/parameters.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochInputs } from '../epoch/inputs.ts'
import { distributorDomain } from '../epoch/rewards.ts'
import type { EpochReceipt } from '../epoch/spend.ts'
import { ProofError } from './groth16.ts'
import { digestLimbs, type BatchParameters, type BatchReceipt, type StakeRow } from './statement.ts'

export type PlannedBatch = { deploymentId: Hex; receipts: BatchReceipt[]; rows: StakeRow[]; params: BatchParameters; digests: Hex[] }

const sortHex = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Cuts an epoch's receipts into batches: per deployment (ascending id), receipts ordered by (user, digest), a new
 * batch whenever the current one holds `n` receipts or a new user would make it `k + 1` users: the order the circuit
 * and the registry require (strictly increasing (deployment, user, digest prefix) across the epoch's batches). Each batch's stake
 * table lists its users in order of appearance with their snapshot stakes. Throws naming the receipt when a
 * receipt's discount is not the one its user's snapshot stake gives: such an epoch cannot be proven.
 */
export function planBatches(epoch: number, config: AggregatorConfig, inputs: EpochInputs['deployments'], receipts: readonly EpochReceipt[], n: number, k: number): PlannedBatch[] {
  const byDeployment = new Map<Hex, EpochReceipt[]>()
  for (const r of receipts) {
    const list = byDeployment.get(r.deploymentId) ?? []
    list.push(r)
    byDeployment.set(r.deploymentId, list)
  }
  const discount = discountParameters(config.platform)
  // The registry the epoch is published to (the receipts' verifying contract): a proof for it is refused by any other.
  const domain = BigInt(distributorDomain(config.domain.chainId, config.domain.verifyingContract))
  const batches: PlannedBatch[] = []
  for (const deploymentId of [...byDeployment.keys()].sort(sortHex)) {
    const list = byDeployment.get(deploymentId)!.sort((a, b) => sortHex(a.user, b.user) || sortHex(a.digest, b.digest))
    const snapshot = inputs.get(deploymentId)
    const circulating = snapshot?.circulatingSupply
    if (circulating === undefined || circulating === 0n)
      throw new ProofError(`deployment ${deploymentId} has receipts but no circulating supply in the epoch's inputs`, 'Proofs attest discounts against the stake snapshot; give the snapshot (fomo inputs) before sealing.')
    const params: BatchParameters = { epoch: BigInt(epoch), deploymentId: BigInt(deploymentId), domain, maxDiscountBps: discount.maxDiscountBps, multiplier: discount.multiplier, circulating }
    let current: PlannedBatch | undefined
    for (const r of list) {
      const stake = snapshot?.stakes.get(r.user) ?? 0n
      if (stake > circulating) throw new ProofError(`the stake of ${r.user} in deployment ${deploymentId} (${stake}) is above the circulating supply (${circulating})`)
      const expected = stakingDiscountBps(stake, circulating, discount)
      if (BigInt(r.discountBps) !== expected)
        throw new ProofError(`receipt ${r.digest} of ${r.user} carries a ${r.discountBps} bps discount; the stake snapshot gives ${expected} bps`, 'Its charged amount cannot be proven; the report counts such receipts as discount mismatches.')
      const user = BigInt(r.user)
      const previous = current?.receipts.at(-1)
      if (previous && previous.user === user && digestLimbs(previous.digest)[0] === digestLimbs(BigInt(r.digest))[0])
        throw new ProofError(`receipts ${current!.digests.at(-1)} and ${r.digest} of ${r.user} share the first 128 bits of their digests`, 'The circuit orders a user\'s receipts by them, so it cannot prove both (a 2^-64 chance per pair): leave one out of the proven epoch.')
      let row = current ? current.rows.findIndex((x) => x.user === user) : -1
      if (!current || current.receipts.length === n || (row < 0 && current.rows.length === k)) {
        current = { deploymentId, receipts: [], rows: [], params, digests: [] }
        batches.push(current)
        row = -1
      }
      if (row < 0) {
        row = current.rows.length
        current.rows.push({ user, stake })
      }
      current.receipts.push({ digest: BigInt(r.digest), user, gross: r.gross, discountBps: BigInt(r.discountBps), charged: r.charged, row })
      current.digests.push(r.digest)
    }
  }
  return batches
}
