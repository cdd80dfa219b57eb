/**
 * `fomo-kit/gateway`: the provider gateway (docs/gateway.md). Its HTTP service in front of an OpenAI-compatible
 * server, and its parts for a provider's own server: the price table and pricing rule, metering, discounts at the
 * epoch's snapshot, caller identity (API keys, signed requests and the client's signing fetch), the durable receipt
 * queue, signing and forwarding; and a stub OpenAI-compatible upstream for tests and demos.
 */
export { GatewayService, KEYS_FILE, loadKeys, QUEUE_DIR, RECEIPT_HEADERS, type GatewayOptions } from './service.ts'
export { grossAmount, PRICE_TABLE_FORMAT, readPriceTable, TOKENS_PER_PRICE, type ModelPrice, type PriceTable, type TokenUsage } from './prices.ts'
export { callReceipt, epochOf, usageOf, type CallFacts } from './metering.ts'
export { chainStakes, Discounts, inputsFileStakes, noStakes, snapshotBlockAt, type DeploymentSnapshot, type SnapshotSource } from './discounts.ts'
export {
  apiKeyHash,
  keyEntry,
  KeyRing,
  keyStoreJson,
  KEY_STORE_FORMAT,
  newApiKey,
  readKeyStore,
  SIGNED_HEADERS,
  SignedRequestChecker,
  signedRequestHeaders,
  signedRequestMessage,
  signingFetch,
  type KeyEntry,
  type SignedRequest,
} from './identity.ts'
export { CURSOR_FORMAT, ReceiptQueue, RECORD_FORMAT, readRecord, type Position, type QueueOptions, type QueueRecord } from './queue.ts'
export { ReceiptSigner, type SigningMode } from './signer.ts'
export { Forwarder, type ForwarderOptions } from './forwarder.ts'
export { startStubUpstream, STUB_MODELS, type StubKnobs, type StubUpstream } from './stubUpstream.ts'
export { GatewayConfigError, GatewayError, QueueError, type OpenAiErrorBody } from './errors.ts'
