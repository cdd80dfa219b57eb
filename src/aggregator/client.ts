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
  /** How long to keep retrying a request on network errors and 5xx answers, e.g. while the aggregator restarts (default 120 s). */
  retrySeconds?: number
  /** At most this many attempts per request (default: as many as fit in `retrySeconds`). */
  attempts?: number
  /** Requests in flight at once. */
  concurrency?: number
  onProgress?: (done: number, total: number) => void
  sleep?: (ms: number) => Promise<void>
  /** The clock retries are timed by, in milliseconds (default Date.now). */
  now?: () => number
}

type RetryOptions = Pick<IngestClientOptions, 'retrySeconds' | 'attempts' | 'sleep' | 'now'>

/**
 * Sends receipts to an aggregator in requests of `batchSize`, retrying with
 * exponential backoff on network errors and 5xx answers for `retrySeconds`.
 * Retrying is safe: a receipt the aggregator already stored comes back as a
 * duplicate, never counted twice. 4xx answers are not retried: they name what to fix.
 */
export async function sendReceipts(texts: readonly string[], options: IngestClientOptions): Promise<IngestSummary> {
  const { batchSize = 1000, concurrency = 2 } = options
  const summary: IngestSummary = { requests: 0, accepted: 0, duplicates: 0, rejected: 0, retries: 0, rejections: [] }
  const chunks: Array<[number, readonly string[]]> = []
  for (let i = 0; i < texts.length; i += batchSize) chunks.push([i, texts.slice(i, i + batchSize)])
  let next = 0
  let done = 0
  const worker = async () => {
    while (next < chunks.length) {
      const [offset, chunk] = chunks[next++]!
      const body = `[${chunk.join(',')}]`
      const answer = await post(`${options.url.replace(/\/$/, '')}/v1/receipts`, body, options, summary)
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

/** Sends one batch document, retrying as `sendReceipts` does; `retries` (when given) counts the retries. */
export async function sendBatch(url: string, batchText: string, options: RetryOptions & { retries?: { retries: number } } = {}) {
  const summary: IngestSummary = { requests: 0, accepted: 0, duplicates: 0, rejected: 0, retries: 0, rejections: [] }
  const answer = (await post(`${url.replace(/\/$/, '')}/v1/batches`, batchText, options, summary)) as BatchAnswer
  if (options.retries) options.retries.retries += summary.retries
  return answer
}

type Answer = { accepted: number; duplicates: number; rejected: number; results: Array<{ index: number; status: string; reason: string; message: string }> }

function isAnswer(a: unknown): a is Answer {
  const x = a as Partial<Answer> & { batch?: unknown } | null
  if (typeof x !== 'object' || x === null) return false
  // A batch refused as a whole carries no per-receipt results.
  if (x.batch === 'rejected') return true
  return [x.accepted, x.duplicates, x.rejected].every((n) => Number.isSafeInteger(n)) && Array.isArray(x.results)
}
type BatchAnswer = Answer & { batch: 'accepted' | 'rejected'; reason?: string; message?: string }

async function post(url: string, body: string, options: RetryOptions, summary: IngestSummary): Promise<Answer> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
  const now = options.now ?? Date.now
  const attempts = options.attempts ?? Number.POSITIVE_INFINITY
  const deadline = now() + 1000 * (options.retrySeconds ?? 120)
  let lastError = ''
  let attempt = 1
  for (; ; attempt++) {
    // An overloaded aggregator says how long to wait (Retry-After, in seconds); never less than the backoff.
    let retryAfterMs = 0
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const text = await res.text()
      // 408: the request took longer to send than the aggregator allows; sending it again may well succeed.
      if (res.status < 500 && res.status !== 408) {
        let answer: { error?: string } | undefined
        try {
          answer = JSON.parse(text)
        } catch {
          answer = undefined
        }
        if (res.status >= 400 || answer === undefined)
          throw new IngestError(`the aggregator refused the request (${res.status}): ${answer?.error ?? text.slice(0, 200)}; fix the input or --url (the same request would be refused again)`)
        // A 2xx that is no ingest answer (another server at --url) must not pass for one: nothing would be delivered.
        if (!isAnswer(answer)) throw new IngestError(`${url} answered ${res.status} with no ingest answer (${text.slice(0, 200)}); check --url names a fomo aggregator`)
        return answer
      }
      lastError = `${res.status} ${text.slice(0, 200)}`
      const after = Number(res.headers.get('retry-after') ?? NaN)
      if (Number.isFinite(after) && after > 0) retryAfterMs = Math.min(30_000, after * 1000)
    } catch (error) {
      if (error instanceof IngestError) throw error
      lastError = (error as Error).message
    }
    const wait = Math.max(retryAfterMs, Math.min(5_000, 100 * 2 ** (attempt - 1)))
    if (attempt >= attempts || now() + wait > deadline) break
    summary.retries++
    await sleep(wait)
  }
  throw new IngestError(
    `could not deliver to ${url} after ${attempt} attempt${attempt > 1 ? 's' : ''} (${lastError}); check the aggregator is running, then send again (stored receipts come back as duplicates, never counted twice)`,
  )
}
