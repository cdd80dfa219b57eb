/**
 * The aggregator commands: init, inputs, serve, ingest, seal, export-receipts, and the demo.
 */
import type { Hex } from '../../base/bytes.ts'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { readConfig } from '../../epoch/config.ts'
import { readEpochInputs } from '../../epoch/inputs.ts'
import { writeEpochDirectory } from '../../epoch/directory.ts'
import { receiptExportLines } from '../../aggregator/export.ts'
import { sendBatch, sendReceipts } from '../../aggregator/client.ts'
import { demoSummary, runDemo } from '../demo.ts'
import { AggregatorService } from '../../aggregator/service.ts'
import { openStore, type Store } from '../../aggregator/store.ts'
import { RECEIPT_BATCH_FORMAT } from '../../receipts/batchDecode.ts'
import { parseBlockNumber, parseStakingPair, requireString, UsageError, type Command, type Io, type OptionSpec } from '../command.ts'
import { readJsonFile } from '../files.ts'
import { progress } from '../progress.ts'

const storeOptions: Record<string, OptionSpec> = {
  'data-dir': { type: 'string', valueName: 'dir', description: 'Embedded PostgreSQL (PGlite) data directory (default: ./fomo-data)' },
  'database-url': { type: 'string', valueName: 'url', description: 'PostgreSQL server, e.g. postgres://user@127.0.0.1/fomo (or FOMO_DATABASE_URL)' },
}

/** The store the options name: --database-url (or FOMO_DATABASE_URL), else the embedded one in --data-dir. */
async function storeOf(values: Record<string, unknown>, io: Io): Promise<Store> {
  const databaseUrl = typeof values['database-url'] === 'string' ? values['database-url'] : io.env.FOMO_DATABASE_URL
  const dataDir = typeof values['data-dir'] === 'string' ? resolve(io.cwd, values['data-dir']) : resolve(io.cwd, 'fomo-data')
  return openStore(databaseUrl ? { databaseUrl } : { dataDir })
}

/** Opens the store, runs `fn`, and always closes the store. */
async function withStore<T>(values: Record<string, unknown>, io: Io, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await storeOf(values, io)
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
  async run({ values }, io) {
    const config = readConfig(await readJsonFile(requireString(values, 'config', 'init'), io.cwd, 'config', 'init'))
    await withStore(values, io, async (store) => {
      await store.setConfig(config)
      io.stdout(`${JSON.stringify({ deployments: config.deployments.length, providers: config.providers.length, store: store.engine })}\n`)
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
    await withStore(values, io, async (store) => {
      const inputs = readEpochInputs(await readJsonFile(requireString(values, 'in', 'inputs'), io.cwd, 'inputs', 'inputs'), await store.config())
      if (typeof values.rpc === 'string') {
        const block = parseBlockNumber(requireString(values, 'block', 'inputs'), 'inputs')
        const { createPublicClient, http } = await import('viem')
        const { readStakeSnapshot } = await import('../../chain/stakes.ts')
        const client = createPublicClient({ transport: http(values.rpc) })
        const config = await store.config()
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
    quiet: { type: 'boolean', description: 'No request logs' },
  },
  examples: ['fomo serve --data-dir ./fomo-data --port 8787', 'fomo serve --database-url postgres://fomo@127.0.0.1/fomo'],
  async run({ values }, io) {
    const int = (name: string, fallback: number) => {
      const v = values[name]
      if (v === undefined) return fallback
      if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer`, 'serve')
      return Number(v)
    }
    const store = await storeOf(values, io)
    const config = await store.config().catch(async (error) => {
      await store.close()
      throw error
    })
    const service = await AggregatorService.create({
      store,
      config,
      now: nowNs,
      limits: { maxBodyBytes: int('max-body-bytes', 10 * 1024 * 1024), maxItems: int('max-items', 5000) },
      log: values.quiet ? undefined : (entry) => io.stderr(`${JSON.stringify(entry)}\n`),
    })
    const address = await service.listen(int('port', 8787), typeof values.host === 'string' ? values.host : '127.0.0.1')
    io.stdout(`${JSON.stringify({ listening: `http://${address.address}:${address.port}`, store: store.engine })}\n`)
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
  summary: 'Sends a file of signed receipts (NDJSON, a JSON array, or a batch document) to an aggregator in requests of --batch-size, retrying on network errors and 5xx. Resending is safe: stored receipts come back as duplicates.',
  options: {
    url: { type: 'string', valueName: 'url', description: 'The aggregator, e.g. http://127.0.0.1:8787' },
    in: { type: 'string', valueName: 'file', description: 'Receipts file' },
    'batch-size': { type: 'string', valueName: 'n', description: 'Receipts per request (default 1000)' },
  },
  examples: ['fomo ingest --url http://127.0.0.1:8787 --in receipts.ndjson'],
  async run({ values }, io) {
    const url = requireString(values, 'url', 'ingest')
    const path = resolve(io.cwd, requireString(values, 'in', 'ingest'))
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${path}: ${e.code ?? e.message}`, 'ingest')
    })
    const trimmed = text.trimStart()
    if (trimmed.startsWith('{') && trimmed.includes(`"${RECEIPT_BATCH_FORMAT}"`) && !trimmed.includes('\n{')) {
      const answer = await sendBatch(url, text)
      io.stdout(`${JSON.stringify(answer.batch === 'rejected' ? answer : { batch: answer.batch, accepted: answer.accepted, duplicates: answer.duplicates, rejected: answer.rejected })}\n`)
      return answer.batch === 'rejected' ? 1 : 0
    }
    const { splitItems } = await import('../../aggregator/split.ts')
    const texts = splitItems(text, Number.MAX_SAFE_INTEGER)
    const batchSize = typeof values['batch-size'] === 'string' ? Number(values['batch-size']) : 1000
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch-size must be a positive integer', 'ingest')
    const bar = progress(io, 'ingest')
    const summary = await sendReceipts(texts, { url, batchSize, onProgress: (done, total) => bar.update(done, total) })
    bar.done()
    io.stdout(`${JSON.stringify({ ...summary, rejections: summary.rejections.slice(0, 20) })}\n`)
    return summary.rejected > 0 ? 1 : 0
  },
}

export const sealCommand: Command = {
  name: 'seal',
  summary:
    'Seals an epoch: no receipt is accepted for it afterwards; computes the spend tree, rewards, the cumulative reward tree and the\n' +
    'report, stores them with a manifest in one transaction, and writes them to --out/epoch-<n> atomically. Deterministic: sealing\n' +
    'again writes byte-identical files.',
  options: { epoch: { type: 'string', valueName: 'n', description: 'The epoch' }, out: { type: 'string', valueName: 'dir', description: 'Where to write epoch-<n>/' }, ...storeOptions },
  examples: ['fomo seal --epoch 20415 --out ./epochs'],
  async run({ values }, io) {
    const epoch = epochOption(values, 'seal')
    const out = resolve(io.cwd, requireString(values, 'out', 'seal'))
    await withStore(values, io, async (store) => {
      const sealed = await store.seal(epoch)
      const dir = await writeEpochDirectory(out, epoch, sealed.files)
      io.stdout(`${JSON.stringify({ epoch, alreadySealed: sealed.alreadySealed, spendRoot: sealed.spendRoot, rewardRoot: sealed.rewardRoot, dir, files: sealed.files.map((f) => f.name) })}\n`)
    })
  },
}

export const exportReceiptsCommand: Command = {
  name: 'export-receipts',
  summary: 'Exports an epoch\'s raw signed receipts for an auditor, as NDJSON of fomo-receipt-v1 documents and whole batch documents. Receipts hold per-user usage: share this file only with whom may see it.',
  options: { epoch: { type: 'string', valueName: 'n', description: 'The epoch' }, out: { type: 'string', valueName: 'file.ndjson', description: 'Output file' }, ...storeOptions },
  examples: ['fomo export-receipts --epoch 20415 --out receipts-20415.ndjson'],
  async run({ values }, io) {
    const epoch = epochOption(values, 'export-receipts')
    const path = resolve(io.cwd, requireString(values, 'out', 'export-receipts'))
    await withStore(values, io, async (store) => {
      const out = createWriteStream(path, { mode: 0o600 })
      let receipts = 0
      let batches = 0
      for await (const { kind, line } of receiptExportLines(store, epoch)) {
        if (kind === 'batch') batches++
        else receipts++
        if (!out.write(`${line}\n`)) await once(out, 'drain')
      }
      out.end()
      await once(out, 'finish')
      io.stdout(`${JSON.stringify({ epoch, receipts, batches, file: path })}\n`)
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
    out: { type: 'string', valueName: 'dir', description: 'Output directory (default ./fomo-demo; replaced if it holds an earlier demo)' },
    seed: { type: 'string', valueName: 'text', description: 'Seed for reproducible keys and usage (default: random)' },
    receipts: { type: 'string', valueName: 'n', description: 'Receipts to sign and send, 60 % per call and 40 % in provider batches (default 150)' },
    users: { type: 'string', valueName: 'n', description: 'Users (default 30)' },
  },
  examples: ['fomo demo', 'fomo demo --out /tmp/demo --seed alice'],
  async run({ values }, io) {
    const out = resolve(io.cwd, typeof values.out === 'string' ? values.out : 'fomo-demo')
    await prepareDemoDirectory(out)
    const count = (name: string, fallback: number) => {
      const v = values[name]
      if (v === undefined) return fallback
      if (typeof v !== 'string' || !/^[1-9][0-9]{0,6}$/.test(v)) throw new UsageError(`--${name} must be a positive integer (at most 9,999,999)`, 'demo')
      return Number(v)
    }
    const total = count('receipts', 150)
    const bar = progress(io, 'demo')
    const result = await runDemo({
      perCallReceipts: Math.ceil(total * 0.6),
      batchedReceipts: total - Math.ceil(total * 0.6),
      users: count('users', 30),
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

/** The demo owns its directory: it may replace an earlier demo's, never anything else. */
async function prepareDemoDirectory(out: string): Promise<void> {
  const { mkdir, readdir, rm, writeFile } = await import('node:fs/promises')
  const entries = await readdir(out).catch(() => undefined)
  if (entries && entries.length > 0) {
    if (!entries.includes('.fomo-demo')) throw new UsageError(`${out} exists and is not a fomo demo directory; give another --out`, 'demo')
    await rm(out, { recursive: true, force: true })
  }
  await mkdir(out, { recursive: true })
  await writeFile(`${out}/.fomo-demo`, 'written by fomo demo; the directory is replaced by the next demo\n')
}

