/**
 * The tree commands: build an OpenZeppelin-compatible Merkle tree from values, prove a leaf, verify a proof.
 */
import { createReadStream } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { Reader } from '../../base/reader.ts'
import { InputError } from '../../base/errors.ts'
import { LeafValueError, type LeafValue } from '../../merkle/encoding.ts'
import { StandardTree } from '../../merkle/tree.ts'
import { requireString, UsageError, type Command, type Io } from '../command.ts'
import { readJsonFile } from '../files.ts'
import { progress } from '../progress.ts'

export const MERKLE_PROOF_FORMAT = 'fomo-merkle-proof-v1'

function encodingOption(values: Record<string, unknown>, command: string): string[] {
  const types = requireString(values, 'encoding', command).split(',').map((t) => t.trim())
  if (types.some((t) => !/^[a-z0-9[\]]+$/.test(t))) throw new UsageError(`--encoding: expected ABI types separated by commas, e.g. address,uint256`, command)
  return types
}

/** Values of a CSV file, streamed line by line: one leaf per line, cells in encoding order. `at.line` is the line last read. */
async function* csvValues(path: string, header: boolean, at: { line: number }): AsyncGenerator<LeafValue> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity })
  let n = 0
  for await (const line of lines) {
    n++
    at.line = n
    if ((header && n === 1) || line.trim() === '' || line.startsWith('#')) continue
    if (line.includes('"')) throw new UsageError(`${path}:${n}: quoted CSV cells are not supported; write plain values`, 'tree build')
    yield line.split(',').map((cell) => {
      const v = cell.trim()
      return v === 'true' ? true : v === 'false' ? false : v
    })
  }
}

export const treeBuildCommand: Command = {
  name: 'tree build',
  summary:
    'Builds an OpenZeppelin-compatible standard Merkle tree and writes its standard-v1 dump, which\n' +
    '@openzeppelin/merkle-tree\'s StandardMerkleTree.load reads. Input: a JSON array of value arrays (what\n' +
    'StandardMerkleTree.of takes, numbers as decimal strings) or a CSV file with one leaf per line, streamed.',
  options: {
    encoding: { type: 'string', valueName: 'types', description: 'Leaf ABI types, e.g. address,uint256' },
    in: { type: 'string', valueName: 'values.json|values.csv', description: 'The leaf values' },
    out: { type: 'string', valueName: 'dump.json', description: 'Where to write the standard-v1 dump' },
    header: { type: 'boolean', description: 'The CSV file starts with a header line' },
    'no-sort': { type: 'boolean', description: 'Keep input order instead of sorting leaves (OpenZeppelin sortLeaves: false)' },
  },
  examples: ['fomo tree build --encoding address,uint256 --in airdrop.csv --out tree.json'],
  async run({ values }, io) {
    const encoding = encodingOption(values, 'tree build')
    const input = resolve(io.cwd, requireString(values, 'in', 'tree build'))
    const out = resolve(io.cwd, requireString(values, 'out', 'tree build'))
    let leaves: Iterable<LeafValue> | AsyncIterable<LeafValue>
    const at = { line: 0 }
    if (input.endsWith('.csv')) leaves = csvValues(input, Boolean(values.header), at)
    else {
      const items = new Reader('values', await readJsonFile(input, io.cwd, 'values', 'tree build')).array({ min: 1 })
      leaves = items.map((item) => item.array() && (item.value as LeafValue))
    }
    const bar = progress(io, 'tree')
    const tree = await StandardTree.build(leaves, encoding, {
      sortLeaves: !values['no-sort'],
      onProgress: (phase, done, total) => bar.update(done, total || undefined, phase),
    }).catch((error: unknown) => {
      // Values are encoded as they stream in, so the line last read is the bad one.
      if (error instanceof LeafValueError && at.line > 0) throw new InputError(`${input}:${at.line}: ${error.shortMessage}`, 'Fix that line and run the build again.')
      throw error
    })
    bar.update(0, 0, 'writing')
    await tree.writeDump(out)
    bar.done()
    io.stdout(`${JSON.stringify({ root: tree.root, leaves: tree.length, leafEncoding: encoding, dump: out })}\n`)
  },
}

async function loadTree(path: string, io: Io, command: string): Promise<StandardTree> {
  return StandardTree.load(await readJsonFile(path, io.cwd, 'tree dump', command))
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
