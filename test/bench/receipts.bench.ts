/** Receipt verification throughput, fomo-kit next to viem, in one process. */
import { keccak256, recoverTypedDataAddress, toBytes } from 'viem'
import { closeWorkers } from '../../src/merkle/parallel.ts'
import { signBatch } from '../../src/receipts/batchSign.ts'
import { VerifierPool } from '../../src/receipts/pool.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { secp256k1 } from '../../src/receipts/secp256k1.ts'
import { addressOf, signReceipt } from '../../src/receipts/sign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME } from '../../src/receipts/types.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { verifyBatch } from '../../src/receipts/batchVerify.ts'

export type ReceiptBench = Record<string, { receipts: number; seconds: number; perSecond: number }>

const domain = { name: RECEIPT_DOMAIN_NAME, version: '1', chainId: 8453, verifyingContract: '0x5fbdb2315678afecb367f032d93f642f64180aa3' as const }
const separator = domainSeparator(domain)
const keys = Array.from({ length: 16 }, (_, i) => keccak256(toBytes(`bench provider ${i}`)))
const providers = keys.map(addressOf)

function receipt(i: number, provider: number): UsageReceipt {
  const gross = 1_000n + BigInt(i % 50_000)
  return {
    deploymentId: keccak256(toBytes('bench deployment')),
    provider: providers[provider]!,
    user: addressOf(keccak256(toBytes(`user ${i % 997}`))).toLowerCase() as `0x${string}`,
    epoch: 20_000,
    requestId: keccak256(toBytes(`request ${i}`)),
    timestamp: 1_728_000_000n + BigInt(i),
    inputTokens: 300 + (i % 700),
    outputTokens: 100 + (i % 300),
    grossAmount: gross,
    discountBps: 1666,
    chargedAmount: gross - (gross * 1666n) / 10_000n,
  }
}

const time = async (receipts: number, run: () => unknown) => {
  const start = performance.now()
  await run()
  const seconds = (performance.now() - start) / 1000
  return { receipts, seconds, perSecond: receipts / seconds }
}

export async function benchReceipts(log: (line: string) => void): Promise<ReceiptBench> {
  const users = new Map<number, `0x${string}`>()
  void users
  log('receipts: signing inputs')
  const single = Array.from({ length: 60_000 }, (_, i) => signReceipt(receipt(i, i % 16), keys[i % 16]!, domain, separator))
  const texts = single.map((d) => JSON.stringify(d))
  const batchReceipts = Array.from({ length: 16 }, (_, p) => Array.from({ length: 12_500 }, (_, i) => receipt(p * 12_500 + i, p)))
  const batches = batchReceipts.map((rs, p) => signBatch(rs, keys[p]!, domain, separator))
  const batchTexts = batches.map((b) => JSON.stringify(b))
  const result: ReceiptBench = {}

  log('receipts: viem recoverTypedDataAddress, one core')
  const viemN = 2_000
  result.viem = await time(viemN, async () => {
    for (let i = 0; i < viemN; i++) {
      const d = single[i]!
      const message = Object.fromEntries(Object.entries(d.message).map(([k, v]) => [k, /^[0-9]+$/.test(v) ? BigInt(v) : v]))
      await recoverTypedDataAddress({ domain: d.domain, types: { UsageReceipt: d.types.UsageReceipt as never }, primaryType: 'UsageReceipt', message: message as never, signature: d.signature })
    }
  })

  log('receipts: fomo-kit, one core, parsed documents')
  const verifier = new ReceiptVerifier({ domain })
  for (let i = 0; i < 2_000; i++) verifier.verify(single[i])
  const oneCoreN = 30_000
  result.oneCore = await time(oneCoreN, () => {
    const v = new ReceiptVerifier({ domain })
    for (let i = 0; i < oneCoreN; i++) v.verify(single[i])
  })

  // The same input the pool takes: JSON text, parsed and verified on this thread.
  log('receipts: fomo-kit, one core, JSON text')
  result.oneCoreText = await time(oneCoreN, () => {
    const v = new ReceiptVerifier({ domain })
    for (let i = 0; i < oneCoreN; i++) v.verify(JSON.parse(texts[i]!))
  })

  log('receipts: fomo-kit, worker pool, JSON text')
  const pool = new VerifierPool({ domain })
  await pool.verifyTexts(texts.slice(0, 4_000))
  result.pool = await time(texts.length, async () => {
    const columns = await pool.verifyTexts(texts)
    if (columns.failures.length > 0) throw new Error(`a bench receipt failed verification: ${columns.failures[0]!.message}`)
  })

  log('receipts: batches, one core, parsed documents')
  const total = batchReceipts.length * 12_500
  verifyBatch(new ReceiptVerifier({ domain }), batches[0])
  result.batchOneCore = await time(total, () => {
    const v = new ReceiptVerifier({ domain })
    for (const b of batches) verifyBatch(v, b)
  })

  log('receipts: batches, one core, JSON text')
  result.batchOneCoreText = await time(total, () => {
    const v = new ReceiptVerifier({ domain })
    for (const t of batchTexts) verifyBatch(v, JSON.parse(t))
  })

  log('receipts: batches, worker pool, JSON text')
  await pool.verifyBatch(batchTexts[0]!)
  result.batchPool = await time(total, async () => {
    const results = await Promise.all(batchTexts.map((t) => pool.verifyBatch(t)))
    if (results.some((r) => r.error)) throw new Error('a bench batch failed verification')
  })
  await pool.close()
  await closeWorkers()
  log(`receipts: secp256k1 backend ${secp256k1.name}`)
  return result
}
