/**
 * keccak-256, synchronous. The WebAssembly keccak of hash-wasm, called without
 * per-hash allocation, is about 10x faster than pure JS on 64-byte inputs;
 * @noble/hashes is the fallback that always works (set FOMO_KECCAK=noble to
 * force it).
 */
import { keccak_256 } from '@noble/hashes/sha3.js'
import { loadKeccakWasm, type KeccakWasm } from './keccakWasm.mjs'

export type KeccakBackend = 'hash-wasm' | 'noble'

const MAX_INPUT = 16384

export const keccakWasm: KeccakWasm | undefined = process.env.FOMO_KECCAK === 'noble' ? undefined : await loadKeccakWasm()

export const keccakBackend: KeccakBackend = keccakWasm ? 'hash-wasm' : 'noble'

export function keccak256(data: Uint8Array): Uint8Array {
  if (!keccakWasm || data.length > MAX_INPUT) return keccak_256(data)
  keccakWasm.buffer.set(data)
  keccakWasm.calculate(data.length)
  return keccakWasm.buffer.slice(0, 32)
}

/** keccak256(keccak256(data)) written to `out` at `offset`: an OpenZeppelin standard leaf hash of an ABI encoding. */
export function doubleKeccakInto(data: Uint8Array, out: Uint8Array, offset: number): void {
  if (!keccakWasm || data.length > MAX_INPUT) {
    out.set(keccak_256(keccak_256(data)), offset)
    return
  }
  const { buffer, calculate } = keccakWasm
  buffer.set(data)
  calculate(data.length)
  calculate(32)
  for (let k = 0; k < 32; k++) out[offset + k] = buffer[k] as number
}
