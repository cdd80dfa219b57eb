/**
 * The aggregator commands: init, inputs, serve, ingest, seal, export-receipts, and the demo.
 */
import type { Hex } from '../../base/bytes.ts'
import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { readConfig } from '../../epoch/config.ts'
import { readEpochInputs } from '../../epoch/inputs.ts'
import { writeEpochDirectory } from '../../epoch/directory.ts'
import { writeReceiptExport } from '../../aggregator/export.ts'
import { sendBatch, sendReceipts, type IngestSummary } from '../../aggregator/client.ts'
import { splitItems } from '../../aggregator/split.ts'
import { demoSummary, runDemo } from '../demo.ts'
import { AggregatorService, DEFAULT_LIMITS, ListenError } from '../../aggregator/service.ts'
import { openStore, type Store } from '../../aggregator/store.ts'
import { BaseError, InputError } from '../../base/errors.ts'
import { receiptFileItem, ReceiptFileError, type ReceiptFileItem } from '../../receipts/file.ts'
import { parseBlockNumber, parseStakingPair, requireString, UsageError, type Command, type Io, type OptionSpec } from '../command.ts'
import { checkNewOutput, checkWritableDirectory, fileError, readInputFile, readJsonFile, writeOutput } from '../files.ts'
import { progress } from '../progress.ts'

export const storeOptions: Record<string, OptionSpec> = {
  'data-dir': { type: 'string', valueName: 'dir', description: 'Embedded PostgreSQL (PGlite) data directory (default: ./fomo-data; given, it wins over FOMO_DATABASE_URL)' },
  'database-url': { type: 'string', valueName: 'url', description: 'PostgreSQL server, e.g. postgres://user@127.0.0.1/fomo (or FOMO_DATABASE_URL)' },
}

/**
 * The store the options name: --database-url, or --data-dir, or else FOMO_DATABASE_URL, or else ./fomo-data.
 * An explicit --data-dir wins over the environment's FOMO_DATABASE_URL; both flags at once are refused.
 */
async function storeOf(values: Record<string, unknown>, io: Io, command: string): Promise<Store> {
  const url = typeof values['database-url'] === 'string' ? values['database-url'] : undefined
  const dir = typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined
  if (url !== undefined && dir !== undefined) throw new UsageError('give --data-dir (the embedded store) or --database-url (a PostgreSQL server), not both', command)
  const databaseUrl = url ?? (dir === undefined ? io.env.FOMO_DATABASE_URL : undefined)
  return openStore(databaseUrl ? { databaseUrl } : { dataDir: resolve(io.cwd, dir ?? 'fomo-data') })
}

/** Opens the store, runs `fn`, and always closes the store. */
export async function withStore<T>(values: Record<string, unknown>, io: Io, command: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await storeOf(values, io, command)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

function epochOption(values: Record<string, unknown>, command: string): number {
  const v = requireString(values, 'epoch', command)
  if (!/^(0|[1-9][0-9]{0,9})$/.test(v)) throw new UsageError('--epoch must be a non-negative integer (the UTC day number for daily epochs)', command)
  return Number(v)
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n

export const initCommand: Command = {
  name: 'init',
  summary: 'Creates or updates the aggregator store from a configuration file: receipt domain, epochs, tokens, platform parameters, deployments and the providers allowed to sign for each. Format: docs/aggregator.md.',
  options: { config: { type: 'string', valueName: 'aggregator.json', description: 'The configuration (format fomo-aggregator-config-v1)' }, ...storeOptions },
  examples: ['fomo init --config aggregator.json --data-dir ./fomo-data'],
  // Run again on a store holding receipts, the new configuration applies from the next epoch (printed as appliesFromEpoch).
  async run({ values }, io) {
    const config = readConfig(await readJsonFile(requireString(values, 'config', 'init'), io.cwd, 'config', 'init'))
    await withStore(values, io, 'init', async (store) => {
      const { fromEpoch } = await store.setConfig(config, { now: nowNs() })
      // A change reaches running `fomo serve` nodes at once and applies from `appliesFromEpoch` (0: every epoch).
      io.stdout(`${JSON.stringify({ deployments: config.deployments.length, providers: config.providers.length, store: store.engine, appliesFromEpoch: fromEpoch })}\n`)
    })
  },
}

export const inputsCommand: Command = {
  name: 'inputs',
  summary:
    'Stores an epoch\'s inputs: OpEx and the stake snapshot (circulating supply and stakes) per deployment (format fomo-epoch-inputs-v2).\n' +
    'With --rpc, the snapshot of every deployment whose configuration names its staking contract (or given by --staking\n' +
    '<deploymentId>=<MTStaking address>) is read from the chain at --block instead (eligible stakes), the file gives only OpEx,\n' +
    'and the contract and block are recorded in the sealed inputs.json: the commitment names that block, `fomo audit --rpc`\n' +
    'checks the stakes there and anyone can challenge a wrong one on chain. Refused once the epoch is sealed.',
  options: {
    in: { type: 'string', valueName: 'inputs.json', description: 'The epoch inputs' },
    rpc: { type: 'string', valueName: 'url', description: 'Read stake snapshots from staking contracts on this node' },
    staking: { type: 'string', valueName: 'id=address', multiple: true, description: 'A deployment and its MTStaking contract (repeat per deployment; default: those the configuration names)' },
    block: { type: 'string', valueName: 'n', description: 'The snapshot block (with --rpc)' },
    ...storeOptions,
  },
  examples: ['fomo inputs --in epoch-20415.json', 'fomo inputs --in opex-20415.json --rpc http://127.0.0.1:8545 --block 123456 --staking 0x<deployment>=0x<staking>'],
  async run({ values }, io) {
    await withStore(values, io, 'inputs', async (store) => {
      const document = await readJsonFile(requireString(values, 'in', 'inputs'), io.cwd, 'inputs', 'inputs')
      // Read under the configuration of the epoch the file is for (deployments may change between epochs).
      const epoch = (document as { epoch?: unknown } | null)?.epoch
      const inputs = readEpochInputs(document, await store.config(typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : undefined))
      if (typeof values.rpc === 'string') {
        const block = parseBlockNumber(requireString(values, 'block', 'inputs'), 'inputs')
        const { createPublicClient, http } = await import('viem')
        const { readStakeSnapshot } = await import('../../chain/stakes.ts')
        const client = createPublicClient({ transport: http(values.rpc) })
        const config = await store.config(inputs.epoch)
        const given = ((values.staking as string[] | undefined) ?? []).map((pair) => {
          const { deploymentId: id, staking } = parseStakingPair(pair, 'inputs')
          const d = config.deployments.find((x) => x.id === id)
          if (!d) throw new UsageError(`--staking ${pair}: no deployment ${id} in the aggregator config`, 'inputs')
          if (d.staking !== undefined && d.staking !== staking.toLowerCase())
            throw new UsageError(`--staking ${pair}: the configuration names ${d.staking} as deployment ${d.name}'s staking contract (the one the registry pins)`, 'inputs')
          return { id, staking }
        })
        const pairs = given.length > 0 ? given : config.deployments.flatMap((d) => (d.staking ? [{ id: d.id, staking: d.staking }] : []))
        if (pairs.length === 0) throw new UsageError('--rpc reads stakes from staking contracts: name them in the configuration ("staking" per deployment) or with --staking', 'inputs')
        for (const { id, staking } of pairs) {
          const snapshot = await readStakeSnapshot({ public: client as never }, staking, block)
          const current = inputs.deployments.get(id) ?? { opex: 0n, circulatingSupply: undefined, stakes: new Map() }
          inputs.deployments.set(id, { ...current, circulatingSupply: snapshot.circulatingSupply, stakes: snapshot.stakes, snapshot: { staking: staking.toLowerCase() as Hex, block } })
        }
      }
      await store.setEpochInputs(inputs)
      io.stdout(`${JSON.stringify({ epoch: inputs.epoch, deployments: inputs.deployments.size })}\n`)
    })
  },
}

export const serveCommand: Command = {
  name: 'serve',
  summary:
    'Runs the aggregator HTTP service: POST /v1/receipts, POST /v1/batches, GET /v1/epochs/:n, GET /v1/epochs/:n/spend/:deployment/:user,\n' +
    'GET /v1/rewards/:account, GET /v1/health, GET /metrics. Stateless apart from the store: run several on one PostgreSQL server.',
  options: {
    ...storeOptions,
    port: { type: 'string', valueName: 'n', description: 'Port (default 8787; 0 picks a free one)' },
    host: { type: 'string', valueName: 'addr', description: 'Address to bind (default 127.0.0.1)' },
    'max-body-bytes': { type: 'string', valueName: 'n', description: 'Request body limit (default 10485760)' },
    'max-items': { type: 'string', valueName: 'n', description: 'Receipts per request (default 5000)' },
    'max-pending-bytes': { type: 'string', valueName: 'n', description: 'Ingest body bytes held at once before new requests get 503 (default 268435456)' },
    'max-queued-jobs': { type: 'string', valueName: 'n', description: 'Verification jobs waiting for a worker before new requests get 503 (default 8 per core)' },
    'request-timeout-ms': { type: 'string', valueName: 'n', description: 'Time a client has to send a whole request before 408 (default 60000; 0 for none)' },
    'max-file-streams': { type: 'string', valueName: 'n', description: 'Sealed files sent at once before more get 503 (default 8)' },
    quiet: { type: 'boolean', description: 'No request logs' },
  },
  examples: ['fomo serve --data-dir ./fomo-data --port 8787', 'fomo serve --database-url postgres://fomo@127.0.0.1/fomo'],
  async run({ values }, io) {
    const int = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
      const v = values[name]
      if (v === undefined) return fallback
      if (typeof v !== 'string' || !/^[0-9]{1,16}$/.test(v) || Number(v) > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}`, 'serve')
      return Number(v)
    }
    const port = int('port', 8787, 65_535)
    const host = typeof values.host === 'string' ? values.host : '127.0.0.1'
    if (isIP(host) === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) throw new UsageError(`--host ${JSON.stringify(host)} is not an IP address or host name`, 'serve')
    const limits = {
      maxBodyBytes: int('max-body-bytes', DEFAULT_LIMITS.maxBodyBytes),
      maxItems: int('max-items', DEFAULT_LIMITS.maxItems),
      maxPendingBytes: int('max-pending-bytes', DEFAULT_LIMITS.maxPendingBytes),
      requestTimeoutMs: int('request-timeout-ms', DEFAULT_LIMITS.requestTimeoutMs),
      maxFileStreams: int('max-file-streams', DEFAULT_LIMITS.maxFileStreams),
      ...(values['max-queued-jobs'] === undefined ? {} : { maxQueuedJobs: int('max-queued-jobs', 0) }),
    }
    const store = await storeOf(values, io, 'serve')
    let service: AggregatorService | undefined
    try {
      await store.config()
      service = await AggregatorService.create({ store, now: nowNs, limits, log: values.quiet ? undefined : (entry) => io.stderr(`${JSON.stringify(entry)}\n`) })
      const address = await service.listen(port, host)
      io.stdout(`${JSON.stringify({ listening: `http://${address.address}:${address.port}`, store: store.engine })}\n`)
    } catch (error) {
      // Nothing stays behind: the embedded store's lock is released with the store.
      await service?.close()
      await store.close()
      if (error instanceof ListenError && error.reason === 'host') throw new UsageError(error.shortMessage, 'serve')
      throw error
    }
    await new Promise<void>((done) => {
      const stop = () => done()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await service.close()
    await store.close()
  },
}

export const ingestCommand: Command = {
  name: 'ingest',
  summary:
    'Sends a file of signed receipts (NDJSON, a JSON array, or a batch document) to an aggregator in requests of --batch-size, retrying on network errors and 5xx. Resending is safe: stored receipts come back as duplicates.\n' +
    'Reads what `fomo export-receipts` writes (receipts, batches and batch parts, one per line). Every line is checked first: a bad one is named\n' +
    'by its line number and nothing is sent. Each request is stored whole or not at all; a summary says what was accepted, duplicate or rejected.',
  options: {
    url: { type: 'string', valueName: 'url', description: 'The aggregator, e.g. http://127.0.0.1:8787' },
    in: { type: 'string', valueName: 'file', description: 'Receipts file' },
    'batch-size': { type: 'string', valueName: 'n', description: 'Receipts per request (default 1000)' },
    'retry-seconds': { type: 'string', valueName: 's', description: 'How long to keep retrying a request while the aggregator is unreachable or answers 5xx (default 120)' },
  },
  examples: ['fomo ingest --url http://127.0.0.1:8787 --in receipts.ndjson', 'fomo ingest --url http://127.0.0.1:8787 --in receipts-20415.ndjson --retry-seconds 600'],
  async run({ values }, io) {
    const url = requireString(values, 'url', 'ingest')
    const positive = (name: string, fallback: number) => {
      const v = values[name]
      if (v === undefined) return fallback
      if (typeof v !== 'string' || !/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError(`--${name} must be a positive integer`, 'ingest')
      return Number(v)
    }
    const batchSize = positive('batch-size', 1000)
    const retrySeconds = positive('retry-seconds', 120)
    const path = resolve(io.cwd, requireString(values, 'in', 'ingest'))
    const items = receiptFileItems(await readInputFile(path, io.cwd, 'receipts file', 'ingest'), path)
    const receipts = items.filter((i) => i.kind === 'receipt')
    const batches = items.filter((i) => i.kind === 'batch')
    const bar = progress(io, 'ingest')
    const total = receipts.length + batches.length
    const rejections: Array<{ line: number; reason: string; message: string }> = []
    let summary: IngestSummary
    try {
      summary = await sendReceipts(
        receipts.map((r) => r.text),
        { url, batchSize, retrySeconds, onProgress: (done) => bar.update(done, total) },
      )
      for (const r of summary.rejections) rejections.push({ line: receipts[r.index]!.line, reason: r.reason, message: r.message })
      // Batches one per request, each stored whole or not at all.
      for (const [k, b] of batches.entries()) {
        const answer = await sendBatch(url, b.text, { retrySeconds, retries: summary })
        summary.requests++
        if (answer.batch === 'rejected') {
          summary.rejected++
          rejections.push({ line: b.line, reason: answer.reason ?? 'rejected', message: answer.message ?? '' })
        } else {
          summary.accepted += answer.accepted
          summary.duplicates += answer.duplicates
          summary.rejected += answer.rejected
          for (const r of answer.results) if (r.status === 'rejected') rejections.push({ line: b.line, reason: r.reason, message: `batch receipt ${r.index}: ${r.message}` })
        }
        bar.update(receipts.length + k + 1, total)
      }
    } finally {
      bar.done()
    }
    const { requests, accepted, duplicates, rejected, retries } = summary
    io.stdout(`${JSON.stringify({ lines: items.length, receipts: receipts.length, batches: batches.length, requests, accepted, duplicates, rejected, retries, rejections: rejections.slice(0, 20) })}\n`)
    return rejected > 0 ? 1 : 0
  },
}

/**
 * The items of a receipts file, each checked: NDJSON (one receipt, batch or batch part per line), a JSON array of
 * receipts, or one (possibly pretty-printed) document. A bad item stops everything before anything is sent.
 */
function receiptFileItems(text: string, path: string): ReceiptFileItem[] {
  const items: ReceiptFileItem[] = []
  try {
    const trimmed = text.trim()
    if (trimmed.startsWith('[')) {
      splitItems(trimmed, Number.MAX_SAFE_INTEGER).forEach((t, i) => items.push(receiptFileItem(t, i + 1)))
      return items
    }
    const lines = text.split('\n')
    const first = lines.findIndex((l) => l.trim() !== '')
    // One pretty-printed document: its first line alone is not a JSON document.
    if (first >= 0 && lines[first]!.trim() === '{') return [receiptFileItem(trimmed, first + 1)]
    lines.forEach((l, i) => {
      if (l.trim() !== '') items.push(receiptFileItem(l.trim(), i + 1))
    })
  } catch (error) {
    if (error instanceof ReceiptFileError) throw new InputError(`${path}: ${error.shortMessage}; fix that line and run again (nothing was sent)`)
    if (error instanceof BaseError) throw new InputError(`${path}: ${error.shortMessage}; fix the file and run again (nothing was sent)`)
    throw error
  }
  if (items.length === 0) throw new InputError(`${path} holds no receipts; give a file of signed receipts (fomo-receipt-v1, batches, or what \`fomo export-receipts\` writes)`)
  return items
}

export const sealCommand: Command = {
  name: 'seal',
  summary:
    'Seals an epoch: no receipt is accepted for it afterwards; computes the spend tree, rewards, the cumulative reward tree and the\n' +
    'report, stores them with a manifest in one transaction, and writes them to --out/epoch-<n> atomically. Deterministic: sealing\n' +
    'again writes byte-identical files.',
  options: {
    epoch: { type: 'string', valueName: 'n', description: 'The epoch: one that has ended, after every earlier epoch with receipts' },
    out: { type: 'string', valueName: 'dir', description: 'Where to write epoch-<n>/' },
    'allow-empty': { type: 'boolean', description: 'Seal an epoch that holds no receipts and no inputs (refused otherwise: most likely a mistyped --epoch)' },
    ...storeOptions,
  },
  examples: ['fomo seal --epoch 20415 --out ./epochs'],
  async run({ values }, io) {
    const epoch = epochOption(values, 'seal')
    const out = resolve(io.cwd, requireString(values, 'out', 'seal'))
    // Sealing cannot be undone: a --out that cannot take the files is refused first.
    await checkWritableDirectory(out, 'the output directory', 'seal', { create: true })
    await withStore(values, io, 'seal', async (store) => {
      const sealed = await store.seal(epoch, { now: nowNs(), allowEmpty: Boolean(values['allow-empty']) })
      const dir = await writeEpochDirectory(out, epoch, sealed.files).catch((error: unknown) => {
        throw fileError(error, out, 'the output directory', 'seal', `epoch ${epoch} is sealed in the store: run the same command with a writable --out to write its files`)
      })
      io.stdout(`${JSON.stringify({ epoch, alreadySealed: sealed.alreadySealed, spendRoot: sealed.spendRoot, rewardRoot: sealed.rewardRoot, dir, files: sealed.files.map((f) => f.name) })}\n`)
    })
  },
}

export const exportReceiptsCommand: Command = {
  name: 'export-receipts',
  summary: 'Exports an epoch\'s raw signed receipts for an auditor, as NDJSON of fomo-receipt-v1 documents and whole batch documents. Receipts hold per-user usage: share this file only with whom may see it.',
  options: {
    epoch: { type: 'string', valueName: 'n', description: 'The epoch' },
    out: { type: 'string', valueName: 'file.ndjson', description: 'Output file (an existing one is kept unless --force)' },
    force: { type: 'boolean', description: 'Replace an existing --out file' },
    ...storeOptions,
  },
  examples: ['fomo export-receipts --epoch 20415 --out receipts-20415.ndjson'],
  async run({ values }, io) {
    const epoch = epochOption(values, 'export-receipts')
    const path = resolve(io.cwd, requireString(values, 'out', 'export-receipts'))
    const output = { command: 'export-receipts', what: 'the receipts file', force: Boolean(values.force) }
    await checkNewOutput(path, output)
    await checkWritableDirectory(dirname(path), 'the directory of --out', 'export-receipts')
    await withStore(values, io, 'export-receipts', async (store) => {
      let counts = { receipts: 0, batches: 0 }
      // Written aside and published whole: a failed export leaves no half file.
      await writeOutput(path, output, async (tmp) => {
        counts = await writeReceiptExport(store, epoch, tmp)
      })
      io.stdout(`${JSON.stringify({ epoch, ...counts, file: path })}\n`)
    })
  },
}

export const demoCommand: Command = {
  name: 'demo',
  summary:
    'The main job on the embedded store, end to end: creates providers, deployments, users and stakes, signs a day of receipts\n' +
    '(per call and batch-signed), sends them through the HTTP API, seals the epoch and writes its artifacts and receipts, deploys the\n' +
    'distributor on an in-process EVM, publishes the epoch, waits out the timelock and claims, then prints a summary.',
  options: {
    out: { type: 'string', valueName: 'dir', description: 'Output directory (default ./fomo-demo); one holding an earlier demo is replaced only with --force' },
    force: { type: 'boolean', description: 'Replace the earlier demo in --out (never a directory that is not a demo\'s)' },
    seed: { type: 'string', valueName: 'text', description: 'Seed for reproducible keys and usage (default: random)' },
    receipts: { type: 'string', valueName: 'n', description: 'Receipts to sign and send, 60 % per call and 40 % in provider batches (default 150)' },
    users: { type: 'string', valueName: 'n', description: 'Users (default 30)' },
  },
  examples: ['fomo demo', 'fomo demo --out /tmp/demo --seed alice'],
  async run({ values }, io) {
    const out = resolve(io.cwd, typeof values.out === 'string' ? values.out : 'fomo-demo')
    const count = (name: string, fallback: number) => {
      const v = values[name]
      if (v === undefined) return fallback
      if (typeof v !== 'string' || !/^[1-9][0-9]{0,6}$/.test(v)) throw new UsageError(`--${name} must be a positive integer (at most 9,999,999)`, 'demo')
      return Number(v)
    }
    // Every argument is checked before the earlier demo is removed.
    const total = count('receipts', 150)
    const users = count('users', 30)
    await prepareDemoDirectory(out, Boolean(values.force))
    const bar = progress(io, 'demo')
    const result = await runDemo({
      perCallReceipts: Math.ceil(total * 0.6),
      batchedReceipts: total - Math.ceil(total * 0.6),
      users,
      out,
      seed: typeof values.seed === 'string' ? values.seed : Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex'),
      now: nowNs,
      progress: (step, done, total) => bar.update(done, total, step),
      log: (line) => {
        bar.done()
        io.stderr(`${line}\n`)
      },
    })
    bar.done()
    io.stdout(demoSummary(result))
  },
}

/** The demo owns its directory: with --force it may replace an earlier demo's (proofs added to it included), never anything else. */
async function prepareDemoDirectory(out: string, force: boolean): Promise<void> {
  const { mkdir, readdir, rm, writeFile } = await import('node:fs/promises')
  const entries = await readdir(out).catch(() => undefined)
  if (entries && entries.length > 0) {
    if (!entries.includes('.fomo-demo')) throw new UsageError(`${out} exists and is not a fomo demo directory; give another --out`, 'demo')
    if (!force) throw new UsageError(`${out} holds an earlier demo; give --force to replace it, or another --out`, 'demo')
    await rm(out, { recursive: true, force: true })
  }
  try {
    await mkdir(out, { recursive: true })
    await writeFile(`${out}/.fomo-demo`, 'written by fomo demo; `fomo demo --force` replaces the directory\n')
  } catch (error) {
    throw fileError(error, out, 'the demo directory', 'demo', 'give a writable --out')
  }
}

