/**
 * One epoch's settlement, shared by the simulator and the aggregator: from
 * per-user spend and stakes to the waterfall, emission routing and every
 * account's rewards. Pure; all amounts in base units.
 */
import { InvalidParameterError } from '../base/errors.ts'
import { ageFactor, deploymentScore, grossWeightedRewards, routeEmission, splitDeploymentEmission, type RewardDenominator } from './emissions.ts'
import { sum } from './math.ts'
import { netRevenue, revenueWaterfall, type Waterfall } from './revenue.ts'

export type ScoreBasis = 'net' | 'charged' | 'gross'

export type EpochParameters = {
  /** FLOCK emitted across all deployments this epoch. */
  emission: bigint
  scoreBasis: ScoreBasis
  rewardDenominator: RewardDenominator
  issuerBonusBps: bigint
  tokens: { flock: string; usdc: string }
}

export type UserEpochInput = {
  account: string
  /** List-price spend (USDC base units). */
  gross: bigint
  /** Spend after the staking discount (USDC base units). */
  charged: bigint
  /** MT staked at the epoch's snapshot. */
  stake: bigint
}

export type DeploymentEpochInput = {
  id: string
  issuer: string
  mtToken: string
  /** Whole days since graduation. */
  ageDays: bigint
  opex: bigint
  users: readonly UserEpochInput[]
  /** Vesting releases of this epoch: FLOCK staking fund and MT incentive reserve. */
  stakingFundRelease: bigint
  incentiveRelease: bigint
}

export type Allocation = { account: string; token: string; amount: bigint }

export type DeploymentSettlement = {
  id: string
  grossSpend: bigint
  /** P_gross: the sum of charged amounts. */
  chargedRevenue: bigint
  netRevenue: bigint
  waterfall: Waterfall
  ageFactor: bigint
  score: bigint
  emissionShare: bigint
  issuerBonus: bigint
  stakerPool: bigint
  /** Per account: FLOCK from the pool, FLOCK from the staking fund, MT from the incentive reserve. */
  rewards: Map<string, { emission: bigint; stakingFund: bigint; incentive: bigint }>
  /** Undistributed FLOCK (pool and fund) and MT of this deployment, to the treasury. */
  treasuryFlock: bigint
  treasuryMt: bigint
}

export type EpochSettlement = {
  deployments: DeploymentSettlement[]
  /** Emission not routed to any deployment (rounding dust, or all of it when every score is zero). */
  emissionDust: bigint
  /** Every claimable credit of the epoch, one per (account, token), sorted. */
  allocations: Allocation[]
}

export function settleEpoch(parameters: EpochParameters, deployments: readonly DeploymentEpochInput[]): EpochSettlement {
  const seen = new Set<string>()
  const prepared = deployments.map((d) => {
    if (seen.has(d.id)) throw new InvalidParameterError('deployments', 'one entry per deployment id', d.id)
    seen.add(d.id)
    for (const u of d.users)
      if (u.charged > u.gross)
        throw new InvalidParameterError(`${d.id}.${u.account}.charged`, `at most the gross spend ${u.gross}`, u.charged)
    const grossSpend = sum(d.users.map((u) => u.gross))
    const chargedRevenue = sum(d.users.map((u) => u.charged))
    const pNet = netRevenue(chargedRevenue, d.opex)
    const basis = parameters.scoreBasis === 'net' ? pNet : parameters.scoreBasis === 'charged' ? chargedRevenue : grossSpend
    const age = ageFactor(d.ageDays)
    return { d, grossSpend, chargedRevenue, pNet, age, score: deploymentScore(basis, age) }
  })

  const { shares, dust: emissionDust } = routeEmission(parameters.emission, new Map(prepared.map((p) => [p.d.id, p.score])))
  const credits = new Map<string, Allocation>()
  const credit = (account: string, token: string, amount: bigint) => {
    if (amount === 0n) return
    const key = `${account}\u0000${token}`
    const a = credits.get(key)
    if (a) a.amount += amount
    else credits.set(key, { account, token, amount })
  }

  const settled = prepared.map(({ d, grossSpend, chargedRevenue, pNet, age, score }): DeploymentSettlement => {
    const emissionShare = shares.get(d.id) ?? 0n
    const { issuerBonus, stakerPool } = splitDeploymentEmission(emissionShare, parameters.issuerBonusBps)
    const waterfall = revenueWaterfall(pNet)
    const pool = grossWeightedRewards(stakerPool, d.users, parameters.rewardDenominator)
    const fund = grossWeightedRewards(d.stakingFundRelease, d.users, parameters.rewardDenominator)
    const incentive = grossWeightedRewards(d.incentiveRelease, d.users, parameters.rewardDenominator)
    const rewards: DeploymentSettlement['rewards'] = new Map()
    for (const u of d.users) {
      const r = { emission: pool.rewards.get(u.account) ?? 0n, stakingFund: fund.rewards.get(u.account) ?? 0n, incentive: incentive.rewards.get(u.account) ?? 0n }
      if (r.emission + r.stakingFund + r.incentive === 0n) continue
      rewards.set(u.account, r)
      credit(u.account, parameters.tokens.flock, r.emission + r.stakingFund)
      credit(u.account, d.mtToken, r.incentive)
    }
    credit(d.issuer, parameters.tokens.flock, issuerBonus)
    credit(d.issuer, parameters.tokens.usdc, waterfall.issuerYield)
    return {
      id: d.id,
      grossSpend,
      chargedRevenue,
      netRevenue: pNet,
      waterfall,
      ageFactor: age,
      score,
      emissionShare,
      issuerBonus,
      stakerPool,
      rewards,
      treasuryFlock: pool.undistributed + fund.undistributed,
      treasuryMt: incentive.undistributed,
    }
  })

  const allocations = [...credits.values()].sort(compareAllocations)
  return { deployments: settled, emissionDust, allocations }
}

/** Orders allocations by account, then token (code-unit order, locale-free). */
export function compareAllocations(a: Allocation, b: Allocation): number {
  if (a.account !== b.account) return a.account < b.account ? -1 : 1
  if (a.token !== b.token) return a.token < b.token ? -1 : 1
  return 0
}

/**
 * Cumulative totals per (account, token): the reward tree of epoch e holds
 * everything earned up to e. Adding an epoch never lowers a total.
 */
export class RewardLedger {
  readonly #totals = new Map<string, Allocation>()

  static from(entries: Iterable<Allocation>): RewardLedger {
    const ledger = new RewardLedger()
    ledger.add(entries)
    return ledger
  }

  add(allocations: Iterable<Allocation>): void {
    for (const { account, token, amount } of allocations) {
      if (amount < 0n) throw new InvalidParameterError(`${account}.${token}`, 'a non-negative credit', amount)
      const key = `${account}\u0000${token}`
      const entry = this.#totals.get(key)
      if (entry) entry.amount += amount
      else this.#totals.set(key, { account, token, amount })
    }
  }

  get(account: string, token: string): bigint {
    return this.#totals.get(`${account}\u0000${token}`)?.amount ?? 0n
  }

  /** Entries sorted by account then token, copies. */
  entries(): Allocation[] {
    return [...this.#totals.values()]
      .map((e) => ({ ...e }))
      .sort(compareAllocations)
  }
}
