import { compileCached } from '../../src/proofs/circom.ts'
for (const s of ['circuits/test/staking_discount.circom', 'circuits/bench/receipt_batch_32.circom', 'circuits/bench/receipt_batch_64.circom', 'circuits/bench/receipt_batch_256.circom']) {
  const t = performance.now()
  const c = await compileCached(s, '/work/main')
  console.log(s, c.constraints, ((performance.now() - t) / 1000).toFixed(1), 's')
}
