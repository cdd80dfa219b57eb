/**
 * The verifier pool: receipts and batches verified on worker threads (one per core by default), handed back
 * as typed-array columns transferred without copying.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ReceiptColumns, type ReceiptFailure } from './columns.ts'
import type { ProviderRegistry } from './registry.ts'
import type { ReceiptDomain } from './types.ts'

/**
 * A job as the worker receives it. Receipt texts travel as their UTF-8 bytes in one transferred buffer with
 * each text's length in UTF-16 units (`lengths`): the only copy of a receipt the calling thread makes is
 * writing those bytes; decoding and parsing happen on the worker.
 */
export type VerifyJob =
  | { id: number; kind: 'receipts'; bytes: Uint8Array; lengths: Uint32Array }
  | { id: number; kind: 'batch'; batch: string }
  | { id: number; kind: 'registry'; entries: Array<{ deploymentId: string; provider: string }> }

export type VerifyJobResult = { id: number; columns: ReceiptColumns; batchRoot?: string | undefined; batchError?: Omit<ReceiptFailure, 'index'> | undefined }

/** What a caller hands the pool: receipt texts are encoded only when a worker is about to take them. */
type Work =
  | { kind: 'receipts'; texts: readonly string[] }
  | { kind: 'batch'; batch: string }
  | { kind: 'registry'; entries: Array<{ deploymentId: string; provider: string }> }

type Slot = { worker: Worker; running: Map<number, Queued>; dead: Error | undefined }
type Queued = { work: Work; resolve: (result: VerifyJobResult) => void; reject: (error: Error) => void }

/** Receipts per job: small enough to keep every worker busy, large enough to amortise a message. */
const CHUNK = 2_000
/**
 * Jobs posted to one worker at a time: one running and one ready, so a worker never waits for the calling
 * thread, while the rest wait in the pool unencoded and go to whichever worker frees first (a batch of
 * 100,000 receipts and a chunk of 2,000 are not the same amount of work, so counting posted jobs balances badly).
 */
const WINDOW = 2

// Built (dist), the compiled worker runs as is; from the TypeScript sources, through a loader that registers tsx.
const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './verifyWorker.mjs' : './verifyWorkerMain.js', import.meta.url)

/** The texts' UTF-8 bytes in one transferable buffer (not Node's shared pool), with their UTF-16 lengths. */
function encodeTexts(texts: readonly string[]): { bytes: Uint8Array; lengths: Uint32Array } {
  const lengths = new Uint32Array(texts.length)
  let total = 0
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]!
    lengths[i] = t.length
    total += Buffer.byteLength(t, 'utf8')
  }
  const bytes = Buffer.allocUnsafeSlow(total)
  let offset = 0
  for (const t of texts) offset += bytes.write(t, offset, 'utf8')
  return { bytes, lengths }
}

/**
 * Verifies receipts on worker threads, one per core by default: signature
 * checks are CPU-bound and receipts independent. Receipt texts are written
 * once as UTF-8 into a buffer transferred to the worker (no string copied
 * twice, no object cloned), parsed and verified there, and come back as
 * transferred typed-array columns. Each worker holds at most two jobs; the
 * rest wait here, so work is encoded only when a worker is ready for it and
 * goes to the first one free. `queued` says how many jobs wait, for a caller
 * that sheds load.
 */
export class VerifierPool {
  readonly #slots: Slot[]
  readonly #waiting: Queued[] = []
  #queued = 0
  #nextId = 0
  #closed = false

  constructor({ domain, registry, threads = availableParallelism() }: { domain: ReceiptDomain; registry?: ProviderRegistry | undefined; threads?: number }) {
    this.#slots = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(WORKER_ENTRY, { workerData: { domain, registry: registry?.entries() } })
      const slot: Slot = { worker, running: new Map(), dead: undefined }
      worker.on('message', (result: VerifyJobResult) => {
        const job = slot.running.get(result.id)
        slot.running.delete(result.id)
        job?.resolve({ ...result, columns: ReceiptColumns.revive(result.columns) })
        this.#pump()
        if (slot.running.size === 0) worker.unref()
      })
      worker.on('error', (error) => {
        slot.dead = error
        for (const job of slot.running.values()) job.reject(error)
        slot.running.clear()
        // With no worker left, nothing would ever take what waits.
        if (this.#slots.every((s) => s.dead)) for (const job of this.#waiting.splice(0)) job.reject(error)
      })
      worker.unref()
      return slot
    })
  }

  get size(): number {
    return this.#slots.length
  }

  /** Jobs waiting for a worker (not yet handed to one): receipt chunks of up to 2,000 and whole batches. */
  get queued(): number {
    return this.#queued
  }

  #post(slot: Slot, job: Queued): void {
    const id = this.#nextId++
    slot.running.set(id, job)
    slot.worker.ref()
    const { work } = job
    if (work.kind === 'receipts') {
      const { bytes, lengths } = encodeTexts(work.texts)
      slot.worker.postMessage({ id, kind: 'receipts', bytes, lengths } satisfies VerifyJob, [bytes.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer])
    } else slot.worker.postMessage({ ...work, id } satisfies VerifyJob)
  }

  /** Hands waiting jobs, oldest first, to workers with room in their window. */
  #pump(): void {
    while (this.#waiting.length > 0) {
      let best: Slot | undefined
      for (const s of this.#slots) if (!s.dead && s.running.size < WINDOW && (!best || s.running.size < best.running.size)) best = s
      if (!best) return
      const job = this.#waiting.shift()!
      this.#queued--
      this.#post(best, job)
    }
  }

  #enqueue(work: Work): Promise<VerifyJobResult> {
    if (this.#closed) return Promise.reject(new Error('the verifier pool is closed'))
    const dead = this.#slots.find((s) => s.dead)
    if (dead && this.#slots.every((s) => s.dead)) return Promise.reject(dead.dead!)
    return new Promise((resolve, reject) => {
      this.#waiting.push({ work, resolve, reject })
      this.#queued++
      this.#pump()
    })
  }

  /** Verifies receipts given as JSON texts; one row per text, in order, failures listed in `failures`. */
  async verifyTexts(texts: readonly string[]): Promise<ReceiptColumns> {
    const parts: Array<Promise<VerifyJobResult>> = []
    // Even chunks of at most CHUNK, so a request of a little more than CHUNK still uses two workers evenly.
    const jobs = Math.ceil(texts.length / CHUNK)
    const per = Math.ceil(texts.length / Math.max(1, jobs))
    for (let i = 0; i < texts.length; i += per) parts.push(this.#enqueue({ kind: 'receipts', texts: texts.slice(i, i + per) }))
    const results = await Promise.all(parts)
    return results.length === 1 ? results[0]!.columns : ReceiptColumns.concat(results.map((r) => r.columns))
  }

  /** Verifies a batch document's JSON text: every receipt, or the reason the batch is rejected. */
  async verifyBatch(batch: string): Promise<{ columns: ReceiptColumns; root?: string | undefined; error?: Omit<ReceiptFailure, 'index'> | undefined }> {
    const result = await this.#enqueue({ kind: 'batch', batch })
    return { columns: result.columns, root: result.batchRoot, error: result.batchError }
  }

  /** Every worker takes the new registry; jobs already handed to a worker finish under the old one. */
  async setRegistry(registry: ProviderRegistry): Promise<void> {
    const entries = registry.entries()
    await Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<VerifyJobResult>((resolve, reject) => {
            if (this.#closed) return reject(new Error('the verifier pool is closed'))
            // Past the window: a registry change is small and must reach this very worker.
            this.#post(slot, { work: { kind: 'registry', entries }, resolve, reject })
          }),
      ),
    )
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const job of this.#waiting.splice(0)) job.reject(new Error('the verifier pool is closed'))
    this.#queued = 0
    await Promise.all(this.#slots.map(({ worker }) => worker.terminate()))
  }
}
