/**
 * The ingest client: sends signed receipts and batches to an aggregator over HTTP in chunks, retrying on
 * overload and network errors (a resent receipt comes back as a duplicate, never counted twice), and sums the answers.
 */
import { BaseError } from '../base/errors.ts'

export type IngestSummary = { requests: number; accepted: number; duplicates: number; rejected: number; retries: number; rejections: Array<{ index: number; reason: string; message: string }> }

export class IngestError extends BaseError {
  override name = 'IngestError'
  constructor(message: string, hint?: string) {
    super('INGEST', message, hint ? { metaMessages: [hint] } : {})
  }
}

export type IngestClientOptions = {
  url: string
  /** Receipts per request. */
  batchSize?: number
  /** Attempts per request on network errors and 5xx answers. */
  attempts?: number
  /** Requests in flight at once. */
  concurrency?: number
  onProgress?: (done: number, total: number) => void
  sleep?: (ms: number) => Promise<void>
}

/**
 * Sends receipts to an aggregator in requests of `batchSize`, retrying with
 * exponential backoff on network errors and 5xx answers. Retrying is safe: a
 * receipt the aggregator already stored comes back as a duplicate, never
 * counted twice. 4xx answers are not retried: they name what to fix.
 */
export async function sendReceipts(texts: readonly string[], options: IngestClientOptions): Promise<IngestSummary> {
  const { batchSize = 1000, attempts = 6, concurrency = 2 } = options
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
  const summary: IngestSummary = { requests: 0, accepted: 0, duplicates: 0, rejected: 0, retries: 0, rejections: [] }
  const chunks: Array<[number, readonly string[]]> = []
  for (let i = 0; i < texts.length; i += batchSize) chunks.push([i, texts.slice(i, i + batchSize)])
  let next = 0
  let done = 0
  const worker = async () => {
    while (next < chunks.length) {
      const [offset, chunk] = chunks[next++]!
      const body = `[${chunk.join(',')}]`
      const answer = await post(`${options.url.replace(/\/$/, '')}/v1/receipts`, body, attempts, sleep, summary)
      summary.requests++
      summary.accepted += answer.accepted
      summary.duplicates += answer.duplicates
      summary.rejected += answer.rejected
      for (const r of answer.results) if (r.status === 'rejected') summary.rejections.push({ index: offset + r.index, reason: r.reason, message: r.message })
      done += chunk.length
      options.onProgress?.(done, texts.length)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker))
  return summary
}

/** Sends one batch document. */
export async function sendBatch(url: string, batchText: string, options: { attempts?: number; sleep?: (ms: number) => Promise<void> } = {}) {
  const summary: IngestSummary = { requests: 0, accepted: 0, duplicates: 0, rejected: 0, retries: 0, rejections: [] }
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
  return post(`${url.replace(/\/$/, '')}/v1/batches`, batchText, options.attempts ?? 6, sleep, summary) as Promise<BatchAnswer>
}

type Answer = { accepted: number; duplicates: number; rejected: number; results: Array<{ index: number; status: string; reason: string; message: string }> }
type BatchAnswer = Answer & { batch: 'accepted' | 'rejected'; reason?: string; message?: string }

async function post(url: string, body: string, attempts: number, sleep: (ms: number) => Promise<void>, summary: IngestSummary): Promise<Answer> {
  let lastError = ''
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const text = await res.text()
      if (res.status < 500) {
        const answer = JSON.parse(text)
        if (res.status >= 400) throw new IngestError(`the aggregator refused the request (${res.status}): ${answer.error ?? text}`, 'Fix the input; retrying the same request would fail again.')
        return answer as Answer
      }
      lastError = `${res.status} ${text.slice(0, 200)}`
    } catch (error) {
      if (error instanceof IngestError) throw error
      lastError = (error as Error).message
    }
    if (attempt < attempts) {
      summary.retries++
      await sleep(Math.min(10_000, 100 * 2 ** (attempt - 1)))
    }
  }
  throw new IngestError(`could not deliver to ${url} after ${attempts} attempts: ${lastError}`, 'Check the aggregator is running; sending again is safe (duplicates are not counted twice).')
}
