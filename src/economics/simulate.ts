/**
 * The scenario simulator: raises on the RMO curve, then epoch after epoch the settlement, vesting and
 * cumulative rewards of every account.
 */
import { BaseError } from '../base/errors.ts'
import { settleEpoch, RewardLedger, type DeploymentEpochInput, type EpochSettlement } from './epoch.ts'
import { WAD, maxBig, mulDivDown } from './math.ts'
import { chargedAmount, stakingDiscountBps } from './revenue.ts'
import { createCurve, dexPrice, marginalPrice, simulateRaise, averagePrice, type Curve, type RaiseResult } from './rmo.ts'
import type { Scenario, ScenarioDeployment } from './scenario.ts'
import { VESTING_DAYS, allocateSupply, pairedLiquidityMt, releasedBetween, splitProceeds, vestedAmount, type ProceedsSplit, type SupplyAllocation } from './supply.ts'
import { discountParameters } from './parameters.ts'

export class ScenarioError extends BaseError {
  override name = 'ScenarioError'
  constructor(message: string, hint: string) {
    super('SCENARIO_INCONSISTENT', message, { metaMessages: [hint] })
  }
}

export type DeploymentLaunch = {
  deployment: ScenarioDeployment
  curve: Curve
  supply: SupplyAllocation
  raise: RaiseResult
  proceeds: ProceedsSplit
  /** FLOCK per MT, WAD. */
  dexPrice: bigint
  finalMarginalPrice: bigint
  averagePrice: bigint
  /** Unsold sale MT, burned at a deadline graduation. */
  unsoldBurned: bigint
  /** Liquidity MT paired with the raise's liquidity FLOCK: all of it at G, in proportion to the raise below. */
  pairedLiquidity: bigint
  /** Liquidity MT burned at a deadline graduation (the rest of the liquidity allocation), so the pool opens at 0.5 * G / 200,000. */
  liquidityBurned: bigint
  mtToken: string
}

export type EpochUser = { account: string; stake: bigint; discountBps: bigint; gross: bigint; charged: bigint }

export type SimulatedEpoch = {
  day: bigint
  emission: bigint
  settlement: EpochSettlement
  deployments: Map<string, { ageDays: bigint; circulatingSupply: bigint; opex: bigint; users: EpochUser[]; stakingFundRelease: bigint; incentiveRelease: bigint; mtBurned: bigint }>
  /** Cumulative totals after this epoch, for the accounts credited in it. */
  cumulative: RewardLedger
}

export type Simulation = { scenario: Scenario; launches: DeploymentLaunch[]; epochs: SimulatedEpoch[] }

export const FLOCK_TOKEN = 'FLOCK'
export const USDC_TOKEN = 'USDC'
export const mtTokenOf = (deploymentId: string) => `MT:${deploymentId}`

/** Runs the RMO of every deployment, then every epoch in order. Pure and deterministic. */
export function simulate(scenario: Scenario): Simulation {
  const launches = scenario.deployments.map(launch)
  const byId = new Map(launches.map((l) => [l.deployment.id, l]))
  const burned = new Map<string, bigint>()
  const ledger = new RewardLedger()

  const epochs = scenario.epochs.map((epoch): SimulatedEpoch => {
    const inputs: DeploymentEpochInput[] = []
    const details: SimulatedEpoch['deployments'] = new Map()
    for (const [id, e] of epoch.deployments) {
      const l = byId.get(id) as DeploymentLaunch
      const where = `epoch day ${epoch.day}, deployment "${id}"`
      if (l.raise.outcome === 'failed')
        throw new ScenarioError(`${where}: the RMO failed (raised below minRaise), so the deployment never went live`, 'Remove its usage, or change its buys or minRaise.')
      if (epoch.day < l.deployment.graduationDay)
        throw new ScenarioError(`${where}: the epoch is before graduation day ${l.deployment.graduationDay}`, 'Usage counts only once the deployment is live.')
      const ageDays = epoch.day - l.deployment.graduationDay
      const circulatingSupply = e.circulatingSupply ?? derivedCirculating(l, ageDays, burned.get(id) ?? 0n)
      const users: EpochUser[] = []
      const accounts = new Set([...e.usage.keys(), ...e.stakes.keys()])
      for (const account of [...accounts].sort()) {
        const stake = e.stakes.get(account) ?? 0n
        if (stake > circulatingSupply)
          throw new ScenarioError(`${where}: ${account} stakes ${stake} base units, above the circulating supply ${circulatingSupply}`, 'A stake is part of the circulating supply; lower it or set circulatingSupply.')
        const discountBps = stakingDiscountBps(stake, circulatingSupply, discountParameters(scenario.platform))
        const gross = e.usage.get(account) ?? 0n
        users.push({ account, stake, discountBps, gross, charged: chargedAmount(gross, discountBps) })
      }
      const stakingFundRelease = releasedBetween(l.proceeds.stakingIncentives, ageDays, ageDays + 1n, VESTING_DAYS)
      const incentiveRelease = releasedBetween(l.supply.incentiveReserve, ageDays, ageDays + 1n, VESTING_DAYS)
      inputs.push({ id, issuer: l.deployment.issuer, mtToken: l.mtToken, ageDays, opex: e.opex, users, stakingFundRelease, incentiveRelease })
      details.set(id, { ageDays, circulatingSupply, opex: e.opex, users, stakingFundRelease, incentiveRelease, mtBurned: 0n })
    }
    const emission = epoch.emission ?? scenario.platform.dailyEmission
    const settlement = settleEpoch(
      { emission, scoreBasis: scenario.platform.scoreBasis, rewardDenominator: scenario.platform.rewardDenominator, issuerBonusBps: scenario.platform.issuerBonusBps, tokens: { flock: FLOCK_TOKEN, usdc: USDC_TOKEN } },
      inputs,
    )
    for (const s of settlement.deployments) {
      const price = (byId.get(s.id) as DeploymentLaunch).deployment.mtPriceUsdc
      if (price === undefined || price === 0n) continue
      const bought = mulDivDown(s.waterfall.mtBuybackBurn, WAD, price)
      const detail = details.get(s.id)!
      detail.mtBurned = bought
      burned.set(s.id, (burned.get(s.id) ?? 0n) + bought)
    }
    ledger.add(settlement.allocations)
    return { day: epoch.day, emission, settlement, deployments: details, cumulative: RewardLedger.from(ledger.entries()) }
  })
  return { scenario, launches, epochs }
}

function launch(deployment: ScenarioDeployment): DeploymentLaunch {
  const supply = allocateSupply(deployment.totalSupply)
  const { rmo } = deployment
  const curve = createCurve({ saleSupply: supply.publicSale, graduationTarget: rmo.graduationTarget, startPrice: rmo.startPrice })
  const fees = {
    creatorFeeBps: rmo.creatorFeeBps,
    protocolFeeBps: rmo.protocolFeeBps,
    antiSnipingStartBps: rmo.antiSnipingStartBps,
    antiSnipingWindowSeconds: rmo.antiSnipingWindowSeconds,
  }
  // Without a list of buys the raise fills exactly to the target.
  const buys = rmo.buys ?? [{ buyer: 'market', at: maxBig(rmo.antiSnipingWindowSeconds, 0n), flock: rmo.graduationTarget }]
  const raise = simulateRaise(curve, fees, buys, rmo.minRaise)
  const proceeds = splitProceeds(raise.outcome === 'failed' ? 0n : raise.raised)
  const pairedLiquidity = raise.outcome === 'failed' ? 0n : pairedLiquidityMt(raise.raised, rmo.graduationTarget, supply.liquidity)
  return {
    deployment,
    curve,
    supply,
    raise,
    proceeds,
    dexPrice: raise.outcome === 'failed' ? 0n : dexPrice(proceeds.liquidity, pairedLiquidity),
    finalMarginalPrice: marginalPrice(curve, raise.raised),
    averagePrice: averagePrice(raise.raised, raise.sold),
    unsoldBurned: raise.outcome === 'graduated-at-deadline' ? supply.publicSale - raise.sold : 0n,
    pairedLiquidity,
    liquidityBurned: raise.outcome === 'failed' ? 0n : supply.liquidity - pairedLiquidity,
    mtToken: mtTokenOf(deployment.id),
  }
}

/** Circulating = sold + paired liquidity + vested issuer, treasury and incentive amounts - burned (snapshot at the epoch's start). */
export function derivedCirculating(l: DeploymentLaunch, ageDays: bigint, burned: bigint): bigint {
  const vested = (total: bigint) => vestedAmount(total, ageDays, VESTING_DAYS)
  const circulating = l.raise.sold + l.pairedLiquidity + vested(l.supply.issuer) + vested(l.supply.treasury) + vested(l.supply.incentiveReserve) - burned
  return maxBig(0n, circulating)
}

