/** One small batch for the circuit and proof tests: three receipts of two users, one of them staking. */
import { chargedAmount, stakingDiscountBps } from '../src/economics/revenue.ts'
import type { BatchReceipt, StakeRow } from '../src/proofs/statement.ts'

export const params = { epoch: 20_000n, deploymentId: (0xabn << 200n) + 0xcdn, maxDiscountBps: 3000n, multiplier: 2n, circulating: 600_000n * 10n ** 18n }
export const rows: StakeRow[] = [{ user: 0x1111n, stake: 50_000n * 10n ** 18n }, { user: 0x2222n, stake: 0n }]

export function receiptOf(digest: bigint, row: number, gross: bigint): BatchReceipt {
  const d = stakingDiscountBps(rows[row]!.stake, params.circulating, { maxDiscountBps: params.maxDiscountBps, multiplier: params.multiplier })
  return { digest, user: rows[row]!.user, gross, discountBps: d, charged: chargedAmount(gross, d), row }
}

export const receipts = [receiptOf(7n << 200n, 0, 2_500_000_000n), receiptOf(9n, 1, 1_000n), receiptOf(11n << 100n, 0, 1n)]
