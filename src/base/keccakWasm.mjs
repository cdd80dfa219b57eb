// keccak-256 through the WebAssembly build of hash-wasm, called at its lowest
// level: the input is written straight into the module's buffer, one exported
// call (Hash_Calculate) hashes it, and the digest is read back from the same
// buffer, with no allocation per hash. hash-wasm ships this binary base64-encoded
// inside its bundles and does not export the instance, so it is read from the
// pinned package's file and checked against known vectors before use; any
// failure returns undefined and callers use the package's public API instead.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const VECTORS = [
  ['', 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'],
  ['abc', '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'],
]

export async function loadKeccakWasm() {
  try {
    const require = createRequire(import.meta.url)
    const source = readFileSync(require.resolve('hash-wasm/dist/keccak.umd.min.js'), 'utf8')
    const match = /name:"sha3",data:"([A-Za-z0-9+/=]+)"/.exec(source)
    if (!match) return undefined
    const { instance } = await WebAssembly.instantiate(Buffer.from(match[1], 'base64'))
    const exports = instance.exports
    const offset = exports.Hash_GetBuffer()
    const buffer = new Uint8Array(exports.memory.buffer, offset, 16384)
    const calculate = (length) => exports.Hash_Calculate(length, 256, 0x01)
    for (const [text, hex] of VECTORS) {
      const input = Buffer.from(text)
      buffer.set(input)
      calculate(input.length)
      if (Buffer.from(buffer.subarray(0, 32)).toString('hex') !== hex) return undefined
    }
    return { buffer, calculate }
  } catch {
    return undefined
  }
}

/**
 * OpenZeppelin standard leaf hashes, keccak256(keccak256(encoding)), of the
 * fixed-stride encodings `from`..`to` of `encoded`, written to `out` (32 bytes
 * each). `fallback(bytes)` is a keccak for when `engine` is undefined.
 */
export function hashLeavesRange(engine, fallback, encoded, stride, out, from, to) {
  if (!engine || stride > engine.buffer.length) {
    for (let i = from; i < to; i++) out.set(fallback(fallback(encoded.subarray(i * stride, (i + 1) * stride))), 32 * i)
    return
  }
  const { buffer, calculate } = engine
  for (let i = from; i < to; i++) {
    const base = i * stride
    for (let k = 0; k < stride; k++) buffer[k] = encoded[base + k]
    calculate(stride)
    calculate(32)
    const o = 32 * i
    for (let k = 0; k < 32; k++) out[o + k] = buffer[k]
  }
}

/**
 * Hashes the internal nodes [from, to) of a heap-ordered OpenZeppelin tree in
 * `nodes` (node i = keccak256(sorted(child 2i+1, child 2i+2))), highest index
 * first so children come before parents.
 */
export function hashNodesRange(engine, fallback, nodes, from, to) {
  const pair = engine ? engine.buffer : new Uint8Array(64)
  for (let i = to - 1; i >= from; i--) {
    const l = 32 * (2 * i + 1)
    const r = l + 32
    let lo = l
    let hi = r
    for (let k = 0; k < 32; k++) {
      const d = nodes[l + k] - nodes[r + k]
      if (d !== 0) {
        if (d > 0) {
          lo = r
          hi = l
        }
        break
      }
    }
    for (let k = 0; k < 32; k++) {
      pair[k] = nodes[lo + k]
      pair[32 + k] = nodes[hi + k]
    }
    const o = 32 * i
    if (engine) {
      engine.calculate(64)
      for (let k = 0; k < 32; k++) nodes[o + k] = pair[k]
    } else nodes.set(fallback(pair), o)
  }
}
