// Worker for tree builds: leaf hashes or a range of internal nodes, over
// shared memory. Plain JS so it starts without a TypeScript loader.
import { parentPort } from 'node:worker_threads'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { hashLeavesRange, hashNodesRange, loadKeccakWasm } from '../base/keccakWasm.mjs'

const engine = process.env.FOMO_KECCAK === 'noble' ? undefined : await loadKeccakWasm()

parentPort.on('message', (job) => {
  if (job.kind === 'leaves') hashLeavesRange(engine, keccak_256, new Uint8Array(job.encoded), job.stride, new Uint8Array(job.out), job.from, job.to)
  else hashNodesRange(engine, keccak_256, new Uint8Array(job.nodes), job.from, job.to)
  parentPort.postMessage({ id: job.id })
})
