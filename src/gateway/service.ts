/**
 * The gateway's HTTP service, an OpenAI-compatible proxy in front of a provider's server: it identifies the caller,
 * prices the model, passes the call upstream, meters the answer's usage, records the signed receipt durably before
 * answering (its digest in `fomo-receipt-digest`, its request id in `fomo-request-id`), serves the receipts to their
 * users, forwards them to the aggregator, and exposes /metrics. Requests and answers pass unchanged apart from what it
 * adds (receipt headers, `stream_options.include_usage` upstream on streams, and a closing SSE comment).
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFile, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { getAddress } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import { Metrics } from '../aggregator/metrics.ts'
import { discountParameters } from '../economics/parameters.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import { batchedReceipt } from '../receipts/batchVerify.ts'
import { addressOf, type PrivateKey } from '../receipts/sign.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'
import { Discounts, type SnapshotSource } from './discounts.ts'
import { GatewayConfigError, GatewayError } from './errors.ts'
import { Forwarder, type ForwarderOptions } from './forwarder.ts'
import { KeyRing, readKeyStore, SignedRequestChecker, SIGNED_HEADERS, unauthorized, type KeyEntry } from './identity.ts'
import { callReceipt, epochOf, usageOf } from './metering.ts'
import type { PriceTable, ModelPrice, TokenUsage } from './prices.ts'
import { ReceiptQueue, type QueueDurability } from './queue.ts'
import { ReceiptSigner, type SigningMode } from './signer.ts'
import { classifyEvent, SseSplitter, sseComment } from './sse.ts'
import { callerHeaders, Upstream } from './upstream.ts'

/** The gateway's data directory holds the key store (this file) and the receipt queue (`queue/`). */
export const KEYS_FILE = 'keys.json'
export const QUEUE_DIR = 'queue'

/** The response headers the gateway adds. */
export const RECEIPT_HEADERS = { digest: 'fomo-receipt-digest', requestId: 'fomo-request-id', provider: 'fomo-provider' } as const

const METERED = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings'])

export type GatewayOptions = {
  /** The aggregator's configuration: receipt domain, epoch length, discount parameters, deployments and providers. */
  config: AggregatorConfig
  prices: PriceTable
  /** The provider's key: receipts are signed with it. */
  privateKey: PrivateKey
  /** The upstream's OpenAI base URL (e.g. http://127.0.0.1:8000/v1), its API key, and how long it may stay silent. */
  upstream: { url: string; apiKey?: string | undefined; timeoutMs: number }
  /** Holds keys.json and the queue. */
  dataDir: string
  /** When a call's receipt counts as recorded, so the call is answered (the queue's `durability`; default `disk`). */
  queueDurability?: QueueDurability | undefined
  stakes: SnapshotSource
  signing: SigningMode
  /** The aggregator receipts are forwarded to; without it they wait in the queue. */
  aggregator?: Omit<ForwarderOptions, 'nowMs' | 'metrics' | 'log'> | undefined
  /** Largest request body (default 4 MiB). */
  maxBodyBytes?: number
  /** How far a signed request's timestamp may be from the clock (default 300 s). */
  signatureWindowSeconds?: number
  /** Current time in nanoseconds since the Unix epoch. */
  now: () => bigint
  /**
   * The request id of each metered call (unique per provider). Default: 32 random bytes. Only replays on a simulated
   * clock (the demo) choose them; a live gateway must keep the default.
   */
  requestIds?: (() => Hex) | undefined
  log?: ((entry: Record<string, unknown>) => void) | undefined
}

/** A metered call as it goes through; `recording` once its answer is complete and its receipt is being written. */
type Call = { route: string; model: string; price: ModelPrice; user: Hex; discountBps: number; requestId: Hex; timestamp: bigint; stream: boolean; clientWantsUsage: boolean; recording: boolean }
type Outcome = { status: number; user?: Hex; model?: string; usage?: TokenUsage; digest?: Hex; unbilled?: string; gross?: string; discountBps?: number; charged?: string; error?: string }

/**
 * Counters of every call, added up in one map by a key the caller builds cheaply, and handed to `Metrics` (which
 * formats each label set) only when the metrics are read.
 */
class Tally {
  readonly #values = new Map<string, { name: string; help: string; labels: Record<string, string | number>; by: number }>()

  add(key: string, name: string, help: string, labels: Record<string, string | number>, by = 1): void {
    const v = this.#values.get(key)
    if (v) v.by += by
    else this.#values.set(key, { name, help, labels, by })
  }

  flushInto(metrics: Metrics): void {
    for (const v of this.#values.values())
      if (v.by !== 0) {
        metrics.counter(v.name, v.help, v.labels, v.by)
        v.by = 0
      }
  }
}

export class GatewayService {
  readonly server: Server
  readonly #metrics = new Metrics()
  readonly #tally = new Tally()
  readonly provider: Hex
  /** The provider's address as the `fomo-provider` header shows it (EIP-55). */
  readonly #providerHeader: string
  readonly signer: ReceiptSigner
  readonly forwarder: Forwarder | undefined
  readonly #upstream: Upstream
  readonly #discounts: Discounts
  readonly #checker: SignedRequestChecker
  readonly #verifier: ReceiptVerifier
  readonly #maxBodyBytes: number
  #keys: KeyRing
  #random = Buffer.alloc(0)
  #randomAt = 0
  /** The key store's inode, modification time and size when it was read. */
  #keysVersion = ''
  /** When keys.json was last checked for a change (performance.now() ms). */
  #keysCheckedAt = -Infinity
  /** The reload in flight: one at a time, so an older read never replaces a newer ring. */
  #keysReload: Promise<boolean> | undefined

  private constructor(
    readonly options: GatewayOptions,
    readonly queue: ReceiptQueue,
    keys: KeyEntry[],
  ) {
    this.provider = addressOf(options.privateKey)
    this.#providerHeader = getAddress(this.provider)
    this.#keys = new KeyRing(keys)
    this.#upstream = new Upstream(options.upstream.url, options.upstream.apiKey, options.upstream.timeoutMs)
    this.#discounts = new Discounts(options.stakes, discountParameters(options.config.platform))
    this.#checker = new SignedRequestChecker(this.provider, options.signatureWindowSeconds ?? 300, Number(options.now() / 1_000_000_000n))
    this.#verifier = new ReceiptVerifier({ domain: options.config.domain })
    this.#maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024
    this.signer = new ReceiptSigner(queue, options.privateKey, options.config.domain, options.signing, (error) => this.#log({ level: 'error', msg: 'batch signing failed', error: error.message }))
    this.forwarder = options.aggregator ? new Forwarder(queue, { ...options.aggregator, nowMs: () => this.#nowMs(), metrics: this.#metrics, log: (e) => this.#log(e) }) : undefined
    this.server = createServer((req, res) => void this.#handle(req, res))
    this.server.keepAliveTimeout = 10_000
  }

  /** The gateway's counters, up to date. */
  get metrics(): Metrics {
    this.#tally.flushInto(this.#metrics)
    return this.#metrics
  }

  /** Checks the prices against the configuration, opens the queue (recovering it) and starts signing and forwarding. */
  static async create(options: GatewayOptions): Promise<GatewayService> {
    const provider = addressOf(options.privateKey)
    for (const price of options.prices.values()) {
      if (!options.config.deployments.some((d) => d.id === price.deploymentId))
        throw new GatewayConfigError(`model ${price.model}: deployment ${price.deploymentId} is not in the aggregator's configuration`, 'Price each model for a deployment the aggregator knows.')
      if (!options.config.providers.some((p) => p.deploymentId === price.deploymentId && p.provider === provider))
        throw new GatewayConfigError(`model ${price.model}: provider ${getAddress(provider)} is not allowed to sign for deployment ${price.deploymentId}`, 'The aggregator would refuse every receipt: list the provider for the deployment in its configuration, or use the provider key it lists.')
    }
    const queue = await ReceiptQueue.open(join(options.dataDir, QUEUE_DIR), { domain: options.config.domain, durability: options.queueDurability })
    const version = await keysVersion(options.dataDir)
    const service = new GatewayService(options, queue, await loadKeys(options.dataDir))
    if (queue.recovered)
      service.#log({
        level: 'warn',
        msg: queue.recovered.savedTo
          ? 'the receipt queue cut off the end of its last segment, past a hole of zeros (a write torn by a power cut, or a damaged disk); the bytes are kept aside'
          : 'the receipt queue cut off a line its last write left torn (never acknowledged)',
        ...queue.recovered,
      })
    service.#keysVersion = version
    service.signer.start()
    // Receipts recorded unsigned before a crash are signed now, not at the first tick.
    if (queue.unsignedCount > 0) await service.signer.signPending()
    service.forwarder?.start()
    return service
  }

  async listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    this.server.listen(port, host)
    await once(this.server, 'listening')
    return this.server.address() as AddressInfo
  }

  /** Stops serving, signs what is pending, stops forwarding (the queue keeps the rest for the next start). */
  async close(): Promise<void> {
    const closed = once(this.server, 'close')
    this.server.close()
    this.server.closeAllConnections()
    await closed
    await this.signer.stop()
    await this.forwarder?.stop()
    await this.queue.close()
    this.#upstream.close()
  }

  /** 32 random bytes, from a pool refilled 128 ids at a time (one system call instead of one per call). */
  #requestId(): Hex {
    if (this.#random.length - this.#randomAt < 32) {
      this.#random = randomBytes(4096)
      this.#randomAt = 0
    }
    this.#randomAt += 32
    return `0x${this.#random.toString('hex', this.#randomAt - 32, this.#randomAt)}`
  }

  #nowMs(): number {
    return Number(this.options.now() / 1_000_000n)
  }

  #log(entry: Record<string, unknown>): void {
    this.options.log?.({ ts: new Date(this.#nowMs()).toISOString(), ...entry })
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const path = (req.url ?? '/').split('?')[0] as string
    const route = routeName(path)
    res.setHeader(RECEIPT_HEADERS.provider, this.#providerHeader)
    let outcome: Outcome = { status: 500 }
    try {
      if (METERED.has(path) && req.method === 'POST') outcome = await this.#metered(req, res, path)
      else if (path === '/v1/models' && req.method === 'GET') outcome = await this.#models(req, res)
      else if (route === '/v1/receipts/:id' && req.method === 'GET') outcome = await this.#receipt(req, res, path.slice('/v1/receipts/'.length))
      else if (path === '/metrics' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        res.end(this.#renderMetrics())
        outcome = { status: 200 }
      } else throw new GatewayError(404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${req.method} ${path}.`)
    } catch (error) {
      outcome = { ...outcome, status: this.#fail(res, error, req), error: error instanceof GatewayError ? error.code : 'internal_error' }
    } finally {
      this.#tally.add(`r ${outcome.status} ${route}`, 'fomo_gateway_requests_total', 'Requests by route and status', { route, status: outcome.status })
      this.#tally.add(`s ${route}`, 'fomo_gateway_request_seconds_total', 'Time spent serving requests, upstream included', { route }, (performance.now() - started) / 1000)
      if (this.options.log) {
        const { usage, ...rest } = outcome
        this.#log({ level: outcome.status >= 500 ? 'error' : 'info', msg: 'request', method: req.method, path, ms: Math.round((performance.now() - started) * 100) / 100, ...rest, ...(usage ?? {}) })
      }
    }
  }

  /** Answers an error in OpenAI's shape (or cuts a response already started); returns the status. */
  #fail(res: ServerResponse, error: unknown, req?: IncomingMessage): number {
    const e = error instanceof GatewayError ? error : new GatewayError(500, 'server_error', 'internal_error', 'The gateway failed to handle the request.')
    if (!(error instanceof GatewayError)) this.#log({ level: 'error', msg: 'internal error', error: error instanceof BaseError ? error.message : String((error as Error)?.stack ?? error) })
    if (res.headersSent) {
      res.destroy()
      return e.status
    }
    res.writeHead(e.status, { 'content-type': 'application/json', ...(e.retryAfter ? { 'retry-after': String(e.retryAfter) } : {}), ...(e.status === 413 ? { connection: 'close' } : {}) })
    res.end(JSON.stringify(e.body()))
    // Whatever of the request is still coming is read and dropped, so the caller sees the answer.
    req?.resume()
    return e.status
  }

  #renderMetrics(): string {
    const gauge = (name: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`
    return (
      this.metrics.render() +
      gauge('fomo_gateway_queue_backlog_bytes', 'Bytes of queued records the aggregator has not answered yet', this.queue.backlogBytes) +
      gauge('fomo_gateway_unsigned_receipts', 'Receipts recorded and waiting for their batch signature', this.queue.unsignedCount)
    )
  }

  /** Reads keys.json again when it changed since it was read; true when it did. */
  #reloadKeys(): Promise<boolean> {
    this.#keysReload ??= this.#readKeys().finally(() => (this.#keysReload = undefined))
    return this.#keysReload
  }

  async #readKeys(): Promise<boolean> {
    try {
      const version = await keysVersion(this.options.dataDir)
      if (version === this.#keysVersion) return false
      const keys = new KeyRing(await loadKeys(this.options.dataDir))
      this.#keys = keys
      this.#keysVersion = version
      return true
    } catch (error) {
      // The ring in force stays, and the file is read again at the next check; a caller's call does not fail for it.
      this.#log({ level: 'error', msg: 'the API key store could not be read; revoked or added keys take effect once it can', error: (error as Error).message.split('\n')[0] })
      return false
    }
  }

  /** keys.json is checked for a change at most once a second, so a revoked key is refused within a second on every route. */
  async #keysFresh(): Promise<void> {
    const now = performance.now()
    if (now - this.#keysCheckedAt < 1000) return
    this.#keysCheckedAt = now
    await this.#reloadKeys()
  }

  /** The caller: by a signed request (the headers `fomo-address`, ..., `fomo-signature`), else by its API key. */
  async #caller(req: IncomingMessage, path: string, body: Buffer): Promise<Hex> {
    if (req.headers[SIGNED_HEADERS.signature] !== undefined) return this.#checker.check(req.headers, req.method ?? 'GET', req.url ?? path, body, Number(this.options.now() / 1_000_000_000n))
    const key = bearerKey(req)
    if (!key) throw unauthorized("You didn't provide an API key. Send it as `Authorization: Bearer <key>` (fomo gateway keys add), or sign the request with your Ethereum key.")
    await this.#keysFresh()
    let user = this.#keys.userOf(key)
    // A key added while the gateway runs: the key store is read again when it changed.
    if (!user && (await this.#reloadKeys())) user = this.#keys.userOf(key)
    if (!user) throw unauthorized('Incorrect API key provided. Ask the provider for a key (fomo gateway keys add).')
    return user
  }

  async #metered(req: IncomingMessage, res: ServerResponse, path: string): Promise<Outcome> {
    const signed = req.headers[SIGNED_HEADERS.signature] !== undefined
    // An API key is checked before the body is read; a signature covers the body, so it is checked after.
    const key = signed ? undefined : bearerKey(req)
    if (key !== undefined) await this.#keysFresh()
    // A known key is answered without waiting; an unknown one goes through #caller (which reads the key store again).
    let user = signed ? undefined : ((key === undefined ? undefined : this.#keys.userOf(key)) ?? (await this.#caller(req, path, EMPTY)))
    const body = await readBody(req, this.#maxBodyBytes)
    user ??= await this.#caller(req, path, body)
    let request: Record<string, unknown>
    try {
      request = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    } catch {
      throw new GatewayError(400, 'invalid_request_error', 'invalid_json', 'We could not parse the JSON body of your request.')
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new GatewayError(400, 'invalid_request_error', 'invalid_json', 'The request body must be a JSON object.')
    const model = request.model
    if (typeof model !== 'string') throw new GatewayError(400, 'invalid_request_error', 'missing_required_parameter', 'You must provide a model parameter.', 'model')
    const price = this.options.prices.get(model)
    if (!price) throw new GatewayError(404, 'invalid_request_error', 'model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`, 'model')
    const timestamp = this.options.now() / 1_000_000_000n
    const epoch = epochOf(timestamp, this.options.config.epochSeconds)
    const discountBps = this.#discounts.loadedDiscountBps(epoch, price.deploymentId, user) ?? (await this.#discounts.discountBps(epoch, price.deploymentId, user))
    // Only booleans and an object: an upstream may read `"stream": 1` or "true" as true and stream an answer the
    // gateway would not meter (it asks for usage only on streams it recognises).
    if (request.stream !== undefined && request.stream !== null && typeof request.stream !== 'boolean')
      throw new GatewayError(400, 'invalid_request_error', 'invalid_type', 'Invalid type for `stream`: expected a boolean.', 'stream')
    const streamOptions = request.stream_options
    if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions)))
      throw new GatewayError(400, 'invalid_request_error', 'invalid_type', 'Invalid type for `stream_options`: expected an object.', 'stream_options')
    const stream = request.stream === true
    // An object or nothing, after the check above.
    const options = (streamOptions ?? undefined) as { include_usage?: unknown } | undefined
    const clientWantsUsage = options?.include_usage === true
    // Streams report usage only when asked: ask, and strip the extra chunk again unless the caller asked too.
    const upstreamBody = stream && !clientWantsUsage ? Buffer.from(JSON.stringify({ ...request, stream_options: { ...(options ?? {}), include_usage: true } })) : body
    const call: Call = { route: path, model, price, user, discountBps, requestId: this.options.requestIds?.() ?? this.#requestId(), timestamp, stream, clientWantsUsage, recording: false }
    return { user, model, ...(await this.#proxy(req, res, call, upstreamBody)) }
  }

  /** Passes the call upstream and its answer back, metered; resolves when the answer is complete or abandoned. */
  #proxy(req: IncomingMessage, res: ServerResponse, call: Call, body: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false
      const settle = (o: Outcome) => {
        if (settled) return
        settled = true
        if (o.unbilled) this.#tally.add(`u ${o.unbilled}`, 'fomo_gateway_unbilled_total', 'Calls that carry no receipt, by reason', { reason: o.unbilled })
        resolve(o)
      }
      // The caller went away while the call was being priced (its 'close' is past): no upstream call, no bill.
      if (res.destroyed || req.socket.destroyed) return settle({ status: 499, unbilled: 'cancelled' })
      const upstream = this.#upstream.request('POST', req.url ?? call.route, this.#upstream.upstreamHeaders(req.headers, body.length))
      // The caller went away: the upstream call is cut, and a call whose answer was not complete is not billed.
      res.on('close', () => {
        if (res.writableFinished) return
        upstream.destroy()
        if (!call.recording) settle({ status: 499, unbilled: 'cancelled' })
      })
      upstream.setTimeout(this.#upstream.timeoutMs, () => {
        upstream.destroy()
        if (!settled) settle({ status: this.#fail(res, upstreamTimeout(this.#upstream.timeoutMs)), unbilled: 'upstream-timeout' })
      })
      upstream.on('error', (error) => {
        if (!settled) settle({ status: this.#fail(res, upstreamUnavailable(error)), unbilled: 'upstream-error' })
      })
      upstream.on('response', (up) => {
        const status = up.statusCode ?? 502
        const contentType = String(up.headers['content-type'] ?? '')
        if (status < 200 || status >= 300) {
          // Errors pass as the upstream gave them, in its (OpenAI) shape.
          res.writeHead(status, callerHeaders(up.headers))
          up.pipe(res)
          up.on('end', () => settle({ status, unbilled: 'upstream-error' }))
        } else if (call.stream && contentType.startsWith('text/event-stream')) this.#relayStream(up, res, call, settle)
        else this.#relayJson(up, res, call, settle)
        up.on('error', () => {
          res.destroy()
          settle({ status: 502, unbilled: 'upstream-error' })
        })
      })
      upstream.end(body)
    })
  }

  /** A whole answer: read, metered, its receipt recorded, then sent with the receipt's headers. */
  #relayJson(up: IncomingMessage, res: ServerResponse, call: Call, settle: (o: Outcome) => void): void {
    const chunks: Buffer[] = []
    up.on('data', (c: Buffer) => chunks.push(c))
    up.on('end', () => {
      const body = Buffer.concat(chunks)
      let usage: TokenUsage | undefined
      try {
        usage = usageOf((JSON.parse(body.toString('utf8')) as { usage?: unknown }).usage)
      } catch {
        usage = undefined
      }
      call.recording = true
      this.#record(call, usage).then(
        (r) => {
          if (res.destroyed) return settle({ status: 499, ...r })
          const headers = callerHeaders(up.headers)
          headers[RECEIPT_HEADERS.requestId] = call.requestId
          if (r.digest) headers[RECEIPT_HEADERS.digest] = r.digest
          headers['content-length'] = body.length
          res.writeHead(up.statusCode ?? 200, headers)
          res.end(body)
          settle({ status: up.statusCode ?? 200, ...r })
        },
        (error: unknown) => settle({ status: this.#fail(res, error) }),
      )
    })
  }

  /**
   * A stream: events pass as they come; the usage chunk is read (and dropped unless the caller asked for it); at the
   * upstream's end the receipt is recorded, then its digest sent in an SSE comment and a trailer, then `[DONE]`.
   */
  #relayStream(up: IncomingMessage, res: ServerResponse, call: Call, settle: (o: Outcome) => void): void {
    res.writeHead(up.statusCode ?? 200, { ...callerHeaders(up.headers), [RECEIPT_HEADERS.requestId]: call.requestId, trailer: RECEIPT_HEADERS.digest })
    const splitter = new SseSplitter()
    let usage: TokenUsage | undefined
    let done: string | undefined
    up.on('data', (chunk: Buffer) => {
      let out = ''
      for (const event of splitter.push(chunk)) {
        const e = classifyEvent(event)
        if (e.kind === 'done') {
          done = event
          continue
        }
        if (e.kind === 'usage') {
          usage = e.usage ?? usage
          if (e.usageOnly && !call.clientWantsUsage) continue
        }
        out += event
      }
      if (out.length > 0 && !res.write(out)) {
        up.pause()
        res.once('drain', () => up.resume())
      }
    })
    up.on('end', () => {
      if (res.destroyed) return
      const rest = splitter.rest()
      if (rest.length > 0) res.write(rest)
      call.recording = true
      this.#record(call, usage).then(
        (r) => {
          if (r.digest) {
            res.write(sseComment(`${RECEIPT_HEADERS.digest} ${r.digest}`))
            res.addTrailers({ [RECEIPT_HEADERS.digest]: r.digest })
          }
          res.end(done ?? '')
          settle({ status: up.statusCode ?? 200, ...r })
        },
        (error: unknown) => settle({ status: this.#fail(res, error) }),
      )
    })
  }

  /** The receipt of a finished call, recorded durably; or why it has none. */
  async #record(call: Call, usage: TokenUsage | undefined): Promise<Omit<Outcome, 'status'>> {
    if (!usage) return { unbilled: 'no-usage' }
    const out = callReceipt({ price: call.price, usage, discountBps: call.discountBps, provider: this.provider, user: call.user, requestId: call.requestId, timestamp: call.timestamp, epochSeconds: this.options.config.epochSeconds })
    if ('unbilled' in out) return { usage, unbilled: out.unbilled }
    let digest: Hex
    try {
      digest = await this.signer.record(out.receipt)
    } catch (error) {
      this.#log({ level: 'error', msg: 'a receipt could not be recorded; the call is refused', error: (error as Error).message })
      throw new GatewayError(503, 'server_error', 'receipt_queue_unavailable', 'The gateway could not record the receipt of this call; it was not billed.', null, 5)
    }
    const r = out.receipt
    const t = this.#tally
    t.add('receipts', 'fomo_gateway_receipts_total', 'Receipts recorded', { mode: this.options.signing.kind })
    t.add(`ti ${call.model}`, 'fomo_gateway_tokens_total', 'Tokens metered, by model and kind', { model: call.model, kind: 'input' }, r.inputTokens)
    t.add(`to ${call.model}`, 'fomo_gateway_tokens_total', 'Tokens metered, by model and kind', { model: call.model, kind: 'output' }, r.outputTokens)
    t.add(`ug ${call.model}`, 'fomo_gateway_usdc_total', 'USDC base units receipted, by model and amount (gross, charged)', { model: call.model, amount: 'gross' }, Number(r.grossAmount))
    t.add(`uc ${call.model}`, 'fomo_gateway_usdc_total', 'USDC base units receipted, by model and amount (gross, charged)', { model: call.model, amount: 'charged' }, Number(r.chargedAmount))
    return { usage, digest, gross: String(r.grossAmount), discountBps: r.discountBps, charged: String(r.chargedAmount) }
  }

  async #models(req: IncomingMessage, res: ServerResponse): Promise<Outcome> {
    const user = await this.#caller(req, '/v1/models', EMPTY)
    return new Promise((resolve) => {
      const upstream = this.#upstream.request('GET', req.url ?? '/v1/models', this.#upstream.upstreamHeaders(req.headers, undefined))
      upstream.setTimeout(this.#upstream.timeoutMs, () => {
        upstream.destroy()
        resolve({ user, status: this.#fail(res, upstreamTimeout(this.#upstream.timeoutMs)) })
      })
      upstream.on('error', (error) => resolve({ user, status: this.#fail(res, upstreamUnavailable(error)) }))
      upstream.on('response', (up) => {
        res.writeHead(up.statusCode ?? 502, callerHeaders(up.headers))
        up.pipe(res)
        up.on('end', () => resolve({ user, status: up.statusCode ?? 502 }))
      })
      upstream.end()
    })
  }

  /** A caller's own receipt, signed: per call (fomo-receipt-v1), or with its batch's proof (fomo-batched-receipt-v1). */
  async #receipt(req: IncomingMessage, res: ServerResponse, id: string): Promise<Outcome> {
    const user = await this.#caller(req, req.url ?? '', EMPTY)
    const notFound = () => new GatewayError(404, 'invalid_request_error', 'receipt_not_found', `No receipt ${id} of yours is held by this gateway.`)
    if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw notFound()
    const found = await this.queue.lookup(id as Hex)
    if (!found) throw notFound()
    const { record, index, digest } = found
    const owner = record.kind === 'receipt' ? record.document.message.user : record.kind === 'unsigned' ? record.receipt.user : `0x${record.document.receipts.user.slice(2 + 40 * index, 2 + 40 * index + 40)}`
    if (owner?.toLowerCase() !== user) throw notFound()
    if (record.kind === 'unsigned') {
      res.writeHead(202, { 'content-type': 'application/json', 'retry-after': '1' })
      res.end(JSON.stringify({ status: 'pending', digest, message: 'The receipt is recorded and will be signed in the next batch.' }))
      return { status: 202, user, digest }
    }
    const document = record.kind === 'receipt' ? record.document : batchedReceipt(record.document, index, this.#verifier)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(document))
    return { status: 200, user, digest }
  }
}

const EMPTY = Buffer.alloc(0)

/** The API key of `Authorization: Bearer <key>`, if any. */
function bearerKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() || undefined : undefined
}

/** The key store of a data directory (none yet: no keys). */
export async function loadKeys(dataDir: string): Promise<KeyEntry[]> {
  const path = join(dataDir, KEYS_FILE)
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  return text === undefined ? [] : readKeyStore(parseJsonDocument(text, path))
}

/** The key store's inode, modification time and size ('' when there is none yet): a rewrite changes at least one. */
async function keysVersion(dataDir: string): Promise<string> {
  const s = await stat(join(dataDir, KEYS_FILE)).catch(() => undefined)
  return s ? `${s.ino}/${s.mtimeMs}/${s.size}` : ''
}

const upstreamTimeout = (ms: number) => new GatewayError(504, 'server_error', 'upstream_timeout', `The upstream server did not answer within ${ms} ms.`, null, 1)
const upstreamUnavailable = (error: Error) => new GatewayError(502, 'server_error', 'upstream_unavailable', `The upstream server could not be reached: ${error.message}`, null, 1)

function routeName(path: string): string {
  if (path.startsWith('/v1/receipts/')) return '/v1/receipts/:id'
  return METERED.has(path) || path === '/v1/models' || path === '/metrics' ? path : 'other'
}

/** The request body, refused with 413 past `limit` (by Content-Length first, then by counting). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new GatewayError(413, 'invalid_request_error', 'request_too_large', `The request body is over the gateway's ${limit}-byte limit.`)
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
