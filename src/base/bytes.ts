/**
 * Bytes and hex: the one `Hex` type (viem's), hex encoding and decoding into preallocated buffers, and the
 * big-endian word helpers that ABI encodings, Merkle trees and receipt struct hashes are written with.
 */
import { InvalidParameterError } from './errors.ts'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const NIBBLE = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i
  NIBBLE[97 + i] = 10 + i
}

/** 0x-prefixed hex: viem's type, so values pass between fomo-kit and viem unchanged. */
export type { Hex } from 'viem'
import type { Hex } from 'viem'

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): Hex {
  let out = '0x'
  for (let i = start; i < end; i++) out += HEX[bytes[i] as number]
  return out as Hex
}

/** Writes `length` bytes of a 0x-prefixed hex string into `out` at `offset`; false if it is not such a string. */
export function writeHex(hex: string, length: number, out: Uint8Array, offset: number): boolean {
  if (hex.length !== 2 + 2 * length || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 32) !== 120) return false
  for (let i = 0; i < length; i++) {
    const hi = hex.charCodeAt(2 + 2 * i)
    const lo = hex.charCodeAt(3 + 2 * i)
    const h = hi < 128 ? (NIBBLE[hi] as number) : -1
    const l = lo < 128 ? (NIBBLE[lo] as number) : -1
    if (h < 0 || l < 0) return false
    out[offset + i] = (h << 4) | l
  }
  return true
}

/** `writeHex` for hex digits held as ASCII bytes (`text[from]` onward, no 0x): decodes without making a string. */
export function writeHexAscii(text: Uint8Array, from: number, length: number, out: Uint8Array, offset: number): boolean {
  if (from + 2 * length > text.length) return false
  for (let i = 0; i < length; i++) {
    const hi = text[from + 2 * i] as number
    const lo = text[from + 2 * i + 1] as number
    const h = hi < 128 ? (NIBBLE[hi] as number) : -1
    const l = lo < 128 ? (NIBBLE[lo] as number) : -1
    if (h < 0 || l < 0) return false
    out[offset + i] = (h << 4) | l
  }
  return true
}

export function hexToBytes(hex: string, length: number, name = 'value'): Uint8Array {
  const out = new Uint8Array(length)
  if (!writeHex(hex, length, out, 0)) throw new InvalidParameterError(name, `0x-prefixed hex of ${length} bytes`, hex)
  return out
}

/** Lexicographic (= numeric big-endian) comparison of two 32-byte words inside buffers. */
export function compareWords(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  for (let k = 0; k < 32; k++) {
    const d = (a[ai + k] as number) - (b[bi + k] as number)
    if (d !== 0) return d
  }
  return 0
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Writes a non-negative safe integer as 8 big-endian bytes at `o`. */
export function writeUint64(x: number, out: Uint8Array, o: number): void {
  const hi = Math.floor(x / 0x1_0000_0000)
  const lo = x >>> 0
  out[o] = hi >>> 24
  out[o + 1] = (hi >>> 16) & 0xff
  out[o + 2] = (hi >>> 8) & 0xff
  out[o + 3] = hi & 0xff
  out[o + 4] = lo >>> 24
  out[o + 5] = (lo >>> 16) & 0xff
  out[o + 6] = (lo >>> 8) & 0xff
  out[o + 7] = lo & 0xff
}
