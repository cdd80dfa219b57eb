/**
 * Proving a planned epoch: one Groth16 proof per batch, and the hash chain of the batches' public signals (the
 * proofs hash) that the on-chain commitment carries.
 */
import { encodeAbiParameters, keccak256 } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { EPOCH_PROOFS_FORMAT, sha256File, type CircuitKeys, type EpochProofs, type ProvenBatch } from './files.ts'
import { BATCH_PUBLIC_SIGNALS, BatchProver, type BatchProof } from './groth16.ts'
import type { PlannedBatch } from './plan.ts'
import { batchInput, stakeTable } from './statement.ts'

/** The public signals of a batch proof as the contract takes them (BATCH_PUBLIC_SIGNALS order). */
export const signalsOf = (proof: BatchProof): bigint[] => BATCH_PUBLIC_SIGNALS.map((name) => BigInt(proof.publicSignals[name]))

/** The hash chain the registry keeps: h_i = keccak256(abi.encode(h_{i-1}, uint256[17] signals_i)), h_0 = 0. */
export function proofsHash(batches: readonly { proof: BatchProof }[]): Hex {
  let chain: Hex = `0x${'0'.repeat(64)}`
  for (const b of batches) chain = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: `uint256[${BATCH_PUBLIC_SIGNALS.length}]` }], [chain, signalsOf(b.proof) as never]))
  return chain
}

/** Proves every planned batch; `progress` is told after each proof. */
export async function proveEpoch(epoch: number, plan: readonly PlannedBatch[], keys: CircuitKeys, progress?: (done: number, total: number) => void): Promise<EpochProofs> {
  const batches: ProvenBatch[] = []
  const prover = await BatchProver.load({ name: keys.name, wasm: keys.wasm }, keys.zkey)
  for (const b of plan) {
    const proof = await prover.prove(batchInput(b.receipts, b.rows, b.params, keys.receipts, keys.rows, b.attestation))
    batches.push({ deploymentId: b.deploymentId, provider: b.provider, rows: stakeTable(b.receipts, b.rows).map((r) => ({ ...r, user: `0x${r.user.toString(16).padStart(40, '0')}` as Hex })), proof })
    progress?.(batches.length, plan.length)
  }
  return {
    format: EPOCH_PROOFS_FORMAT,
    epoch,
    circuit: { name: keys.name, receipts: keys.receipts, rows: keys.rows, verificationKeySha256: await sha256File(keys.verificationKey), testOnly: keys.testOnly },
    proofsHash: proofsHash(batches),
    // Only the attestations the batches use, in batch order.
    attestations: [...new Set(plan.map((b) => b.attested))],
    batches,
  }
}
