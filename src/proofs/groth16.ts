import { readFile } from 'node:fs/promises'
import { BaseError } from '../errors/base.ts'
import { Reader } from '../format/reader.ts'
import { FIELD_PRIME } from './circom.ts'

/**
 * Groth16 proofs of the batch statement with snarkjs. A proof document carries its public signals by name, and
 * verification refuses any public signal that is not a canonical field element (< r) before the pairing check.
 */
export const BATCH_PROOF_FORMAT = 'fomo-batch-proof-v1'

/** The public signals of ReceiptBatch, in circom's order: outputs, then public inputs. */
export const BATCH_PUBLIC_SIGNALS = [
  'root',
  'stakesCommitment',
  'totalGross',
  'totalCharged',
  'epoch',
  'deploymentIdHi',
  'deploymentIdLo',
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
  if (publicSignals.length !== BATCH_PUBLIC_SIGNALS.length) throw new ProofError(`the circuit has ${publicSignals.length} public signals, expected ${BATCH_PUBLIC_SIGNALS.length}`)
  return {
    format: BATCH_PROOF_FORMAT,
    circuit: circuit.name,
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
