/**
 * The auditor's checks of what finalization funds against what the epoch credits. Funding:  sealing credits the emission and each deployment's
 * staking-fund and incentive releases from config.json (dailyEmission, raised, incentiveReserve, graduationEpoch), and
 * EpochFunding moves into the distributor what its own streams give at finalization. If they differ, either the
 * reward tree owes more than is funded (the last claims fail) or funding sits unclaimed. Revenue: each deployment's
 * charged revenue paid to the settlement, and the issuer yield its payments sent the distributor at least what the
 * reward tree credits the issuer.
 */
import type { Hex } from '../base/bytes.ts'
import { epochEmission } from '../economics/emissions.ts'
import { netRevenue, revenueWaterfall } from '../economics/revenue.ts'
import { splitProceeds, VESTING_DAYS, DAY_SECONDS } from '../economics/supply.ts'
import type { AggregatorConfig } from '../epoch/config.ts'

/** What EpochFunding holds, as read from the chain. */
export type OnChainFunding = {
  epochSeconds: bigint
  emissionPerEpoch: bigint
  streams: ReadonlyArray<{ deploymentId: Hex; kind: number; token: Hex; total: bigint; startEpoch: bigint }>
}

export type FundingFault = { what: string; expected: string; found: string }

/**
 * The first difference between what sealing credits for `epoch` under `config` and what the funding contract releases,
 * or undefined. A stream already paid out in full is dropped on chain, so a deployment past its vesting has none.
 */
export function fundingFault(config: AggregatorConfig, epoch: number, onChain: OnChainFunding): FundingFault | undefined {
  const seconds = BigInt(config.epochSeconds)
  if (onChain.epochSeconds !== seconds) return { what: 'the epoch funding contract\'s epoch length', expected: `${seconds} s (config.json)`, found: `${onChain.epochSeconds} s` }
  const emission = epochEmission(config.platform.dailyEmission, seconds)
  if (onChain.emissionPerEpoch !== emission) return { what: 'the emission per epoch the funding contract releases', expected: `${emission} (config.json's dailyEmission)`, found: String(onChain.emissionPerEpoch) }
  for (const d of config.deployments) {
    const vesting = epoch >= d.graduationEpoch && BigInt(epoch - d.graduationEpoch) * seconds < VESTING_DAYS * DAY_SECONDS
    const expected = [
      { kind: 0, name: 'staking fund', total: splitProceeds(d.raised).stakingIncentives, token: config.tokens.flock },
      { kind: 1, name: 'incentive reserve', total: d.incentiveReserve, token: d.mtToken },
    ]
    for (const e of expected) {
      const stream = onChain.streams.find((s) => s.deploymentId.toLowerCase() === d.id.toLowerCase() && s.kind === e.kind)
      const want = `${e.total} from epoch ${d.graduationEpoch} in ${e.token}`
      if (!stream) {
        if (vesting && e.total > 0n) return { what: `deployment ${d.id}: its ${e.name} stream in the funding contract`, expected: want, found: 'none' }
        continue
      }
      const found = `${stream.total} from epoch ${stream.startEpoch} in ${stream.token.toLowerCase()}`
      if (stream.total !== e.total || stream.startEpoch !== BigInt(d.graduationEpoch) || stream.token.toLowerCase() !== e.token.toLowerCase())
        return { what: `deployment ${d.id}: its ${e.name} stream (config.json's raised, incentiveReserve and graduationEpoch)`, expected: want, found }
    }
  }
  return undefined
}

/** What the settlement's RevenuePaid events of an epoch record for one deployment, summed. */
export type PaidRevenue = { deploymentId: Hex; charged: bigint; opex: bigint; issuerYield: bigint }

/**
 * The first deployment of a final epoch whose revenue the settlement holds less of than the epoch commits (a payment
 * made to another deployment passes a registry without a verifier), or whose payments sent the distributor less
 * issuer yield than the reward tree credits its issuer (OpEx taken above what inputs.json declares, or payments split
 * so their rounding loses yield): the issuer's claim would be paid from other epochs' funds. A pending epoch may still
 * be paid, so only what was paid in full is judged.
 */
export function revenueFault(due: ReadonlyArray<{ deploymentId: Hex; charged: bigint; opex: bigint }>, paid: ReadonlyArray<PaidRevenue>, final: boolean): FundingFault | undefined {
  for (const d of due) {
    const p = paid.filter((x) => x.deploymentId.toLowerCase() === d.deploymentId.toLowerCase())
    const charged = p.reduce((n, x) => n + x.charged, 0n)
    if (charged < d.charged) {
      if (final) return { what: `deployment ${d.deploymentId}: charged revenue paid to the settlement`, expected: String(d.charged), found: String(charged) }
      continue
    }
    const credited = revenueWaterfall(netRevenue(d.charged, d.opex)).issuerYield
    const yielded = p.reduce((n, x) => n + x.issuerYield, 0n)
    if (yielded < credited)
      return { what: `deployment ${d.deploymentId}: issuer yield the payments sent the distributor (OpEx paid ${p.reduce((n, x) => n + x.opex, 0n)}, inputs.json ${d.opex})`, expected: `at least ${credited} (the reward tree's credit)`, found: String(yielded) }
  }
  return undefined
}
