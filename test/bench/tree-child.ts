/**
 * One tree build in a fresh process, so time and peak memory belong to one
 * implementation: `tree-child.ts <fomo|oz> <leaves>` prints one JSON line.
 * Both build from the same in-memory values, as StandardMerkleTree.of takes them.
 */
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { toHex } from '../../src/base/bytes.ts'
import { keccak256 } from '../../src/base/keccak.ts'
import { closeWorkers } from '../../src/merkle/parallel.ts'
import { StandardTree } from '../../src/merkle/tree.ts'

const [impl, count] = process.argv.slice(2)
const n = Number(count)
const values: [string, string][] = new Array(n)
const seed = new Uint8Array(4)
for (let i = 0; i < n; i++) {
  new DataView(seed.buffer).setUint32(0, i)
  values[i] = [toHex(keccak256(seed).subarray(0, 20)), String(1_000_000 + ((i * 7919) % 1_000_003) * 1000)]
}
const baseline = process.memoryUsage().rss
const start = performance.now()
const root = impl === 'oz' ? StandardMerkleTree.of(values, ['address', 'uint256']).root : (await StandardTree.build(values, ['address', 'uint256'])).root
const ms = performance.now() - start
const peak = process.resourceUsage().maxRSS * 1024
console.log(JSON.stringify({ impl, n, ms, root, peakRssMB: peak / 2 ** 20, baselineRssMB: baseline / 2 ** 20 }))
await closeWorkers()
