/**
 * The Merkle engine against @openzeppelin/merkle-tree: roots, proofs, multiproofs and dumps both ways.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { hexToBytes, toHex } from '../base/bytes.ts'
import { JsonError, parseJsonDocument } from '../base/json.ts'
import { getMultiProof, MerkleProofError, processMultiProof, processProof } from './core.ts'
import { keccak256 } from '../base/keccak.ts'
import { closeWorkers } from './parallel.ts'
import { StandardTree, TreeError } from './tree.ts'

afterAll(() => closeWorkers())

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'merkle')
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b))
const uint = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map(String)
const values = fc.uniqueArray(fc.tuple(address, uint), { minLength: 1, maxLength: 24, selector: ([a, v]) => `${a}${v}` })
const ENC = ['address', 'uint256']

function flipBit(hex: string, bit: number): string {
  const bytes = hexToBytes(hex, (hex.length - 2) / 2)
  bytes[Math.floor(bit / 8) % bytes.length]! ^= 1 << bit % 8
  return toHex(bytes)
}

describe('OpenZeppelin interoperability', () => {
  it('same roots, dumps and proofs as StandardMerkleTree.of, sorted or not', () => {
    fc.assert(
      fc.property(values, fc.boolean(), (vs, sortLeaves) => {
        const oz = StandardMerkleTree.of(vs, ENC, { sortLeaves })
        const ours = StandardTree.of(vs, ENC, { sortLeaves })
        expect(ours.root).toBe(oz.root)
        expect(JSON.stringify(ours.dump())).toBe(JSON.stringify(oz.dump()))
        for (let i = 0; i < vs.length; i++) expect(ours.getProof(i)).toEqual(oz.getProof(i))
      }),
      { numRuns: 150 },
    )
  })

  it('loads each other\'s dumps in both directions', () => {
    fc.assert(
      fc.property(values, (vs) => {
        const oz = StandardMerkleTree.of(vs, ENC)
        const ours = StandardTree.load(oz.dump())
        expect(ours.root).toBe(oz.root)
        expect(StandardMerkleTree.load(ours.dump() as never).root).toBe(oz.root)
      }),
      { numRuns: 100 },
    )
  })

  it('handles dynamic and other static encodings like OpenZeppelin', () => {
    const cases: Array<[string[], unknown[][]]> = [
      [['string', 'bool'], [['hello', true], ['', false], ['ünïcode', true]]],
      [['bytes', 'int256'], [['0x', '-5'], ['0xdeadbeef', '57896044618658097711785492504343953926634992332820282564']]],
      [['uint256[]', 'bytes32'], [[['1', '2'], `0x${'11'.repeat(32)}`], [[], `0x${'22'.repeat(32)}`]]],
      [['address', 'address', 'uint256'], [[`0x${'ab'.repeat(20)}`, `0x${'cd'.repeat(20)}`, '7']]],
      [['uint8', 'bytes4', 'bool'], [['255', '0x01020304', false], ['0', '0xffffffff', true]]],
    ]
    for (const [enc, vs] of cases) {
      const oz = StandardMerkleTree.of(vs as never, enc)
      const ours = StandardTree.of(vs, enc)
      expect(ours.root).toBe(oz.root)
      expect(StandardTree.load(oz.dump()).root).toBe(oz.root)
      expect(StandardMerkleTree.load(ours.dump() as never).root).toBe(oz.root)
      const subset = [...new Set([0, vs.length - 1])]
      expect(ours.getMultiProof(subset)).toEqual(oz.getMultiProof(subset))
    }
  })

  it('keeps golden dumps loadable forever', () => {
    for (const file of ['oz-address-uint256.json', 'fomo-address-address-uint256.json', 'oz-string-bool.json']) {
      const dump = JSON.parse(readFileSync(join(fixtures, file), 'utf8'))
      const ours = StandardTree.load(dump)
      expect(ours.root).toBe(dump.tree[0])
      expect(StandardMerkleTree.load(dump).root).toBe(dump.tree[0])
      expect(JSON.stringify(ours.dump())).toBe(JSON.stringify(StandardMerkleTree.load(dump).dump()))
    }
  })
})

describe('proofs (security checklist 14-18)', () => {
  it('every leaf proves; a flipped bit of the value, proof or root fails', () => {
    fc.assert(
      fc.property(values, fc.nat(), fc.nat(), (vs, pick, bit) => {
        const tree = StandardTree.of(vs, ENC)
        const i = pick % vs.length
        const proof = tree.getProof(i)
        expect(StandardTree.verify(tree.root, ENC, vs[i]!, proof)).toBe(true)
        expect(StandardTree.verify(flipBit(tree.root, bit), ENC, vs[i]!, proof)).toBe(false)
        const [a, v] = vs[i]!
        expect(StandardTree.verify(tree.root, ENC, [flipBit(a, bit), v], proof)).toBe(false)
        expect(StandardTree.verify(tree.root, ENC, [a, (BigInt(v) ^ (1n << BigInt(bit % 256))).toString()], proof)).toBe(false)
        if (proof.length > 0) {
          const k = bit % proof.length
          const tampered = proof.map((p, j) => (j === k ? flipBit(p, bit >> 3) : p))
          expect(StandardTree.verify(tree.root, ENC, vs[i]!, tampered)).toBe(false)
          expect(StandardTree.verify(tree.root, ENC, vs[i]!, proof.slice(1))).toBe(false)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('a proof from another tree fails', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        const ta = StandardTree.of(a, ENC)
        const tb = StandardTree.of(b, ENC)
        fc.pre(ta.root !== tb.root && !b.some(([x, y]) => x === a[0]![0] && y === a[0]![1]))
        expect(StandardTree.verify(tb.root, ENC, a[0]!, ta.getProof(0))).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('an internal node cannot pose as a leaf: leaves are double-hashed', () => {
    const vs = [[`0x${'01'.repeat(20)}`, '1'], [`0x${'02'.repeat(20)}`, '2'], [`0x${'03'.repeat(20)}`, '3'], [`0x${'04'.repeat(20)}`, '4']]
    const tree = StandardTree.of(vs, ENC)
    const node1 = tree.nodes.slice(32, 64)
    const sibling = toHex(tree.nodes, 64, 96)
    // Raw hashing would accept node 1 with the one-element proof [node 2]...
    expect(toHex(processProof(node1, [hexToBytes(sibling, 32)]))).toBe(tree.root)
    // ...but as a leaf value (its children as a 64-byte pair) it is hashed twice and fails.
    const left = toHex(tree.nodes, 96, 128)
    const right = toHex(tree.nodes, 128, 160)
    expect(StandardTree.verify(tree.root, ['bytes32', 'bytes32'], [left, right], [sibling])).toBe(false)
    expect(StandardTree.verify(tree.root, ['bytes32', 'bytes32'], [right, left], [sibling])).toBe(false)
  })

  it('zero root never verifies', () => {
    fc.assert(
      fc.property(values, (vs) => {
        const tree = StandardTree.of(vs, ENC)
        expect(StandardTree.verify(`0x${'00'.repeat(32)}`, ENC, vs[0]!, tree.getProof(0))).toBe(false)
      }),
      { numRuns: 100 },
    )
  })

  it('empty trees are an error; a single leaf is its own root with an empty proof', () => {
    expect(() => StandardTree.of([], ENC)).toThrow(TreeError)
    const one = StandardTree.of([[`0x${'01'.repeat(20)}`, '5']], ENC)
    expect(one.root).toBe(one.leafHash([`0x${'01'.repeat(20)}`, '5']))
    expect(one.getProof(0)).toEqual([])
    expect(one.verify(0, [])).toBe(true)
  })

  it('input order does not change a sorted tree\'s root', () => {
    fc.assert(
      fc.property(values, fc.infiniteStream(fc.nat()), (vs, stream) => {
        const shuffled = [...vs]
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (stream.next().value as number) % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
        }
        expect(StandardTree.of(shuffled, ENC).root).toBe(StandardTree.of(vs, ENC).root)
      }),
      { numRuns: 300 },
    )
  })

  it('dump and load round-trip, and a tampered dump is refused', () => {
    fc.assert(
      fc.property(values, fc.nat(), (vs, pick) => {
        const tree = StandardTree.of(vs, ENC)
        const dump = tree.dump()
        expect(StandardTree.load(JSON.parse(JSON.stringify(dump))).dump()).toEqual(dump)
        const tampered = JSON.parse(JSON.stringify(dump))
        const k = pick % tampered.tree.length
        tampered.tree[k] = flipBit(tampered.tree[k], pick)
        expect(() => StandardTree.load(tampered)).toThrow()
        const value = JSON.parse(JSON.stringify(dump))
        value.values[pick % vs.length].value[1] = (BigInt(vs[pick % vs.length]![1]) ^ 1n).toString()
        expect(() => StandardTree.load(value)).toThrow(TreeError)
      }),
      { numRuns: 200 },
    )
    expect(() => StandardTree.load({ format: 'standard-v2', leafEncoding: ENC, tree: [], values: [] })).toThrow(/standard-v1/)
  })

  it('multiproofs of random subsets verify and equal OpenZeppelin\'s; tampered ones fail', () => {
    fc.assert(
      fc.property(values, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.nat(), (vs, picks, bit) => {
        const indices = [...new Set(picks.map((p) => p % vs.length))]
        const tree = StandardTree.of(vs, ENC)
        const multi = tree.getMultiProof(indices)
        expect(multi).toEqual(StandardMerkleTree.of(vs, ENC).getMultiProof(indices))
        expect(StandardTree.verifyMultiProof(tree.root, ENC, multi)).toBe(true)
        if (multi.proof.length > 0) {
          const k = bit % multi.proof.length
          expect(StandardTree.verifyMultiProof(tree.root, ENC, { ...multi, proof: multi.proof.map((p, j) => (j === k ? flipBit(p, bit) : p)) })).toBe(false)
          expect(StandardTree.verifyMultiProof(tree.root, ENC, { ...multi, proof: multi.proof.slice(1) })).toBe(false)
        }
        if (multi.proofFlags.length > 0) {
          const k = bit % multi.proofFlags.length
          expect(StandardTree.verifyMultiProof(tree.root, ENC, { ...multi, proofFlags: multi.proofFlags.map((f, j) => (j === k ? !f : f)) })).toBe(false)
        }
        expect(StandardTree.verifyMultiProof(tree.root, ENC, { ...multi, proof: [...multi.proof, tree.root] })).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('rejects the multiproof forms of CVE-2023-34459 and empty leaf sets', () => {
    const vs = Array.from({ length: 5 }, (_, i) => [`0x${String(i + 1).padStart(40, '0')}`, String(i)])
    const tree = StandardTree.of(vs, ENC)
    const root = tree.nodes.slice(0, 32)
    expect(() => processMultiProof({ leaves: [], proof: [root], proofFlags: [] })).toThrow(MerkleProofError)
    const leaf = tree.nodes.slice(32 * tree.treeIndices[0]!, 32 * tree.treeIndices[0]! + 32)
    // The forged shape: leaves + proof != flags + 1, with proof elements left unused.
    expect(() => processMultiProof({ leaves: [leaf], proof: [root, root], proofFlags: [false] })).toThrow(/must equal/)
    expect(() => processMultiProof({ leaves: [leaf, leaf], proof: [], proofFlags: [true, true] })).toThrow(MerkleProofError)
    expect(getMultiProof(tree.nodes, []).proof).toHaveLength(1)
    expect(StandardTree.verifyMultiProof(tree.root, ENC, { leaves: [], proof: [tree.root], proofFlags: [] })).toBe(false)
  })
})

describe('lookup by key', () => {
  it('find over orderBy gives every value whose key words match, as a scan would', () => {
    const owner = fc.constantFrom(...[1, 2, 3, 4].map((k) => `0x${String(k).repeat(40)}`))
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(owner, owner, uint), { minLength: 1, maxLength: 40, selector: (v) => v.join() }), owner, owner, (vs, a, b) => {
        const tree = StandardTree.of(vs, ['address', 'address', 'uint256'])
        const word = (addr: string) => hexToBytes(`0x${'00'.repeat(12)}${addr.slice(2)}`, 32)
        const scan = (match: (v: [string, string, string]) => boolean) => vs.flatMap((v, i) => (match(v) ? [i] : []))
        expect(tree.find(tree.orderBy([0]), [word(a)])).toEqual(scan((v) => v[0] === a))
        expect(tree.find(tree.orderBy([1, 0]), [word(b), word(a)])).toEqual(scan((v) => v[1] === b && v[0] === a))
      }),
      { numRuns: 200 },
    )
    expect(() => StandardTree.of([['x', true]], ['string', 'bool']).orderBy([0])).toThrow(/static leaf encoding/)
  })
})

describe('loading dumps from bytes (files past the longest string)', () => {
  const bytesOf = (text: string) => new TextEncoder().encode(text)
  /** What `load` and `loadBytes` make of a document: the same tree, or errors of the same kind and message. */
  const outcome = (load: () => StandardTree) => {
    try {
      const t = load()
      return { root: t.root, dump: JSON.stringify(t.dump()) }
    } catch (error) {
      return { error: (error as Error).name, message: (error as Error).message.replace(/^([^\n]*)[\s\S]*$/, '$1') }
    }
  }

  it('reads our dumps, OpenZeppelin\'s and indented ones as load does', () => {
    fc.assert(
      fc.property(values, fc.boolean(), (vs, sortLeaves) => {
        const ours = StandardTree.of(vs, ENC, { sortLeaves })
        const bytes = Buffer.concat([...ours.dumpChunks()])
        expect(StandardTree.loadBytes(bytes).dump()).toEqual(ours.dump())
        const oz = StandardMerkleTree.of(vs, ENC, { sortLeaves }).dump()
        expect(StandardTree.loadBytes(bytesOf(JSON.stringify(oz, null, 2))).dump()).toEqual(ours.dump())
      }),
      { numRuns: 100 },
    )
    for (const file of ['oz-address-uint256.json', 'fomo-address-address-uint256.json', 'oz-string-bool.json']) {
      const text = readFileSync(join(fixtures, file), 'utf8')
      expect(StandardTree.loadBytes(bytesOf(text)).dump()).toEqual(StandardTree.load(JSON.parse(text)).dump())
    }
  })

  it('loadBytesAsync loads the same tree, giving the event loop turns on the way', async () => {
    const n = 40_000
    const tree = await StandardTree.build(Array.from({ length: n }, (_, i) => [`0x${i.toString(16).padStart(40, '0')}`, String(i)]), ENC)
    const bytes = Buffer.concat([...tree.dumpChunks()])
    let turns = 0
    const timer = setInterval(() => turns++, 0)
    const loaded = await StandardTree.loadBytesAsync(bytes)
    clearInterval(timer)
    expect(loaded.root).toBe(tree.root)
    expect(loaded.getProof(n - 1)).toEqual(tree.getProof(n - 1))
    // 40,000 values and as many nodes are several steps of 8,192: timers ran between them.
    expect(turns).toBeGreaterThan(1)
    const broken = JSON.parse(bytes.toString())
    broken.values[n - 1].value[1] = '7'
    await expect(StandardTree.loadBytesAsync(bytesOf(JSON.stringify(broken)))).rejects.toThrow(`values[${n - 1}] does not hash`)
  })

  it('refuses JSON documents load refuses, with the same error', () => {
    fc.assert(
      fc.property(values, fc.nat(), (vs, pick) => {
        const dump = StandardTree.of(vs, ENC).dump()
        const k = pick % dump.tree.length
        const broken: unknown[] = [
          { ...dump, tree: dump.tree.map((h, i) => (i === k ? flipBit(h, pick) : h)) },
          { ...dump, tree: dump.tree.map((h, i) => (i === k ? h.slice(0, 60) : h)) },
          { ...dump, tree: dump.tree.map((h, i) => (i === k ? h.replace('0x', '0X') : h)) },
          { ...dump, tree: dump.tree.map((h, i) => (i === k ? 7 : h)) },
          { ...dump, values: dump.values.map((v, i) => (i === pick % vs.length ? { ...v, value: [v.value[0], (BigInt(v.value[1] as string) ^ 1n).toString()] } : v)) },
          { ...dump, values: dump.values.slice(1) },
          { ...dump, values: dump.values.map((v, i) => (i === pick % vs.length ? { ...v, extra: 1 } : v)) },
          { ...dump, tree: [] },
          { ...dump, format: 'standard-v2' },
          { format: dump.format, leafEncoding: dump.leafEncoding, tree: dump.tree },
          { ...dump, more: true },
        ]
        for (const doc of broken) {
          const want = outcome(() => StandardTree.load(JSON.parse(JSON.stringify(doc))))
          expect(want).toHaveProperty('error')
          expect(outcome(() => StandardTree.loadBytes(bytesOf(JSON.stringify(doc))))).toEqual(want)
        }
      }),
      { numRuns: 50 },
    )
  })

  it('dumpValues gives the published values in order, checked against nothing (what an auditor compares)', () => {
    fc.assert(
      fc.property(values, (vs) => {
        const dump = StandardMerkleTree.of(vs, ENC).dump()
        expect(StandardTree.dumpValues(bytesOf(JSON.stringify(dump, null, 1)))).toEqual(dump.values.map((v) => v.value))
        // A value that no longer hashes to its node is still read as published.
        const altered = { ...dump, values: dump.values.map((v, i) => (i === 0 ? { ...v, value: [v.value[0], '1'] } : v)) }
        expect(StandardTree.dumpValues(bytesOf(JSON.stringify(altered)))[0]).toEqual([dump.values[0]!.value[0], '1'])
      }),
      { numRuns: 50 },
    )
    expect(() => StandardTree.dumpValues(bytesOf('{"values":[{"value":1}]}'), 'spend-tree.json')).toThrow(/values\[0\]\.value: expected an array/)
  })

  it('refuses what JSON.parse and load refuse that a byte scan could let through, with load\'s error and offset', () => {
    const text = JSON.stringify(StandardTree.of([[`0x${'11'.repeat(20)}`, '5'], [`0x${'22'.repeat(20)}`, '6']], ENC).dump())
    // Valid JSON that load refuses: the same error, message and offset.
    for (const bad of [
      text.replace('{"format"', '{"__proto__":{},"format"'),
      text.replace('"format"', '"junk":[1,2,3],"format"'),
      text.replace('"treeIndex":1', '"treeIndex":1,"treeIndex":1'),
    ]) {
      let want: unknown
      try {
        StandardTree.load(parseJsonDocument(bad, 'dump.json'))
      } catch (error) {
        want = { error: (error as Error).name, message: (error as Error).message.split('\n')[0] }
      }
      expect(want).toBeDefined()
      expect(outcome(() => StandardTree.loadBytes(bytesOf(bad), 'dump.json'))).toEqual(want)
    }
    // Text JSON.parse refuses: a JsonError too (its wording is the scan's, not the engine's).
    for (const bad of [
      text.replace('"format":"standard-v1"', '"format":\uFEFF"standard-v1"'),
      text.replace('"tree":["', '"tree":[\uFEFF"'),
      text.replace('"format"', '"form\\qat":1,"format"'),
      text.replace('"tree":[', '"tree":[x,'),
    ]) {
      expect(() => parseJsonDocument(bad)).toThrow(JsonError)
      expect(() => StandardTree.loadBytes(bytesOf(bad), 'dump.json')).toThrow(JsonError)
    }
  })

  it('refuses text that is not one JSON document, naming the offset', () => {
    const text = JSON.stringify(StandardTree.of([[`0x${'11'.repeat(20)}`, '5']], ENC).dump())
    for (const bad of [text.slice(0, -1), `${text} x`, text.replace('"tree"', '"format":"standard-v1","tree"'), text.replace('],"values"', ',],"values"'), text.replace('"tree":[', '"tree":[,'), `[${text}]`])
      expect(() => StandardTree.loadBytes(bytesOf(bad), 'spend-tree.json')).toThrow(/^spend-tree\.json: .* at offset \d+/)
  })
})

describe('large builds', () => {
  it('the parallel build equals the single-threaded one and OpenZeppelin\'s root', async () => {
    const vs = Array.from({ length: 30_001 }, (_, i) => [toHex(keccak256(new Uint8Array([i & 255, i >> 8, i >> 16])).subarray(0, 20)), String(i * 7919)])
    const parallel = await StandardTree.build(vs, ENC, { threads: 2 })
    const single = await StandardTree.build(vs, ENC, { threads: 1 })
    expect(parallel.root).toBe(single.root)
    expect(parallel.root).toBe(StandardTree.of(vs, ENC).root)
    const oz = StandardMerkleTree.of(vs.slice(0, 2000), ENC)
    expect((await StandardTree.build(vs.slice(0, 2000), ENC, { threads: 2 })).root).toBe(oz.root)
    const dir = await mkdtemp(join(tmpdir(), 'fomo-tree-'))
    await parallel.writeDump(join(dir, 'dump.json'))
    expect(await readFile(join(dir, 'dump.json'), 'utf8')).toBe(JSON.stringify(parallel.dump()))
  })

  it('streams values from an async iterable', async () => {
    async function* gen() {
      for (let i = 0; i < 100; i++) yield [`0x${String(i).padStart(40, '0')}`, String(i)]
    }
    const all = Array.from({ length: 100 }, (_, i) => [`0x${String(i).padStart(40, '0')}`, String(i)])
    expect((await StandardTree.build(gen(), ENC)).root).toBe(StandardMerkleTree.of(all, ENC).root)
  })

  it('names the bad value', () => {
    expect(() => StandardTree.of([[`0x${'01'.repeat(20)}`, '1'], ['0x1234', '2']], ENC)).toThrow(/leaf 1: "0x1234" is not a valid address/)
    expect(() => StandardTree.of([[`0x${'01'.repeat(20)}`, '-1']], ENC)).toThrow(/not a valid uint256/)
    expect(() => StandardTree.of([[`0x${'01'.repeat(20)}`, (1n << 256n).toString()]], ENC)).toThrow(/out of range/)
  })
})
