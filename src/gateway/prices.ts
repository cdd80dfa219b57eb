/**
 * The gateway's price table (format fomo-gateway-prices-v1): per model, the deployment its calls are receipted for and
 * its prices per million input and output tokens in USDC base units; and the one pricing rule, `grossAmount`.
 */
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { MAX_RECEIPT_AMOUNT } from '../receipts/schema.ts'
import { readBytes32 } from '../receipts/receipt.ts'

export const PRICE_TABLE_FORMAT = 'fomo-gateway-prices-v1'

/** Prices are per this many tokens. */
export const TOKENS_PER_PRICE = 1_000_000n

export type ModelPrice = {
  model: string
  deploymentId: Hex
  /** USDC base units per million input (prompt) tokens. */
  inputPerMillion: bigint
  /** USDC base units per million output (completion) tokens. */
  outputPerMillion: bigint
}

/** Token counts of one call, as the upstream's `usage` reports them. */
export type TokenUsage = { inputTokens: number; outputTokens: number }

export type PriceTable = ReadonlyMap<string, ModelPrice>

/** Reads a price table; every model names a deployment and at least one non-zero price. */
export function readPriceTable(document: unknown): PriceTable {
  const r = new Reader(PRICE_TABLE_FORMAT, document)
  r.object(['format', 'models'])
  r.field('format').literal([PRICE_TABLE_FORMAT])
  const models = new Map<string, ModelPrice>()
  for (const [model, m] of r.field('models').entries()) {
    if (model.length === 0 || model.length > 256) m.fail('a model name of 1 to 256 characters as the key')
    m.object(['deploymentId', 'inputPerMillion', 'outputPerMillion'])
    const price: ModelPrice = {
      model,
      deploymentId: readBytes32(m.field('deploymentId')),
      inputPerMillion: m.field('inputPerMillion').baseUnits(MAX_RECEIPT_AMOUNT),
      outputPerMillion: m.field('outputPerMillion').baseUnits(MAX_RECEIPT_AMOUNT),
    }
    if (price.inputPerMillion === 0n && price.outputPerMillion === 0n) m.fail('a model with a non-zero input or output price (a free model needs no gateway)')
    models.set(model, price)
  }
  if (models.size === 0) r.field('models').fail('at least one model')
  return models
}

/**
 * The list price of a call: (input * inputPerMillion + output * outputPerMillion) / 10^6, rounded **up** to a whole
 * base unit. One rounding per call, on the sum, so a call is never priced below its exact price and at most one base
 * unit above it.
 */
export function grossAmount(price: Pick<ModelPrice, 'inputPerMillion' | 'outputPerMillion'>, usage: TokenUsage): bigint {
  const exact = BigInt(usage.inputTokens) * price.inputPerMillion + BigInt(usage.outputTokens) * price.outputPerMillion
  return (exact + TOKENS_PER_PRICE - 1n) / TOKENS_PER_PRICE
}
