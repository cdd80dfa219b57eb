/**
 * The batching rule (plan.ts): every receipt in exactly one batch of one provider, the same batches whatever the input
 * order, each bound to its provider's attestation; a missing, foreign or mismatched attestation is named. Each user's
 * spend is the sum of its proven stake rows, what the auditor holds the spend tree to.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochReceipt } from '../epoch/spend.ts'
import { discountParameters } from '../economics/parameters.ts'
import { chargedAmount, stakingDiscountBps } from '../economics/revenue.ts'
import type { Hex } from '../base/bytes.ts'
import { planBatches } from './plan.ts'
import { ProofError } from './groth16.ts'
import { attestationKeyOf, attestationSecret, attestEpoch, attestProvider, type ProviderAttestation } from './attestation.ts'
import { batchStatement, stakeRowCell, stakeTable } from './statement.ts'
import { spendFromReceipts } from '../epoch/spend.ts'
import { distributorDomain } from '../epoch/rewards.ts'

const platform = { maxDiscountBps: 3000n, discountMultiplier: 2n }
const hexKey = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
// Two providers (fixed TEST keys): the plan orders a deployment's providers by attestation key id.
const providerKeys = [hexKey(0xa1), hexKey(0xa2)]
const secrets = providerKeys.map(attestationSecret)
const providers = [hex20(0xf1), hex20(0xf2)]
function hex20(n: number): Hex {
  return `0x${n.toString(16).padStart(40, '0')}` as Hex
}
const circulating = 1_000_000n * 10n ** 18n
const hex = (n: number, bytes: number) => `0x${n.toString(16).padStart(2 * bytes, '0')}` as Hex
const deployments = [hex(1, 32), hex(2, 32)]
const users = Array.from({ length: 12 }, (_, i) => hex(0x100 + i, 20))
const stakes = new Map(users.map((u, i) => [u, BigInt(i) * 20_000n * 10n ** 18n] as const))
const inputs = new Map(deployments.map((d) => [d, { opex: 0n, circulatingSupply: circulating, stakes }] as const))
const config = {
  platform,
  domain: { chainId: 31337, verifyingContract: `0x${'dd'.repeat(20)}` },
  providers: deployments.flatMap((deploymentId) => providers.map((provider, i) => ({ deploymentId, provider, attestationKey: attestationKeyOf(secrets[i]!).packed }))),
} as unknown as AggregatorConfig

function receiptOf(d: number, u: number, digest: number, gross: bigint, p = 0): EpochReceipt {
  const discountBps = stakingDiscountBps(stakes.get(users[u]!)!, circulating, discountParameters(platform))
  return { digest: hexKey(digest), deploymentId: deployments[d]!, provider: providers[p]!, user: users[u]!, gross, discountBps: Number(discountBps), charged: chargedAmount(gross, discountBps) }
}

const domain = distributorDomain(config.domain.chainId, config.domain.verifyingContract)

/** What each provider signs: its receipts of each deployment, cut for (n, k). */
function attestAll(epoch: number, receipts: readonly EpochReceipt[], n: number, k: number): ProviderAttestation[] {
  return providers.flatMap((provider, i) => attestProvider({ epoch, domain, provider, receipts, circuit: { receipts: n, rows: k }, secret: secrets[i]! }))
}

const receiptsArb = fc
  .uniqueArray(fc.record({ d: fc.nat(1), u: fc.nat(11), digest: fc.integer({ min: 1, max: 1_000_000 }), gross: fc.bigInt(1n, 10n ** 12n), p: fc.nat(1) }), { selector: (r) => r.digest, minLength: 1, maxLength: 60 })
  .map((rs) => rs.map((r) => receiptOf(r.d, r.u, r.digest, r.gross, r.p)))

describe('planBatches: the batching rule', () => {
  it('puts every receipt in exactly one batch of at most N receipts and K users, of one deployment and provider, in the registry\'s order, whatever the input order', () => {
    fc.assert(
      fc.property(receiptsArb, fc.constantFrom([4, 2], [8, 1], [16, 2]), fc.nat(), (receipts, [n, k], seed) => {
        const attestations = attestAll(20_000, receipts, n!, k!)
        const plan = planBatches(20_000, config, inputs, receipts, n!, k!, attestations)
        const shuffled = [...receipts].sort((a, b) => ((Number(BigInt(a.digest) % 97n) + seed) % 13) - ((Number(BigInt(b.digest) % 97n) + seed) % 13))
        expect(planBatches(20_000, config, inputs, shuffled, n!, k!, attestations).map((b) => b.digests)).toEqual(plan.map((b) => b.digests))
        // (deployment, provider key id) strictly increasing between providers; each provider's batches 0..count-1.
        for (let i = 1; i < plan.length; i++) {
          const [x, y] = [plan[i - 1]!, plan[i]!]
          if (x.deploymentId === y.deploymentId && x.provider === y.provider) expect(y.attestation.index).toBe(x.attestation.index + 1)
          else {
            expect(x.attestation.index).toBe(x.attestation.batches - 1)
            expect(y.attestation.index).toBe(0)
            expect(x.deploymentId < y.deploymentId || (x.deploymentId === y.deploymentId && x.attestation.key.id < y.attestation.key.id)).toBe(true)
          }
        }
        expect(plan.flatMap((b) => b.digests).sort()).toEqual(receipts.map((r) => r.digest).sort())
        for (const b of plan) {
          expect(b.receipts.length).toBeGreaterThan(0)
          expect(b.receipts.length).toBeLessThanOrEqual(n!)
          expect(b.rows.length).toBeLessThanOrEqual(k!)
          for (const r of b.receipts) {
            expect(b.rows[r.row]!.user).toBe(r.user)
            expect(b.rows[r.row]!.stake).toBe(stakes.get(hex(Number(r.user), 20))!)
          }
          const mine = receipts.filter((r) => b.digests.includes(r.digest))
          expect(new Set(mine.map((r) => `${r.deploymentId}/${r.provider}`))).toEqual(new Set([`${b.deploymentId}/${b.provider}`]))
        }
      }),
      { numRuns: 25 },
    )
  })

  it("sums each user's proven stake rows over the batches to its spend on the deployment, and packs every row in one cell", () => {
    fc.assert(
      fc.property(receiptsArb, fc.constantFrom([4, 2], [8, 1], [2, 2]), (receipts, [n, k]) => {
        const plan = planBatches(9, config, inputs, receipts, n!, k!, attestAll(9, receipts, n!, k!))
        const sums = new Map<string, { gross: bigint; charged: bigint }>()
        for (const b of plan) {
          const table = stakeTable(b.receipts, b.rows)
          expect(table.map((r) => r.user)).toEqual(b.rows.map((r) => r.user))
          // The statement the circuit is held to commits the same table.
          expect(batchStatement(b.receipts, b.rows, b.params, n!, k!, b.attestation).table).toEqual(table)
          for (const r of table) {
            const key = `${b.deploymentId}/${hex(Number(r.user), 20)}`
            const sum = sums.get(key) ?? { gross: 0n, charged: 0n }
            sums.set(key, { gross: sum.gross + r.gross, charged: sum.charged + r.charged })
            const cell = stakeRowCell(r)
            expect([cell >> 152n, (cell >> 76n) & ((1n << 76n) - 1n), cell & ((1n << 76n) - 1n)]).toEqual([r.stake, r.gross, r.charged])
          }
        }
        const spend = spendFromReceipts(receipts)
        expect(sums).toEqual(new Map(spend.map((r) => [`${r.deploymentId}/${r.user}`, { gross: r.gross, charged: r.charged }])))
      }),
      { numRuns: 20 },
    )
  })

  it("packs a cell at the circuit's bounds and refuses one past them", () => {
    const top = { user: 1n, stake: (1n << 96n) - 1n, gross: 1n << 75n, charged: 1n << 75n }
    // 2^11 receipts of gross 2^64 (the circuit's largest) sum to 2^75, inside the 76-bit slot.
    expect(stakeRowCell(top)).toBe((((1n << 96n) - 1n) << 152n) | (1n << 151n) | (1n << 75n))
    expect(stakeRowCell(top) >> 248n).toBe(0n)
    expect(() => stakeRowCell({ ...top, stake: 1n << 96n })).toThrow(/row.stake/)
    expect(() => stakeRowCell({ ...top, gross: 1n << 76n, charged: 0n })).toThrow(/row.gross/)
    expect(() => stakeRowCell({ ...top, charged: top.gross + 1n })).toThrow(/row.charged/)
  })

  it('binds each batch to its provider\'s signed attestation: the statement checks the path and signature', () => {
    const receipts = [receiptOf(0, 1, 10, 5n), receiptOf(0, 2, 11, 6n), receiptOf(0, 3, 12, 7n, 1), receiptOf(1, 1, 13, 8n), receiptOf(0, 4, 14, 9n)]
    const plan = planBatches(7, config, inputs, receipts, 2, 1, attestAll(7, receipts, 2, 1))
    expect(plan.map((b) => b.receipts.length)).toEqual(expect.arrayContaining([1]))
    for (const b of plan) expect(batchStatement(b.receipts, b.rows, b.params, 2, 1, b.attestation).batchIndex).toBe(BigInt(b.attestation.index))
  })

  it('names a provider whose attestation is missing, repeated, signed by another key, cut for another circuit or over other receipts', () => {
    const receipts = [receiptOf(0, 1, 10, 5n), receiptOf(0, 2, 11, 6n), receiptOf(0, 3, 12, 7n, 1)]
    const good = attestAll(3, receipts, 4, 2)
    const who = `provider ${providers[0]} of deployment ${deployments[0]}`
    expect(() => planBatches(3, config, inputs, receipts, 4, 2, good.slice(1))).toThrow(`no attestations of ${who} for epoch 3`)
    expect(() => planBatches(3, config, inputs, receipts, 4, 2, [...good, good[0]!])).toThrow(`2 attestations of ${who}`)
    const foreign = attestEpoch({ epoch: 3, deploymentId: deployments[0]!, domain, provider: providers[0]!, receipts: receipts.slice(0, 2), circuit: { receipts: 4, rows: 2 }, secret: secrets[1]! })
    expect(() => planBatches(3, config, inputs, receipts, 4, 2, [foreign, good[1]!])).toThrow(/is signed with key 0x[0-9a-f]{64}, not its configured/)
    expect(() => planBatches(3, config, inputs, receipts, 4, 2, [{ ...good[0]!, root: good[0]!.root + 1n }, good[1]!])).toThrow(/does not carry a valid signature/)
    expect(() => planBatches(3, config, inputs, receipts, 8, 2, attestAll(3, receipts, 4, 2))).toThrow(/cuts batches of 4 receipts and 2 users; the circuit takes 8 and 2/)
    const partial = attestEpoch({ epoch: 3, deploymentId: deployments[0]!, domain, provider: providers[0]!, receipts: receipts.slice(0, 1), circuit: { receipts: 4, rows: 2 }, secret: secrets[0]! })
    expect(() => planBatches(3, config, inputs, receipts, 4, 2, [partial, good[1]!])).toThrow(`the attestation of ${who} covers 1 receipts in 1 batches`)
    const elsewhere = attestEpoch({ epoch: 3, deploymentId: deployments[0]!, domain: hexKey(0xd0), provider: providers[0]!, receipts: receipts.slice(0, 2), circuit: { receipts: 4, rows: 2 }, secret: secrets[0]! })
    expect(() => planBatches(3, config, inputs, receipts, 4, 2, [elsewhere, good[1]!])).toThrow(`the attestation of ${who} is for registry domain ${hexKey(0xd0)}, not this epoch's ${domain}`)
    const unkeyed = { ...config, providers: config.providers.map((p) => ({ ...p, attestationKey: undefined })) }
    expect(() => planBatches(3, unkeyed, inputs, receipts, 4, 2, good)).toThrow(`${who} has no attestation key in the configuration`)
  })

  it('names a receipt whose discount is not its stake snapshot\'s, and a deployment without a circulating supply', () => {
    const wrong = { ...receiptOf(0, 3, 7, 1_000n), discountBps: 0 }
    expect(() => planBatches(1, config, inputs, [wrong], 4, 2, attestAll(1, [wrong], 4, 2))).toThrow(new RegExp(`receipt ${wrong.digest} of ${wrong.user} carries a 0 bps discount; the stake snapshot gives \\d+ bps`))
    expect(() => planBatches(1, config, new Map(), [receiptOf(0, 0, 1, 5n)], 4, 2, [])).toThrow(ProofError)
  })
})
