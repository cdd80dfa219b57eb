/**
 * The receipt commands: sign an unsigned receipt with a provider key, verify signed receipts and batches.
 */
import { Reader } from '../../base/reader.ts'
import { verifyBatch, verifyBatchedReceipt } from '../../receipts/batchVerify.ts'
import { RECEIPT_BATCH_FORMAT, BATCHED_RECEIPT_FORMAT } from '../../receipts/batchDecode.ts'
import { readDomain } from '../../receipts/document.ts'
import { readReceiptMessage } from '../../receipts/receipt.ts'
import { ProviderRegistry } from '../../receipts/registry.ts'
import { signReceipt } from '../../receipts/sign.ts'
import { ReceiptVerifier } from '../../receipts/verify.ts'
import type { ReceiptDomain } from '../../receipts/types.ts'
import { readAddress } from '../../receipts/receipt.ts'
import { requireString, UsageError, type Command } from '../command.ts'
import { readJsonFile } from '../files.ts'
import { loadPrivateKey } from '../keys.ts'

export const UNSIGNED_RECEIPT_FORMAT = 'fomo-unsigned-receipt-v1'

const keyOptions = {
  'key-file': { type: 'string', valueName: 'file', description: 'Private key file (fomo-key-v1 JSON or hex)' },
  key: { type: 'string', valueName: 'hex', description: 'Private key as hex (prefer --key-file or FOMO_PRIVATE_KEY: arguments show up in process lists)' },
} as const

export const receiptSignCommand: Command = {
  name: 'receipt sign',
  summary:
    'Signs a usage receipt as its provider (EIP-712) and prints the signed receipt (format fomo-receipt-v1). The input holds\n' +
    '{ "format": "fomo-unsigned-receipt-v1", "domain": {...}, "message": {...} }; see docs/receipts.md.',
  options: { in: { type: 'string', valueName: 'receipt.json', description: 'The unsigned receipt' }, ...keyOptions },
  examples: ['fomo receipt sign --key-file provider.key.json --in receipt.json > signed.json'],
  async run({ values }, io) {
    const doc = await readJsonFile(requireString(values, 'in', 'receipt sign'), io.cwd, 'receipt', 'receipt sign')
    const r = new Reader(UNSIGNED_RECEIPT_FORMAT, doc)
    r.object(['format', 'domain', 'message'])
    r.field('format').literal([UNSIGNED_RECEIPT_FORMAT])
    const domain = readDomain(r.field('domain'))
    const receipt = readReceiptMessage(r.field('message'))
    const key = await loadPrivateKey(values, io, 'receipt sign')
    io.stdout(`${JSON.stringify(signReceipt(receipt, key, domain), null, 2)}\n`)
  },
}

export const receiptVerifyCommand: Command = {
  name: 'receipt verify',
  summary:
    'Verifies a signed receipt, a signed batch or one batched receipt with its proof. Exits 0 and prints the signer and\n' +
    'digest when valid, exits 1 naming the failed check otherwise. --chain-id and --contract pin the expected domain\n' +
    '(without them the document\'s own domain is used); --registry limits which providers may sign for a deployment.',
  options: {
    in: { type: 'string', valueName: 'signed.json', description: 'The signed receipt, batch or batched receipt' },
    'chain-id': { type: 'string', valueName: 'id', description: 'Expected chain id' },
    contract: { type: 'string', valueName: 'address', description: 'Expected verifying contract' },
    registry: { type: 'string', valueName: 'providers.json', description: 'Allowed providers: [{ "deploymentId", "provider" }]' },
  },
  examples: ['fomo receipt verify --in signed.json --chain-id 8453 --contract 0x...'],
  async run({ values }, io) {
    const doc = await readJsonFile(requireString(values, 'in', 'receipt verify'), io.cwd, 'receipt', 'receipt verify')
    const own = new Reader('receipt', doc).field('domain')
    const domain: ReceiptDomain = readDomain(own)
    if (typeof values['chain-id'] === 'string') {
      if (!/^[1-9][0-9]*$/.test(values['chain-id'])) throw new UsageError('--chain-id must be a positive integer', 'receipt verify')
      domain.chainId = Number(values['chain-id'])
    }
    if (typeof values.contract === 'string') domain.verifyingContract = readAddress(new Reader('--contract', values.contract))
    let registry: ProviderRegistry | undefined
    if (typeof values.registry === 'string') {
      const entries = new Reader('fomo-providers', await readJsonFile(values.registry, io.cwd, 'registry', 'receipt verify')).array()
      registry = ProviderRegistry.from(entries.map((e) => ({ deploymentId: e.field('deploymentId').string(), provider: e.field('provider').string() })))
    }
    const verifier = new ReceiptVerifier({ domain, registry })
    const format = (doc as { format?: unknown }).format
    if (format === RECEIPT_BATCH_FORMAT) {
      const columns = verifyBatch(verifier, doc)
      io.stdout(`${JSON.stringify({ valid: true, format, receipts: columns.length, provider: columns.receipt(0).provider })}\n`)
      return
    }
    const one = format === BATCHED_RECEIPT_FORMAT ? verifyBatchedReceipt(verifier, doc) : verifier.verify(doc)
    io.stdout(`${JSON.stringify({ valid: true, format, receipts: 1, provider: one.receipt.provider, digest: one.digest })}\n`)
  },
}
