/**
 * A provider's attestation key: an EdDSA-Poseidon key over Baby Jubjub, derived from its secp256k1 receipt key, with
 * which it signs its epoch attestations (src/proofs/attestation.ts). config.json names the packed public key; the
 * registry pins its id, Poseidon(x, y).
 */
import { createRequire } from 'node:module'
import { poseidon2 } from 'poseidon-lite'
import { concat, keccak256, toBytes, type Hex } from 'viem'
import { InvalidParameterError } from '../base/errors.ts'

// The package's ES build imports blakejs (CommonJS) by named exports, which Node refuses; its CommonJS build loads.
const eddsa = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof import('@zk-kit/eddsa-poseidon')
const { derivePublicKey, packPublicKey, signMessage, unpackPublicKey } = eddsa

/** A Baby Jubjub public key: the point, its packed form (config.json) and its id (Poseidon(x, y), what the registry pins). */
export type AttestationKey = { x: bigint; y: bigint; packed: Hex; id: bigint }

export type AttestationSignature = { r8x: bigint; r8y: bigint; s: bigint }

/** The attestation secret of a provider: derived from its secp256k1 receipt key, never stored apart from it. */
export function attestationSecret(providerPrivateKey: Hex): Uint8Array {
  return toBytes(keccak256(concat([toBytes('fomo-kit provider attestation key v1'), toBytes(providerPrivateKey)])))
}

export function attestationKeyOf(secret: Uint8Array): AttestationKey {
  const [x, y] = derivePublicKey(secret)
  return keyOfPoint(x, y)
}

function keyOfPoint(x: bigint, y: bigint): AttestationKey {
  return { x, y, packed: `0x${packPublicKey([x, y]).toString(16).padStart(64, '0')}`, id: poseidon2([x, y]) }
}

/** Unpacks a packed public key (config.json's `attestationKey`); throws when it is not a point of the curve. */
export function unpackAttestationKey(packed: Hex): AttestationKey {
  let point: [bigint, bigint]
  try {
    const p = unpackPublicKey(BigInt(packed))
    point = [BigInt(p[0]), BigInt(p[1])]
  } catch {
    throw new InvalidParameterError('attestation key', 'a packed Baby Jubjub public key', packed)
  }
  return keyOfPoint(point[0], point[1])
}

/** Whether `signature` is the EdDSA-Poseidon signature of `key` over `message`. */
export function verifyMessageSignature(message: bigint, signature: AttestationSignature, key: Pick<AttestationKey, 'x' | 'y'>): boolean {
  return eddsa.verifySignature(message, { R8: [signature.r8x, signature.r8y], S: signature.s }, [key.x, key.y])
}

/** Signs `message` with an attestation secret. */
export function signAttestationMessage(secret: Uint8Array, message: bigint): AttestationSignature {
  const s = signMessage(secret, message)
  return { r8x: BigInt(s.R8[0]), r8y: BigInt(s.R8[1]), s: BigInt(s.S) }
}

