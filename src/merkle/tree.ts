/**
 * StandardTree: an OpenZeppelin StandardMerkleTree (format standard-v1) built on the flat-buffer core, with
 * proofs, multiproofs and dumps that OpenZeppelin loads, and dumps of OpenZeppelin that it loads.
 */
import { open } from 'node:fs/promises'
import { BaseError, describe } from '../base/errors.ts'
import { Reader } from '../base/reader.ts'
import { compareWords, equalBytes, hexToBytes, toHex, writeHexAscii, type Hex } from '../base/bytes.ts'
import { JsonBytesReader, type JsonSpan } from '../base/jsonBytes.ts'
import { getMultiProof, placeLeaves, getProof, hashPair, isLeafIndex, processMultiProof, processProof, sortLeafOrder } from './core.ts'
import { leafEncoding as getLeafEncoding, type LeafEncoding, type LeafValue } from './encoding.ts'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { keccak256, keccakWasm } from '../base/keccak.ts'
import { hashLeavesRange, hashNodesRange } from '../base/keccakWasm.mjs'
import { hashLeaves, hashNodes } from './parallel.ts'

export const STANDARD_TREE_FORMAT = 'standard-v1'
const NODE_HEX = /^0x[0-9a-fA-F]{64}$/
const NODE_EXPECTED = 'a 32-byte 0x-prefixed hex node'
/** Values checked between two turns of the event loop in `loadBytesAsync` (about 100 ms of work). */
const LOAD_STEP = 8192

/** `array` if `length` elements fit in it, else a copy of it with room for at least twice as many. */
function withRoom<T extends Uint8Array | Float64Array>(array: T, length: number): T {
  if (length <= array.length) return array
  const grown = new (array.constructor as new (size: number) => T)(Math.max(length, 2 * array.length))
  grown.set(array)
  return grown
}

/** Runs steps to their end on this turn. */
function finish<T>(steps: Generator<void, T>): T {
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value
}

/** The `standard-v1` dump of @openzeppelin/merkle-tree. */
export type StandardTreeDump = {
  format: 'standard-v1'
  leafEncoding: string[]
  tree: Hex[]
  values: Array<{ value: unknown[]; treeIndex: number }>
}

/** Values' indices in the order of some of their ABI words (`StandardTree.orderBy`), for `find`. */
export type ValueOrder = { columns: number[]; order: Uint32Array }

export type BuildProgress = (phase: 'encode' | 'hash' | 'sort' | 'nodes', done: number, total: number) => void

export type BuildOptions = {
  /** Sort leaves by hash (OpenZeppelin's default): the root then does not depend on input order. */
  sortLeaves?: boolean
  onProgress?: BuildProgress
  /** Threads for leaf hashing (this one included); default: all cores. */
  threads?: number
}

export class TreeError extends BaseError {
  override name = 'TreeError'
  constructor(message: string, hint?: string) {
    super('MERKLE_TREE_INVALID', message, hint ? { metaMessages: [hint] } : {})
  }
}

/** ABI type names a leaf encoding may use: elementary types with valid sizes, and arrays of them. */
const ABI_TYPE = /^(address|bool|string|bytes([1-9]|[12][0-9]|3[0-2])?|u?int(8|16|24|32|40|48|56|64|72|80|88|96|104|112|120|128|136|144|152|160|168|176|184|192|200|208|216|224|232|240|248|256)?)(\[([1-9][0-9]*)?\])*$/

/**
 * Checks a leaf encoding names only ABI types (`uint999` is none: OpenZeppelin refuses its dumps), so a mistyped
 * type fails before any work instead of writing a dump nothing else reads.
 */
export function checkLeafEncoding(types: readonly string[]): void {
  if (types.length === 0) throw new TreeError('a leaf encoding needs at least one ABI type', 'Give the types of the leaf values, e.g. address,uint256.')
  for (const t of types)
    if (!ABI_TYPE.test(t))
      throw new TreeError(
        `leaf encoding: ${describe(t)} is not an ABI type; use address, bool, string, bytes, bytes1 to bytes32, uint8 to uint256 or int8 to int256 in steps of 8, or arrays of them (uint256[])`,
      )
}

/**
 * A reader that pushes leaf values to `add` as it reads them. `add` encodes each value at once (static encodings),
 * so the reader may reuse one array for every value; it throws a LeafValueError for a bad value.
 */
export type ValueReader = (add: (value: LeafValue) => void) => Promise<void>

/**
 * An OpenZeppelin-compatible standard Merkle tree: the same roots, proofs,
 * multiproofs and `standard-v1` dumps as `StandardMerkleTree` of
 * @openzeppelin/merkle-tree, over packed buffers. Static leaf encodings keep
 * only the ABI bytes of each value (64 bytes for (address, uint256)).
 *
 * @example
 * const tree = await StandardTree.build([['0x1111111111111111111111111111111111111111', '5000']], ['address', 'uint256'])
 * tree.root // 0x...
 * tree.getProof(0) // ['0x...', ...]
 */
export class StandardTree {
  readonly #encoding: LeafEncoding
  /** Packed ABI encodings (static encodings), one stride per value, in value order. */
  readonly #encoded: Uint8Array | undefined
  /** Values of dynamic encodings. */
  readonly #values: readonly LeafValue[] | undefined
  #lookup: Map<string, number> | undefined

  private constructor(
    encoding: LeafEncoding,
    readonly nodes: Uint8Array,
    readonly treeIndices: Uint32Array,
    encoded: Uint8Array | undefined,
    values: readonly LeafValue[] | undefined,
  ) {
    this.#encoding = encoding
    this.#encoded = encoded
    this.#values = values
  }

  get leafEncoding(): readonly string[] {
    return this.#encoding.types
  }

  get length(): number {
    return this.treeIndices.length
  }

  get root(): Hex {
    return toHex(this.nodes, 0, 32)
  }

  /** Builds a tree; large static-encoded trees hash on all cores. */
  static async build(values: Iterable<LeafValue> | AsyncIterable<LeafValue>, leafEncoding: readonly string[], options: BuildOptions = {}): Promise<StandardTree> {
    // A sync iterable is read without a promise per value.
    return StandardTree.buildFrom(
      async (add) => {
        if (Symbol.iterator in values) for (const v of values) add(v)
        else for await (const v of values) add(v)
      },
      leafEncoding,
      { ...options, capacity: Array.isArray(values) ? values.length : undefined },
    )
  }

  /**
   * Builds a tree from values a reader pushes (a file streamed without an object per value: see ValueReader);
   * large static-encoded trees hash on all cores.
   */
  static async buildFrom(read: ValueReader, leafEncoding: readonly string[], options: BuildOptions & { capacity?: number | undefined } = {}): Promise<StandardTree> {
    checkLeafEncoding(leafEncoding)
    const encoding = getLeafEncoding(leafEncoding)
    const { onProgress, threads } = options
    if (encoding.stride === undefined) {
      const list: LeafValue[] = []
      await read((v) => void list.push(Array.isArray(v) ? [...v] : v))
      return StandardTree.#fromDynamic(encoding, list, options)
    }
    const packed = new PackedValues(encoding, encoding.stride, options.capacity ?? 1024)
    await read((v) => {
      packed.add(v)
      if (onProgress && packed.count % 65536 === 0) onProgress('encode', packed.count, 0)
    })
    const n = packed.count
    if (n === 0) throw new TreeError('a Merkle tree needs at least one value', 'Give at least one value.')
    onProgress?.('hash', 0, n)
    const encoded = packed.finish()
    const hashes = await hashLeaves(encoded, encoding.stride, n, threads)
    const order = StandardTree.#order(hashes, n, options)
    const nodes = placeLeaves(hashes, order, true)
    await hashNodes(nodes, n, threads, onProgress && ((done, total) => onProgress('nodes', done, total)))
    return StandardTree.#finish(encoding, nodes, order, encoded, undefined)
  }

  /** Synchronous, single-threaded build (small trees). */
  static of(values: readonly LeafValue[], leafEncoding: readonly string[], options: Omit<BuildOptions, 'threads'> = {}): StandardTree {
    checkLeafEncoding(leafEncoding)
    const encoding = getLeafEncoding(leafEncoding)
    if (encoding.stride === undefined) return StandardTree.#fromDynamic(encoding, values, options)
    const stride = encoding.stride
    const n = values.length
    if (n === 0) throw new TreeError('a Merkle tree needs at least one value', 'Give at least one value.')
    const encoded = new Uint8Array(n * stride)
    values.forEach((v, i) => encoding.encodeInto(v, encoded, i * stride, i))
    const hashes = new Uint8Array(32 * n)
    hashLeavesRange(keccakWasm, keccak_256, encoded, stride, hashes, 0, n)
    return StandardTree.#assemble(encoding, hashes, n, encoded, undefined, options)
  }

  static #fromDynamic(encoding: LeafEncoding, values: readonly LeafValue[], options: BuildOptions): StandardTree {
    const n = values.length
    if (n === 0) throw new TreeError('a Merkle tree needs at least one value', 'Give at least one value.')
    const hashes = new Uint8Array(32 * n)
    values.forEach((v, i) => hashes.set(keccak256(keccak256(encoding.encode(v, i))), 32 * i))
    return StandardTree.#assemble(encoding, hashes, n, undefined, values.map((v) => [...v]), options)
  }

  /** Orders, places and hashes on this thread. */
  static #assemble(encoding: LeafEncoding, hashes: Uint8Array, n: number, encoded: Uint8Array | undefined, values: LeafValue[] | undefined, options: BuildOptions): StandardTree {
    const order = StandardTree.#order(hashes, n, options)
    const nodes = placeLeaves(hashes, order)
    hashNodesRange(keccakWasm, keccak_256, nodes, 0, n - 1)
    options.onProgress?.('nodes', n - 1, n - 1)
    return StandardTree.#finish(encoding, nodes, order, encoded, values)
  }

  static #order(hashes: Uint8Array, n: number, options: BuildOptions): Uint32Array {
    if (options.sortLeaves ?? true) {
      options.onProgress?.('sort', 0, n)
      return sortLeafOrder(hashes, n)
    }
    const order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    return order
  }

  static #finish(encoding: LeafEncoding, nodes: Uint8Array, order: Uint32Array, encoded: Uint8Array | undefined, values: LeafValue[] | undefined): StandardTree {
    const n = order.length
    const size = 2 * n - 1
    const treeIndices = new Uint32Array(n)
    for (let k = 0; k < n; k++) treeIndices[order[k] as number] = size - 1 - k
    return new StandardTree(encoding, nodes, treeIndices, encoded, values)
  }

  /** Loads and fully validates a `standard-v1` dump (ours or OpenZeppelin's). */
  static load(dump: unknown): StandardTree {
    const r = new Reader(STANDARD_TREE_FORMAT, dump)
    const encoding = StandardTree.#loadHeader(r)
    const treeItems = r.field('tree').array({ min: 1 })
    const valueItems = r.field('values').array()
    const nodes = new Uint8Array(32 * treeItems.length)
    treeItems.forEach((item, i) => nodes.set(hexToBytes(item.string(NODE_HEX, NODE_EXPECTED), 32), 32 * i))
    return finish(StandardTree.#loadParts(r, encoding, nodes, valueItems.length, (i) => valueItems[i]!))
  }

  /**
   * Loads and fully validates a `standard-v1` dump from its JSON bytes (a file or a stored artifact) without decoding
   * it into one string: a tree of millions of leaves (hundreds of MB) is past the longest string V8 holds. Nodes are
   * read straight into the tree's buffer and each value is parsed on its own.
   */
  static loadBytes(bytes: Uint8Array, source = 'standard-v1 dump'): StandardTree {
    return finish(StandardTree.#loadBytesSteps(bytes, source))
  }

  /**
   * `loadBytes` that gives the event loop a turn every few thousand values, so a service loading a tree of millions of
   * leaves keeps answering (the work is the same, spread out).
   */
  static async loadBytesAsync(bytes: Uint8Array, source = 'standard-v1 dump'): Promise<StandardTree> {
    const steps = StandardTree.#loadBytesSteps(bytes, source)
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) return step.value
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  static *#loadBytesSteps(bytes: Uint8Array, source: string): Generator<void, StandardTree> {
    const json = new JsonBytesReader(bytes, source)
    // Each walk over the whole document is a step of its own (about a second for a million users' tree).
    const whole = json.document()
    yield
    const members = json.members(whole)
    yield
    // The small members as a document of their own, validated as `load` validates them; an unknown member is refused
    // unread (it could be any size), and fromEntries keeps a `__proto__` member a key, as JSON.parse does.
    const head = Object.fromEntries([...members].map(([key, span]) => [key, key === 'format' || key === 'leafEncoding' ? json.parse(span) : key === 'tree' || key === 'values' ? [] : null]))
    const r = new Reader(STANDARD_TREE_FORMAT, head)
    const encoding = StandardTree.#loadHeader(r)
    const spanOf = (key: 'tree' | 'values') => members.get(key) ?? r.field(key).fail('an array')
    const itemAt = (key: string, span: JsonSpan, i: number) => new Reader(STANDARD_TREE_FORMAT, json.parse(span), `$.${key}[${i}]`)
    // Nodes go straight into bytes as the array is walked; values keep only where they start and end.
    let nodes = new Uint8Array(32 * 1024)
    const count = json.elements(spanOf('tree'), (span, i) => {
      nodes = withRoom(nodes, 32 * (i + 1))
      // A node is `"0x` and 64 hex digits `"`, decoded from the bytes; any other text is parsed and read as `load` reads it.
      const { start, end } = span
      const plain = end - start === 68 && bytes[start] === 0x22 && bytes[start + 1] === 0x30 && bytes[start + 2] === 0x78 && bytes[end - 1] === 0x22
      if (!plain || !writeHexAscii(bytes, start + 3, 32, nodes, 32 * i))
        nodes.set(hexToBytes(itemAt('tree', span, i).string(NODE_HEX, NODE_EXPECTED), 32), 32 * i)
    })
    yield
    let bounds = new Float64Array(2 * 1024)
    const valueCount = json.elements(spanOf('values'), ({ start, end }, i) => {
      bounds = withRoom(bounds, 2 * (i + 1))
      bounds[2 * i] = start
      bounds[2 * i + 1] = end
    })
    yield
    return yield* StandardTree.#loadParts(r, encoding, nodes.subarray(0, 32 * count), valueCount, (i) => itemAt('values', { start: bounds[2 * i]!, end: bounds[2 * i + 1]! }, i))
  }

  /**
   * The values of a `standard-v1` dump's bytes as published, in order, without checking them against the nodes: what
   * an auditor compares leaf by leaf with its own, for a dump of any size (never one string of the whole file).
   */
  static dumpValues(bytes: Uint8Array, source = 'standard-v1 dump'): unknown[][] {
    const json = new JsonBytesReader(bytes, source)
    const span = json.members(json.document()).get('values')
    if (!span) return []
    const out: unknown[][] = []
    json.elements(span, (element, i) => {
      const item = new Reader(STANDARD_TREE_FORMAT, json.parse(element), `$.values[${i}]`)
      out.push(item.field('value').array().map((v) => v.value))
    })
    return out
  }

  /** The dump's fields, format and leaf encoding checked. */
  static #loadHeader(r: Reader): LeafEncoding {
    r.object(['format', 'leafEncoding', 'tree', 'values'])
    r.field('format').literal([STANDARD_TREE_FORMAT])
    return getLeafEncoding(r.field('leafEncoding').array({ min: 1, max: 64 }).map((t) => t.string(ABI_TYPE, 'an ABI type name')))
  }

  /**
   * What `load` and `loadBytes` share once the header and nodes are read: every leaf and node hash recomputed, in
   * steps (a yield every LOAD_STEP values or nodes).
   */
  static *#loadParts(r: Reader, encoding: LeafEncoding, nodes: Uint8Array, valueCount: number, valueAt: (i: number) => Reader): Generator<void, StandardTree> {
    const count = nodes.length / 32
    if (count < 1) r.field('tree').fail('an array of at least 1 items')
    if (count % 2 !== 1) r.field('tree').fail('an odd number of nodes (2n - 1 for n leaves)')
    const n = (count + 1) / 2
    if (valueCount !== n) new Reader(STANDARD_TREE_FORMAT, undefined, '$.values').fail(`an array of ${n} items (one per leaf), not ${valueCount}`)
    const treeIndices = new Uint32Array(n)
    const seen = new Uint8Array(count)
    const stride = encoding.stride
    const encoded = stride === undefined ? undefined : new Uint8Array(n * stride)
    const values: LeafValue[] | undefined = stride === undefined ? [] : undefined
    for (let i = 0; i < n; i++) {
      if (i % LOAD_STEP === LOAD_STEP - 1) yield
      const item = valueAt(i)
      item.object(['value', 'treeIndex'])
      const ti = Number(item.field('treeIndex').integer(0, count - 1))
      if (!isLeafIndex(count, ti)) item.field('treeIndex').fail(`the index of a leaf (${n - 1} to ${count - 1})`)
      if (seen[ti]) item.field('treeIndex').fail('a tree index used by one value only')
      seen[ti] = 1
      treeIndices[i] = ti
      const value = item.field('value').array() && (item.field('value').value as LeafValue)
      let bytes: Uint8Array
      if (encoded && stride !== undefined) {
        encoding.encodeInto(value, encoded, i * stride, i)
        bytes = encoded.subarray(i * stride, (i + 1) * stride)
      } else {
        bytes = encoding.encode(value, i)
        values!.push(value)
      }
      if (!equalBytes(keccak256(keccak256(bytes)), nodes.subarray(32 * ti, 32 * ti + 32)))
        throw new TreeError(`standard-v1: values[${i}] does not hash to tree[${ti}]`, 'The dump was altered or is not a standard tree of this leaf encoding.')
    }
    for (let i = n - 2; i >= 0; i--) {
      if (i % (4 * LOAD_STEP) === 0) yield
      if (!equalBytes(hashPair(nodes, 32 * (2 * i + 1), nodes, 32 * (2 * i + 2)), nodes.subarray(32 * i, 32 * i + 32)))
        throw new TreeError(`standard-v1: tree[${i}] is not the hash of its children`, 'The dump was altered.')
    }
    return new StandardTree(encoding, nodes, treeIndices, encoded, values)
  }

  /** The value at `index` in input order, in canonical JSON form. */
  at(index: number): unknown[] {
    this.#checkIndex(index)
    if (this.#values) return [...(this.#values[index] as LeafValue)]
    const stride = this.#encoding.stride as number
    return this.#encoding.decode(this.#encoded as Uint8Array, index * stride)
  }

  *entries(): Generator<[number, unknown[]]> {
    for (let i = 0; i < this.length; i++) yield [i, this.at(i)]
  }

  /**
   * The values' indices ordered by the ABI words at `columns` (static encodings only): with `find`, a lookup by key
   * over millions of leaves that holds 4 bytes per value rather than a string and an array each.
   */
  orderBy(columns: readonly number[]): ValueOrder {
    const encoded = this.#encoded
    const stride = this.#encoding.stride
    if (!encoded || stride === undefined) throw new TreeError('orderBy needs a static leaf encoding')
    for (const c of columns) if (!Number.isInteger(c) || c < 0 || c >= this.#encoding.types.length) throw new TreeError(`column ${c} is not one of the ${this.#encoding.types.length} values of a leaf`)
    const order = new Uint32Array(this.length)
    for (let i = 0; i < order.length; i++) order[i] = i
    order.sort((a, b) => {
      for (const c of columns) {
        const d = compareWords(encoded, a * stride + 32 * c, encoded, b * stride + 32 * c)
        if (d !== 0) return d
      }
      return a - b
    })
    return { columns: [...columns], order }
  }

  /** The indices (input order, ascending) of the values whose words at `by.columns` are `key` (32-byte ABI words). */
  find(by: ValueOrder, key: readonly Uint8Array[]): number[] {
    const encoded = this.#encoded as Uint8Array
    const stride = this.#encoding.stride as number
    const { columns, order } = by
    if (key.length !== columns.length || key.some((w) => w.length !== 32)) throw new TreeError(`a key is ${columns.length} ABI words of 32 bytes`)
    const compare = (i: number) => {
      for (let k = 0; k < columns.length; k++) {
        const d = compareWords(encoded, i * stride + 32 * (columns[k] as number), key[k] as Uint8Array, 0)
        if (d !== 0) return d
      }
      return 0
    }
    // The first position whose value is not below the key, then every equal one after it.
    let lo = 0
    let hi = order.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compare(order[mid] as number) < 0) lo = mid + 1
      else hi = mid
    }
    const found: number[] = []
    for (let p = lo; p < order.length && compare(order[p] as number) === 0; p++) found.push(order[p] as number)
    return found
  }

  leafHash(value: LeafValue): Hex {
    return toHex(keccak256(keccak256(this.#encoding.encode(value))))
  }

  /** Index (input order) of a value, or of the leaf whose hash is given. */
  indexOf(value: LeafValue): number {
    if (!this.#lookup) {
      this.#lookup = new Map()
      for (let i = 0; i < this.length; i++) {
        const ti = this.treeIndices[i] as number
        this.#lookup.set(toHex(this.nodes, 32 * ti, 32 * ti + 32), i)
      }
    }
    const index = this.#lookup.get(this.leafHash(value))
    if (index === undefined) throw new TreeError('the value is not a leaf of this tree')
    return index
  }

  getProof(leaf: number | LeafValue): Hex[] {
    const index = typeof leaf === 'number' ? leaf : this.indexOf(leaf)
    this.#checkIndex(index)
    return getProof(this.nodes, this.treeIndices[index] as number).map((p) => toHex(p))
  }

  getMultiProof(leaves: ReadonlyArray<number | LeafValue>): { leaves: unknown[][]; proof: Hex[]; proofFlags: boolean[] } {
    const indices = leaves.map((l) => (typeof l === 'number' ? l : this.indexOf(l)))
    indices.forEach((i) => this.#checkIndex(i))
    const byTreeIndex = new Map(indices.map((i) => [this.treeIndices[i] as number, i]))
    const multi = getMultiProof(this.nodes, [...byTreeIndex.keys()])
    if (byTreeIndex.size !== indices.length) throw new TreeError('a value is listed twice in the multiproof request')
    return { leaves: multi.leaves.map((ti) => this.at(byTreeIndex.get(ti) as number)), proof: multi.proof.map((p) => toHex(p)), proofFlags: multi.proofFlags }
  }

  verify(leaf: number | LeafValue, proof: readonly string[]): boolean {
    const value = typeof leaf === 'number' ? this.at(leaf) : leaf
    return StandardTree.verify(this.root, this.#encoding.types, value, proof)
  }

  /** Whether `proof` proves `value` under `root`; malformed input is simply false. */
  static verify(root: string, leafEncoding: readonly string[], value: LeafValue, proof: readonly string[]): boolean {
    try {
      const leaf = keccak256(keccak256(getLeafEncoding(leafEncoding).encode(value)))
      return equalBytes(processProof(leaf, proof.map((p) => hexToBytes(p, 32))), hexToBytes(root, 32))
    } catch (error) {
      if (error instanceof BaseError) return false
      throw error
    }
  }

  static verifyMultiProof(root: string, leafEncoding: readonly string[], multiproof: { leaves: readonly LeafValue[]; proof: readonly string[]; proofFlags: readonly boolean[] }): boolean {
    try {
      const encoding = getLeafEncoding(leafEncoding)
      const computed = processMultiProof({
        leaves: multiproof.leaves.map((v) => keccak256(keccak256(encoding.encode(v)))),
        proof: multiproof.proof.map((p) => hexToBytes(p, 32)),
        proofFlags: [...multiproof.proofFlags],
      })
      return equalBytes(computed, hexToBytes(root, 32))
    } catch (error) {
      if (error instanceof BaseError) return false
      throw error
    }
  }

  dump(): StandardTreeDump {
    const count = this.nodes.length / 32
    const tree: Hex[] = new Array(count)
    for (let i = 0; i < count; i++) tree[i] = toHex(this.nodes, 32 * i, 32 * i + 32)
    const values = Array.from({ length: this.length }, (_, i) => ({ value: this.at(i), treeIndex: this.treeIndices[i] as number }))
    return { format: STANDARD_TREE_FORMAT, leafEncoding: [...this.#encoding.types], tree, values }
  }

  /**
   * The dump as compact JSON, byte-identical to `JSON.stringify(tree.dump())`, in chunks of about 4 MB of UTF-8:
   * no object per value (static encodings are written from their ABI words straight into the output bytes),
   * never one string for the whole tree.
   */
  *dumpChunks(): Generator<Uint8Array> {
    const w = new JsonBytes()
    const count = this.nodes.length / 32
    w.text(`{"format":"${STANDARD_TREE_FORMAT}","leafEncoding":${JSON.stringify(this.#encoding.types)},"tree":[`)
    for (let i = 0; i < count; i++) {
      if (i) w.byte(0x2c)
      w.hex(this.nodes, 32 * i, 32 * i + 32)
      if (w.full) yield w.take()
    }
    w.text('],"values":[')
    const encoded = this.#encoded
    const cells = encoded ? this.#encoding.types.map(cellWriter) : undefined
    const stride = this.#encoding.stride ?? 0
    for (let i = 0; i < this.length; i++) {
      w.text(i ? ',{"value":' : '{"value":')
      if (cells && encoded) {
        w.byte(0x5b)
        for (let k = 0; k < cells.length; k++) {
          if (k) w.byte(0x2c)
          ;(cells[k] as CellWriter)(w, encoded, i * stride + 32 * k)
        }
        w.byte(0x5d)
      } else w.text(JSON.stringify(this.at(i)))
      w.text(',"treeIndex":')
      w.decimal(this.treeIndices[i] as number)
      w.byte(0x7d)
      if (w.full) yield w.take()
    }
    w.text(']}')
    yield w.take()
  }

  /** Writes the dump (`dumpChunks`) to a file, replacing it. */
  async writeDump(path: string): Promise<void> {
    const file = await open(path, 'w')
    try {
      for (const chunk of this.dumpChunks()) await file.write(chunk)
    } finally {
      await file.close()
    }
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      throw new TreeError(`value index ${index} is out of range (the tree has ${this.length} values)`)
  }
}

/**
 * An OpenZeppelin standard leaf hash, keccak256(bytes.concat(keccak256(abi.encode(values)))), with the tree's own
 * encoders and keccak (what a tree hashes per leaf) rather than a general ABI encoder per call.
 */
export function standardLeafHash(leafEncoding: readonly string[], value: LeafValue): Hex {
  return toHex(keccak256(keccak256(getLeafEncoding(leafEncoding).encode(value))))
}

const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef')

/** JSON text written as bytes into 4 MB buffers: what a dump of millions of values is made of, without strings per value. */
class JsonBytes {
  static readonly SIZE = 4 << 20
  #buf = Buffer.allocUnsafe(JsonBytes.SIZE + 65536)
  #pos = 0

  get full(): boolean {
    return this.#pos >= JsonBytes.SIZE
  }

  /** The bytes written so far; writing goes on in a new buffer. */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#pos)
    this.#buf = Buffer.allocUnsafe(JsonBytes.SIZE + 65536)
    this.#pos = 0
    return out
  }

  byte(c: number): void {
    this.#buf[this.#pos++] = c
  }

  text(t: string): void {
    if (this.#pos + 3 * t.length > this.#buf.length) this.#buf = Buffer.concat([this.#buf.subarray(0, this.#pos), Buffer.allocUnsafe(3 * t.length + 65536)])
    this.#pos += this.#buf.write(t, this.#pos, 'utf8')
  }

  /** `"0x<hex of bytes[from, to)>"` */
  hex(bytes: Uint8Array, from: number, to: number): void {
    const buf = this.#buf
    let p = this.#pos
    buf[p++] = 0x22
    buf[p++] = 0x30
    buf[p++] = 0x78
    for (let i = from; i < to; i++) {
      const b = bytes[i] as number
      buf[p++] = HEX_DIGITS[b >>> 4] as number
      buf[p++] = HEX_DIGITS[b & 15] as number
    }
    buf[p++] = 0x22
    this.#pos = p
  }

  /** A non-negative safe integer's digits. */
  decimal(x: number): void {
    if (x < 10) {
      this.#buf[this.#pos++] = 0x30 + x
      return
    }
    const digits = Math.floor(Math.log10(x)) + 1
    // log10 may round at powers of ten: fix the digit count.
    const n = x >= 10 ** digits ? digits + 1 : x < 10 ** (digits - 1) ? digits - 1 : digits
    let p = this.#pos + n
    this.#pos = p
    for (let k = 0; k < n; k++) {
      this.#buf[--p] = 0x30 + (x % 10)
      x = Math.floor(x / 10)
    }
  }
}

/** Writes one ABI word of a static type as `at()` decodes it: lower-case hex, decimal strings, booleans. */
type CellWriter = (w: JsonBytes, data: Uint8Array, offset: number) => void

function cellWriter(type: string): CellWriter {
  if (type === 'address') return (w, d, o) => w.hex(d, o + 12, o + 32)
  if (type === 'bool') return (w, d, o) => w.text(d[o + 31] === 1 ? 'true' : 'false')
  const bytes = /^bytes(\d+)$/.exec(type)
  if (bytes) {
    const size = Number(bytes[1])
    return (w, d, o) => w.hex(d, o, o + size)
  }
  const bits = Number(/^u?int(\d*)$/.exec(type)?.[1] || 256)
  const word = (d: Uint8Array, o: number) => BigInt(toHex(d, o, o + 32))
  const unsigned: CellWriter = (w, d, o) => {
    let high = 0
    for (let k = o; k < o + 25; k++) high |= d[k] as number
    const top = (((d[o + 25] as number) << 16) | ((d[o + 26] as number) << 8) | (d[o + 27] as number)) >>> 0
    w.byte(0x22)
    // Below 2^53 a Number has the same digits as the BigInt, and is much faster.
    if (high === 0 && top < 0x20_0000) w.decimal(top * 0x1_0000_0000 + ((((d[o + 28] as number) << 24) | ((d[o + 29] as number) << 16) | ((d[o + 30] as number) << 8) | (d[o + 31] as number)) >>> 0))
    else w.text(word(d, o).toString())
    w.byte(0x22)
  }
  if (type.startsWith('uint')) return unsigned
  return (w, d, o) => ((d[o] as number) & 0x80 ? w.text(`"${BigInt.asIntN(bits, word(d, o))}"`) : unsigned(w, d, o))
}

/** A growing packed buffer of fixed-stride encodings on shared memory. */
class PackedValues {
  count = 0
  #buffer: Uint8Array

  constructor(
    readonly encoding: LeafEncoding,
    readonly stride: number,
    capacity: number,
  ) {
    this.#buffer = new Uint8Array(new SharedArrayBuffer(stride * Math.max(1, capacity)))
  }

  add(value: LeafValue): void {
    if ((this.count + 1) * this.stride > this.#buffer.length) {
      const grown = new Uint8Array(new SharedArrayBuffer(this.#buffer.length * 2))
      grown.set(this.#buffer)
      this.#buffer = grown
    }
    this.encoding.encodeInto(value, this.#buffer, this.count * this.stride, this.count)
    this.count++
  }

  finish(): Uint8Array {
    return this.#buffer.subarray(0, this.count * this.stride)
  }
}

