/**
 * The tree commands: build an OpenZeppelin-compatible Merkle tree from values, prove a leaf, verify a proof.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Reader } from '../../base/reader.ts'
import { BaseError, InputError } from '../../base/errors.ts'
import { LeafValueError, type LeafValue } from '../../merkle/encoding.ts'
import { checkLeafEncoding, StandardTree, type ValueReader } from '../../merkle/tree.ts'
import { requireString, UsageError, type Command, type Io } from '../command.ts'
import { checkNewOutput, checkWritableDirectory, fileError, readInputBytes, readJsonFile, writeOutput } from '../files.ts'
import { progress } from '../progress.ts'

export const MERKLE_PROOF_FORMAT = 'fomo-merkle-proof-v1'

function encodingOption(values: Record<string, unknown>, command: string): string[] {
  const types = requireString(values, 'encoding', command).split(',').map((t) => t.trim())
  try {
    checkLeafEncoding(types)
  } catch (error) {
    throw new UsageError(`--encoding: ${(error as BaseError).shortMessage}`, command)
  }
  return types
}

/** A bad value of an input file: the file, its line and what is wrong, in one line. */
class ValueFileError extends InputError {
  constructor(path: string, line: number, message: string) {
    super(`${path}:${line}: ${message}; fix that line and run the build again`)
  }
}

/**
 * A file read in chunks of bytes: `parse(buffer, start, end, final)` consumes what it can and returns where it
 * stopped (a record cut by the chunk's end waits for the next chunk).
 */
async function readChunks(file: FileHandle, chunkBytes: number, parse: (buf: Buffer, start: number, end: number, final: boolean) => number): Promise<void> {
  let buf = Buffer.allocUnsafe(chunkBytes)
  let start = 0
  let end = 0
  for (;;) {
    if (start > 0) {
      buf.copy(buf, 0, start, end)
      end -= start
      start = 0
    }
    // A record longer than the buffer: grow it.
    if (end === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)])
    const { bytesRead } = await file.read(buf, end, buf.length - end, null)
    end += bytesRead
    start = parse(buf, start, end, bytesRead === 0)
    if (bytesRead === 0) return
  }
}

/** Bytes read from a values file at once. */
const CHUNK_BYTES = 8 << 20

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** The cells of a value whose count is wrong (a fresh array, so the encoder names the problem): those read, up to one too many. */
const cellsRead = (value: unknown[], spare: { cell: unknown }, k: number) => (k < value.length ? value.slice(0, k) : [...value, spare.cell])

/**
 * Values of a JSON file, streamed: an array of value arrays of plain cells (strings, safe integers, booleans), as
 * StandardMerkleTree.of takes them. One array is reused for every value (see ValueReader); a bad value or bad JSON
 * is named by its line.
 */
export function jsonValues(file: FileHandle, path: string, width: number, chunkBytes = CHUNK_BYTES): ValueReader {
  return (add) => {
    const value: unknown[] = new Array(width)
    const spare = { cell: undefined as unknown }
    let line = 1
    let opened = false
    let closed = false
    let leaves = 0
    return readChunks(file, chunkBytes, (b, start, end, final) => {
      let i = start
      // Skips whitespace, counting lines into `lines`; -1 at the end of the chunk.
      let lines = 0
      const skip = (p: number) => {
        while (p < end && isSpace(b[p] as number)) {
          if (b[p] === 0x0a) lines++
          p++
        }
        return p < end ? p : -1
      }
      const fail = (message: string): never => {
        throw new ValueFileError(path, line + lines, message)
      }
      for (;;) {
        lines = 0
        let p = skip(i)
        if (p < 0) break
        if (closed) fail(`text after the closing bracket of the values array`)
        if (!opened) {
          if (b[p] !== 0x5b) fail('expected a JSON array of value arrays, e.g. [["0x11...", "5000"]]')
          opened = true
          i = p + 1
          line += lines
          continue
        }
        if (leaves > 0 || b[p] === 0x5d) {
          if (b[p] === 0x5d) {
            closed = true
            i = p + 1
            line += lines
            continue
          }
          if (b[p] !== 0x2c) fail(`expected , or ] after value ${leaves - 1}`)
          p = skip(p + 1)
          if (p < 0) break
        }
        // One value: [cell, cell, ...]; a value cut by the chunk's end is read again with the next chunk.
        if (b[p] !== 0x5b) fail(`value ${leaves}: expected an array of ${width} values`)
        let k = 0
        let q = p + 1
        let complete = false
        for (;;) {
          q = skip(q)
          if (q < 0) break
          const c = b[q] as number
          if (c === 0x5d && k === 0) {
            q++
            complete = true
            break
          }
          let cell: unknown
          if (c === 0x22) {
            let e = q + 1
            let escaped = false
            while (e < end && b[e] !== 0x22) {
              if (b[e] === 0x5c) {
                escaped = true
                e++
              }
              e++
            }
            if (e >= end) break
            // Escapes are rare in values: such a string goes through JSON.parse.
            cell = escaped ? parseCell(b.toString('utf8', q, e + 1), fail) : b.toString('utf8', q + 1, e)
            q = e + 1
          } else {
            let e = q
            while (e < end && !isSpace(b[e] as number) && b[e] !== 0x2c && b[e] !== 0x5d && b[e] !== 0x5b && b[e] !== 0x7b) e++
            if (e === q) fail(`value ${leaves}: nested arrays and objects are not values of static ABI types`)
            if (e >= end && !final) break
            cell = parseCell(b.toString('latin1', q, e), fail)
            q = e
          }
          if (k < width) value[k] = cell
          else if (k === width) spare.cell = cell
          k++
          q = skip(q)
          if (q < 0) break
          if (b[q] === 0x2c) q++
          else if (b[q] === 0x5d) {
            q++
            complete = true
            break
          } else fail(`value ${leaves}: expected , or ] after cell ${k - 1}`)
        }
        if (!complete) {
          if (final) fail('the file ends inside a value: the JSON is cut short')
          break
        }
        try {
          add(k === width ? value : cellsRead(value, spare, k))
        } catch (error) {
          if (error instanceof LeafValueError) fail(error.shortMessage)
          throw error
        }
        leaves++
        line += lines
        i = q
      }
      if (final && !closed) fail(opened ? 'the file ends before the closing bracket of the values array' : 'the file is empty: expected a JSON array of value arrays')
      return i
    })
  }
}

/** A cell that is not a plain string: a JSON literal, parsed as strictly as every fomo document is. */
function parseCell(text: string, fail: (message: string) => never): unknown {
  if (text === 'true') return true
  if (text === 'false') return false
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    fail(`${text.slice(0, 40)} is not a JSON value`)
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) fail(`${text} is not a safe integer: write amounts as decimal strings`)
  return value
}

/** Values of a CSV file, streamed: one value per line, cells in encoding order; one array reused for every value. */
export function csvValues(file: FileHandle, path: string, width: number, header: boolean, chunkBytes = CHUNK_BYTES): ValueReader {
  return (add) => {
    const value: unknown[] = new Array(width)
    const spare = { cell: undefined as unknown }
    let line = 0
    return readChunks(file, chunkBytes, (b, start, end, final) => {
      let i = start
      for (;;) {
        let eol = b.indexOf(0x0a, i)
        if (eol < 0 || eol >= end) {
          if (!final || i >= end) break
          eol = end
        }
        line++
        let stop = eol > i && b[eol - 1] === 0x0d ? eol - 1 : eol
        const from = i
        i = eol + 1
        while (stop > from && isSpace(b[stop - 1] as number)) stop--
        if (stop === from || b[from] === 0x23 /* # */ || (header && line === 1)) continue
        let k = 0
        for (let c = from; c <= stop; ) {
          let comma = b.indexOf(0x2c, c)
          if (comma < 0 || comma > stop) comma = stop
          let a = c
          let z = comma
          while (a < z && isSpace(b[a] as number)) a++
          while (z > a && isSpace(b[z - 1] as number)) z--
          if (b[a] === 0x22) throw new ValueFileError(path, line, 'quoted CSV cells are not supported; write plain values')
          const text = b.toString('utf8', a, z)
          const cell = text === 'true' ? true : text === 'false' ? false : text
          if (k < width) value[k] = cell
          else if (k === width) spare.cell = cell
          k++
          c = comma + 1
        }
        try {
          add(k === width ? value : cellsRead(value, spare, k))
        } catch (error) {
          if (error instanceof LeafValueError) throw new ValueFileError(path, line, error.shortMessage)
          throw error
        }
      }
      return Math.min(i, end)
    })
  }
}

export const treeBuildCommand: Command = {
  name: 'tree build',
  summary:
    'Builds an OpenZeppelin-compatible standard Merkle tree and writes its standard-v1 dump, which\n' +
    '@openzeppelin/merkle-tree\'s StandardMerkleTree.load reads. Input: a JSON array of value arrays (what\n' +
    'StandardMerkleTree.of takes, numbers as decimal strings) or a CSV file with one leaf per line, both streamed.',
  options: {
    encoding: { type: 'string', valueName: 'types', description: 'Leaf ABI types, e.g. address,uint256' },
    in: { type: 'string', valueName: 'values.json|values.csv', description: 'The leaf values' },
    out: { type: 'string', valueName: 'dump.json', description: 'Where to write the standard-v1 dump (an existing file is kept unless --force)' },
    force: { type: 'boolean', description: 'Replace an existing --out file' },
    header: { type: 'boolean', description: 'The CSV file starts with a header line' },
    'no-sort': { type: 'boolean', description: 'Keep input order instead of sorting leaves (OpenZeppelin sortLeaves: false)' },
  },
  examples: ['fomo tree build --encoding address,uint256 --in airdrop.csv --out tree.json'],
  async run({ values }, io) {
    const command = 'tree build'
    const encoding = encodingOption(values, command)
    const input = resolve(io.cwd, requireString(values, 'in', command))
    const out = resolve(io.cwd, requireString(values, 'out', command))
    const output = { command, what: 'the dump', force: Boolean(values.force) }
    await checkNewOutput(out, output)
    await checkWritableDirectory(dirname(out), 'the directory of --out', command)
    const file = await open(input, 'r').catch((error: unknown) => {
      throw fileError(error, input, 'the values file', command, 'check --in')
    })
    const bar = progress(io, 'tree')
    const started = performance.now()
    const seconds = { read: 0, build: 0, write: 0 }
    let tree: StandardTree
    try {
      const read = input.endsWith('.csv') ? csvValues(file, input, encoding.length, Boolean(values.header)) : jsonValues(file, input, encoding.length)
      // Reading and encoding are one pass; hashing starts when the file is read.
      tree = await StandardTree.buildFrom(
        (add) =>
          read(add).then(() => {
            seconds.read = (performance.now() - started) / 1000
          }),
        encoding,
        { sortLeaves: !values['no-sort'], onProgress: (phase, done, total) => bar.update(done, total || undefined, phase) },
      )
    } finally {
      await file.close()
    }
    seconds.build = (performance.now() - started) / 1000 - seconds.read
    bar.update(0, 0, 'writing')
    await writeOutput(out, output, (tmp) => tree.writeDump(tmp))
    seconds.write = (performance.now() - started) / 1000 - seconds.read - seconds.build
    bar.done()
    const round = (x: number) => Math.round(x * 1000) / 1000
    io.stdout(`${JSON.stringify({ root: tree.root, leaves: tree.length, leafEncoding: encoding, dump: out, seconds: { read: round(seconds.read), build: round(seconds.build), write: round(seconds.write) } })}\n`)
  },
}

async function loadTree(path: string, io: Io, command: string): Promise<StandardTree> {
  return StandardTree.loadBytes(await readInputBytes(path, io.cwd, 'tree dump', command), resolve(io.cwd, path))
}

export const treeProofCommand: Command = {
  name: 'tree proof',
  summary: 'Prints the Merkle proof of one leaf of a standard-v1 dump (format fomo-merkle-proof-v1), by value index or by value.',
  options: {
    tree: { type: 'string', valueName: 'dump.json', description: 'The standard-v1 dump' },
    index: { type: 'string', valueName: 'n', description: 'Index of the value (input order)' },
    value: { type: 'string', valueName: 'json', description: 'The value as a JSON array, e.g. \'["0x11..","5000"]\'' },
  },
  examples: ['fomo tree proof --tree tree.json --index 0', 'fomo tree proof --tree tree.json --value \'["0x1111111111111111111111111111111111111111","5000"]\''],
  async run({ values }, io) {
    const tree = await loadTree(requireString(values, 'tree', 'tree proof'), io, 'tree proof')
    let index: number
    if (typeof values.index === 'string') {
      if (!/^(0|[1-9][0-9]*)$/.test(values.index)) throw new UsageError('--index must be a non-negative integer', 'tree proof')
      index = Number(values.index)
    } else if (typeof values.value === 'string') {
      let value: unknown
      try {
        value = JSON.parse(values.value)
      } catch {
        throw new UsageError('--value must be a JSON array', 'tree proof')
      }
      if (!Array.isArray(value)) throw new UsageError('--value must be a JSON array', 'tree proof')
      index = tree.indexOf(value)
    } else throw new UsageError('give --index or --value', 'tree proof')
    const proof = { format: MERKLE_PROOF_FORMAT, root: tree.root, leafEncoding: tree.leafEncoding, value: tree.at(index), leaf: tree.leafHash(tree.at(index)), proof: tree.getProof(index) }
    io.stdout(`${JSON.stringify(proof, null, 2)}\n`)
  },
}

export const treeVerifyCommand: Command = {
  name: 'tree verify',
  summary: 'Verifies a proof document (from `fomo tree proof`) against its root, or against --root. Exits 0 when valid, 1 otherwise.',
  options: {
    in: { type: 'string', valueName: 'proof.json', description: 'The proof document' },
    root: { type: 'string', valueName: '0x..', description: 'The root to check against (default: the one in the document)' },
  },
  examples: ['fomo tree verify --in proof.json --root 0x...'],
  async run({ values }, io) {
    const r = new Reader(MERKLE_PROOF_FORMAT, await readJsonFile(requireString(values, 'in', 'tree verify'), io.cwd, 'proof', 'tree verify'))
    r.object(['format', 'root', 'leafEncoding', 'value', 'leaf', 'proof'])
    r.field('format').literal([MERKLE_PROOF_FORMAT])
    const hex32 = /^0x[0-9a-fA-F]{64}$/
    const root = typeof values.root === 'string' ? values.root : r.field('root').string(hex32, 'a 32-byte root')
    if (!hex32.test(root)) throw new UsageError('--root must be 32 bytes of 0x-prefixed hex', 'tree verify')
    const encoding = r.field('leafEncoding').array({ min: 1 }).map((t) => t.string())
    const value = r.field('value').array() && (r.field('value').value as LeafValue)
    const proof = r.field('proof').array({ max: 256 }).map((p) => p.string(hex32, 'a 32-byte proof node'))
    const valid = StandardTree.verify(root, encoding, value, proof)
    io.stdout(`${JSON.stringify({ valid, root })}\n`)
    return valid ? 0 : 1
  },
}
