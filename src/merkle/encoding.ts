/**
 * ABI encoding of leaf values for the standard tree: fixed-stride encoders per leaf type, validating each value.
 */
import { createRequire } from 'node:module'
import { BaseError, describe } from '../base/errors.ts'
import { isCanonicalDecimal } from '../base/decimal.ts'
import { toHex, writeHex, writeUint64 } from '../base/bytes.ts'
import { keccak256 } from '../base/keccak.ts'

/**
 * viem's ABI coder, loaded on first use: only dynamic encodings (string, bytes, arrays) need it, and loading it
 * costs more start-up time than a static tree of 100,000 leaves takes to build.
 */
let viem: typeof import('viem') | undefined
const abi = () => (viem ??= createRequire(import.meta.url)('viem') as typeof import('viem'))

/** Whether a 0x-prefixed 40-digit hex address carries a valid EIP-55 checksum (its letters' case). */
function hasChecksum(address: string): boolean {
  const lower = address.slice(2).toLowerCase()
  const hash = keccak256(new TextEncoder().encode(lower))
  for (let i = 0; i < 40; i++) {
    const c = address.charCodeAt(i + 2)
    if (c < 0x41) continue // a digit
    const nibble = ((hash[i >> 1] as number) >> (i % 2 === 0 ? 4 : 0)) & 15
    if ((c <= 0x46) !== nibble >= 8) return false
  }
  return true
}

/** A leaf value does not fit its declared ABI type. */
export class LeafValueError extends BaseError {
  override name = 'LeafValueError'
  constructor(index: number | undefined, type: string, value: unknown, reason: string) {
    super('LEAF_VALUE_INVALID', `${index === undefined ? 'leaf' : `leaf ${index}`}: ${describe(value)} is not a valid ${type}: ${reason}`)
  }
}

export type LeafValue = readonly unknown[]

/**
 * ABI encoding of leaf values, as `abi.encode(...)` and OpenZeppelin's
 * StandardMerkleTree compute it. All-static encodings (address, bool, uintN,
 * intN, bytesN) are written straight into a caller's buffer at a fixed stride
 * and decoded back to canonical JSON values (lower-case hex, decimal strings),
 * so a tree keeps only the packed bytes. Other types go through viem.
 */
export type LeafEncoding = {
  types: readonly string[]
  /** Bytes per leaf when every type is static, else undefined. */
  stride: number | undefined
  /** Encodes into `out` at `offset` (static encodings only). */
  encodeInto(value: LeafValue, out: Uint8Array, offset: number, index?: number): void
  encode(value: LeafValue, index?: number): Uint8Array
  decode(data: Uint8Array, offset?: number): unknown[]
}

type Word = { write(value: unknown, out: Uint8Array, offset: number): string | undefined; read(data: Uint8Array, offset: number): unknown }

const UINT = /^uint(\d*)$/

/** Whether hex digits a-f appear in both cases (0x prefix excluded). */
function isMixedCase(hex: string): boolean {
  let lower = false
  let upper = false
  for (let i = 2; i < hex.length; i++) {
    const c = hex.charCodeAt(i)
    if (c >= 97) lower = true
    else if (c >= 65) upper = true
  }
  return lower && upper
}

const INT = /^int(\d*)$/
const BYTES_N = /^bytes(\d+)$/

function staticWord(type: string): Word | undefined {
  if (type === 'address')
    return {
      write(v, out, o) {
        if (typeof v !== 'string') return 'expected a 0x-prefixed hex string'
        for (let k = 0; k < 12; k++) out[o + k] = 0
        if (!writeHex(v, 20, out, o + 12)) return 'expected 20 bytes of 0x-prefixed hex'
        // Mixed case claims an EIP-55 checksum: a typo there must not pass.
        if (isMixedCase(v) && !hasChecksum(v)) return 'mixed-case address with a wrong EIP-55 checksum'
        return undefined
      },
      read: (d, o) => toHex(d, o + 12, o + 32),
    }
  if (type === 'bool')
    return {
      write(v, out, o) {
        if (typeof v !== 'boolean') return 'expected true or false'
        out.fill(0, o, o + 32)
        out[o + 31] = v ? 1 : 0
        return undefined
      },
      read: (d, o) => d[o + 31] === 1,
    }
  const u = UINT.exec(type) ?? INT.exec(type)
  if (u) {
    const bits = u[1] === '' ? 256 : Number(u[1])
    if (bits % 8 !== 0 || bits < 8 || bits > 256) return undefined
    const signed = type.startsWith('int')
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n
    return {
      write(v, out, o) {
        // Fast path without BigInt: short decimal strings, the common case for amounts.
        if (typeof v === 'string' && bits >= 53 && isCanonicalDecimal(v, 15)) {
          for (let k = 0; k < 24; k++) out[o + k] = 0
          writeUint64(Number(v), out, o + 24)
          return undefined
        }
        let n: bigint
        if (typeof v === 'bigint') n = v
        else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
        else if (typeof v === 'string' && (/^-?(0|[1-9][0-9]*)$/.test(v) || /^0x[0-9a-fA-F]+$/.test(v))) n = BigInt(v)
        else return 'expected a decimal string, a 0x-hex string or a bigint'
        if (n < min || n > max) return `out of range [${min}, ${max}]`
        let w = BigInt.asUintN(256, n)
        // Fast path for values that fit in 64 bits, the common case for amounts.
        if (w < 1n << 64n && n >= 0n) {
          out.fill(0, o, o + 24)
          let x = w
          for (let k = 31; k >= 24; k--) {
            out[o + k] = Number(x & 0xffn)
            x >>= 8n
          }
          return undefined
        }
        for (let k = 31; k >= 0; k--) {
          out[o + k] = Number(w & 0xffn)
          w >>= 8n
        }
        return undefined
      },
      read(d, o) {
        let n = 0n
        for (let k = 0; k < 32; k++) n = (n << 8n) | BigInt(d[o + k] as number)
        return (signed ? BigInt.asIntN(bits, n) : n).toString()
      },
    }
  }
  const b = BYTES_N.exec(type)
  if (b) {
    const size = Number(b[1])
    if (size < 1 || size > 32) return undefined
    return {
      write(v, out, o) {
        if (typeof v !== 'string') return 'expected a 0x-prefixed hex string'
        out.fill(0, o, o + 32)
        return writeHex(v, size, out, o) ? undefined : `expected ${size} bytes of 0x-prefixed hex`
      },
      read: (d, o) => toHex(d, o, o + size),
    }
  }
  return undefined
}

const cache = new Map<string, LeafEncoding>()

export function leafEncoding(types: readonly string[]): LeafEncoding {
  const key = types.join(',')
  const cached = cache.get(key)
  if (cached) return cached
  if (types.length === 0) throw new LeafValueError(undefined, 'leaf encoding', types, 'at least one ABI type is needed')
  const words = types.map(staticWord)
  const encoding = words.every((w) => w !== undefined) ? staticEncoding(types, words as Word[]) : dynamicEncoding(types)
  cache.set(key, encoding)
  return encoding
}

function staticEncoding(types: readonly string[], words: Word[]): LeafEncoding {
  const stride = 32 * words.length
  const encodeInto = (value: LeafValue, out: Uint8Array, offset: number, index?: number) => {
    if (!Array.isArray(value) || value.length !== words.length)
      throw new LeafValueError(index, `(${types.join(',')})`, value, `expected an array of ${words.length} values`)
    for (let i = 0; i < words.length; i++) {
      const problem = (words[i] as Word).write(value[i], out, offset + 32 * i)
      if (problem) throw new LeafValueError(index, types[i] as string, value[i], problem)
    }
  }
  return {
    types,
    stride,
    encodeInto,
    encode(value, index) {
      const out = new Uint8Array(stride)
      encodeInto(value, out, 0, index)
      return out
    },
    decode: (data, offset = 0) => words.map((w, i) => w.read(data, offset + 32 * i)),
  }
}

function dynamicEncoding(types: readonly string[]): LeafEncoding {
  const params = types.map((type) => ({ type }))
  const toViem = (type: string, v: unknown): unknown => {
    if (type.endsWith('[]') && Array.isArray(v)) return v.map((x) => toViem(type.slice(0, -2), x))
    if (/^u?int\d*$/.test(type) && typeof v === 'string') return BigInt(v)
    return v
  }
  const fromViem = (v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : Array.isArray(v) ? v.map(fromViem) : typeof v === 'string' && v.startsWith('0x') ? v.toLowerCase() : v)
  return {
    types,
    stride: undefined,
    encodeInto() {
      throw new LeafValueError(undefined, types.join(','), types, 'dynamic encodings have no fixed stride')
    },
    encode(value, index) {
      if (!Array.isArray(value) || value.length !== types.length)
        throw new LeafValueError(index, `(${types.join(',')})`, value, `expected an array of ${types.length} values`)
      try {
        const hex = abi().encodeAbiParameters(params, value.map((v, i) => toViem(types[i] as string, v)))
        const out = new Uint8Array((hex.length - 2) / 2)
        writeHex(hex, out.length, out, 0)
        return out
      } catch (error) {
        throw new LeafValueError(index, `(${types.join(',')})`, value, (error as Error).message.split('\n')[0] as string)
      }
    },
    decode(data, offset = 0) {
      return (abi().decodeAbiParameters(params, toHex(data.subarray(offset))) as unknown[]).map(fromViem)
    },
  }
}

