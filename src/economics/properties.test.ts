/**
 * Invariants of the economics by fast-check: splits conserve, prices are monotone, discounts are bounded,
 * rewards plus dust equal the pool.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { grossWeightedRewards, routeEmission, splitDeploymentEmission } from './emissions.ts'
import { RewardLedger, settleEpoch, type DeploymentEpochInput } from './epoch.ts'
import { BPS, WAD, splitBps, sum } from './math.ts'
import { chargedAmount, chargedAmountSmall, revenueWaterfall, stakingDiscountBps } from './revenue.ts'
import { createCurve, marginalPrice, quoteBuy, raiseForSold, soldAt, DEFAULT_FEES } from './rmo.ts'
import { allocateSupply, releasedBetween, splitProceeds } from './supply.ts'

const RUNS = { numRuns: 2000 }
const amount = fc.bigInt({ min: 0n, max: 10n ** 30n })

/** Feasible curves: G > S * P0. */
const curveArb = fc
  .record({
    saleSupply: fc.bigInt({ min: 1n, max: 10n ** 27n }),
    startPrice: fc.bigInt({ min: 1n, max: 10n ** 20n }),
    slack: fc.bigInt({ min: 1n, max: 10n ** 27n }),
  })
  .map(({ saleSupply, startPrice, slack }) => createCurve({ saleSupply, startPrice, graduationTarget: (saleSupply * startPrice) / WAD + slack }))

describe('splits conserve their input', () => {
  it('supply allocation, proceeds and waterfall', () => {
    fc.assert(
      fc.property(amount, (total) => {
        expect(sum(Object.values(allocateSupply(total)))).toBe(total)
        expect(sum(Object.values(splitProceeds(total)))).toBe(total)
        expect(sum(Object.values(revenueWaterfall(total)))).toBe(total)
        const { issuerBonus, stakerPool } = splitDeploymentEmission(total)
        expect(issuerBonus + stakerPool).toBe(total)
      }),
      RUNS,
    )
  })

  it('any basis-point split sends its dust to the sink', () => {
    fc.assert(
      fc.property(amount, fc.bigInt({ min: 0n, max: BPS }), (total, a) => {
        const parts = splitBps(total, { a, b: BPS - a }, 'b')
        expect(parts.a + parts.b).toBe(total)
        expect(parts.a).toBe((total * a) / BPS)
      }),
      RUNS,
    )
  })

  it('emission routing: shares plus dust equal the emission', () => {
    fc.assert(
      fc.property(amount, fc.array(amount, { maxLength: 20 }), (emission, scores) => {
        const { shares, dust } = routeEmission(emission, new Map(scores.map((s, i) => [i, s])))
        expect(sum(shares.values()) + dust).toBe(emission)
        expect(dust >= 0n).toBe(true)
        if (sum(scores) > 0n) expect(dust < BigInt(scores.length) + 1n).toBe(true)
      }),
      RUNS,
    )
  })

  it('vesting releases over consecutive days sum to the total', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 1, max: 400 }), (total, duration) => {
        let released = 0n
        for (let d = 0n; d < BigInt(duration) + 5n; d++) released += releasedBetween(total, d, d + 1n, BigInt(duration))
        expect(released).toBe(total)
      }),
      { numRuns: 200 },
    )
  })
})

describe('the RMO curve', () => {
  it('sells exactly S at G', () => {
    fc.assert(
      fc.property(curveArb, (curve) => {
        expect(soldAt(curve, curve.graduationTarget)).toBe(curve.saleSupply)
      }),
      RUNS,
    )
  })

  it('has a non-decreasing marginal price and sold amount', () => {
    fc.assert(
      fc.property(curveArb, fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }), (curve, a, b) => {
        const G = curve.graduationTarget
        const lo = (a < b ? a : b) % (G + 1n)
        const hi = (a < b ? b : a) % (G + 1n)
        const [x, y] = lo <= hi ? [lo, hi] : [hi, lo]
        expect(marginalPrice(curve, x) <= marginalPrice(curve, y)).toBe(true)
        expect(soldAt(curve, x) <= soldAt(curve, y)).toBe(true)
      }),
      RUNS,
    )
  })

  it('raiseForSold is the least raise selling at least that much', () => {
    fc.assert(
      fc.property(curveArb, fc.bigInt({ min: 0n, max: 10n ** 27n }), (curve, s) => {
        const target = s % (curve.saleSupply + 1n)
        const d = raiseForSold(curve, target)
        expect(d <= curve.graduationTarget).toBe(true)
        expect(soldAt(curve, d) >= target).toBe(true)
        if (d > 0n) expect(soldAt(curve, d - 1n) < target).toBe(true)
      }),
      RUNS,
    )
  })

  it('a quote fills at most up to G and charges fees only on the filled part', () => {
    fc.assert(
      fc.property(curveArb, fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }), (curve, flockIn, r) => {
        const raised = r % curve.graduationTarget
        const q = quoteBuy(curve, DEFAULT_FEES, { raised, flockIn, elapsed: 0n })
        expect(q.curveIn + q.unfilled).toBe(flockIn)
        expect(q.raisedAfter <= curve.graduationTarget).toBe(true)
        expect(q.mtOut).toBe(soldAt(curve, q.raisedAfter) - soldAt(curve, raised))
        expect(q.totalPaid - q.curveIn).toBe(q.creatorFee + q.protocolFee + q.antiSnipingFee)
      }),
      RUNS,
    )
  })
})

describe('chargedAmountSmall', () => {
  it('equals chargedAmount for every safe-integer gross, including past gross * 10^4 = 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }), fc.bigInt({ min: 0n, max: BPS }), (gross, d) => {
        expect(BigInt(chargedAmountSmall(Number(gross), Number(d)))).toBe(chargedAmount(gross, d))
      }),
      RUNS,
    )
    // gross - floor(gross * d / 10^4) in floating point is one unit off here: the product is above 2^53.
    expect(993_716_733_829 - Math.floor((993_716_733_829 * 9_731) / 10_000)).toBe(26_730_980_140)
    expect(chargedAmountSmall(993_716_733_829, 9_731)).toBe(26_730_980_141)
    expect(chargedAmount(993_716_733_829n, 9_731n)).toBe(26_730_980_141n)
  })
})

describe('the staking discount', () => {
  it('never exceeds X and charged = gross - floor(gross * d / 1e4)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: BPS }),
        fc.bigInt({ min: 1n, max: 1000n }),
        amount,
        (circulating, s, maxDiscountBps, multiplier, gross) => {
          const stake = s % (circulating + 1n)
          const d = stakingDiscountBps(stake, circulating, { maxDiscountBps, multiplier })
          expect(d <= maxDiscountBps).toBe(true)
          expect(d >= 0n).toBe(true)
          const charged = chargedAmount(gross, d)
          expect(charged <= gross).toBe(true)
          expect(gross - charged).toBe((gross * d) / BPS)
        },
      ),
      RUNS,
    )
  })
})

const participantsArb = fc.uniqueArray(
  fc.record({ account: fc.string({ minLength: 1, maxLength: 6 }), gross: amount, stake: fc.bigInt({ min: 0n, max: 10n ** 24n }) }),
  { selector: (p) => p.account, maxLength: 30 },
)

describe('gross-weighted rewards', () => {
  it('per-user rewards plus undistributed sum to the pool, in both denominator modes', () => {
    fc.assert(
      fc.property(amount, participantsArb, fc.constantFrom('eligible-stakers' as const, 'all-users' as const), (pool, participants, mode) => {
        const { rewards, undistributed } = grossWeightedRewards(pool, participants, mode)
        expect(sum(rewards.values()) + undistributed).toBe(pool)
        for (const [account] of rewards) expect(participants.find((p) => p.account === account)!.stake > 0n).toBe(true)
        const eligibleGross = sum(participants.filter((p) => p.stake > 0n).map((p) => p.gross))
        // Eligible-stakers mode pays the pool out whole but for at most one unit per payee.
        if (mode === 'eligible-stakers' && eligibleGross > 0n) expect(undistributed < BigInt(participants.length) + 1n).toBe(true)
      }),
      RUNS,
    )
  })
})

const deploymentArb = (id: string): fc.Arbitrary<DeploymentEpochInput> =>
  fc.record({
    id: fc.constant(id),
    issuer: fc.constantFrom('alice', 'zed'),
    mtToken: fc.constant(`MT:${id}`),
    ageDays: fc.bigInt({ min: 0n, max: 400n }),
    opex: amount,
    users: participantsArb.map((ps) => ps.map((p) => ({ ...p, charged: p.gross - p.gross / 7n }))),
    stakingFundRelease: amount,
    incentiveRelease: amount,
  })

describe('epoch settlement and the cumulative ledger', () => {
  it('conserves emission, pools and streams; cumulative totals never decrease', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(amount, deploymentArb('a'), deploymentArb('b')), { minLength: 1, maxLength: 4 }), (epochs) => {
        const ledger = new RewardLedger()
        for (const [emission, a, b] of epochs) {
          const before = ledger.entries()
          const s = settleEpoch({ emission, scoreBasis: 'net', rewardDenominator: 'eligible-stakers', issuerBonusBps: 1000n, tokens: { flock: 'FLOCK', usdc: 'USDC' } }, [a, b])
          expect(sum(s.deployments.map((d) => d.emissionShare)) + s.emissionDust).toBe(emission)
          for (const d of s.deployments) {
            const input = d.id === 'a' ? a : b
            const users = [...d.rewards.values()]
            expect(d.issuerBonus + d.stakerPool).toBe(d.emissionShare)
            expect(sum(users.map((r) => r.emission + r.stakingFund)) + d.treasuryFlock).toBe(d.stakerPool + input.stakingFundRelease)
            expect(sum(users.map((r) => r.incentive)) + d.treasuryMt).toBe(input.incentiveRelease)
          }
          ledger.add(s.allocations)
          for (const e of before) expect(ledger.get(e.account, e.token) >= e.amount).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })
})
