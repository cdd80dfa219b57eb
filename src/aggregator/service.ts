/**
 * The aggregator's HTTP service: receipt and batch ingestion (verified on worker threads, checked against the
 * epoch and clock rules, stored through the Store), epoch status, spend and reward proofs, health and metrics.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BaseError } from '../base/errors.ts'
import { hexToBytes, type Hex } from '../base/bytes.ts'
import { StandardTree, type ValueOrder } from '../merkle/tree.ts'
import { VerifierPool } from '../receipts/pool.ts'
import type { ReceiptColumns } from '../receipts/columns.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import { rewardLeafOf } from '../epoch/rewards.ts'
import { Metrics } from './metrics.ts'
import { BodyError, splitItems } from './split.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import { ConfigChangedError, type EpochStatus, type IngestResult, type Store, type StoredRow } from './store.ts'

export type Limits = {
  /** Largest request body in bytes (10 MiB by default). */
  maxBodyBytes: number
  /** Most receipts in one request. */
  maxItems: number
  /**
   * Most ingest body bytes held at once, counted as they arrive and kept until the answer (256 MiB by default).
   * A request arriving while they are held is answered 503 with Retry-After before its body is read, and a request
   * whose next chunk would pass the limit while others hold bytes is answered 503 mid-body, so a flood costs the
   * sender retries rather than the service its memory. Bytes are counted, not Content-Length promised: a slow
   * sender holds only what it has sent, for at most `requestTimeoutMs`.
   */
  maxPendingBytes: number
  /** Longest time a client may take to send a whole request, headers and body (60 s by default); then 408 and close. */
  requestTimeoutMs: number
  /** Most verification jobs waiting for a worker (chunks of up to 2,000 receipts and whole batches; 8 per thread by default). */
  maxQueuedJobs: number
  /**
   * Most sealed files sent at once (`GET /v1/epochs/:epoch/files/:name`, 8 by default); more are answered 503 with
   * Retry-After. Each holds at most one stored chunk (32 MiB), and a reader that takes longer than
   * `requestTimeoutMs` to take one is cut off.
   */
  maxFileStreams: number
}

/** The status logged and counted for a request whose client disconnected before the answer. */
const CLIENT_CLOSED = 499

export const DEFAULT_LIMITS: Omit<Limits, 'maxQueuedJobs'> = { maxBodyBytes: 10 * 1024 * 1024, maxItems: 5_000, maxPendingBytes: 256 * 1024 * 1024, requestTimeoutMs: 60_000, maxFileStreams: 8 }

/** Proof trees loading or waiting to load at once; a request needing one more is answered 503. */
const MAX_TREE_LOADS = 4

/** How long an epoch's status is reused (ms, monotonic clock). */
const STATUS_REUSE_MS = 1_000

/** How long a stored tree file that failed to load is answered with its error before it is loaded again (ns). */
const TREE_RETRY_NS = 30_000_000_000n

/** Seconds a shed request is told to wait before it is sent again (the Retry-After header). */
const RETRY_AFTER_SECONDS = 1

export type ServiceOptions = {
  store: Store
  /**
   * Not used: the service reads the store's configuration, the one in force for each receipt's epoch, and
   * notices a change (`fomo init` on a running store) without a restart.
   */
  config?: AggregatorConfig | undefined
  /** Current time in nanoseconds since the Unix epoch. */
  now: () => bigint
  limits?: Partial<Limits>
  threads?: number
  log?: (entry: Record<string, unknown>) => void
  /** How many epochs past the current one get their receipts partitions ahead (3 by default). */
  partitionsAhead?: number | undefined
}

export type ItemResult = IngestResult & { index: number }

/** The configurations by the epoch they apply from, latest first, with their provider registries. */
type Configs = { version: number; history: Array<{ fromEpoch: number; config: AggregatorConfig; registry: ProviderRegistry }> }

/** The service cannot listen: `reason` says whether the port or the host is the problem. */
export class ListenError extends BaseError {
  override name = 'ListenError'
  constructor(
    readonly reason: 'port' | 'host',
    message: string,
    cause: unknown,
  ) {
    super('LISTEN', message, { cause })
  }

  static of(error: NodeJS.ErrnoException, host: string, port: number): ListenError {
    const where = `${host}:${port}`
    if (error.code === 'EADDRINUSE') return new ListenError('port', `cannot listen on ${where}: the port is in use; stop the process using it or give another --port`, error)
    if (error.code === 'EACCES') return new ListenError('port', `cannot listen on ${where}: permission denied (ports below 1024 need privileges); give another --port`, error)
    if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
      return new ListenError('host', `cannot listen on ${where}: ${host} is not an address of this machine (${error.code}); give another --host`, error)
    return new ListenError('port', `cannot listen on ${where}: ${error.code ?? error.message}`, error)
  }
}

/** A tree the proof routes serve, with its values ordered by lookup key. */
type LoadedTree = { tree: StandardTree; byKey: ValueOrder }

type Routed = { status?: number; body: unknown; contentType?: string; log?: Record<string, unknown> }
/** A response body written chunk by chunk, its length known before the first; `done` runs once it ends, however. */
class Streamed {
  constructor(
    readonly byteLength: number,
    readonly chunks: () => AsyncIterable<Uint8Array>,
    readonly done: () => void,
  ) {}
}

/** The client closed the connection while its answer was being written (logged 499). */
class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection')
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** The service sheds an ingest request it has no room for: 503 with Retry-After, the body left unread. */
/** A 503 with Retry-After, counted in `counter` (ingest sheds by default). */
class OverloadError extends HttpError {
  constructor(
    message: string,
    readonly counter: { name: string; help: string } = { name: 'fomo_ingest_shed_total', help: 'Ingest requests answered 503 for want of room (pending bytes or queued jobs)' },
  ) {
    super(503, message)
  }
}

/**
 * The aggregator's HTTP service. Stateless apart from the store: any number of
 * instances can serve one PostgreSQL database (the unique key decides
 * duplicates). Receipts are verified on worker threads, checked against the
 * epoch and clock rules, and stored in one transaction per request.
 */
export class AggregatorService {
  readonly server: Server
  readonly metrics = new Metrics()
  #pool: VerifierPool
  #configs: Configs
  readonly #limits: Limits
  /** Loaded proof trees (16 at most, the oldest forgotten first), and the loads under way. */
  readonly #trees = new Map<string, LoadedTree>()
  readonly #treeLoading = new Map<string, Promise<LoadedTree | undefined>>()
  #treeLoads: Promise<void> = Promise.resolve()
  /** Epoch statuses being read or read within the last second: an open epoch's totals are a count over its receipts. */
  readonly #statuses = new Map<number, { at: number | undefined; status: Promise<EpochStatus> }>()
  /** Tree files that could not be loaded, with their error, until they may be tried again (a broken file's load is seconds of a core). */
  readonly #treeFailures = new Map<string, { error: unknown; until: bigint }>()
  #partitionTimer: NodeJS.Timeout | undefined
  #partitioning: Promise<void> = Promise.resolve()
  /** Ingest body bytes held now by requests in flight, counted as they arrive. */
  #pendingBytes = 0
  /** Sealed files being sent (`maxFileStreams`). */
  #fileStreams = 0

  /** Sealed files being sent now. */
  get fileStreams(): number {
    return this.#fileStreams
  }

  /** Ingest body bytes held now by requests in flight. */
  get pendingBytes(): number {
    return this.#pendingBytes
  }

  private constructor(
    readonly options: ServiceOptions,
    pool: VerifierPool,
    configs: Configs,
  ) {
    this.#pool = pool
    this.#configs = configs
    this.#limits = { ...DEFAULT_LIMITS, maxQueuedJobs: 8 * pool.size, ...options.limits }
    const timeout = this.#limits.requestTimeoutMs
    // Node checks request timeouts every 30 s by default: often enough for a timeout of minutes, not of seconds.
    this.server = createServer({ connectionsCheckingInterval: timeout > 0 ? Math.min(30_000, Math.max(100, Math.floor(timeout / 4))) : 30_000 }, (req, res) => void this.#handle(req, res))
    this.server.keepAliveTimeout = 10_000
    // Node's default (300 s) lets a slow sender hold a connection and its bytes for five minutes.
    this.server.requestTimeout = timeout
    if (timeout > 0) this.server.headersTimeout = Math.min(this.server.headersTimeout, timeout)
  }

  static async create(options: ServiceOptions): Promise<AggregatorService> {
    const configs = await loadConfigs(options.store)
    // Providers are checked per epoch (#policy), so the pool verifies signatures only.
    const pool = new VerifierPool({ domain: configs.history[0]!.config.domain, threads: options.threads })
    const service = new AggregatorService(options, pool, configs)
    // In the background, not delaying the start: until a partition exists its epoch's receipts go to the default one.
    void service.createPartitions()
    // Again as time advances: a quarter of an epoch, at most an hour, apart.
    const every = Math.min(3600, Math.max(1, Math.floor(configs.history[0]!.config.epochSeconds / 4))) * 1000
    service.#partitionTimer = setInterval(() => void service.createPartitions(), every)
    service.#partitionTimer.unref()
    return service
  }

  /**
   * Creates the receipts partitions of the previous, current and next few epochs ahead of their receipts. A
   * failure is logged and not fatal: receipts of an epoch without its partition go to the default partition.
   */
  createPartitions(): Promise<void> {
    this.#partitioning = this.#partitioning.then(async () => {
      const epochSeconds = BigInt(this.#configs.history[0]!.config.epochSeconds)
      const current = Number(this.options.now() / 1_000_000_000n / epochSeconds)
      const ahead = this.options.partitionsAhead ?? 3
      try {
        await this.options.store.ensurePartitions(Array.from({ length: ahead + 2 }, (_, k) => current - 1 + k))
      } catch (error) {
        this.#log({ event: 'partitions', error: (error as Error).message.split('\n')[0] })
      }
    })
    return this.#partitioning
  }

  /** Reloads the configurations after a change; a new receipt domain (only before any receipt) needs a new pool. */
  async #reload(): Promise<void> {
    const before = this.#configs.history[0]!.config.domain
    this.#configs = await loadConfigs(this.options.store)
    const domain = this.#configs.history[0]!.config.domain
    if (JSON.stringify(domain) !== JSON.stringify(before)) {
      const old = this.#pool
      this.#pool = new VerifierPool({ domain, threads: this.options.threads })
      await old.close()
    }
  }

  /**
   * Runs an ingest under the store's current configuration: reloaded when its version moved, and again when it
   * moves between this check and the write (the store refuses the write), then the ingest runs once more.
   */
  async #fresh<T>(ingest: () => Promise<T>): Promise<T> {
    if ((await this.options.store.configVersion()) !== this.#configs.version) await this.#reload()
    try {
      return await ingest()
    } catch (error) {
      if (!(error instanceof ConfigChangedError)) throw error
      await this.#reload()
      return ingest()
    }
  }

  #configFor(epoch: number): { config: AggregatorConfig; registry: ProviderRegistry } {
    const history = this.#configs.history
    return history.find((c) => c.fromEpoch <= epoch) ?? history[history.length - 1]!
  }

  /** Listens on `host:port`; a port in use, a host that is not this machine's, ... is a ListenError saying what to do. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException) => reject(ListenError.of(error, host, port))
      this.server.once('error', fail)
      this.server.listen(port, host, () => {
        this.server.off('error', fail)
        resolve(this.server.address() as AddressInfo)
      })
    })
  }

  async close(): Promise<void> {
    clearInterval(this.#partitionTimer)
    await this.#partitioning
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    await this.#pool.close()
  }

  #log(entry: Record<string, unknown>): void {
    this.options.log?.({ ts: new Date(Number(this.options.now() / 1_000_000n)).toISOString(), ...entry })
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const url = new URL(req.url ?? '/', 'http://localhost')
    let status = 500
    let extra: Record<string, unknown> = {}
    try {
      const result = await this.#route(req, url)
      status = result.status ?? 200
      extra = result.log ?? {}
      if (result.body instanceof Streamed) {
        try {
          res.writeHead(status, { 'content-type': result.contentType ?? 'application/octet-stream', 'content-length': result.body.byteLength })
          await writeChunks(res, result.body.chunks(), this.#limits.requestTimeoutMs)
        } finally {
          result.body.done()
        }
      } else if (result.body instanceof Uint8Array) {
        res.writeHead(status, { 'content-type': result.contentType ?? 'application/octet-stream', 'content-length': result.body.length })
        res.end(result.body)
      } else if (typeof result.body === 'string') {
        res.writeHead(status, { 'content-type': result.contentType ?? 'text/plain; version=0.0.4' })
        res.end(result.body)
      } else send(res, status, result.body)
    } catch (error) {
      // A client that hung up mid-request: nothing to answer, and not the service's failure (499, as nginx logs it).
      // Told by the request or response, not by an error's code alone: a store's connection reset is the service's.
      if (error instanceof ClientGoneError || req.readableAborted || ((error as NodeJS.ErrnoException).code === 'ECONNRESET' && req.destroyed)) {
        status = CLIENT_CLOSED
        res.destroy()
        return
      }
      // A streamed answer that failed part-way: its status is sent, so the connection is cut short for the client to see.
      if (res.headersSent) {
        status = 500
        this.#log({ level: 'error', msg: 'response failed after its headers', error: (error as Error).message })
        res.destroy()
        return
      }
      if (error instanceof HttpError || error instanceof BodyError) status = error.status
      else if (error instanceof BaseError && error.code === 'SCHEMA_INVALID') status = 400
      else status = 503
      const message = error instanceof BaseError ? error.shortMessage : (error as Error).message
      if (error instanceof OverloadError) {
        extra = { shed: true }
        this.metrics.counter(error.counter.name, error.counter.help)
        // The rest of the body (at most the body limit, within the request timeout) is read and dropped, uncounted:
        // closing with it unread would reset a client still sending, which would then never see the 503.
        send(res, status, { error: message, retry: true }, { 'retry-after': String(RETRY_AFTER_SECONDS) })
        req.resume()
        return
      }
      if (status >= 500) this.#log({ level: 'error', msg: 'request failed', error: (error as Error).message })
      send(res, status, { error: message, retry: status >= 500 })
      req.resume()
    } finally {
      const route = routeName(url.pathname)
      this.metrics.counter('fomo_http_requests_total', 'HTTP requests by route and status', { route, status })
      this.metrics.counter('fomo_http_request_seconds_total', 'Time spent serving requests', { route }, (performance.now() - started) / 1000)
      this.#log({ level: extra.shed ? 'warn' : status >= 500 ? 'error' : 'info', msg: 'request', method: req.method, path: url.pathname, status, ms: Math.round(performance.now() - started), ...extra })
    }
  }

  async #route(req: IncomingMessage, url: URL): Promise<Routed> {
    const parts = url.pathname.split('/').filter(Boolean)
    const method = req.method ?? 'GET'
    if (url.pathname === '/v1/receipts' || url.pathname === '/v1/batches') {
      if (method !== 'POST') throw new HttpError(405, `use POST for ${url.pathname}`)
      return this.#admitted(req, async (body) => this.#fresh<Routed>(() => (url.pathname === '/v1/receipts' ? this.#ingestReceipts(body) : this.#ingestBatch(body))))
    }
    if (method !== 'GET') throw new HttpError(405, 'use GET')
    if (url.pathname === '/v1/health') {
      return { body: { status: 'ok', store: await this.options.store.health() } }
    }
    if (url.pathname === '/metrics') return { body: this.metrics.render(), contentType: 'text/plain; version=0.0.4' }
    if (parts[0] === 'v1' && parts[1] === 'epochs' && parts[2] !== undefined) {
      const epoch = parseEpoch(parts[2])
      if (parts.length === 3) return { body: await this.#epochStatus(epoch) }
      if (parts[3] === 'spend' && parts.length === 6) return { body: await this.#spendProof(epoch, parts[4] as string, parts[5] as string) }
      // The sealed directory, file by file: the artifacts URL a proposal names (`fomo publish --artifacts`).
      if (parts[3] === 'files' && parts.length === 5) {
        // Streamed chunk by chunk (a spend tree of a million users is hundreds of MB), a few files at a time: each
        // stream holds up to one stored chunk (32 MiB) while its reader catches up.
        const { maxFileStreams } = this.#limits
        if (this.#fileStreams >= maxFileStreams)
          throw new OverloadError(`overloaded: ${this.#fileStreams} sealed files are being sent (limit ${maxFileStreams}); retry after ${RETRY_AFTER_SECONDS} s`, {
            name: 'fomo_file_streams_shed_total',
            help: 'Sealed file requests answered 503 while the most files were being sent',
          })
        this.#fileStreams++
        let file
        try {
          file = await this.options.store.artifactStream(epoch, parts[4] as string)
        } finally {
          if (!file) this.#fileStreams--
        }
        if (file === undefined) throw new HttpError(404, `epoch ${epoch} has no sealed file ${JSON.stringify(parts[4])}`)
        return { body: new Streamed(file.byteLength, () => file.chunks(), () => this.#fileStreams--), contentType: 'application/json' }
      }
    }
    if (parts[0] === 'v1' && parts[1] === 'rewards' && parts.length === 3) {
      const epochParam = url.searchParams.get('epoch')
      const epoch = epochParam === null ? await this.options.store.latestSealedEpoch() : parseEpoch(epochParam)
      if (epoch === null) throw new HttpError(404, 'no epoch has been sealed yet')
      return { body: await this.#rewardProofs(epoch, parts[2] as string) }
    }
    throw new HttpError(404, `no route ${method} ${url.pathname}`)
  }

  /**
   * Reads an ingest body and runs `ingest` on it if there is room: the body bytes held by requests in flight and the
   * jobs waiting for a verifier stay under their limits, or the request is shed with 503 and Retry-After.
   */
  async #admitted(req: IncomingMessage, ingest: (body: string) => Promise<Routed>): Promise<Routed> {
    const { maxPendingBytes, maxQueuedJobs, maxBodyBytes } = this.#limits
    const retry = `retry after ${RETRY_AFTER_SECONDS} s (stored receipts come back as duplicates)`
    if (this.#pool.queued >= maxQueuedJobs) throw new OverloadError(`overloaded: ${this.#pool.queued} verification jobs wait for a worker (limit ${maxQueuedJobs}); ${retry}`)
    const full = () => new OverloadError(`overloaded: ${this.#pendingBytes} body bytes are held by requests in flight (limit ${maxPendingBytes}); ${retry}`)
    // One request is always let in, however large: the limit sheds only a request while others hold bytes.
    if (this.#pendingBytes > 0 && this.#pendingBytes >= maxPendingBytes) throw full()
    let held = 0
    try {
      const text = await readBody(req, maxBodyBytes, (bytes) => {
        if (this.#pendingBytes - held > 0 && this.#pendingBytes + bytes > maxPendingBytes) return full()
        this.#pendingBytes += bytes
        held += bytes
      })
      return await ingest(text)
    } finally {
      this.#pendingBytes -= held
    }
  }

  async #ingestReceipts(body: string) {
    const texts = splitItems(body, this.#limits.maxItems)
    if (texts.length === 0) throw new HttpError(400, 'no receipts in the request body')
    const columns = await this.#pool.verifyTexts(texts)
    // A malformed item (bad JSON, wrong type, unknown field, duplicate key) means a broken client:
    // the whole request is refused and nothing is stored, rather than a partial write.
    const malformed = columns.failures.filter((f) => f.reason === 'schema')
    if (malformed.length > 0)
      return {
        status: 400,
        body: { error: `${malformed.length} malformed receipt(s); nothing was stored`, retry: false, malformed: malformed.slice(0, 100).map((f) => ({ index: f.index, message: f.message })) },
        log: { malformed: malformed.length },
      }
    const results = new Map<number, IngestResult>()
    for (const f of columns.failures) results.set(f.index, { status: 'rejected', reason: f.reason, message: f.message })
    const rows: StoredRow[] = []
    for (let i = 0; i < columns.length; i++) {
      if (!columns.valid[i]) continue
      const problem = this.#policy(columns, i)
      if (problem) results.set(i, { status: 'rejected', digest: columns.digestHex(i), ...problem })
      else rows.push({ index: i })
    }
    for (const [i, r] of await this.options.store.insertReceipts(columns, rows, undefined, { configVersion: this.#configs.version })) results.set(i, r)
    return this.#respond(texts.length, results)
  }

  async #ingestBatch(body: string) {
    const { columns, root, error } = await this.#pool.verifyBatch(body)
    // A malformed document is a broken client, as for /v1/receipts: 400, nothing stored.
    if (error?.reason === 'schema') return { status: 400, body: { error: `malformed batch: ${error.message}; nothing was stored`, retry: false }, log: { batch: 'malformed' } }
    const refused = (reason: string | undefined, message: string | undefined) => {
      this.metrics.counter('fomo_receipts_total', 'Receipts by outcome', { status: 'rejected' })
      return { status: 200, body: { batch: 'rejected', reason, message, accepted: 0, duplicates: 0, rejected: 1, results: [] }, log: { batch: 'rejected' } }
    }
    if (error || !root) return refused(error?.reason, error?.message)
    const results = new Map<number, IngestResult>()
    const rows: StoredRow[] = []
    for (let i = 0; i < columns.length; i++) {
      const problem = this.#policy(columns, i)
      if (problem) results.set(i, { status: 'rejected', digest: columns.digestHex(i), ...problem })
      else rows.push({ index: i, batchRoot: root })
    }
    // A provider not allowed for any of its receipts: the batch as a whole, as its signature check would.
    const notAllowed = [...results.values()].filter((r) => r.reason === 'signer-not-allowed')
    if (columns.length > 0 && notAllowed.length === columns.length) return refused('signer-not-allowed', notAllowed[0]!.message)
    const stored = await this.options.store.insertReceipts(columns, rows, { document: body, root, size: columns.length }, { configVersion: this.#configs.version })
    for (const [i, r] of stored) results.set(i, r)
    const response = this.#respond(columns.length, results)
    return { ...response, body: { batch: 'accepted', root, ...response.body } }
  }

  /**
   * Epoch and clock rules, under the configuration in force for the receipt's epoch: the epoch must match the
   * timestamp, the timestamp be within the skew and age bounds, the deployment known and the provider allowed.
   */
  #policy(columns: ReceiptColumns, i: number): { reason: string; message: string } | undefined {
    const { config, registry } = this.#configFor(columns.epoch[i] as number)
    const { epochSeconds, clockSkewSeconds, maxReceiptAgeSeconds } = config
    const ts = columns.timestamp[i] as bigint
    const epoch = BigInt(columns.epoch[i] as number)
    if (ts / BigInt(epochSeconds) !== epoch)
      return { reason: 'epoch-mismatch', message: `epoch ${epoch} does not contain timestamp ${ts} (epochs are ${epochSeconds} s; expected epoch ${ts / BigInt(epochSeconds)})` }
    const now = this.options.now()
    const tsNs = ts * 1_000_000_000n
    if (tsNs > now + BigInt(clockSkewSeconds) * 1_000_000_000n)
      return { reason: 'future-timestamp', message: `timestamp ${ts} is more than ${clockSkewSeconds} s ahead of the aggregator's clock` }
    if (tsNs < now - BigInt(maxReceiptAgeSeconds) * 1_000_000_000n)
      return { reason: 'too-old', message: `timestamp ${ts} is older than ${maxReceiptAgeSeconds} s; late receipts must arrive before their epoch is sealed` }
    const deployment = `0x${Buffer.from(columns.deploymentId.subarray(32 * i, 32 * i + 32)).toString('hex')}`
    if (!config.deployments.some((d) => d.id === deployment)) return { reason: 'unknown-deployment', message: `deployment ${deployment} is not configured` }
    const provider = `0x${Buffer.from(columns.provider.subarray(20 * i, 20 * i + 20)).toString('hex')}` as Hex
    if (!registry.isAllowed(deployment as Hex, provider))
      return { reason: 'signer-not-allowed', message: `provider ${provider} is not allowed to sign for deployment ${deployment} in epoch ${epoch}` }
    return undefined
  }

  #respond(count: number, results: Map<number, IngestResult>) {
    const items: ItemResult[] = []
    const tally = { accepted: 0, duplicate: 0, rejected: 0 }
    for (let i = 0; i < count; i++) {
      const r = results.get(i) ?? { status: 'rejected' as const, reason: 'internal', message: 'no outcome' }
      tally[r.status]++
      items.push({ index: i, ...r })
    }
    for (const [status, n] of Object.entries(tally)) if (n) this.metrics.counter('fomo_receipts_total', 'Receipts by outcome', { status }, n)
    return { status: 200, body: { accepted: tally.accepted, duplicates: tally.duplicate, rejected: tally.rejected, results: items }, log: tally }
  }

  /**
   * An epoch's status, shared by the requests that ask while it is read and reused for a second: an open epoch's
   * totals scan its receipts (millions of rows), so repeated requests must not each start a scan.
   */
  #epochStatus(epoch: number): Promise<EpochStatus> {
    const now = performance.now()
    // An entry is reused while its read is under way and for a second after it ended (a scan longer than a second
    // is not joined by a second scan).
    const fresh = (entry: { at: number | undefined }) => entry.at === undefined || now - entry.at < STATUS_REUSE_MS
    const known = this.#statuses.get(epoch)
    if (known && fresh(known)) return known.status
    for (const [e, entry] of this.#statuses) if (!fresh(entry)) this.#statuses.delete(e)
    const entry: { at: number | undefined; status: Promise<EpochStatus> } = { at: undefined, status: this.options.store.epochStatus(epoch) }
    this.#statuses.set(epoch, entry)
    entry.status.then(
      () => void (entry.at = performance.now()),
      // A failed read is not reused.
      () => this.#statuses.get(epoch) === entry && this.#statuses.delete(epoch),
    )
    return entry.status
  }

  /**
   * A sealed epoch's tree with its values ordered by lookup key (the spend tree by (deployment, user), the reward
   * tree by account: 4 bytes per leaf), loaded once (concurrent requests share the load: a million users' tree is
   * hundreds of MB) and cached.
   */
  async #tree(epoch: number, name: 'spend-tree.json' | 'reward-tree.json'): Promise<LoadedTree | undefined> {
    const key = `${epoch}/${name}`
    const known = () => this.#trees.get(key) ?? this.#treeLoading.get(key)
    if (known()) return known()
    // A file that failed to load within TREE_RETRY_NS answers with its error.
    const throwIfFailed = () => {
      const f = this.#treeFailures.get(key)
      if (f && f.until > this.options.now()) throw f.error
    }
    throwIfFailed()
    this.#treeFailures.delete(key)
    // The status first: a request for an epoch not sealed costs one query and never queues; once sealed, the files
    // are committed, so a file found missing is missing.
    if (!(await this.options.store.epochSealed(epoch))) throw new HttpError(404, `epoch ${epoch} is not sealed`)
    if (known()) return known()
    // A load that failed while this request waited for the status is not started again.
    throwIfFailed()
    if (this.#treeLoading.size >= MAX_TREE_LOADS)
      throw new OverloadError(`overloaded: ${this.#treeLoading.size} proof trees are loading (limit ${MAX_TREE_LOADS}); retry after ${RETRY_AFTER_SECONDS} s`, {
        name: 'fomo_tree_loads_shed_total',
        help: 'Proof requests answered 503 while the most trees were loading',
      })
    // One load at a time (a large tree is seconds of one core's work), shared by the requests that wait for it.
    const loading = this.#treeLoads.then(() => this.#loadTree(epoch, name, key))
    this.#treeLoads = loading.then(
      () => undefined,
      () => undefined,
    )
    this.#treeLoading.set(key, loading)
    try {
      const loaded = await loading
      // Only loaded trees are kept (a failed load is tried again by the next request); the oldest is forgotten first.
      if (loaded) {
        if (this.#trees.size >= 16) this.#trees.delete(this.#trees.keys().next().value as string)
        this.#trees.set(key, loaded)
      }
      return loaded
    } finally {
      this.#treeLoading.delete(key)
    }
  }

  /** A sealed epoch's tree file, loaded and ordered by lookup key; undefined when the epoch has no such file. */
  async #loadTree(epoch: number, name: 'spend-tree.json' | 'reward-tree.json', key: string): Promise<LoadedTree | undefined> {
    // Only the file asked for, not the whole sealed directory.
    const content = await this.options.store.artifactFile(epoch, name)
    if (!content) return undefined
    try {
      // Loaded in steps, so ingest and other requests go on meanwhile (a million users' tree is about 20 s of work).
      const tree = await StandardTree.loadBytesAsync(content, name)
      // Spend leaves are (epoch, deployment, user, ...), reward leaves (domain, account, token, amount).
      if (name === 'reward-tree.json') rewardLeafOf(tree.at(0))
      return { tree, byKey: tree.orderBy(name === 'spend-tree.json' ? [1, 2] : [1]) }
    } catch (error) {
      // The stored file itself is broken (the loader's typed errors); a store error above, or running out of memory,
      // is not kept: the next request tries again.
      if (error instanceof BaseError) this.#treeFailures.set(key, { error, until: this.options.now() + TREE_RETRY_NS })
      throw error
    }
  }

  async #spendProof(epoch: number, deploymentId: string, user: string) {
    const missing = () => new HttpError(404, `no spend leaf for user ${user} in deployment ${deploymentId} in epoch ${epoch}`)
    // The key is checked before any tree is loaded for it.
    const deployment = word(deploymentId, 32)
    const account = word(user, 20)
    if (!deployment || !account) throw missing()
    const loaded = await this.#tree(epoch, 'spend-tree.json')
    const i = loaded?.tree.find(loaded.byKey, [deployment, account])[0]
    if (!loaded || i === undefined) throw missing()
    return { epoch, root: loaded.tree.root, leafEncoding: loaded.tree.leafEncoding, value: loaded.tree.at(i), proof: loaded.tree.getProof(i) }
  }

  async #rewardProofs(epoch: number, account: string) {
    const missing = () => new HttpError(404, `no reward leaves for ${account} in epoch ${epoch}`)
    const key = word(account, 20)
    if (!key) throw missing()
    const loaded = await this.#tree(epoch, 'reward-tree.json')
    const indices = loaded ? loaded.tree.find(loaded.byKey, [key]) : []
    if (!loaded || indices.length === 0) throw missing()
    return { epoch, root: loaded.tree.root, leafEncoding: loaded.tree.leafEncoding, leaves: indices.map((i) => ({ value: loaded.tree.at(i), proof: loaded.tree.getProof(i) })) }
  }
}

async function loadConfigs(store: Store): Promise<Configs> {
  const version = await store.configVersion()
  const history = (await store.configHistory()).map((c) => ({ ...c, registry: ProviderRegistry.from(c.config.providers) })).reverse()
  if (history.length === 0) {
    const config = await store.config()
    history.push({ fromEpoch: 0, config, registry: ProviderRegistry.from(config.providers) })
  }
  return { version, history }
}

function parseEpoch(text: string): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text)) throw new HttpError(400, `epoch must be a non-negative integer, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** A path segment as a 32-byte ABI word (`bytes` of hex, left-padded as an address or bytes32 is); undefined if it is not such hex. */
function word(hex: string, bytes: number): Uint8Array | undefined {
  if (!new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`).test(hex)) return undefined
  const out = new Uint8Array(32)
  out.set(hexToBytes(hex, bytes), 32 - bytes)
  return out
}

function routeName(path: string): string {
  if (path.startsWith('/v1/epochs/')) return path.includes('/spend/') ? '/v1/epochs/:epoch/spend' : path.includes('/files/') ? '/v1/epochs/:epoch/files' : '/v1/epochs/:epoch'
  if (path.startsWith('/v1/rewards/')) return '/v1/rewards/:account'
  return ['/v1/receipts', '/v1/batches', '/v1/health', '/metrics'].includes(path) ? path : 'other'
}

/**
 * Writes chunks as the socket takes them (waiting on drain), then ends; a client gone mid-way stops the read, and
 * one that takes more than `stallMs` to take a chunk is cut off, so a reader that stops reading frees its stream.
 */
async function writeChunks(res: ServerResponse, chunks: AsyncIterable<Uint8Array>, stallMs: number): Promise<void> {
  if (res.destroyed) throw new ClientGoneError()
  for await (const chunk of chunks) {
    if (!res.write(chunk))
      await new Promise<void>((resolve) => {
        const timer = stallMs > 0 ? setTimeout(() => res.destroy(), stallMs) : undefined
        const done = () => {
          clearTimeout(timer)
          res.off('drain', done)
          res.off('close', done)
          resolve()
        }
        res.on('drain', done)
        res.on('close', done)
      })
    // Cut off or gone while waiting: no further chunk is read from the store.
    if (res.destroyed) throw new ClientGoneError()
  }
  res.end()
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}), ...headers })
  res.end(text)
}

/**
 * Reads the body as UTF-8, refusing with 413 past the limit (by Content-Length first, then by counting). `take` is
 * told each chunk's size before it is kept and may refuse it with an error, which ends the read.
 */
function readBody(req: IncomingMessage, limit: number, take: (bytes: number) => Error | undefined): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > limit) return Promise.reject(new BodyError(413, `request body of ${declared} bytes is over the ${limit}-byte limit`))
  const type = String(req.headers['content-type'] ?? 'application/json')
  if (!/^application\/(json|x-ndjson)\b/.test(type)) return Promise.reject(new BodyError(415, `content-type ${type}: send application/json or application/x-ndjson`))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = (error: Error) => {
      // Stop buffering and drop the rest as it arrives (a 413's answer closes the connection; a 503's keeps it).
      req.removeAllListeners('data')
      req.resume()
      reject(error)
    }
    req.on('data', (chunk: Buffer) => {
      if (size + chunk.length > limit) return stop(new BodyError(413, `request body is over the ${limit}-byte limit`))
      const refused = take(chunk.length)
      if (refused) return stop(refused)
      size += chunk.length
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')))
    req.on('error', reject)
    // A request cut off (client gone, request timeout) may end without an error: its bytes must still be let go.
    req.on('close', () => req.complete || reject(Object.assign(new Error('the client closed the request before its end'), { code: 'ECONNRESET' })))
  })
}
