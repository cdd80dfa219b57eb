/**
 * secp256k1 signatures of receipts: strict 65-byte (r, s, v) parsing (low s only), checking a signer with
 * its public key cached after the first recovery, and signing.
 */
import { hexToBytes, toHex, type Hex } from '../base/bytes.ts'
import { keccak256 } from '../base/keccak.ts'
import { ReceiptError } from './receipt.ts'
import { secp256k1 } from './secp256k1.ts'

/** secp256k1 group order n, and n/2: s above it is the malleable twin. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
export const SECP256K1_HALF_N = SECP256K1_N >> 1n

export type ParsedSignature = { rs: Uint8Array; recoveryId: number }

const wordBytes = (n: bigint) => hexToBytes(`0x${n.toString(16).padStart(64, '0')}`, 32)
const N_BYTES = wordBytes(SECP256K1_N)
const HALF_N_BYTES = wordBytes(SECP256K1_HALF_N)

/** Compares the big-endian word at `offset` with `word`: -1, 0 or 1 (bytes, not a bigint built per signature). */
function compareWord(bytes: Uint8Array, offset: number, word: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const a = bytes[offset + i] as number
    const b = word[i] as number
    if (a !== b) return a < b ? -1 : 1
  }
  return 0
}

const isZeroWord = (bytes: Uint8Array, offset: number) => bytes.subarray(offset, offset + 32).every((b) => b === 0)

/**
 * Parses a 65-byte (r, s, v) signature in 0x-hex, rejecting what malleability
 * and signature-confusion attacks use: other lengths (64-byte EIP-2098 or
 * 66-byte forms), v outside {27, 28}, r or s outside [1, n-1], and high s.
 */
export function parseSignature(signature: unknown): ParsedSignature {
  if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]*$/.test(signature))
    throw new ReceiptError('signature-format', 'signature: expected 0x-prefixed hex', 'Sign with eth_signTypedData_v4 or `fomo receipt sign`.')
  const length = (signature.length - 2) / 2
  if (length !== 65)
    throw new ReceiptError('signature-format', `signature: expected 65 bytes (r, s, v), got ${length}`, 'Compact 64-byte (EIP-2098) and other forms are not accepted.')
  const bytes = hexToBytes(signature, 65, 'signature')
  const v = bytes[64] as number
  if (v !== 27 && v !== 28) throw new ReceiptError('signature-v', `signature: v must be 27 or 28, got ${v}`)
  if (isZeroWord(bytes, 0) || compareWord(bytes, 0, N_BYTES) >= 0 || isZeroWord(bytes, 32) || compareWord(bytes, 32, N_BYTES) >= 0)
    throw new ReceiptError('signature-range', 'signature: r and s must be in [1, n-1]')
  if (compareWord(bytes, 32, HALF_N_BYTES) > 0)
    throw new ReceiptError('signature-high-s', 'signature: s is in the upper half of the curve order (a malleable twin)', 'Normalise s to n - s and flip v, as every modern signer does.')
  return { rs: bytes.subarray(0, 64), recoveryId: v - 27 }
}

export function addressOfPublicKey(publicKey65: Uint8Array): Hex {
  return toHex(keccak256(publicKey65.subarray(1)), 12, 32)
}

const ZERO_ADDRESS = `0x${'0'.repeat(40)}`

/**
 * Checks that `signature` over `digest` is by `expected` (lower-case address).
 * A provider's public key is cached after its first recovery, and later
 * signatures are checked against it, which costs less than recovery.
 */
export class SignatureChecker {
  readonly #keys = new Map<string, Uint8Array>()

  check(signature: unknown, digest: Uint8Array, expected: Hex): void {
    const { rs, recoveryId } = parseSignature(signature)
    const known = this.#keys.get(expected)
    if (known) {
      if (secp256k1.verify(rs, digest, known)) return
      throw this.#mismatch(rs, recoveryId, digest, expected)
    }
    const publicKey = secp256k1.recover(rs, recoveryId, digest)
    if (!publicKey) throw new ReceiptError('signature-invalid', 'signature: recovers no public key for this message')
    const signer = addressOfPublicKey(publicKey)
    if (signer === ZERO_ADDRESS) throw new ReceiptError('signature-zero-address', 'signature: recovers to the zero address')
    if (signer !== expected) throw this.#mismatchError(signer, expected)
    this.#keys.set(expected, publicKey)
  }

  #mismatch(rs: Uint8Array, recoveryId: number, digest: Uint8Array, expected: Hex): ReceiptError {
    const publicKey = secp256k1.recover(rs, recoveryId, digest)
    return this.#mismatchError(publicKey ? addressOfPublicKey(publicKey) : undefined, expected)
  }

  #mismatchError(signer: string | undefined, expected: Hex): ReceiptError {
    return new ReceiptError(
      'signer-mismatch',
      `signature: signed by ${signer ?? 'nobody'}, not by the provider ${expected}`,
      'The receipt was altered after signing, signed under another domain, or signed by another key.',
    )
  }
}

/** Signs a 32-byte digest; returns the 65-byte (r, s, v) signature with low s. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): Hex {
  const { signature, recoveryId } = secp256k1.sign(digest, privateKey)
  const out = new Uint8Array(65)
  out.set(signature, 0)
  out[64] = 27 + recoveryId
  return toHex(out)
}
