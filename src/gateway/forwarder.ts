/**
 * Delivering the queue to the aggregator with its ingest client: records after the cursor, in chunks, per-call
 * receipts to /v1/receipts and batches to /v1/batches; the cursor moves only once a chunk is answered, so a crash or
 * an outage resends (the aggregator answers a receipt it holds as a duplicate and counts it once, by its digest). A
 * failed delivery is retried with exponential backoff for as long as it takes; a receipt the aggregator refuses
 * (too old, epoch sealed, ...) is logged, counted and passed.
 */
import { sendBatch, sendReceipts } from '../aggregator/client.ts'
import type { Metrics } from '../aggregator/metrics.ts'
import type { QueueRecord, ReceiptQueue } from './queue.ts'

/**
 * Aggregator refusals that are not about the receipt itself: a timestamp ahead of the aggregator's clock (it passes
 * once the clocks agree) and an aggregator fault. Records refused so stay before the cursor and are sent again.
 */
export const RETRYABLE_REJECTIONS: ReadonlySet<string> = new Set(['future-timestamp', 'internal'])

/** How long records refused for a RETRYABLE_REJECTIONS reason hold the queue before the refusal is taken as final. */
export const RETRYABLE_FOR_MS = 3_600_000

export type ForwarderOptions = {
  /** The aggregator's base URL. */
  url: string
  /** First wait after a failed delivery, doubled up to `maxRetryMs` (defaults 500 ms and 30 s). */
  retryMs?: number
  maxRetryMs?: number
  /** Bytes of records per chunk (default 1 MiB). */
  chunkBytes?: number
  /**
   * How long records gather before a chunk that is not full is sent (default 200 ms): fewer, larger requests and
   * fewer cursor writes, whose fsyncs would otherwise compete with the records' own.
   */
  lingerMs?: number
  /** Delivered segments are deleted once their last write is this old (default two days). */
  retainMs?: number
  /** How long a refusal of RETRYABLE_REJECTIONS holds the queue before it is taken as final (default an hour). */
  retryableForMs?: number
  nowMs: () => number
  metrics: Metrics
  log: (entry: Record<string, unknown>) => void
}

export class Forwarder {
  #stopped = false
  #running: Promise<void> | undefined
  #stop: () => void = () => undefined
  readonly #stopSignal: Promise<void>
  #lastPrune = 0
  /** Since when (nowMs) the chunk at the cursor has been refused for a reason that may pass; undefined when not. */
  #retryingSince: number | undefined

  constructor(
    readonly queue: ReceiptQueue,
    readonly options: ForwarderOptions,
  ) {
    this.#stopSignal = new Promise((resolve) => (this.#stop = resolve))
  }

  start(): void {
    this.#running ??= this.#run()
  }

  /** Stops after the chunk in flight (its cursor is saved if it was answered). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#stop()
    await this.#running
  }

  /** Whether everything recorded so far has been answered by the aggregator. */
  get drained(): boolean {
    return this.queue.backlogBytes === 0
  }

  async #run(): Promise<void> {
    const { retryMs = 500, maxRetryMs = 30_000, chunkBytes = 1 << 20, lingerMs = 200, metrics, log } = this.options
    let backoff = retryMs
    while (!this.#stopped) {
      // Inside the try: a failed read (a file error) is retried like a failed delivery, not left to end the process.
      try {
        const from = this.queue.cursor
        const items = await this.queue.readFrom(from, chunkBytes)
        if (items.length === 0) {
          await this.#prune()
          await Promise.race([this.queue.whenAppended(1000), this.#stopSignal])
          await this.#pause(lingerMs)
          continue
        }
        await this.#deliver(items.map((i) => i.record))
        await this.queue.setCursor(items.at(-1)!.next)
        this.#retryingSince = undefined
        // Also under steady traffic, when the queue is never found empty (at most once a minute).
        await this.#prune()
        backoff = retryMs
        const next = items.at(-1)!.next
        if (next.segment === from.segment && next.offset - from.offset < chunkBytes / 2) await this.#pause(lingerMs)
      } catch (error) {
        metrics.counter('fomo_gateway_forward_failures_total', 'Deliveries to the aggregator that failed and will be retried')
        log({ level: 'warn', msg: 'aggregator delivery failed; retrying', error: (error as Error).message.split('\n')[0], retryInMs: backoff })
        await this.#pause(backoff)
        backoff = Math.min(maxRetryMs, backoff * 2)
      }
    }
  }

  /** Waits `ms`, or less if the forwarder is stopped. */
  #pause(ms: number): Promise<unknown> {
    return Promise.race([new Promise((r) => setTimeout(r, ms).unref()), this.#stopSignal])
  }

  async #deliver(records: QueueRecord[]): Promise<void> {
    const { url, metrics, log } = this.options
    const count = (status: string, n: number) => {
      if (n > 0) metrics.counter('fomo_gateway_forwarded_total', 'Receipts delivered to the aggregator, by its answer', { status }, n)
    }
    // A refusal that time mends (the gateway's clock ahead of the aggregator's) or an aggregator fault is not final:
    // the chunk is sent again later, where the receipts already stored come back as duplicates.
    // For an hour at most: a receipt refused so for good (a clock far ahead, a receipt the aggregator always fails on)
    // must not hold every receipt behind it until they are too old; after that it is logged and passed as refused.
    const retryable = (rejections: ReadonlyArray<{ reason?: string | undefined; message?: string | undefined; status?: string }>) => {
      const r = rejections.find((x) => (x.status === undefined || x.status === 'rejected') && x.reason !== undefined && RETRYABLE_REJECTIONS.has(x.reason))
      if (!r) return
      const now = this.options.nowMs()
      this.#retryingSince ??= now
      if (now - this.#retryingSince < (this.options.retryableForMs ?? RETRYABLE_FOR_MS)) throw new Error(`the aggregator refused a receipt for now (${r.reason}); it is sent again later`)
      log({ level: 'error', msg: 'a receipt refused for now was refused for over an hour; passed as refused', reason: r.reason, message: r.message })
    }
    const receipts = records.flatMap((r) => (r.kind === 'receipt' ? [JSON.stringify(r.document)] : []))
    if (receipts.length > 0) {
      const summary = await sendReceipts(receipts, { url, attempts: 1 })
      retryable(summary.rejections)
      count('accepted', summary.accepted)
      count('duplicate', summary.duplicates)
      count('rejected', summary.rejected)
      for (const r of summary.rejections.slice(0, 20)) log({ level: 'error', msg: 'the aggregator refused a receipt', reason: r.reason, message: r.message })
    }
    for (const r of records) {
      if (r.kind !== 'batch') continue
      const answer = await sendBatch(url, JSON.stringify(r.document), { attempts: 1 })
      retryable(answer.batch === 'rejected' ? [{ reason: answer.reason }] : (answer.results ?? []))
      if (answer.batch === 'rejected') {
        count('rejected', r.digests.length)
        log({ level: 'error', msg: 'the aggregator refused a batch', reason: answer.reason, message: answer.message, receipts: r.digests.length })
        continue
      }
      count('accepted', answer.accepted)
      count('duplicate', answer.duplicates)
      count('rejected', answer.rejected)
    }
  }

  /** Deletes delivered segments past the retention time, at most once a minute; a failure is logged, not retried sooner. */
  async #prune(): Promise<void> {
    const now = this.options.nowMs()
    if (now - this.#lastPrune < 60_000) return
    this.#lastPrune = now
    try {
      const removed = await this.queue.prune(this.options.retainMs ?? 2 * 86_400_000, now)
      if (removed > 0) this.options.log({ level: 'info', msg: 'deleted delivered queue segments', segments: removed })
    } catch (error) {
      this.options.log({ level: 'error', msg: 'could not delete delivered queue segments', error: (error as Error).message.split('\n')[0] })
    }
  }
}
