/** hash-wasm's keccak at its lowest level: write input into `buffer`, `calculate(length)`, read the digest from `buffer[0..32)`. */
export type KeccakWasm = { buffer: Uint8Array; calculate(length: number): void }
export function loadKeccakWasm(): Promise<KeccakWasm | undefined>
export function hashLeavesRange(
  engine: KeccakWasm | undefined,
  fallback: (data: Uint8Array) => Uint8Array,
  encoded: Uint8Array,
  stride: number,
  out: Uint8Array,
  from: number,
  to: number,
): void
export function hashNodesRange(engine: KeccakWasm | undefined, fallback: (data: Uint8Array) => Uint8Array, nodes: Uint8Array, from: number, to: number): void
