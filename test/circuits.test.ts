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
import { batchInput, batchStatement, digestLimbs, poseidonRoot, type BatchAttestation, type BatchReceipt } from '../src/proofs/statement.ts'
import { attestation, attestBatches, params, providerSecrets, receiptOf, receipts, rows } from './zk-sample.ts'
import { ATTESTATION_DEPTH, attestationKeyOf } from '../src/proofs/attestation.ts'
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

  type Input = Record<string, string> & Record<'digestHi' | 'digestLo' | 'user' | 'gross' | 'row' | 'rowUser' | 'rowStake' | 'batchPath', string[]>
  const inputOf = (rs: BatchReceipt[], a: BatchAttestation = rs === receipts ? attestation : attestBatches([rs])[0]!) => batchInput(rs, rows, params, 4, 2, a) as Input
  const outputsOf = (s: ReturnType<typeof batchStatement>) => [s.root, s.stakesCommitment, s.totalGross, s.totalCharged, s.providerKey, s.attestation, s.batchIndex, s.batchCount]

  it('proves what src/proofs/statement.ts states: root, stakes commitment, totals, provider key, attestation, batch index and count', async () => {
    const statement = batchStatement(receipts, rows, params, 4, 2, attestation)
    const w = await calculateWitness(batch, inputOf(receipts))
    expect(w.slice(1, 9)).toEqual(outputsOf(statement))
    expect(statement.providerKey).toBe(attestationKeyOf(providerSecrets[0]).id)
    expect(firstViolation(batchConstraints, w)).toBe(-1)
    // A full batch, a batch of one, and the second and third of three attested batches.
    const three = [receipts.slice(0, 1), receipts.slice(1, 2), receipts.slice(2)]
    const attested = attestBatches(three)
    const cases: Array<[BatchReceipt[], BatchAttestation | undefined]> = [[[...receipts, receiptOf(13n << 140n, 1, 77n)], undefined], [receipts.slice(0, 1), undefined], [three[1]!, attested[1]], [three[2]!, attested[2]]]
    for (const [rs, given] of cases) {
      const a = given ?? attestBatches([rs])[0]!
      const s = batchStatement(rs, rows, params, 4, 2, a)
      const wi = await calculateWitness(batch, inputOf(rs, a))
      expect(wi.slice(1, 9)).toEqual(outputsOf(s))
    }
    // The three batches carry one attestation (one signed message); the single batch's is another.
    const [s1, s2] = [batchStatement(three[1]!, rows, params, 4, 2, attested[1]!), batchStatement(three[2]!, rows, params, 4, 2, attested[2]!)]
    expect([s1.batchIndex, s2.batchIndex, s2.batchCount]).toEqual([1n, 2n, 3n])
    expect(s1.attestation).toBe(s2.attestation)
    expect(s2.attestation).not.toBe(statement.attestation)
  })

  it('refuses in TypeScript what it cannot prove: another signature, a wrong path, an index outside the attestation', () => {
    const other = attestBatches([receipts], params, providerSecrets[1])[0]!
    expect(() => batchStatement(receipts, rows, params, 4, 2, { ...attestation, signature: other.signature })).toThrow(/signature/)
    expect(() => batchStatement(receipts, rows, params, 4, 2, { ...attestation, path: attestation.path.map((x, i) => (i === 0 ? x + 1n : x)) })).toThrow(/signature/)
    expect(() => batchStatement(receipts, rows, params, 4, 2, { ...attestation, index: 1 })).toThrow(/index/)
    expect(() => batchStatement(receipts.slice(0, 2), rows, params, 4, 2, attestation)).toThrow(/signature/)
  })

  it('binds each leaf to the charged amount the discount gives: another charged amount is another root', async () => {
    const wrong = receipts.map((r, i) => (i === 0 ? { ...r, charged: r.charged + 1n } : r))
    const w = await calculateWitness(batch, inputOf(receipts))
    const leaves = wrong.map((r) => poseidon5([...digestLimbs(r.digest), r.user, r.gross, r.charged]))
    expect(poseidonRoot([...leaves, 0n])).not.toBe(w[1])
    expect(() => batchStatement(wrong, rows, params, 4, 2, attestation)).toThrow(/charged/)
  })

  it.each([
    ['a receipt naming another user\'s row', (i: Input) => ({ ...i, row: ['1', '1', '0', '0'] })],
    ['a row outside the table', (i: Input) => ({ ...i, row: ['2', '1', '0', '0'] })],
    ['non-zero padding', (i: Input) => ({ ...i, gross: [...i.gross.slice(0, 3), '5'] })],
    ['a zero gross amount', (i: Input) => ({ ...i, gross: ['0', ...i.gross.slice(1)] })],
    ['a gross amount above 2^64', (i: Input) => ({ ...i, gross: [((1n << 64n) + 1n).toString(), ...i.gross.slice(1)] })],
    ['more receipts than slots', (i: Input) => ({ ...i, count: '5' })],
    ['a stake above the circulating supply', (i: Input) => ({ ...i, rowStake: [(params.circulating + 1n).toString(), '0'] })],
    ['p - 1 as a gross amount', (i: Input) => ({ ...i, gross: [(FIELD_PRIME - 1n).toString(), ...i.gross.slice(1)] })],
    ['no receipt', (i: Input) => ({ ...i, count: '0', digestHi: ['0', '0', '0', '0'], digestLo: ['0', '0', '0', '0'], user: ['0', '0', '0', '0'], gross: ['0', '0', '0', '0'], row: ['0', '0', '0', '0'] })],
    // Receipts the provider did not attest: one changed, one added, one dropped (the signature is over the others).
    ['a receipt changed after the provider signed (another gross amount)', (i: Input) => ({ ...i, gross: ['2500000001', ...i.gross.slice(1)] })],
    ['a receipt the provider did not sign added', (i: Input) => ({ ...i, count: '4', digestHi: [...i.digestHi.slice(0, 3), '5'], digestLo: [...i.digestLo.slice(0, 3), '5'], user: [...i.user.slice(0, 3), i.user[2]!], gross: [...i.gross.slice(0, 3), '5'], row: [...i.row.slice(0, 3), '1'] })],
    ['an attested receipt dropped', (i: Input) => ({ ...i, count: '2', digestHi: [...i.digestHi.slice(0, 2), '0', '0'], digestLo: [...i.digestLo.slice(0, 2), '0', '0'], user: [...i.user.slice(0, 2), '0', '0'], gross: [...i.gross.slice(0, 2), '0', '0'], row: ['0', '0', '0', '0'] })],
    ['another provider key with the signature', (i: Input) => ({ ...i, providerAx: attestationKeyOf(providerSecrets[1]).x.toString(), providerAy: attestationKeyOf(providerSecrets[1]).y.toString() })],
    ['a signature over another epoch', (i: Input) => ({ ...i, epoch: String(params.epoch + 1n) })],
    ['a signature made for another registry', (i: Input) => ({ ...i, domainLo: String((params.domain & ((1n << 128n) - 1n)) + 1n) })],
    ['a signature over another deployment', (i: Input) => ({ ...i, deploymentIdLo: String((params.deploymentId & ((1n << 128n) - 1n)) + 1n) })],
    ['a claimed batch count the provider did not sign', (i: Input) => ({ ...i, batches: '2' })],
    ['a batch position outside the attested batches', (i: Input) => ({ ...i, batchPosition: '1' })],
    ['a wrong sibling on the path', (i: Input) => ({ ...i, batchPath: ['1', ...i.batchPath.slice(1)] })],
    ['a signature scalar S + l (the same point, above the subgroup order)', (i: Input) => ({ ...i, signatureS: (BigInt(i.signatureS!) + 2736030358979909402780800718157159386076813972158567259200215660948447373041n).toString() })],
    ['stake rows out of user order', (i: Input) => ({ ...i, rowUser: [i.rowUser[1]!, i.rowUser[0]!], rowStake: [i.rowStake[1]!, i.rowStake[0]!], row: ['1', '1', '0', '0'] })],
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
      await writeFile(join(root, source), `pragma circom 2.1.6;\ninclude "circuits/lib/batch.circom";\ncomponent main { public [epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo, maxDiscountBps, multiplier, circulating, count] } = ReceiptBatch(${n}, ${k}, ${depth}, ${ATTESTATION_DEPTH});\n`)
      sizes[n] = (await compileCircuit(source, dir, root, ['.'])).constraints
    }
    expect((sizes[64]! - sizes[32]!) / 32).toBeLessThanOrEqual(1200)
    expect(sizes[64]! / 64).toBeLessThanOrEqual(1200)
  })

  it('passes circom --inspect but for the justified circomlib warnings', async () => {
    const warnings = await inspectWarnings('circuits/test/receipt_batch_4.circom', root)
    // circomlib internals, each intended: LessThan and CompConstant decompose a sum and read only its top bit; the
    // scalar multiplications of the EdDSA verifier leave the doubled base of their last segment unused (no segment
    // follows); Poseidon's partial rounds. Any other warning is a defect.
    const justified = [
      /^warning\[CA02\]: In template "LessThan\(\d+\)": Array of subcomponent input\/output signals n2b\.out /,
      /^warning\[CA02\]: In template "CompConstant\(\d+\)": Array of subcomponent input\/output signals num2bits\.out /,
      /^warning\[CA02\]: In template "EscalarMul(Any\(254\)|Fix\(253,\[\d+,\d+\]\))": Array of subcomponent input\/output signals segments\[1\]\.dbl contains a total of 2 signals/,
      /^warning\[CA02\]: In template "Poseidon\w*\(\d+,\d+\)"/,
    ]
    for (const w of warnings) expect(justified.some((j) => j.test(w)), w).toBe(true)
  })
})
