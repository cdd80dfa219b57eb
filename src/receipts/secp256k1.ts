/**
 * secp256k1 for receipts: the native libsecp256k1 binding (`secp256k1`
 * package, prebuilt for linux-x64) recovers about 20x faster than pure JS;
 * @noble/curves is the fallback that always works (FOMO_SECP256K1=noble forces it).
 * Both take a 64-byte (r || s) signature, a recovery id and a 32-byte digest.
 */
import { createRequire } from 'node:module'
import { secp256k1 as noble } from '@noble/curves/secp256k1.js'

export type Secp256k1Backend = {
  name: 'native' | 'noble'
  /** 65-byte uncompressed public key, or undefined when the signature recovers no point. */
  recover(signature64: Uint8Array, recoveryId: number, digest: Uint8Array): Uint8Array | undefined
  verify(signature64: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean
  sign(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recoveryId: number }
  publicKey(privateKey: Uint8Array): Uint8Array
}

type NativeBinding = {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pub: Uint8Array): boolean
  ecdsaSign(msg32: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number }
  publicKeyCreate(key: Uint8Array, compressed: boolean): Uint8Array
}

function loadNative(): NativeBinding | undefined {
  if (process.env.FOMO_SECP256K1 === 'noble') return undefined
  try {
    // The package's own entry silently falls back to elliptic.js; load the binding itself.
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeBinding
  } catch {
    return undefined
  }
}

const native = loadNative()

export const secp256k1: Secp256k1Backend = native
  ? {
      name: 'native',
      recover(signature64, recoveryId, digest) {
        try {
          return native.ecdsaRecover(signature64, recoveryId, digest, false)
        } catch {
          return undefined
        }
      },
      verify: (signature64, digest, publicKey) => native.ecdsaVerify(signature64, digest, publicKey),
      sign(digest, privateKey) {
        const { signature, recid } = native.ecdsaSign(digest, privateKey)
        return { signature, recoveryId: recid }
      },
      publicKey: (privateKey) => native.publicKeyCreate(privateKey, false),
    }
  : {
      name: 'noble',
      recover(signature64, recoveryId, digest) {
        try {
          const recovered = new Uint8Array(65)
          recovered[0] = recoveryId
          recovered.set(signature64, 1)
          return noble.Point.fromBytes(noble.recoverPublicKey(recovered, digest, { prehash: false })).toBytes(false)
        } catch {
          return undefined
        }
      },
      verify: (signature64, digest, publicKey) => noble.verify(signature64, digest, publicKey, { prehash: false, lowS: true }),
      sign(digest, privateKey) {
        const recovered = noble.sign(digest, privateKey, { prehash: false, format: 'recovered', lowS: true })
        return { signature: recovered.slice(1), recoveryId: recovered[0] as number }
      },
      publicKey: (privateKey) => noble.getPublicKey(privateKey, false),
    }
