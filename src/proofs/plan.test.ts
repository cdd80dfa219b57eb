/** The batching rule (plan.ts): every receipt in exactly one batch, the same batches whatever the input order. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochReceipt } from '../epoch/spend.ts'
import { discountParameters } from '../economics/parameters.ts'
import { chargedAmount, stakingDiscountBps } from '../economics/revenue.ts'
import type { Hex } from '../base/bytes.ts'
import { planBatches } from './plan.ts'
import { ProofError } from './groth16.ts'

const platform = { maxDiscountBps: 3000n, discountMultiplier: 2n }
const config = { platform, domain: { chainId: 31337, verifyingContract: `0x${'dd'.repeat(20)}` } } as unknown as AggregatorConfig
const circulating = 1_000_000n * 10n ** 18n
const hex = (n: number, bytes: number) => `0x${n.toString(16).padStart(2 * bytes, '0')}` as Hex
const deployments = [hex(1, 32), hex(2, 32)]
const users = Array.from({ length: 12 }, (_, i) => hex(0x100 + i, 20))
const stakes = new Map(users.map((u, i) => [u, BigInt(i) * 20_000n * 10n ** 18n] as const))
const inputs = new Map(deployments.map((d) => [d, { opex: 0n, circulatingSupply: circulating, stakes }] as const))

function receiptOf(d: number, u: number, digest: number, gross: bigint): EpochReceipt {
  const discountBps = stakingDiscountBps(stakes.get(users[u]!)!, circulating, discountParameters(platform))
  // Digests differ in their first 128 bits, as real ones do: the circuit orders a user's receipts by them.
  return { digest: `0x${(BigInt(digest) << 128n).toString(16).padStart(64, '0')}`, deploymentId: deployments[d]!, user: users[u]!, gross, discountBps: Number(discountBps), charged: chargedAmount(gross, discountBps) }
}

const receiptsArb = fc
  .uniqueArray(fc.record({ d: fc.nat(1), u: fc.nat(11), digest: fc.integer({ min: 1, max: 1_000_000 }), gross: fc.bigInt(1n, 10n ** 12n) }), { selector: (r) => r.digest, minLength: 1, maxLength: 60 })
  .map((rs) => rs.map((r) => receiptOf(r.d, r.u, r.digest, r.gross)))

describe('planBatches: the batching rule', () => {
  it('puts every receipt in exactly one batch of at most N receipts and K users, of one deployment, whatever the input order', () => {
    fc.assert(
      fc.property(receiptsArb, fc.constantFrom([4, 2], [8, 1], [16, 2]), fc.nat(), (receipts, [n, k], seed) => {
        const plan = planBatches(20_000, config, inputs, receipts, n!, k!)
        const shuffled = [...receipts].sort((a, b) => ((Number(BigInt(a.digest) % 97n) + seed) % 13) - ((Number(BigInt(b.digest) % 97n) + seed) % 13))
        expect(planBatches(20_000, config, inputs, shuffled, n!, k!).map((b) => b.digests)).toEqual(plan.map((b) => b.digests))
        expect(plan.flatMap((b) => b.digests).sort()).toEqual(receipts.map((r) => r.digest).sort())
        for (const b of plan) {
          expect(b.receipts.length).toBeGreaterThan(0)
          expect(b.receipts.length).toBeLessThanOrEqual(n!)
          expect(b.rows.length).toBeLessThanOrEqual(k!)
          for (const r of b.receipts) {
            expect(b.rows[r.row]!.user).toBe(r.user)
            expect(b.rows[r.row]!.stake).toBe(stakes.get(hex(Number(r.user), 20))!)
          }
          const ids = receipts.filter((r) => b.digests.includes(r.digest)).map((r) => r.deploymentId)
          expect(new Set(ids).size).toBe(1)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('names a receipt whose discount is not its stake snapshot\'s, and a deployment without a circulating supply', () => {
    const wrong = { ...receiptOf(0, 3, 7, 1_000n), discountBps: 0 }
    expect(() => planBatches(1, config, inputs, [wrong], 4, 2)).toThrow(new RegExp(`receipt ${wrong.digest} of ${wrong.user} carries a 0 bps discount; the stake snapshot gives \\d+ bps`))
    expect(() => planBatches(1, config, new Map(), [receiptOf(0, 0, 1, 5n)], 4, 2)).toThrow(ProofError)
  })

  it('names two receipts of one user whose digests share their first 128 bits (the circuit cannot order them)', () => {
    const a = receiptOf(0, 3, 7, 1_000n)
    const b = { ...a, digest: `${a.digest.slice(0, -1)}1` as Hex }
    expect(() => planBatches(1, config, inputs, [a, b], 4, 2)).toThrow(`receipts ${a.digest} and ${b.digest} of ${a.user} share the first 128 bits of their digests`)
  })
})
