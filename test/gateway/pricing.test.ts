/**
 * Pricing and discounts, by property (fast-check): the gross amount is the exact price rounded up once, the charged
 * amount is the receipts' own function of it and never above it, totals add up as the rounding says, and every
 * receipt the gateway builds signs and verifies. Also the price table's format.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Hex } from '../../src/base/bytes.ts'
import { SchemaError } from '../../src/base/errors.ts'
import { chargedAmount, stakingDiscountBps } from '../../src/economics/revenue.ts'
import { Discounts, inputsFileStakes } from '../../src/gateway/discounts.ts'
import { callReceipt, usageOf } from '../../src/gateway/metering.ts'
import { grossAmount, readPriceTable, TOKENS_PER_PRICE } from '../../src/gateway/prices.ts'
import { MAX_RECEIPT_AMOUNT } from '../../src/receipts/schema.ts'
import { addressOf, signReceipt } from '../../src/receipts/sign.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { DEPLOYMENT_A, worldConfig } from '../aggregator/world.ts'
import { PRICES_JSON, PROVIDER_KEY, STAKES_JSON, USER } from './world.ts'

const config = worldConfig()
const tokens = fc.integer({ min: 0, max: 0xffff_ffff })
const price = fc.record({ inputPerMillion: fc.bigInt({ min: 0n, max: 10_000_000n }), outputPerMillion: fc.bigInt({ min: 0n, max: 10_000_000n }) })
const usage = fc.record({ inputTokens: tokens, outputTokens: tokens })
const bps = fc.integer({ min: 0, max: 10_000 })
const exactOf = (p: { inputPerMillion: bigint; outputPerMillion: bigint }, u: { inputTokens: number; outputTokens: number }) => BigInt(u.inputTokens) * p.inputPerMillion + BigInt(u.outputTokens) * p.outputPerMillion

describe('pricing', () => {
  it('gross is the exact price rounded up to a base unit: never below it, less than one unit above', () => {
    fc.assert(
      fc.property(price, usage, (p, u) => {
        const gross = grossAmount(p, u)
        const exact = exactOf(p, u)
        expect(gross * TOKENS_PER_PRICE >= exact).toBe(true)
        expect(gross === 0n || (gross - 1n) * TOKENS_PER_PRICE < exact).toBe(true)
      }),
    )
  })

  it('more tokens never cost less', () => {
    fc.assert(
      fc.property(price, usage, tokens, tokens, (p, u, a, b) => {
        expect(grossAmount(p, { inputTokens: Math.min(0xffff_ffff, u.inputTokens + a), outputTokens: Math.min(0xffff_ffff, u.outputTokens + b) }) >= grossAmount(p, u)).toBe(true)
      }),
    )
  })

  it('charged is gross less the discount rounded down (the receipts\' rule), never above gross', () => {
    fc.assert(
      fc.property(price, usage, bps, (p, u, d) => {
        const out = callReceipt({ price: { model: 'm', deploymentId: DEPLOYMENT_A, ...p }, usage: u, discountBps: d, provider: addressOf(PROVIDER_KEY), user: USER, requestId: `0x${'11'.repeat(32)}`, timestamp: 1_728_000_000n, epochSeconds: 86_400 })
        const gross = grossAmount(p, u)
        if (gross === 0n || gross > MAX_RECEIPT_AMOUNT) {
          expect(out).toEqual({ unbilled: gross === 0n ? 'zero-price' : 'above-receipt-limit' })
          return
        }
        if (!('receipt' in out)) throw new Error('expected a receipt')
        expect(out.receipt.grossAmount).toBe(gross)
        expect(out.receipt.chargedAmount).toBe(gross - (gross * BigInt(d)) / 10_000n)
        expect(out.receipt.chargedAmount).toBe(chargedAmount(gross, BigInt(d)))
        expect(out.receipt.chargedAmount <= gross).toBe(true)
        expect(out.receipt.epoch).toBe(20_000)
      }),
    )
  })

  it('over many calls: sum of gross is the rounded-up total plus less than one unit per call; sum of charged is at most sum of gross', () => {
    fc.assert(
      fc.property(price, fc.array(fc.record({ u: usage, d: bps }), { minLength: 1, maxLength: 50 }), (p, calls) => {
        const gross = calls.map((c) => grossAmount(p, c.u))
        const sumGross = gross.reduce((a, b) => a + b, 0n)
        const total = calls.reduce((a, c) => a + exactOf(p, c.u), 0n)
        const ceilTotal = (total + TOKENS_PER_PRICE - 1n) / TOKENS_PER_PRICE
        expect(sumGross >= ceilTotal).toBe(true)
        expect(sumGross - ceilTotal <= BigInt(calls.length - 1)).toBe(true)
        const sumCharged = calls.reduce((a, c, i) => a + chargedAmount(gross[i]!, BigInt(c.d)), 0n)
        expect(sumCharged <= sumGross).toBe(true)
        // Each discount is rounded down on its own call: the total discount is at most one unit per call below the exact one.
        const exactDiscount = calls.reduce((a, c, i) => a + gross[i]! * BigInt(c.d), 0n)
        expect((sumGross - sumCharged) * 10_000n <= exactDiscount).toBe(true)
        expect(exactDiscount - (sumGross - sumCharged) * 10_000n < 10_000n * BigInt(calls.length)).toBe(true)
      }),
    )
  })

  it('every receipt the gateway builds signs and verifies', () => {
    const verifier = new ReceiptVerifier({ domain: config.domain })
    fc.assert(
      fc.property(price, fc.record({ inputTokens: fc.integer({ min: 1, max: 100_000 }), outputTokens: fc.integer({ min: 0, max: 100_000 }) }), bps, (p, u, d) => {
        const out = callReceipt({ price: { model: 'm', deploymentId: DEPLOYMENT_A, ...p }, usage: u, discountBps: d, provider: addressOf(PROVIDER_KEY), user: USER, requestId: `0x${'22'.repeat(32)}`, timestamp: 1_728_000_000n, epochSeconds: 86_400 })
        if (!('receipt' in out)) return
        expect(verifier.verify(signReceipt(out.receipt, PROVIDER_KEY, config.domain)).receipt).toEqual(out.receipt)
      }),
      { numRuns: 50 },
    )
  })

  it('usage: prompt and completion tokens; embeddings have no completion tokens; anything else is not billable', () => {
    expect(usageOf({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })).toEqual({ inputTokens: 3, outputTokens: 4 })
    expect(usageOf({ prompt_tokens: 3, total_tokens: 3 })).toEqual({ inputTokens: 3, outputTokens: 0 })
    for (const bad of [null, undefined, {}, { prompt_tokens: -1 }, { prompt_tokens: 1.5 }, { prompt_tokens: '3' }, { prompt_tokens: 2 ** 32 }, { prompt_tokens: 1, completion_tokens: -2 }]) expect(usageOf(bad)).toBeUndefined()
  })
})

describe('discounts', () => {
  it('the discount is stakingDiscountBps of the snapshot with the configuration\'s X and M; no stake, no discount', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }), async (circulating, raw) => {
        const stake = raw % (circulating + 1n)
        const discounts = new Discounts(async () => new Map([[DEPLOYMENT_A, { circulatingSupply: circulating, stakes: new Map([[USER, stake]]) }]]), { maxDiscountBps: 3000n, multiplier: 2n })
        const d = await discounts.discountBps(1, DEPLOYMENT_A, USER)
        expect(d).toBe(Number(stakingDiscountBps(stake, circulating, { maxDiscountBps: 3000n, multiplier: 2n })))
        expect(d).toBeLessThanOrEqual(3000)
        expect(await discounts.discountBps(1, DEPLOYMENT_A, `0x${'00'.repeat(20)}` as Hex)).toBe(0)
      }),
      { numRuns: 100 },
    )
  })

  it('a snapshot is loaded once per epoch, and a failed load is retried, answered meanwhile with a 503', async () => {
    const loads: number[] = []
    let fail = true
    const discounts = new Discounts(async (epoch) => {
      loads.push(epoch)
      if (fail) throw new Error('node down')
      return inputsFileStakes(async () => STAKES_JSON, config)(epoch)
    }, { maxDiscountBps: 3000n, multiplier: 2n })
    await expect(discounts.discountBps(7, DEPLOYMENT_A, USER)).rejects.toMatchObject({ status: 503, code: 'discount_unavailable' })
    fail = false
    expect(await Promise.all([discounts.discountBps(7, DEPLOYMENT_A, USER), discounts.discountBps(7, DEPLOYMENT_A, USER)])).toEqual([1666, 1666])
    await discounts.discountBps(8, DEPLOYMENT_A, USER)
    expect(loads).toEqual([7, 7, 8])
  })
})

describe('the price table (fomo-gateway-prices-v1)', () => {
  it('reads prices per million tokens in USDC base units, per model and deployment', () => {
    const table = readPriceTable(PRICES_JSON)
    expect(table.get('test-chat')).toEqual({ model: 'test-chat', deploymentId: DEPLOYMENT_A, inputPerMillion: 150_000n, outputPerMillion: 600_000n })
  })

  it('refuses another format, unknown fields, numbers for amounts, a free model and a bad deployment id, naming the path', () => {
    const model = PRICES_JSON.models['test-chat']
    const bad: Array<[unknown, RegExp]> = [
      [{ ...PRICES_JSON, format: 'fomo-gateway-prices-v2' }, /\$\.format/],
      [{ ...PRICES_JSON, extra: 1 }, /\$\.extra/],
      [{ ...PRICES_JSON, models: { m: { ...model, inputPerMillion: 150000 } } }, /\$\.models\.m\.inputPerMillion: expected a decimal string/],
      [{ ...PRICES_JSON, models: { m: { ...model, inputPerMillion: '0', outputPerMillion: '0' } } }, /non-zero input or output price/],
      [{ ...PRICES_JSON, models: { m: { ...model, deploymentId: '0x12' } } }, /\$\.models\.m\.deploymentId/],
      [{ ...PRICES_JSON, models: {} }, /at least one model/],
    ]
    for (const [doc, message] of bad) {
      expect(() => readPriceTable(doc)).toThrow(SchemaError)
      expect(() => readPriceTable(doc)).toThrow(message)
    }
  })
})
