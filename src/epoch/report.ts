/**
 * The epoch report (format fomo-epoch-report-v1): the paper's economics of one sealed epoch per deployment (age,
 * revenue, waterfall, score, emission share, issuer bonus, staker pool, vesting releases) and this epoch's credits.
 * Every amount is a decimal string of base units.
 */
import { ageFactor } from '../economics/emissions.ts'
import type { EpochSettlement } from '../economics/epoch.ts'
import type { AggregatorConfig } from './config.ts'
import type { DeploymentInputs } from './inputs.ts'

export const REPORT_FORMAT = 'fomo-epoch-report-v1'

/** Epoch totals as the report and the manifest state them. */
export type EpochTotals = { receipts: string; users: number; gross: string; charged: string }

/** What sealing learned of one deployment besides its settlement. */
export type DeploymentDetails = {
  ageDays: bigint | null
  circulating: bigint | undefined
  discountMismatches: number
  stakingFundRelease: bigint
  incentiveRelease: bigint
  receipts: bigint
}

export type ReportInput = {
  epoch: number
  config: AggregatorConfig
  totals: EpochTotals
  emission: bigint
  settlement: EpochSettlement
  details: ReadonlyMap<string, DeploymentDetails>
  inputs: ReadonlyMap<string, DeploymentInputs>
}

export function epochReport({ epoch, config, totals, emission, settlement, details, inputs }: ReportInput) {
  const seconds = BigInt(config.epochSeconds)
  return {
    format: REPORT_FORMAT,
    epoch,
    window: { start: (BigInt(epoch) * seconds).toString(), end: (BigInt(epoch + 1) * seconds).toString() },
    units: 'base units: USDC 6 decimals, FLOCK and MT 18; ratios in bps or WAD (1e18)',
    totals,
    emission: emission.toString(),
    emissionToTreasury: settlement.emissionDust.toString(),
    deployments: config.deployments.map((d) => {
      const s = settlement.deployments.find((x) => x.id === d.id)
      const x = details.get(d.id)!
      return {
        id: d.id,
        name: d.name,
        live: s !== undefined,
        ageDays: x.ageDays === null ? null : Number(x.ageDays),
        ageFactor: x.ageDays === null ? null : ageFactor(x.ageDays).toString(),
        receipts: x.receipts.toString(),
        circulatingSupply: x.circulating?.toString() ?? null,
        discountMismatches: x.discountMismatches,
        grossSpend: (s?.grossSpend ?? 0n).toString(),
        chargedRevenue: (s?.chargedRevenue ?? 0n).toString(),
        opex: (inputs.get(d.id)?.opex ?? 0n).toString(),
        netRevenue: (s?.netRevenue ?? 0n).toString(),
        waterfall: s ? Object.fromEntries(Object.entries(s.waterfall).map(([k, v]) => [k, v.toString()])) : null,
        deploymentScore: (s?.score ?? 0n).toString(),
        emissionShare: (s?.emissionShare ?? 0n).toString(),
        issuerBonus: (s?.issuerBonus ?? 0n).toString(),
        stakerPool: (s?.stakerPool ?? 0n).toString(),
        stakingFundRelease: x.stakingFundRelease.toString(),
        incentiveRelease: x.incentiveRelease.toString(),
        toTreasury: { flock: (s?.treasuryFlock ?? 0n).toString(), mt: (s?.treasuryMt ?? 0n).toString() },
        rewardedAccounts: s?.rewards.size ?? 0,
      }
    }),
    credits: settlement.allocations.map((a) => ({ account: a.account, token: a.token, amount: a.amount.toString() })),
  }
}
