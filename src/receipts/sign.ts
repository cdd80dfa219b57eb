/**
 * Signing receipts as their provider: private keys, their addresses, and signed fomo-receipt-v1 documents.
 */
import { bytesToHex } from 'viem'
import { hexToBytes, type Hex } from '../base/bytes.ts'
import { RECEIPT_FORMAT, type SignedReceiptDocument } from './document.ts'
import { checkCharged, receiptDigest, receiptMessageJson, ReceiptError, type UsageReceipt } from './receipt.ts'
import { addressOfPublicKey, signDigest } from './signature.ts'
import { secp256k1 } from './secp256k1.ts'
import { domainSeparator, RECEIPT_TYPES, type ReceiptDomain } from './types.ts'

export type PrivateKey = Hex

export function privateKeyBytes(key: string): Uint8Array {
  return hexToBytes(key, 32, 'private key')
}

const addresses = new Map<string, Hex>()

export function addressOf(privateKey: PrivateKey): Hex {
  let address = addresses.get(privateKey)
  if (!address) {
    address = addressOfPublicKey(secp256k1.publicKey(privateKeyBytes(privateKey)))
    if (addresses.size > 1000) addresses.clear()
    addresses.set(privateKey, address)
  }
  return address
}

/** A new private key from the given 32 random bytes (pass crypto.getRandomValues output). */
export function privateKeyFromRandom(random: Uint8Array): PrivateKey {
  return bytesToHex(random)
}

/**
 * Signs a receipt as its provider. The key must be the provider's: a receipt
 * whose `provider` is another address would never verify.
 */
export function signReceipt(receipt: UsageReceipt, privateKey: PrivateKey, domain: ReceiptDomain, separator = domainSeparator(domain)): SignedReceiptDocument {
  checkCharged(receipt)
  const signer = addressOf(privateKey)
  if (signer !== receipt.provider.toLowerCase())
    throw new ReceiptError('signer-mismatch', `the key is for ${signer}, but the receipt's provider is ${receipt.provider}`, 'Sign with the provider\'s own key.')
  return {
    format: RECEIPT_FORMAT,
    domain: { ...domain },
    types: RECEIPT_TYPES,
    primaryType: 'UsageReceipt',
    message: receiptMessageJson(receipt),
    signature: signDigest(receiptDigest(receipt, separator), privateKeyBytes(privateKey)),
  }
}
