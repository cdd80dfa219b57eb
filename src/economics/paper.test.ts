/**
 * Every number of the paper's worked examples (3.3.4, 3.3.5, 4.3, 4.4, 4.7), reproduced to the base unit.
 */
import { describe, expect, it } from 'vitest'
import { ageFactor, deploymentScore, grossWeightedRewards, splitDeploymentEmission } from './emissions.ts'
import { DECIMALS, formatFixed, parseUnits } from '../base/units.ts'
import { WAD } from './math.ts'
import { chargedAmount, revenueWaterfall, stakingDiscountBps } from './revenue.ts'
import { averagePrice, createCurve, dexPrice, isFeasible, soldAt } from './rmo.ts'
import { allocateSupply, splitProceeds } from './supply.ts'

const mt = (v: string) => parseUnits(v, DECIMALS.MT)
const flock = (v: string) => parseUnits(v, DECIMALS.FLOCK)
const usd = (v: string) => parseUnits(v, DECIMALS.USDC)

describe('paper 3.3.4: the worked curve example', () => {
  const params = { saleSupply: mt('400000'), graduationTarget: flock('50000'), startPrice: parseUnits('0.1', 18) }
  const curve = createCurve(params)

  it('is feasible: S * P0 = 40,000 < 50,000 = G', () => {
    expect(isFeasible(params)).toBe(true)
    expect(isFeasible({ ...params, graduationTarget: flock('40000') })).toBe(false)
  })

  it('has virtual reserves y0 = 2,000,000 MT and x0 = 200,000 FLOCK', () => {
    expect(curve.y0).toBe(mt('2000000'))
    expect(curve.x0).toBe(flock('200000'))
  })

  it('sells S(100) = 999.50 MT at an average 0.10005 FLOCK per MT', () => {
    const sold = soldAt(curve, flock('100'))
    // 2,000,000 * 100 / 200,100 = 999.500249875062468765...
    expect(sold).toBe(999500249875062468765n)
    expect(formatFixed(sold, 18, 2)).toBe('999.50')
    expect(formatFixed(averagePrice(flock('100'), sold), 18, 5)).toBe('0.10005')
  })

  it('sells exactly S at G', () => {
    expect(soldAt(curve, flock('50000'))).toBe(mt('400000'))
  })
})

describe('paper 3.3.5 and 3.4: graduation', () => {
  it('prices the DEX at 0.5 * G / 200,000 = 0.125 FLOCK per MT', () => {
    const proceeds = splitProceeds(flock('50000'))
    expect(proceeds).toEqual({ protocol: flock('12500'), stakingIncentives: flock('12500'), liquidity: flock('25000') })
    expect(dexPrice(proceeds.liquidity, allocateSupply().liquidity)).toBe(parseUnits('0.125', 18))
  })

  it('allocates the 1,000,000 MT supply 40/20/20/10/10', () => {
    expect(allocateSupply()).toEqual({
      publicSale: mt('400000'),
      liquidity: mt('200000'),
      incentiveReserve: mt('200000'),
      issuer: mt('100000'),
      treasury: mt('100000'),
    })
  })

  it('splits the QwenALICE raise of 100,000 into 25,000 / 25,000 / 50,000 (paper 4.2)', () => {
    expect(splitProceeds(flock('100000'))).toEqual({ protocol: flock('25000'), stakingIncentives: flock('25000'), liquidity: flock('50000') })
  })
})

describe('paper 4.3: the revenue waterfall', () => {
  it('splits a P_net of $10,000 into 3,000 / 3,000 / 3,000 / 1,000', () => {
    expect(revenueWaterfall(usd('10000'))).toEqual({
      flockBuyback: usd('3000'),
      treasury: usd('3000'),
      mtBuybackBurn: usd('3000'),
      issuerYield: usd('1000'),
    })
  })
})

describe('paper 4.4: age factor', () => {
  it('AgeFactor(30) = 0.8333 (1 - 30/180, rounded down in WAD)', () => {
    expect(ageFactor(30n)).toBe(833333333333333333n)
    expect(formatFixed(ageFactor(30n), 18, 4)).toBe('0.8333')
    expect(formatFixed(ageFactor(30n), 18, 2)).toBe('0.83')
  })

  it('floors at 0.2 and starts at 1', () => {
    expect(ageFactor(0n)).toBe(WAD)
    expect(ageFactor(144n)).toBe(WAD / 5n)
    expect(ageFactor(10_000n)).toBe(WAD / 5n)
  })

  it('scores a $10,000 deployment at 30 days as 8,333.33', () => {
    expect(deploymentScore(usd('10000'), ageFactor(30n))).toBe(8333333333n)
  })
})

describe('paper 4.7: Bob', () => {
  it('gets a 1,666 bps discount for 50,000 of 600,000 circulating with X = 30 %, M = 2', () => {
    expect(stakingDiscountBps(mt('50000'), mt('600000'), { maxDiscountBps: 3000n, multiplier: 2n })).toBe(1666n)
    expect(chargedAmount(usd('2500'), 1666n)).toBe(usd('2083.5'))
  })

  it('earns 900 FLOCK of an 18,000 pool for $2,500 of $50,000 gross', () => {
    const { issuerBonus, stakerPool } = splitDeploymentEmission(flock('20000'))
    expect(issuerBonus).toBe(flock('2000'))
    expect(stakerPool).toBe(flock('18000'))
    const { rewards, undistributed } = grossWeightedRewards(stakerPool, [
      { account: 'bob', gross: usd('2500'), stake: mt('50000') },
      { account: 'others', gross: usd('47500'), stake: mt('1') },
    ])
    expect(rewards.get('bob')).toBe(flock('900'))
    expect(undistributed).toBe(0n)
  })
})
