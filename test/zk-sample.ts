/**
 * One small batch for the circuit and proof tests: three receipts of two users, one of them staking, for a registry
 * of domain 0x...d0, and attestations of batches by a provider key made from a fixed test secret.
 */
import { chargedAmount, stakingDiscountBps } from '../src/economics/revenue.ts'
import { numberToHex } from 'viem'
import { attestBatchRoots } from '../src/proofs/attestation.ts'
import { poseidonRoot, receiptLeaf } from '../src/proofs/poseidon.ts'
import type { BatchAttestation, BatchParameters, BatchReceipt, StakeRow } from '../src/proofs/statement.ts'

export const params = { epoch: 20_000n, deploymentId: (0xabn << 200n) + 0xcdn, domain: (0xd0n << 240n) + 0xd1n, maxDiscountBps: 3000n, multiplier: 2n, circulating: 600_000n * 10n ** 18n }
export const rows: StakeRow[] = [{ user: 0x1111n, stake: 50_000n * 10n ** 18n }, { user: 0x2222n, stake: 0n }]

export function receiptOf(digest: bigint, row: number, gross: bigint): BatchReceipt {
  const d = stakingDiscountBps(rows[row]!.stake, params.circulating, { maxDiscountBps: params.maxDiscountBps, multiplier: params.multiplier })
  return { digest, user: rows[row]!.user, gross, discountBps: d, charged: chargedAmount(gross, d), row }
}

export const receipts = [receiptOf(7n << 200n, 0, 2_500_000_000n), receiptOf(11n << 220n, 0, 1n), receiptOf(9n << 130n, 1, 1_000n)]

/** Fixed TEST secrets of two providers' attestation keys. */
export const providerSecrets = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)] as const

/** A batch's root as the circuit computes it (n = 4). */
export const sampleBatchRoot = (rs: readonly BatchReceipt[]) => poseidonRoot([...rs.map((r) => receiptLeaf(r.digest, r.user, r.gross, r.charged)), ...Array.from({ length: 4 - rs.length }, () => 0n)])

/** A provider's attestation of these batches (in this order) and each batch's place in it. */
export function attestBatches(batches: readonly (readonly BatchReceipt[])[], p: BatchParameters = params, secret: Uint8Array = providerSecrets[0]): BatchAttestation[] {
  return attestBatchRoots(secret, batches.map(sampleBatchRoot), Number(p.epoch), numberToHex(p.deploymentId, { size: 32 }), numberToHex(p.domain, { size: 32 }))
}

/** The sample batch alone, attested as a provider's one batch. */
export const attestation = attestBatches([receipts])[0]!
