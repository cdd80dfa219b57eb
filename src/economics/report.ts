/**
 * The JSON document of `fomo simulate --json`. Amounts are exact decimal
 * strings of whole tokens (USDC 6 decimals, FLOCK and MT 18); prices and the
 * age factor are exact decimals of their WAD value; discounts are integer bps.
 */
import { DECIMALS, formatUnits } from '../base/units.ts'
import { BPS } from './math.ts'
import { USDC_TOKEN, type Simulation } from './simulate.ts'

export const SIMULATION_REPORT_FORMAT = 'fomo-simulation-report-v1'

const usdc = (v: bigint) => formatUnits(v, DECIMALS.USDC)
const flock = (v: bigint) => formatUnits(v, DECIMALS.FLOCK)
const mt = (v: bigint) => formatUnits(v, DECIMALS.MT)
const wad = (v: bigint) => formatUnits(v, 18)
const token = (symbol: string, v: bigint) => (symbol === USDC_TOKEN ? usdc(v) : formatUnits(v, 18))

export function simulationReport(sim: Simulation) {
  const { scenario } = sim
  return {
    format: SIMULATION_REPORT_FORMAT,
    scenario: scenario.name,
    units: 'amounts in whole tokens as exact decimals (USDC 6 decimals, FLOCK and MT 18); prices in FLOCK per MT',
    platform: {
      maxDiscountBps: Number(scenario.platform.maxDiscountBps),
      discountMultiplier: Number(scenario.platform.discountMultiplier),
      dailyEmission: flock(scenario.platform.dailyEmission),
      scoreBasis: scenario.platform.scoreBasis,
      rewardDenominator: scenario.platform.rewardDenominator,
      issuerBonusBps: Number(scenario.platform.issuerBonusBps),
      treasury: scenario.platform.treasury,
    },
    deployments: sim.launches.map((l) => ({
      id: l.deployment.id,
      issuer: l.deployment.issuer,
      mtToken: l.mtToken,
      graduationDay: Number(l.deployment.graduationDay),
      supply: Object.fromEntries(Object.entries(l.supply).map(([k, v]) => [k, mt(v)])),
      rmo: {
        saleSupply: mt(l.curve.saleSupply),
        graduationTarget: flock(l.curve.graduationTarget),
        startPrice: wad(l.curve.startPrice),
        virtualMtReserve: mt(l.curve.y0),
        virtualFlockReserve: flock(l.curve.x0),
        outcome: l.raise.outcome,
        raised: flock(l.raise.raised),
        sold: mt(l.raise.sold),
        averagePrice: wad(l.averagePrice),
        finalMarginalPrice: wad(l.finalMarginalPrice),
        creatorFees: flock(l.raise.creatorFees),
        protocolFees: flock(l.raise.protocolFees),
        launchFee: flock(l.deployment.rmo.launchFee),
        unsoldBurned: mt(l.unsoldBurned),
        fills: l.raise.fills.map((f) => ({
          buyer: f.buyer,
          at: Number(f.at),
          curveIn: flock(f.curveIn),
          unfilled: flock(f.unfilled),
          mtOut: mt(f.mtOut),
          creatorFee: flock(f.creatorFee),
          protocolFee: flock(f.protocolFee),
          antiSnipingFee: flock(f.antiSnipingFee),
          fees: flock(f.totalPaid - f.curveIn),
          totalPaid: flock(f.totalPaid),
          averagePrice: wad(f.averagePrice),
          raisedAfter: flock(f.raisedAfter),
        })),
        buyers: [...l.raise.buyers].map(([buyer, b]) => ({ buyer, curveIn: flock(b.curveIn), fees: flock(b.fees), mt: mt(b.mt), refund: flock(b.refund) })),
      },
      proceeds: Object.fromEntries(Object.entries(l.proceeds).map(([k, v]) => [k, flock(v)])),
      dexPrice: wad(l.dexPrice),
    })),
    epochs: sim.epochs.map((e) => ({
      day: Number(e.day),
      emission: flock(e.emission),
      emissionToTreasury: flock(e.settlement.emissionDust),
      deployments: e.settlement.deployments.map((s) => {
        const d = e.deployments.get(s.id)!
        return {
          id: s.id,
          ageDays: Number(d.ageDays),
          ageFactor: wad(s.ageFactor),
          circulatingSupply: mt(d.circulatingSupply),
          grossSpend: usdc(s.grossSpend),
          chargedRevenue: usdc(s.chargedRevenue),
          opex: usdc(d.opex),
          netRevenue: usdc(s.netRevenue),
          waterfall: Object.fromEntries(Object.entries(s.waterfall).map(([k, v]) => [k, usdc(v)])),
          mtBurned: mt(d.mtBurned),
          deploymentScore: usdc(s.score),
          emissionShare: flock(s.emissionShare),
          emissionShareBps: e.emission === 0n ? 0 : Number((s.emissionShare * BPS) / e.emission),
          issuerBonus: flock(s.issuerBonus),
          stakerPool: flock(s.stakerPool),
          stakingFundRelease: flock(d.stakingFundRelease),
          incentiveRelease: mt(d.incentiveRelease),
          toTreasury: { flock: flock(s.treasuryFlock), mt: mt(s.treasuryMt) },
          users: d.users.map((u) => {
            const r = s.rewards.get(u.account)
            return {
              account: u.account,
              stake: mt(u.stake),
              discountBps: Number(u.discountBps),
              gross: usdc(u.gross),
              charged: usdc(u.charged),
              spendShareBps: s.grossSpend === 0n ? 0 : Number((u.gross * BPS) / s.grossSpend),
              rewards: { emission: flock(r?.emission ?? 0n), stakingFund: flock(r?.stakingFund ?? 0n), incentive: mt(r?.incentive ?? 0n) },
            }
          }),
        }
      }),
      rewards: e.settlement.allocations.map((a) => ({
        account: a.account,
        token: a.token,
        amount: token(a.token, a.amount),
        cumulative: token(a.token, e.cumulative.get(a.account, a.token)),
      })),
    })),
    cumulative: (sim.epochs.at(-1)?.cumulative.entries() ?? []).map((a) => ({ account: a.account, token: a.token, amount: token(a.token, a.amount) })),
  }
}

export type SimulationReport = ReturnType<typeof simulationReport>

