/**
 * Metering one call: its token counts from the upstream's `usage`, and the usage receipt the gateway signs for it
 * (list price from the price table, the user's staking discount, the charged amount by the receipts' own rule).
 */
import type { Hex } from '../base/bytes.ts'
import { chargedAmount } from '../economics/revenue.ts'
import type { UsageReceipt } from '../receipts/receipt.ts'
import { MAX_RECEIPT_AMOUNT } from '../receipts/schema.ts'
import { grossAmount, type ModelPrice, type TokenUsage } from './prices.ts'

const UINT32_MAX = 0xffff_ffff

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= UINT32_MAX ? v : undefined)

/**
 * The token counts of an OpenAI `usage` object (`prompt_tokens`, and `completion_tokens`, absent for embeddings);
 * undefined when it has none the gateway can bill by.
 */
export function usageOf(usage: unknown): TokenUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined
  const u = usage as { prompt_tokens?: unknown; completion_tokens?: unknown }
  const inputTokens = count(u.prompt_tokens)
  const outputTokens = u.completion_tokens === undefined || u.completion_tokens === null ? 0 : count(u.completion_tokens)
  return inputTokens === undefined || outputTokens === undefined ? undefined : { inputTokens, outputTokens }
}

/** What the gateway knows of a finished call when it receipts it. */
export type CallFacts = {
  price: ModelPrice
  usage: TokenUsage
  discountBps: number
  provider: Hex
  user: Hex
  /** Unique per provider: 32 random bytes chosen when the call arrived. */
  requestId: Hex
  /** Unix seconds of the call's arrival. */
  timestamp: bigint
  epochSeconds: number
}

/** The epoch containing a unix timestamp (seconds). */
export function epochOf(timestamp: bigint, epochSeconds: number): number {
  return Number(timestamp / BigInt(epochSeconds))
}

/**
 * The receipt of a call, or why it has none: a call priced at zero (no tokens) carries no receipt (a receipt's gross
 * is at least 1), and one above the receipts' per-call ceiling cannot be receipted.
 */
export function callReceipt(f: CallFacts): { receipt: UsageReceipt } | { unbilled: 'zero-price' | 'above-receipt-limit' } {
  const gross = grossAmount(f.price, f.usage)
  if (gross === 0n) return { unbilled: 'zero-price' }
  if (gross > MAX_RECEIPT_AMOUNT) return { unbilled: 'above-receipt-limit' }
  return {
    receipt: {
      deploymentId: f.price.deploymentId,
      provider: f.provider,
      user: f.user,
      epoch: epochOf(f.timestamp, f.epochSeconds),
      requestId: f.requestId,
      timestamp: f.timestamp,
      inputTokens: f.usage.inputTokens,
      outputTokens: f.usage.outputTokens,
      grossAmount: gross,
      discountBps: f.discountBps,
      chargedAmount: chargedAmount(gross, BigInt(f.discountBps)),
    },
  }
}
