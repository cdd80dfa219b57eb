/**
 * The staking discount template against src/economics: same outputs on random inputs, no witness for inputs
 * out of range, and tampered witnesses (a wrong discount, a wrong charged amount, a forged quotient) violate
 * a constraint. The batch statement of the proofs builds on this template.
 */
import { join } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { chargedAmount, stakingDiscountBps } from '../src/economics/revenue.ts'
import { poseidon5 } from 'poseidon-lite'
import { batchInput, batchStatement, digestLimbs, poseidonRoot, type BatchReceipt } from '../src/proofs/statement.ts'
import { params, receiptOf, receipts, rows } from './zk-sample.ts'
import { calculateWitness, compileCached, compileCircuit, constraintsBySignal, firstViolation, FIELD_PRIME, inspectWarnings, loadConstraints, loadSymbols, type CompiledCircuit } from '../src/proofs/circom.ts'

const root = join(import.meta.dirname, '..')
let circuit: CompiledCircuit
let constraints: Awaited<ReturnType<typeof loadConstraints>>

beforeAll(async () => {
  circuit = await compileCached('circuits/test/staking_discount.circom', root)
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

describe('ReceiptBatch circuit (4 receipts, 2 stake rows)', () => {
  let batch: CompiledCircuit
  let batchConstraints: Awaited<ReturnType<typeof loadConstraints>>
  beforeAll(async () => {
    batch = await compileCached('circuits/test/receipt_batch_4.circom', root)
    batchConstraints = await loadConstraints(batch)
  }, 120_000)

  const inputOf = (rs: BatchReceipt[]) => batchInput(rs, rows, params, 4, 2) as Record<string, string> & Record<'digestHi' | 'digestLo' | 'user' | 'gross' | 'row' | 'rowUser' | 'rowStake', string[]>

  it('proves what src/proofs/statement.ts states: root, stakes commitment, totals', async () => {
    const statement = batchStatement(receipts, rows, params, 4, 2)
    const w = await calculateWitness(batch, inputOf(receipts))
    const outputsOf = (s: ReturnType<typeof batchStatement>) => [s.root, s.stakesCommitment, s.totalGross, s.totalCharged, s.firstUser, s.firstKey, s.lastUser, s.lastKey]
    expect(w.slice(1, 9)).toEqual(outputsOf(statement))
    expect([statement.firstUser, statement.lastUser]).toEqual([rows[0]!.user, rows[1]!.user])
    expect(firstViolation(batchConstraints, w)).toBe(-1)
    // A full batch, and a batch of one.
    for (const rs of [[...receipts, receiptOf(13n << 140n, 1, 77n)], receipts.slice(0, 1)]) {
      const s = batchStatement(rs, rows, params, 4, 2)
      const wi = await calculateWitness(batch, inputOf(rs))
      expect(wi.slice(1, 9)).toEqual(outputsOf(s))
    }
  })

  it('binds each leaf to the charged amount the discount gives: another charged amount is another root', async () => {
    const wrong = receipts.map((r, i) => (i === 0 ? { ...r, charged: r.charged + 1n } : r))
    const w = await calculateWitness(batch, inputOf(receipts))
    const leaves = wrong.map((r) => poseidon5([...digestLimbs(r.digest), r.user, r.gross, r.charged]))
    expect(poseidonRoot([...leaves, 0n])).not.toBe(w[1])
    expect(() => batchStatement(wrong, rows, params, 4, 2)).toThrow(/charged/)
  })

  it.each([
    ['a receipt naming another user\'s row', (i: ReturnType<typeof inputOf>) => ({ ...i, row: ['1', '1', '0', '0'] })],
    ['a row outside the table', (i: ReturnType<typeof inputOf>) => ({ ...i, row: ['2', '1', '0', '0'] })],
    ['non-zero padding', (i: ReturnType<typeof inputOf>) => ({ ...i, gross: [...i.gross.slice(0, 3), '5'] })],
    ['a zero gross amount', (i: ReturnType<typeof inputOf>) => ({ ...i, gross: ['0', ...i.gross.slice(1)] })],
    ['a gross amount above 2^64', (i: ReturnType<typeof inputOf>) => ({ ...i, gross: [((1n << 64n) + 1n).toString(), ...i.gross.slice(1)] })],
    ['more receipts than slots', (i: ReturnType<typeof inputOf>) => ({ ...i, count: '5' })],
    ['a stake above the circulating supply', (i: ReturnType<typeof inputOf>) => ({ ...i, rowStake: [(params.circulating + 1n).toString(), '0'] })],
    ['p - 1 as a gross amount', (i: ReturnType<typeof inputOf>) => ({ ...i, gross: [(FIELD_PRIME - 1n).toString(), ...i.gross.slice(1)] })],
    ['no receipt', (i: ReturnType<typeof inputOf>) => ({ ...i, count: '0', digestHi: ['0', '0', '0', '0'], digestLo: ['0', '0', '0', '0'], user: ['0', '0', '0', '0'], gross: ['0', '0', '0', '0'], row: ['0', '0', '0', '0'] })],
    ['one receipt twice (the same user and digest in two slots)', (i: ReturnType<typeof inputOf>) => ({ ...i, digestHi: [i.digestHi[0]!, i.digestHi[0]!, ...i.digestHi.slice(2)], digestLo: [i.digestLo[0]!, i.digestLo[0]!, ...i.digestLo.slice(2)], gross: [i.gross[0]!, i.gross[0]!, ...i.gross.slice(2)] })],
    ['a user\'s receipts out of digest order', (i: ReturnType<typeof inputOf>) => ({ ...i, digestHi: [i.digestHi[1]!, i.digestHi[0]!, ...i.digestHi.slice(2)], digestLo: [i.digestLo[1]!, i.digestLo[0]!, ...i.digestLo.slice(2)], gross: [i.gross[1]!, i.gross[0]!, ...i.gross.slice(2)] })],
    ['receipts out of user order (a row after a later one)', (i: ReturnType<typeof inputOf>) => ({ ...i, digestHi: [i.digestHi[2]!, i.digestHi[0]!, i.digestHi[1]!, '0'], digestLo: [i.digestLo[2]!, i.digestLo[0]!, i.digestLo[1]!, '0'], user: [i.user[2]!, i.user[0]!, i.user[1]!, '0'], gross: [i.gross[2]!, i.gross[0]!, i.gross[1]!, '0'], row: ['1', '0', '0', '0'] })],
    ['stake rows out of user order', (i: ReturnType<typeof inputOf>) => ({ ...i, rowUser: [i.rowUser[1]!, i.rowUser[0]!], rowStake: [i.rowStake[1]!, i.rowStake[0]!], row: ['1', '1', '0', '0'] })],
  ])('has no witness for %s', async (_name, mutate) => {
    await expect(calculateWitness(batch, mutate(inputOf(receipts)))).rejects.toThrow(/Assert Failed/)
  })

  it('rejects any single tampered private signal (but the harmless inverse of an IsZero whose input is zero)', async () => {
    const good = await calculateWitness(batch, inputOf(receipts))
    const names = await loadSymbols(batch)
    const touching = constraintsBySignal(batchConstraints)
    for (let i = 1; i < good.length; i++) {
      // Public inputs (indices 9 to 17) are fixed by the verifier.
      if (i >= 9 && i <= 17) continue
      const w = [...good]
      w[i] = (w[i]! + 1n) % FIELD_PRIME
      const violated = firstViolation(batchConstraints, w, touching.get(i) ?? []) !== -1
      // circomlib IsZero: out = 1 - in * inv and in * out = 0. When in = 0, inv is free: it appears in no
      // other constraint and changes no other signal. Every other signal must be forced.
      if (!violated) expect(names.get(i), `signal ${i} is free`).toMatch(/\.isz\.inv$/)
      else expect(violated).toBe(true)
    }
  })

  it('costs at most 1,200 constraints per receipt (32 to 64 receipts, stake tables of N/8 rows)', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises')
    const dir = join(root, '.cache', 'circuits', 'budget')
    await mkdir(dir, { recursive: true })
    const sizes: Record<number, number> = {}
    for (const [n, k, depth] of [[32, 4, 5], [64, 8, 6]] as const) {
      const source = join('.cache', 'circuits', 'budget', `batch_${n}.circom`)
      await writeFile(join(root, source), `pragma circom 2.1.6;\ninclude "circuits/lib/batch.circom";\ncomponent main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(${n}, ${k}, ${depth});\n`)
      sizes[n] = (await compileCircuit(source, dir, root, ['.'])).constraints
    }
    expect((sizes[64]! - sizes[32]!) / 32).toBeLessThanOrEqual(1200)
    expect(sizes[64]! / 64).toBeLessThanOrEqual(1200)
  })

  it('passes circom --inspect but for the justified circomlib warnings', async () => {
    const warnings = await inspectWarnings('circuits/test/receipt_batch_4.circom', root)
    for (const w of warnings) expect(w).toMatch(/^warning\[CA02\]: In template "(LessThan\(\d+\)": Array of subcomponent input\/output signals n2b\.out|Poseidon\w*\(\d+,\d+\)")/)
  })
})
