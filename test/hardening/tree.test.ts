/**
 * Issue 14, `fomo tree build` as a whole process: values streamed from JSON and CSV (no object per value, any
 * chunk boundary), a dump written from the ABI words byte-identical to `JSON.stringify(tree.dump())`, ABI types
 * checked before any work, bad lines named.
 */
import { mkdtemp, open, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { describe, expect, it } from 'vitest'
import { csvValues, jsonValues } from '../../src/cli/commands/tree.ts'
import type { LeafValue } from '../../src/merkle/encoding.ts'
import { StandardTree } from '../../src/merkle/tree.ts'

const dir = await mkdtemp(join(tmpdir(), 'fomo-tree-hardening-'))

/**
 * Reads a values file with a reader, at a chunk size, collecting copies of the values it pushes, then builds the
 * (address, uint256) tree from it as `fomo tree build` does.
 */
async function read(name: string, text: string, reader: 'json' | 'csv', width: number, chunkBytes: number, header = false): Promise<unknown[][]> {
  const path = join(dir, name)
  await writeFile(path, text)
  const values: unknown[][] = []
  for (const build of [false, true]) {
    const file = await open(path)
    try {
      const values$ = reader === 'json' ? jsonValues(file, path, width, chunkBytes) : csvValues(file, path, width, header, chunkBytes)
      if (build) await StandardTree.buildFrom(values$, ['address', 'uint256'])
      else await values$((v: LeafValue) => void values.push([...v]))
    } finally {
      await file.close()
    }
  }
  return values
}

const rows = Array.from({ length: 40 }, (_, i) => [`0x${(i * 7919 + 1).toString(16).padStart(40, '0')}`, String(i ** 5 * 1_000_003)])

describe('values files, streamed', () => {
  it('reads JSON and CSV alike at every chunk size, whitespace, comments, CRLF and escapes included', async () => {
    const json = `[\n  ${rows.map((r, i) => (i === 3 ? `[ "\\u0030x${r[0]!.slice(2)}" , ${Number(r[1]) <= Number.MAX_SAFE_INTEGER ? r[1] : `"${r[1]}"`} ]` : JSON.stringify(r))).join(',\n  ')}\n]\n`
    const csv = `account,amount\r\n# a comment\r\n${rows.map((r) => ` ${r[0]} , ${r[1]}`).join('\r\n')}\r\n\r\n`
    const expected = rows.map((r, i) => (i === 3 ? [r[0], Number(r[1])] : r))
    for (const chunk of [5, 17, 64, 1 << 20]) {
      expect(await read('v.json', json, 'json', 2, chunk), `JSON in chunks of ${chunk}`).toEqual(expected)
      expect(await read('v.csv', csv, 'csv', 2, chunk, true), `CSV in chunks of ${chunk}`).toEqual(rows)
    }
  })

  it.each([
    ['a value of the wrong width', `[["0x${'01'.repeat(20)}", "1"],\n["0x02"]]`, 'v.json:2: leaf 1: ["0x02"] is not a valid (address,uint256): expected an array of 2 values'],
    ['a number above 2^53', '[\n["0x0000000000000000000000000000000000000001", 9007199254740993]]', 'v.json:2: 9007199254740993 is not a safe integer: write amounts as decimal strings'],
    ['a nested value', '[["0x0000000000000000000000000000000000000001", [1]]]', 'v.json:1: value 0: nested arrays and objects are not values of static ABI types'],
    ['a cut file', '[["0x0000000000000000000000000000000000000001", "1"],', 'v.json:1: the file ends before the closing bracket of the values array'],
    ['text after the array', '[["0x0000000000000000000000000000000000000001", "1"]]\nx', 'v.json:2: text after the closing bracket of the values array'],
    ['an empty file', '', 'v.json:1: the file is empty: expected a JSON array of value arrays'],
  ])('names the line of %s in a JSON file', async (_what, text, message) => {
    await expect(read('v.json', text, 'json', 2, 7)).rejects.toThrow(`${join(dir, message)}; fix that line and run the build again`)
  })

  it('names the line of a quoted cell or a wrong width in a CSV file', async () => {
    await expect(read('v.csv', `0x${'01'.repeat(20)},1\n"0x${'02'.repeat(20)}",2\n`, 'csv', 2, 9)).rejects.toThrow(`${join(dir, 'v.csv')}:2: quoted CSV cells are not supported; write plain values`)
    await expect(read('v.csv', `0x${'01'.repeat(20)},1,3\n`, 'csv', 2, 9)).rejects.toThrow(`${join(dir, 'v.csv')}:1: leaf 0: ["0x${'01'.repeat(20)}","1","3"] is not a valid (address,uint256)`)
  })
})

describe('the dump', () => {
  it('is written from the ABI words byte-identical to JSON.stringify(dump()), and OpenZeppelin loads it', async () => {
    const types = ['address', 'uint256', 'int64', 'int256', 'bool', 'bytes4', 'uint8']
    const values = Array.from({ length: 300 }, (_, i) => [
      `0x${(i + 1).toString(16).padStart(40, '0')}`,
      i % 3 === 0 ? ((1n << 256n) - 1n - BigInt(i)).toString() : String(i * 2 ** 40),
      String(-(i * 1_000_000_007) + 5),
      (-(1n << 200n) + BigInt(i)).toString(),
      i % 2 === 0,
      `0x${(i * 65_537).toString(16).padStart(8, '0').slice(-8)}`,
      String(i % 256),
    ])
    const tree = await StandardTree.build(values, types)
    const text = Buffer.concat([...tree.dumpChunks()]).toString('utf8')
    expect(text).toBe(JSON.stringify(tree.dump()))
    expect(StandardMerkleTree.load(JSON.parse(text)).root).toBe(tree.root)
    await tree.writeDump(join(dir, 'dump.json'))
    expect(await readFile(join(dir, 'dump.json'), 'utf8')).toBe(text)
  })

  it('refuses a leaf encoding that is not ABI before any work', () => {
    expect(() => StandardTree.of([['0x01', '1']], ['address', 'uint999'])).toThrow('leaf encoding: "uint999" is not an ABI type; use address, bool, string, bytes, bytes1 to bytes32, uint8 to uint256 or int8 to int256 in steps of 8')
    expect(() => StandardTree.of([['1']], ['bytes33'])).toThrow('"bytes33" is not an ABI type')
    expect(() => StandardTree.load({ format: 'standard-v1', leafEncoding: ['uint7'], tree: [], values: [] })).toThrow('leafEncoding[0]: expected an ABI type name, got "uint7"')
  })
})
