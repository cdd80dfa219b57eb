/**
 * ReceiptVerifier: verifies signed receipts against one domain (fast path first, the precise reader when it
 * declines), keeping the domain separator and providers' public keys between calls.
 */
import { BaseError, SchemaError } from '../base/errors.ts'
import { toHex, type Hex } from '../base/bytes.ts'
import { checkDomain, readSignedReceipt } from './document.ts'
import { checkCharged, receiptDigest, ReceiptError, type UsageReceipt } from './receipt.ts'
import type { ProviderRegistry } from './registry.ts'
import type { ReceiptColumns } from './columns.ts'
import { SignatureChecker } from './signature.ts'
import { domainSeparator, USAGE_RECEIPT_TYPE, type ReceiptDomain } from './types.ts'
import { decodeReceiptFast, digestOfWords, envelopeMatches, STRUCT_SIZE } from './fastpath.ts'
import { getAddress } from 'viem'

export type VerifiedReceipt = {
  receipt: UsageReceipt
  /** EIP-712 digest: the receipt's identity (deduplication key with the signer). */
  digest: Hex
}

export type VerifyOptions = {
  /** The only domain receipts are accepted under (chain, contract, version). */
  domain: ReceiptDomain
  /** Providers allowed per deployment; without it any correctly signed provider passes. */
  registry?: ProviderRegistry | undefined
}

/**
 * Verifies signed receipts against one domain. Keeps the domain separator and
 * the providers' public keys between calls, so reuse one verifier.
 */
export class ReceiptVerifier {
  readonly domain: ReceiptDomain
  readonly registry: ProviderRegistry | undefined
  readonly separator: Uint8Array
  readonly signatures = new SignatureChecker()
  /** The spellings of the verifying contract the fast path accepts (lower case and EIP-55). */
  readonly contractForms: readonly string[]
  readonly #words = new Uint8Array(STRUCT_SIZE)
  readonly #digest = new Uint8Array(32)

  constructor({ domain, registry }: VerifyOptions) {
    this.domain = domain
    this.registry = registry
    this.separator = domainSeparator(domain)
    this.contractForms = [domain.verifyingContract.toLowerCase(), getAddress(domain.verifyingContract)]
  }

  /** Verifies one signed receipt document; throws a ReceiptError naming the failed check. */
  verify(document: unknown): VerifiedReceipt {
    const doc = document as Record<string, unknown>
    const fast = this.#decodeFast(document)
    if (fast) {
      this.#checkFast(fast, doc.signature)
      return { receipt: fast, digest: toHex(this.#digest) }
    }
    return this.#verifySlow(document)
  }

  /** Verifies into row `i` of `columns`; a failure is recorded there, never thrown. */
  verifyInto(document: unknown, columns: ReceiptColumns, i: number): void {
    try {
      const doc = document as Record<string, unknown>
      const fast = this.#decodeFast(document)
      if (fast) {
        this.#checkFast(fast, doc.signature)
        columns.setFromWords(i, this.#words, this.#digest)
      } else {
        const { receipt, digest } = this.#verifySlow(document)
        columns.set(i, receipt, digest)
      }
      columns.setSignature(i, doc.signature as string)
    } catch (error) {
      const o = outcome(() => {
        throw error
      })
      if (!o.ok) columns.fail(i, o.reason, o.message)
    }
  }

  /** The fast path's receipt (struct words written to #words), or undefined to take the precise path. */
  #decodeFast(document: unknown): UsageReceipt | undefined {
    if (typeof document !== 'object' || document === null) return undefined
    const doc = document as Record<string, unknown>
    return envelopeMatches(doc, this.domain, this.contractForms) ? decodeReceiptFast(doc.message, this.#words) : undefined
  }

  #checkFast(receipt: UsageReceipt, signature: unknown): void {
    checkCharged(receipt)
    digestOfWords(this.#words, this.separator, this.#digest, 0)
    this.signatures.check(signature, this.#digest, receipt.provider)
    this.checkAllowed(receipt)
  }

  /** The precise path: every check named, used when the fast path declines. */
  #verifySlow(document: unknown): VerifiedReceipt {
    let parsed
    try {
      parsed = readSignedReceipt(document, USAGE_RECEIPT_TYPE)
    } catch (error) {
      if (error instanceof SchemaError) throw new ReceiptError('schema', error.shortMessage, 'See docs/receipts.md for the receipt format.')
      throw error
    }
    checkDomain(parsed.domain, this.domain)
    const { receipt } = parsed
    checkCharged(receipt)
    const digest = receiptDigest(receipt, this.separator)
    this.signatures.check(parsed.signature, digest, receipt.provider)
    this.checkAllowed(receipt)
    return { receipt, digest: toHex(digest) }
  }

  /** Verifies many; never throws for a bad item, reports it instead. */
  verifyAll(documents: readonly unknown[]): VerifyOutcome[] {
    return documents.map((d) => outcome(() => this.verify(d)))
  }

  checkAllowed(receipt: UsageReceipt): void {
    if (this.registry && !this.registry.isAllowed(receipt.deploymentId, receipt.provider))
      throw new ReceiptError(
        'signer-not-allowed',
        `provider ${receipt.provider} is not allowed to sign for deployment ${receipt.deploymentId}`,
        'Register the provider for the deployment, or check it was not revoked.',
      )
  }
}

export type VerifyOutcome = ({ ok: true } & VerifiedReceipt) | { ok: false; reason: ReceiptError['reason'] | 'internal'; message: string }

export function outcome(run: () => VerifiedReceipt): VerifyOutcome {
  try {
    return { ok: true, ...run() }
  } catch (error) {
    if (error instanceof ReceiptError) return { ok: false, reason: error.reason, message: error.shortMessage }
    if (error instanceof BaseError) return { ok: false, reason: 'schema', message: error.shortMessage }
    return { ok: false, reason: 'internal', message: String(error) }
  }
}
