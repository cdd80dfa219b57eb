/**
 * A tree build is hashing: two keccaks per leaf, one per internal node. Leaves
 * are independent, and so are the nodes of one depth, so above a threshold
 * each is split between this thread and worker threads over shared memory.
 * Workers are created on first use, kept for reuse and unreferenced while idle
 * so they never hold the process open.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { keccakWasm } from '../base/keccak.ts'
import { hashLeavesRange, hashNodesRange } from '../base/keccakWasm.mjs'

export const PARALLEL_THRESHOLD = 20_000
/** Depths with fewer nodes than this are hashed on this thread (a round trip costs more). */
const PARALLEL_LEVEL = 8192

let pool: Worker[] | undefined
let nextId = 0

function workers(count: number): Worker[] {
  pool ??= []
  while (pool.length < count) {
    const worker = new Worker(new URL('./treeWorker.mjs', import.meta.url))
    worker.unref()
    pool.push(worker)
  }
  return pool.slice(0, count)
}

/** Closes the worker pool (tests and benchmarks; the process may also just exit). */
export async function closeWorkers(): Promise<void> {
  const all = pool ?? []
  pool = undefined
  await Promise.all(all.map((w) => w.terminate()))
}

function run(worker: Worker, job: Record<string, unknown>): Promise<void> {
  const id = nextId++
  return new Promise<void>((resolve, reject) => {
    const onMessage = (message: { id: number }) => {
      if (message.id !== id) return
      worker.off('message', onMessage)
      worker.off('error', reject)
      worker.unref()
      resolve()
    }
    worker.ref()
    worker.on('message', onMessage)
    worker.once('error', reject)
    worker.postMessage({ ...job, id })
  })
}

const isShared = (bytes: Uint8Array) => bytes.buffer instanceof SharedArrayBuffer && bytes.byteOffset === 0

/** Splits [from, to) into one range per thread; the first stays on this thread. */
function split(from: number, to: number, threads: number): Array<[number, number]> {
  const chunk = Math.ceil((to - from) / threads)
  return Array.from({ length: threads }, (_, k): [number, number] => [Math.min(to, from + k * chunk), Math.min(to, from + (k + 1) * chunk)])
}

/** OpenZeppelin leaf hashes of `n` fixed-stride encodings (`encoded` on shared memory for the parallel path). */
export async function hashLeaves(encoded: Uint8Array, stride: number, n: number, threads = availableParallelism()): Promise<Uint8Array> {
  if (n < PARALLEL_THRESHOLD || threads < 2 || !isShared(encoded)) {
    const out = new Uint8Array(32 * n)
    hashLeavesRange(keccakWasm, keccak_256, encoded, stride, out, 0, n)
    return out
  }
  const out = new Uint8Array(new SharedArrayBuffer(32 * n))
  const [mine, ...theirs] = split(0, n, threads)
  const helpers = workers(theirs.length)
  const done = theirs.map(([from, to], k) => run(helpers[k] as Worker, { kind: 'leaves', encoded: encoded.buffer, stride, out: out.buffer, from, to }))
  hashLeavesRange(keccakWasm, keccak_256, encoded, stride, out, mine![0], mine![1])
  await Promise.all(done)
  return out
}

/** Hashes every internal node of a tree of `n` leaves whose leaves are placed in `nodes`, depth by depth. */
export async function hashNodes(nodes: Uint8Array, n: number, threads = availableParallelism(), onProgress?: (done: number, total: number) => void): Promise<void> {
  const internal = n - 1
  if (internal < PARALLEL_THRESHOLD || threads < 2 || !isShared(nodes)) {
    const step = 1 << 16
    for (let end = internal; end > 0; end = Math.max(0, end - step)) {
      hashNodesRange(keccakWasm, keccak_256, nodes, Math.max(0, end - step), end)
      onProgress?.(internal - Math.max(0, end - step), internal)
    }
    return
  }
  const helpers = workers(threads - 1)
  let depth = Math.floor(Math.log2(internal))
  for (; depth >= 0; depth--) {
    const from = 2 ** depth - 1
    const to = Math.min(2 ** (depth + 1) - 1, internal)
    if (from >= to) continue
    if (to - from < PARALLEL_LEVEL) {
      hashNodesRange(keccakWasm, keccak_256, nodes, from, to)
    } else {
      const [mine, ...theirs] = split(from, to, threads)
      const done = theirs.map(([a, b], k) => run(helpers[k] as Worker, { kind: 'nodes', nodes: nodes.buffer, from: a, to: b }))
      hashNodesRange(keccakWasm, keccak_256, nodes, mine![0], mine![1])
      await Promise.all(done)
    }
    onProgress?.(internal - from, internal)
  }
}
