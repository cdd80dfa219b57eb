/**
 * Writes the committed test vectors of fixtures/receipts and fixtures/merkle.
 * Run once by hand (npx tsx test/generate-fixtures.ts); tests only read them.
 * The keys here are public test keys: never use them for anything real.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { keccak256, toBytes } from 'viem'
import { signBatch } from '../src/receipts/batchSign.ts'
import { batchedReceipt } from '../src/receipts/batchVerify.ts'
import type { UsageReceipt } from '../src/receipts/receipt.ts'
import { addressOf, signReceipt } from '../src/receipts/sign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME, RECEIPT_DOMAIN_VERSION, USAGE_RECEIPT_TYPE_STRING, USAGE_BATCH_TYPE_STRING } from '../src/receipts/types.ts'
import { StandardTree } from '../src/merkle/tree.ts'
import { ReceiptVerifier } from '../src/receipts/verify.ts'

const root = join(import.meta.dirname, '..', 'fixtures')
const testKey = (label: string) => keccak256(toBytes(`fomo-kit test key: ${label}`))
const providerKey = testKey('provider-1')
const domain = { name: RECEIPT_DOMAIN_NAME, version: RECEIPT_DOMAIN_VERSION, chainId: 31337, verifyingContract: '0x5fbdb2315678afecb367f032d93f642f64180aa3' as const }
const separator = domainSeparator(domain)
const provider = addressOf(providerKey)
const deploymentId = keccak256(toBytes('deployment: qwenalice'))
const receipt = (i: number, gross: bigint, discountBps: number): UsageReceipt => ({
  deploymentId,
  provider,
  user: addressOf(testKey(`user-${i % 3}`)),
  epoch: 20_000,
  requestId: keccak256(toBytes(`request ${i}`)),
  timestamp: 1_728_000_000n + BigInt(i),
  inputTokens: 100 + i,
  outputTokens: 50 + i,
  grossAmount: gross,
  discountBps,
  chargedAmount: gross - (gross * BigInt(discountBps)) / 10_000n,
})
const receipts = [receipt(0, 2_500_000n, 1666), receipt(1, 1n, 0), receipt(2, 999_999_999n, 3000), receipt(3, 123_456n, 10_000)]
const vectors = {
  note: 'Test vectors of fomo-receipt-v1. The private key is a public test key; never use it for anything real.',
  typeString: USAGE_RECEIPT_TYPE_STRING,
  batchTypeString: USAGE_BATCH_TYPE_STRING,
  domain,
  providerPrivateKey: providerKey,
  provider,
  signed: receipts.map((r) => signReceipt(r, providerKey, domain, separator)),
}
writeFileSync(join(root, 'receipts', 'vectors.json'), `${JSON.stringify(vectors, null, 2)}\n`)
const batch = signBatch(receipts, providerKey, domain, separator)
writeFileSync(join(root, 'receipts', 'batch.json'), `${JSON.stringify(batch, null, 2)}\n`)
writeFileSync(join(root, 'receipts', 'batched-receipt.json'), `${JSON.stringify(batchedReceipt(batch, 2, new ReceiptVerifier({ domain })), null, 2)}\n`)

// Golden Merkle dumps: one written by @openzeppelin/merkle-tree, one by fomo-kit.
const values = Array.from({ length: 7 }, (_, i) => [addressOf(testKey(`account-${i}`)), String(10n ** BigInt(i) * 12345n)])
writeFileSync(join(root, 'merkle', 'oz-address-uint256.json'), `${JSON.stringify(StandardMerkleTree.of(values, ['address', 'uint256']).dump(), null, 2)}\n`)
const mixed = [['0x' + 'ab'.repeat(20), '0x' + 'cd'.repeat(20), '1'], ['0x' + '12'.repeat(20), '0x' + 'cd'.repeat(20), '340282366920938463463374607431768211455']]
writeFileSync(join(root, 'merkle', 'fomo-address-address-uint256.json'), `${JSON.stringify(StandardTree.of(mixed, ['address', 'address', 'uint256']).dump(), null, 2)}\n`)
writeFileSync(join(root, 'merkle', 'oz-string-bool.json'), `${JSON.stringify(StandardMerkleTree.of([['hello', true], ['world', false], ['', true]], ['string', 'bool']).dump(), null, 2)}\n`)
console.log('fixtures written')
