/**
 * The human-readable table of a simulation report.
 */
import type { SimulationReport } from '../../economics/report.ts'
import { pretty, table } from './table.ts'

/** The human-readable form of a simulation report (truncated decimals; --json has the exact values). */
export function renderSimulation(report: SimulationReport): string {
  const out: string[] = [`Scenario: ${report.scenario}`, '']
  for (const d of report.deployments) {
    const r = d.rmo
    out.push(`Deployment ${d.id} (issuer ${d.issuer}, graduation day ${d.graduationDay})`)
    out.push(
      table(
        ['RMO', 'value'],
        [
          ['virtual MT reserve y0', pretty(r.virtualMtReserve)],
          ['virtual FLOCK reserve x0', pretty(r.virtualFlockReserve)],
          ['outcome', r.outcome],
          ['raised (FLOCK)', pretty(r.raised)],
          ['sold (MT)', pretty(r.sold)],
          ['average price (FLOCK/MT)', pretty(r.averagePrice, 6)],
          ['final marginal price', pretty(r.finalMarginalPrice, 6)],
          ['DEX price', pretty(d.dexPrice, 6)],
          ['creator fees (FLOCK)', pretty(r.creatorFees)],
          ['protocol + anti-sniping fees', pretty(r.protocolFees)],
          ['proceeds protocol / staking / liquidity', `${pretty(d.proceeds.protocol!)} / ${pretty(d.proceeds.stakingIncentives!)} / ${pretty(d.proceeds.liquidity!)}`],
        ],
      ),
    )
    if (r.fills.length > 0) {
      out.push('')
      out.push(
        table(
          ['buyer', 'at (s)', 'FLOCK in', 'MT out', 'avg price', 'fees', 'unfilled'],
          r.fills.map((f) => [
            f.buyer,
            String(f.at),
            pretty(f.curveIn),
            pretty(f.mtOut),
            pretty(f.averagePrice, 6),
            pretty(f.fees),
            pretty(f.unfilled),
          ]),
        ),
      )
    }
    out.push('')
  }
  for (const e of report.epochs) {
    out.push(`Epoch day ${e.day}: emission ${pretty(e.emission)} FLOCK (unrouted to treasury: ${pretty(e.emissionToTreasury)})`)
    out.push(
      table(
        ['deployment', 'age', 'AgeFactor', 'gross $', 'charged $', 'OpEx $', 'P_net $', 'FLOCK buyback', 'treasury', 'MT burn $', 'issuer $', 'DS', 'emission', 'share'],
        e.deployments.map((d) => [
          d.id,
          String(d.ageDays),
          pretty(d.ageFactor, 4),
          pretty(d.grossSpend),
          pretty(d.chargedRevenue),
          pretty(d.opex),
          pretty(d.netRevenue),
          pretty(d.waterfall.flockBuyback!),
          pretty(d.waterfall.treasury!),
          pretty(d.waterfall.mtBuybackBurn!),
          pretty(d.waterfall.issuerYield!),
          pretty(d.deploymentScore),
          pretty(d.emissionShare),
          `${(d.emissionShareBps / 100).toFixed(2)}%`,
        ]),
      ),
    )
    for (const d of e.deployments) {
      out.push('', `  ${d.id}: issuer bonus ${pretty(d.issuerBonus)} FLOCK, staker pool ${pretty(d.stakerPool)} FLOCK, staking fund ${pretty(d.stakingFundRelease)} FLOCK, incentive ${pretty(d.incentiveRelease)} MT, circulating ${pretty(d.circulatingSupply)} MT`)
      out.push(
        table(
          ['user', 'stake MT', 'discount', 'gross $', 'charged $', 'spend share', 'emission FLOCK', 'fund FLOCK', 'incentive MT'],
          d.users.map((u) => [
            u.account,
            pretty(u.stake),
            `${(u.discountBps / 100).toFixed(2)}%`,
            pretty(u.gross),
            pretty(u.charged),
            `${(u.spendShareBps / 100).toFixed(2)}%`,
            pretty(u.rewards.emission),
            pretty(u.rewards.stakingFund),
            pretty(u.rewards.incentive),
          ]),
        )
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
      )
    }
    out.push('', '  Rewards this epoch')
    out.push(
      table(['account', 'token', 'amount', 'cumulative'], e.rewards.map((r) => [r.account, r.token, pretty(r.amount, 6), pretty(r.cumulative, 6)]))
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    )
    out.push('')
  }
  return `${out.join('\n')}\n`
}
