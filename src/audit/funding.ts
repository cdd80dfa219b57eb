/**
 * The auditor's check of epoch funding against config.json: sealing credits the emission and each deployment's
 * staking-fund and incentive releases from config.json (dailyEmission, raised, incentiveReserve, graduationEpoch), and
 * EpochFunding moves into the distributor what its own streams give at finalization. If they differ, either the
 * reward tree owes more than is funded (the last claims fail) or funding sits unclaimed.
 */
import type { Hex } from '../base/bytes.ts'
import { epochEmission } from '../economics/emissions.ts'
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
