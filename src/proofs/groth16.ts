/**
 * Groth16 proofs of the batch statement with snarkjs. A proof document carries its public signals by name, and
 * verification refuses any public signal that is not a canonical field element (< r) before the pairing check.
 */
import { readFile } from 'node:fs/promises'
import { BaseError } from '../base/errors.ts'
import { Reader } from '../base/reader.ts'
import { FIELD_PRIME } from './circom.ts'

export const BATCH_PROOF_FORMAT = 'fomo-batch-proof-v3'

/** The public signals of ReceiptBatch, in circom's order: outputs, then public inputs. */
export const BATCH_PUBLIC_SIGNALS = [
  'root',
  'stakesCommitment',
  'totalGross',
  'totalCharged',
  'providerKey',
  'attestation',
  'batchIndex',
  'batchCount',
  'epoch',
  'deploymentIdHi',
  'deploymentIdLo',
  'domainHi',
  'domainLo',
  'maxDiscountBps',
  'multiplier',
  'circulating',
  'count',
] as const

export type Groth16Proof = { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: 'groth16'; curve: 'bn128' }
export type BatchProof = { format: typeof BATCH_PROOF_FORMAT; circuit: string; publicSignals: Record<(typeof BATCH_PUBLIC_SIGNALS)[number], string>; proof: Groth16Proof }

export class ProofError extends BaseError {
  override name = 'ProofError'
  constructor(message: string, hint?: string) {
    super('PROOF', message, hint ? { metaMessages: [hint] } : {})
  }
}

type Snarkjs = {
  groth16: {
    fullProve(input: Record<string, unknown>, wasm: string, zkey: string): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    prove(zkey: { type: 'mem'; data: Uint8Array }, wtns: { type: 'mem'; data: Uint8Array }): Promise<{ proof: Groth16Proof; publicSignals: string[] }>
    verify(vkey: unknown, publicSignals: string[], proof: Groth16Proof): Promise<boolean>
  }
}

const snarkjs = async () => (await import('snarkjs')) as unknown as Snarkjs

/** A canonical decimal field element: no sign, no leading zero, below r. */
export function isFieldElement(value: unknown): boolean {
  return typeof value === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(value) && BigInt(value) < FIELD_PRIME
}

export async function proveBatch(circuit: { name: string; wasm: string }, zkey: string, input: Record<string, unknown>): Promise<BatchProof> {
  const { proof, publicSignals } = await (await snarkjs()).groth16.fullProve(input, circuit.wasm, zkey)
  return batchProofOf(circuit.name, proof, publicSignals)
}

type WitnessCalculator = { calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array> }

/**
 * Proves many batches of one circuit: the witness generator is compiled and the proving key read once, where
 * snarkjs's fullProve does both for every proof (most of a small proof's time).
 */
export class BatchProver {
  private constructor(
    readonly name: string,
    private readonly calculator: WitnessCalculator,
    private readonly zkey: Uint8Array,
  ) {}

  static async load(circuit: { name: string; wasm: string }, zkey: string): Promise<BatchProver> {
    const { createRequire } = await import('node:module')
    const { join } = await import('node:path')
    const builder = createRequire(import.meta.url)(join(circuit.wasm, '..', 'witness_calculator.js')) as (code: Buffer) => Promise<WitnessCalculator>
    return new BatchProver(circuit.name, await builder(await readFile(circuit.wasm)), new Uint8Array(await readFile(zkey)))
  }

  async prove(input: Record<string, unknown>): Promise<BatchProof> {
    const wtns = await this.calculator.calculateWTNSBin(input, 0)
    const { proof, publicSignals } = await (await snarkjs()).groth16.prove({ type: 'mem', data: this.zkey }, { type: 'mem', data: wtns })
    return batchProofOf(this.name, proof, publicSignals)
  }
}

function batchProofOf(name: string, proof: Groth16Proof, publicSignals: string[]): BatchProof {
  if (publicSignals.length !== BATCH_PUBLIC_SIGNALS.length) throw new ProofError(`the circuit has ${publicSignals.length} public signals, expected ${BATCH_PUBLIC_SIGNALS.length}`)
  return {
    format: BATCH_PROOF_FORMAT,
    circuit: name,
    publicSignals: Object.fromEntries(BATCH_PUBLIC_SIGNALS.map((name, i) => [name, publicSignals[i]!])) as BatchProof['publicSignals'],
    proof: { pi_a: proof.pi_a, pi_b: proof.pi_b, pi_c: proof.pi_c, protocol: 'groth16', curve: 'bn128' },
  }
}

/** Reads a proof document; throws a ProofError naming a public signal that is not a field element. */
export function readBatchProof(document: unknown): BatchProof {
  const r = new Reader(BATCH_PROOF_FORMAT, document)
  r.object(['format', 'circuit', 'publicSignals', 'proof'])
  r.field('format').literal([BATCH_PROOF_FORMAT])
  const signals = r.field('publicSignals')
  signals.object(BATCH_PUBLIC_SIGNALS)
  for (const name of BATCH_PUBLIC_SIGNALS) {
    const v = signals.field(name).value
    if (!isFieldElement(v)) throw new ProofError(`public signal ${name} is not a field element below r: ${String(v).slice(0, 90)}`, 'A value at or above the field modulus would alias a smaller one; such proofs are refused.')
  }
  return document as BatchProof
}

/** Verifies a batch proof against a verification key (snarkjs JSON). */
export async function verifyBatchProof(verificationKey: unknown, document: unknown): Promise<boolean> {
  const p = readBatchProof(document)
  return (await snarkjs()).groth16.verify(verificationKey, BATCH_PUBLIC_SIGNALS.map((n) => p.publicSignals[n]), p.proof)
}

export async function readVerificationKey(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'))
}
