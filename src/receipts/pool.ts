/**
 * The verifier pool: receipts and batches verified on worker threads (one per core by default), handed back
 * as typed-array columns transferred without copying.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ReceiptColumns, type ReceiptFailure } from './columns.ts'
import type { ProviderRegistry } from './registry.ts'
import type { ReceiptDomain } from './types.ts'

export type VerifyJob =
  | { id: number; kind: 'receipts'; joined: string; lengths: Uint32Array }
  | { id: number; kind: 'batch'; batch: string }
  | { id: number; kind: 'registry'; entries: Array<{ deploymentId: string; provider: string }> }

export type VerifyJobResult = { id: number; columns: ReceiptColumns; batchRoot?: string | undefined; batchError?: Omit<ReceiptFailure, 'index'> | undefined }

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
type Pending = { resolve: (result: VerifyJobResult) => void; reject: (error: Error) => void }

/** Receipts per job: small enough to keep every worker busy, large enough to amortise a message. */
const CHUNK = 2_000

// Built (dist), the compiled worker runs as is; from the TypeScript sources, through a loader that registers tsx.
const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './verifyWorker.mjs' : './verifyWorkerMain.js', import.meta.url)

/**
 * Verifies receipts on worker threads, one per core by default: signature
 * checks are CPU-bound and receipts independent. Receipts travel as one
 * joined JSON text with lengths (one copy), are parsed and verified in the
 * worker, and come back as transferred typed-array columns.
 */
export class VerifierPool {
  readonly #workers: Array<{ worker: Worker; pending: Map<number, Pending> }>
  #nextId = 0
  #closed = false

  constructor({ domain, registry, threads = availableParallelism() }: { domain: ReceiptDomain; registry?: ProviderRegistry | undefined; threads?: number }) {
    this.#workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(WORKER_ENTRY, { workerData: { domain, registry: registry?.entries() } })
      const pending = new Map<number, Pending>()
      worker.on('message', (result: VerifyJobResult) => {
        const p = pending.get(result.id)
        pending.delete(result.id)
        p?.resolve({ ...result, columns: ReceiptColumns.revive(result.columns) })
        if (pending.size === 0) worker.unref()
      })
      worker.on('error', (error) => {
        for (const p of pending.values()) p.reject(error)
        pending.clear()
      })
      worker.unref()
      return { worker, pending }
    })
  }

  get size(): number {
    return this.#workers.length
  }

  #send(target: { worker: Worker; pending: Map<number, Pending> }, job: DistributiveOmit<VerifyJob, 'id'>): Promise<VerifyJobResult> {
    if (this.#closed) return Promise.reject(new Error('the verifier pool is closed'))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject })
      target.worker.ref()
      target.worker.postMessage({ ...job, id })
    })
  }

  #dispatch(job: DistributiveOmit<VerifyJob, 'id'>): Promise<VerifyJobResult> {
    return this.#send(this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a)), job)
  }

  /** Verifies receipts given as JSON texts; one row per text, in order, failures listed in `failures`. */
  async verifyTexts(texts: readonly string[]): Promise<ReceiptColumns> {
    const parts: Array<Promise<VerifyJobResult>> = []
    for (let i = 0; i < texts.length; i += CHUNK) {
      const slice = texts.slice(i, i + CHUNK)
      parts.push(this.#dispatch({ kind: 'receipts', joined: slice.join(''), lengths: Uint32Array.from(slice, (t) => t.length) }))
    }
    return ReceiptColumns.concat((await Promise.all(parts)).map((r) => r.columns))
  }

  /** Verifies a batch document's JSON text: every receipt, or the reason the batch is rejected. */
  async verifyBatch(batch: string): Promise<{ columns: ReceiptColumns; root?: string | undefined; error?: Omit<ReceiptFailure, 'index'> | undefined }> {
    const result = await this.#dispatch({ kind: 'batch', batch })
    return { columns: result.columns, root: result.batchRoot, error: result.batchError }
  }

  async setRegistry(registry: ProviderRegistry): Promise<void> {
    await Promise.all(this.#workers.map((w) => this.#send(w, { kind: 'registry', entries: registry.entries() })))
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()))
  }
}
