/**
 * One batch proof in a fresh process, for the proving benchmark: a full batch of N receipts over K staking users,
 * proved with the cached prover; prints time and peak memory as JSON.
 */
import { chargedAmount, stakingDiscountBps } from '../../src/economics/revenue.ts'
import { numberToHex } from 'viem'
import { attestBatchRoots } from '../../src/proofs/attestation.ts'
import { BatchProver } from '../../src/proofs/groth16.ts'
import { poseidonRoot, receiptLeaf } from '../../src/proofs/poseidon.ts'
import { batchInput, type BatchReceipt, type StakeRow } from '../../src/proofs/statement.ts'

const [wasm, zkey, n, k] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])]
const params = { epoch: 20_500n, deploymentId: 0xabcdefn << 200n, domain: 0xd0n << 200n, maxDiscountBps: 3000n, multiplier: 2n, circulating: 1_000_000n * 10n ** 18n }
const rows: StakeRow[] = Array.from({ length: k }, (_, i) => ({ user: 0x1000n + BigInt(i), stake: BigInt(i) * 1_000n * 10n ** 18n }))
// N/K receipts per user, users in row order; the batch attested alone by a provider (a fixed benchmark key).
const receipts: BatchReceipt[] = Array.from({ length: n }, (_, i) => {
  const row = Math.floor((i * k) / n)
  const discountBps = stakingDiscountBps(rows[row]!.stake, params.circulating, params)
  const gross = 1_000n + BigInt(i) * 7_919n
  return { digest: (BigInt(i) << 128n) + 12_345n, user: rows[row]!.user, gross, discountBps, charged: chargedAmount(gross, discountBps), row }
})
const root = poseidonRoot([...receipts.map((r) => receiptLeaf(r.digest, r.user, r.gross, r.charged)), ...Array.from({ length: n - receipts.length }, () => 0n)])
const attestation = attestBatchRoots(new Uint8Array(32).fill(9), [root], Number(params.epoch), numberToHex(params.deploymentId, { size: 32 }), numberToHex(params.domain, { size: 32 }))[0]!
const baselineRssMB = process.memoryUsage().rss / 2 ** 20
const loadStart = performance.now()
const prover = await BatchProver.load({ name: `receipt_batch_${n}`, wasm }, zkey)
const loadMs = performance.now() - loadStart
const start = performance.now()
const proof = await prover.prove(batchInput(receipts, rows, params, n, k, attestation))
const proveMs = performance.now() - start
process.stdout.write(`${JSON.stringify({ loadMs, proveMs, peakRssMB: process.resourceUsage().maxRSS / 1024, baselineRssMB, proof })}\n`)
process.exit(0)
