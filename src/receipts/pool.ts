import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { ProviderRegistry } from './registry.ts'
import type { ReceiptDomain } from './types.ts'
import type { VerifyOutcome } from './verify.ts'

export type VerifyJob =
  | { id: number; kind: 'receipts'; texts?: string[]; documents?: unknown[] }
  | { id: number; kind: 'batch'; batch: unknown }
  | { id: number; kind: 'registry'; entries: Array<{ deploymentId: string; provider: string }> }

export type VerifyJobResult = { id: number; outcomes: VerifyOutcome[] }

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

type Pending = { resolve: (outcomes: VerifyOutcome[]) => void; reject: (error: Error) => void }

/**
 * Verifies receipts on worker threads, one per core by default: signature
 * recovery is CPU-bound and receipts are independent. Jobs go to the worker
 * with the fewest outstanding jobs. Receipts travel as JSON text (cheap to
 * copy) and are parsed and verified in the worker.
 */
export class VerifierPool {
  readonly #workers: Array<{ worker: Worker; pending: Map<number, Pending> }>
  #nextId = 0
  #closed = false

  constructor({ domain, registry, threads = availableParallelism() }: { domain: ReceiptDomain; registry?: ProviderRegistry | undefined; threads?: number }) {
    this.#workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(new URL('./verifyWorker.mjs', import.meta.url), { workerData: { domain, registry: registry?.entries() } })
      const pending = new Map<number, Pending>()
      worker.on('message', (result: VerifyJobResult) => {
        const p = pending.get(result.id)
        pending.delete(result.id)
        p?.resolve(result.outcomes)
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

  #dispatch(job: DistributiveOmit<VerifyJob, 'id'>): Promise<VerifyOutcome[]> {
    if (this.#closed) return Promise.reject(new Error('the verifier pool is closed'))
    const target = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject })
      target.worker.ref()
      target.worker.postMessage({ ...job, id })
    })
  }

  /** Verifies receipts given as JSON texts, split across the workers; outcomes in input order. */
  async verifyTexts(texts: readonly string[]): Promise<VerifyOutcome[]> {
    const chunk = Math.max(1, Math.ceil(texts.length / this.#workers.length))
    const parts: Array<Promise<VerifyOutcome[]>> = []
    for (let i = 0; i < texts.length; i += chunk) parts.push(this.#dispatch({ kind: 'receipts', texts: texts.slice(i, i + chunk) }))
    return (await Promise.all(parts)).flat()
  }

  /** Verifies parsed receipt documents. */
  async verifyDocuments(documents: readonly unknown[]): Promise<VerifyOutcome[]> {
    const chunk = Math.max(1, Math.ceil(documents.length / this.#workers.length))
    const parts: Array<Promise<VerifyOutcome[]>> = []
    for (let i = 0; i < documents.length; i += chunk) parts.push(this.#dispatch({ kind: 'receipts', documents: documents.slice(i, i + chunk) }))
    return (await Promise.all(parts)).flat()
  }

  /** Verifies a batch document (or its JSON text): every receipt, or one failure outcome. */
  verifyBatch(batch: unknown): Promise<VerifyOutcome[]> {
    return this.#dispatch({ kind: 'batch', batch })
  }

  async setRegistry(registry: ProviderRegistry): Promise<void> {
    await Promise.all(this.#workers.map(({ worker, pending }) => {
      const id = this.#nextId++
      return new Promise<VerifyOutcome[]>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        worker.ref()
        worker.postMessage({ id, kind: 'registry', entries: registry.entries() })
      })
    }))
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()))
  }
}
