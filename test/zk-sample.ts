/**
 * One small batch for the circuit and proof tests: three receipts of two users, one of them staking, in the order
 * the circuit takes them ((user, digest prefix) strictly increasing), for a registry of domain 0x...d0.
 */
import { chargedAmount, stakingDiscountBps } from '../src/economics/revenue.ts'
import type { BatchReceipt, StakeRow } from '../src/proofs/statement.ts'

export const params = { epoch: 20_000n, deploymentId: (0xabn << 200n) + 0xcdn, domain: (0xd0n << 240n) + 0xd1n, maxDiscountBps: 3000n, multiplier: 2n, circulating: 600_000n * 10n ** 18n }
export const rows: StakeRow[] = [{ user: 0x1111n, stake: 50_000n * 10n ** 18n }, { user: 0x2222n, stake: 0n }]

export function receiptOf(digest: bigint, row: number, gross: bigint): BatchReceipt {
  const d = stakingDiscountBps(rows[row]!.stake, params.circulating, { maxDiscountBps: params.maxDiscountBps, multiplier: params.multiplier })
  return { digest, user: rows[row]!.user, gross, discountBps: d, charged: chargedAmount(gross, d), row }
}

export const receipts = [receiptOf(7n << 200n, 0, 2_500_000_000n), receiptOf(11n << 220n, 0, 1n), receiptOf(9n << 130n, 1, 1_000n)]
