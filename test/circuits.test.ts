/**
 * The staking discount template against src/economics: same outputs on random inputs, no witness for inputs
 * out of range, and tampered witnesses (a wrong discount, a wrong charged amount, a forged quotient) violate
 * a constraint. The batch statement of the proofs builds on this template.
 */
import { join } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { chargedAmount, stakingDiscountBps } from '../src/economics/revenue.ts'
import { calculateWitness, compileCircuit, firstViolation, FIELD_PRIME, inspectWarnings, loadConstraints, type CompiledCircuit } from '../src/proofs/circom.ts'

const root = join(import.meta.dirname, '..')
let circuit: CompiledCircuit
let constraints: Awaited<ReturnType<typeof loadConstraints>>

beforeAll(async () => {
  circuit = await compileCircuit('circuits/test/staking_discount.circom', join(root, '.cache', 'circuits'), root)
  constraints = await loadConstraints(circuit)
}, 120_000)

const input = (stake: bigint, circulating: bigint, maxDiscountBps: bigint, multiplier: bigint, gross: bigint) => ({
  stake: stake.toString(),
  circulating: circulating.toString(),
  maxDiscountBps: maxDiscountBps.toString(),
  multiplier: multiplier.toString(),
  gross: gross.toString(),
})

// Outputs come first in circom's witness: [1, discountBps, charged, ...inputs].
const outputs = (w: bigint[]) => ({ discountBps: w[1]!, charged: w[2]! })

describe('StakingDiscount template', () => {
  it('passes circom --inspect but for the justified circomlib LessThan warnings', async () => {
    const warnings = await inspectWarnings('circuits/test/staking_discount.circom', root)
    // circomlib's LessThan(n) decomposes in[0] + 2^n - in[1] and reads only its top bit: the other bits are
    // constrained inside Num2Bits and intentionally unused. Every other warning is a defect.
    for (const w of warnings) expect(w).toMatch(/^warning\[CA02\]: In template "LessThan\(\d+\)": Array of subcomponent input\/output signals n2b\.out/)
  })

  it('fits the per-receipt budget of 1,000 constraints', () => {
    expect(circuit.constraints).toBeLessThanOrEqual(1000)
  })

  it('computes what src/economics computes (the paper: Bob, 50,000 of 600,000 at X = 30 %, M = 2)', async () => {
    const e = 10n ** 18n
    const w = await calculateWitness(circuit, input(50_000n * e, 600_000n * e, 3000n, 2n, 2_500_000_000n))
    expect(outputs(w)).toEqual({ discountBps: 1666n, charged: 2_083_500_000n })
    expect(firstViolation(constraints, w)).toBe(-1)
  })

  it('agrees with src/economics on random inputs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }),
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.bigInt({ min: 1n, max: (1n << 20n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        async (circulating, s, x, m, gross) => {
          const stake = s % (circulating + 1n)
          const d = stakingDiscountBps(stake, circulating, { maxDiscountBps: x, multiplier: m })
          const w = await calculateWitness(circuit, input(stake, circulating, x, m, gross))
          expect(outputs(w)).toEqual({ discountBps: d, charged: chargedAmount(gross, d) })
          expect(firstViolation(constraints, w)).toBe(-1)
        },
      ),
      { numRuns: 150 },
    )
  })

  it.each([
    ['a stake above the circulating supply', input(11n, 10n, 3000n, 2n, 100n)],
    ['X above 100 %', input(1n, 10n, 10_001n, 2n, 100n)],
    ['a gross amount of 2^64', input(1n, 10n, 3000n, 2n, 1n << 64n)],
    ['a zero multiplier', input(1n, 10n, 3000n, 0n, 100n)],
    ['p - 1 as the stake (0 - 1 wrapped)', { ...input(1n, 10n, 3000n, 2n, 100n), stake: (FIELD_PRIME - 1n).toString() }],
  ])('has no witness for %s', async (_name, bad) => {
    // The circuit's own constraint check fails ("Assert Failed"), not anything else.
    await expect(calculateWitness(circuit, bad)).rejects.toThrow(/Assert Failed/)
  })

  it('gives no discount without circulating supply, as src/economics does', async () => {
    const w = await calculateWitness(circuit, input(0n, 0n, 3000n, 2n, 100n))
    expect(outputs(w)).toEqual({ discountBps: 0n, charged: 100n })
    expect(firstViolation(constraints, w)).toBe(-1)
    await expect(calculateWitness(circuit, input(1n, 0n, 3000n, 2n, 100n))).rejects.toThrow(/Assert Failed/)
  })

  it('rejects tampered witnesses: a wrong discount, a wrong charged amount, a forged quotient', async () => {
    const e = 10n ** 18n
    const good = await calculateWitness(circuit, input(50_000n * e, 600_000n * e, 3000n, 2n, 2_500_000_000n))
    const tamper = (index: number, value: bigint) => {
      const w = [...good]
      w[index] = ((value % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME
      return firstViolation(constraints, w)
    }
    expect(tamper(1, 1667n)).not.toBe(-1) // a discount one bps higher
    expect(tamper(2, 2_083_500_001n)).not.toBe(-1) // a charged amount one unit higher
    expect(tamper(2, -1n)).not.toBe(-1) // a charged amount of p - 1
    // Every other private signal changed alone breaks some constraint too (no free witness values).
    for (let i = 8; i < good.length; i++) expect(tamper(i, good[i]! + 1n), `signal ${i}`).not.toBe(-1)
  })
})
