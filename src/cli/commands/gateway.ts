/**
 * The gateway commands: `fomo gateway` runs the OpenAI-compatible proxy that receipts a provider's calls
 * (docs/gateway.md); `fomo gateway keys add` issues a user's API key, `fomo gateway keys list` lists them.
 */
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { getAddress } from 'viem'
import type { Hex } from '../../base/bytes.ts'
import { readConfig } from '../../epoch/config.ts'
import { chainStakes, inputsFileStakes, noStakes } from '../../gateway/discounts.ts'
import { keyEntry, keyStoreJson, newApiKey, type KeyEntry } from '../../gateway/identity.ts'
import { readPriceTable } from '../../gateway/prices.ts'
import { GatewayService, KEYS_FILE, loadKeys } from '../../gateway/service.ts'
import type { SigningMode } from '../../gateway/signer.ts'
import { requireString, UsageError, type Command, type OptionSpec } from '../command.ts'
import { readJsonFile, writeFileAtomic } from '../files.ts'
import { loadPrivateKey } from '../keys.ts'

const dataDirOption: Record<string, OptionSpec> = {
  'data-dir': { type: 'string', valueName: 'dir', description: 'The gateway\'s data directory: its API keys and receipt queue (default ./fomo-gateway)' },
}

const dataDirOf = (values: Record<string, unknown>, cwd: string) => resolve(cwd, typeof values['data-dir'] === 'string' ? values['data-dir'] : 'fomo-gateway')

/** A non-negative integer option, or its default. */
function integer(values: Record<string, unknown>, name: string, fallback: number, command: string, min = 0, max = Number.MAX_SAFE_INTEGER, why = ''): number {
  const v = values[name]
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !/^[0-9]{1,15}$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer of at least ${min}`, command)
  if (Number(v) > max) throw new UsageError(`--${name} must be at most ${max.toLocaleString('en-US')}${why}`, command)
  return Number(v)
}

/**
 * Most receipts per batch: a batch document takes up to about 210 bytes a receipt (150 measured for typical calls), and
 * the aggregator takes request bodies of up to 10 MiB by default, so a larger batch would be refused (413) and retried
 * forever.
 */
const MAX_GATEWAY_BATCH = 40_000

export const gatewayCommand: Command = {
  name: 'gateway',
  summary:
    'Runs the provider gateway: an OpenAI-compatible proxy in front of --upstream that identifies each caller (an API key from\n' +
    '`fomo gateway keys add`, or a request signed with the user\'s Ethereum key), prices its model from --prices, applies the\n' +
    'user\'s staking discount at the epoch\'s snapshot (--rpc or --stakes), signs a usage receipt per call or per batch, records it\n' +
    'durably before answering and forwards it to --aggregator. Serves POST /v1/chat/completions, /v1/completions, /v1/embeddings,\n' +
    'GET /v1/models, GET /v1/receipts/:digest and GET /metrics. Format of the price table: docs/gateway.md.',
  options: {
    config: { type: 'string', valueName: 'aggregator.json', description: 'The aggregator\'s configuration (receipt domain, epochs, deployments, providers, discount parameters)' },
    prices: { type: 'string', valueName: 'prices.json', description: 'The price table (format fomo-gateway-prices-v1)' },
    upstream: { type: 'string', valueName: 'url', description: 'The upstream\'s OpenAI base URL, e.g. http://127.0.0.1:8000/v1 (its API key, if any, in FOMO_UPSTREAM_API_KEY)' },
    'key-file': { type: 'string', valueName: 'file', description: 'The provider\'s key (fomo keys new), or --key, or FOMO_PRIVATE_KEY' },
    key: { type: 'string', valueName: 'hex', description: 'The provider\'s private key' },
    ...dataDirOption,
    aggregator: { type: 'string', valueName: 'url', description: 'Forward receipts to this aggregator (without it they wait in the queue)' },
    port: { type: 'string', valueName: 'n', description: 'Port (default 8788; 0 picks a free one)' },
    host: { type: 'string', valueName: 'addr', description: 'Address to bind (default 127.0.0.1)' },
    sign: { type: 'string', valueName: 'call|batch', description: 'One signature per call (default), or one per batch of each interval' },
    'batch-interval-ms': { type: 'string', valueName: 'n', description: 'With --sign batch: how often a batch is signed (default 1000)' },
    'batch-max': { type: 'string', valueName: 'n', description: 'With --sign batch: most receipts per batch (default 10000)' },
    'queue-durability': {
      type: 'string',
      valueName: 'disk|process',
      description: 'Answer a call once its receipt is on the disk (default: survives a power cut) or once the kernel holds it (survives kill -9 of the gateway, not a power cut)',
    },
    rpc: { type: 'string', valueName: 'url', description: 'Read stake snapshots from each deployment\'s MTStaking on this node' },
    stakes: { type: 'string', valueName: 'inputs.json', description: 'Offline: stakes from an epoch inputs file (fomo-epoch-inputs-v2), read again each epoch' },
    'max-body-bytes': { type: 'string', valueName: 'n', description: 'Request body limit (default 4194304)' },
    'upstream-timeout-ms': { type: 'string', valueName: 'n', description: 'How long the upstream may stay silent before a 504 (default 600000)' },
    'retain-hours': { type: 'string', valueName: 'n', description: 'Delivered receipts stay fetchable this long (default 48)' },
    quiet: { type: 'boolean', description: 'No request logs' },
  },
  examples: [
    'fomo gateway --config aggregator.json --prices prices.json --upstream http://127.0.0.1:8000/v1 --key-file provider.key.json --aggregator http://127.0.0.1:8787 --rpc http://127.0.0.1:8545',
    'fomo gateway --config aggregator.json --prices prices.json --upstream http://127.0.0.1:11434/v1 --key-file provider.key.json --sign batch --stakes inputs.json',
  ],
  async run({ values }, io) {
    const name = 'gateway'
    const config = readConfig(await readJsonFile(requireString(values, 'config', name), io.cwd, 'aggregator configuration', name))
    const prices = readPriceTable(await readJsonFile(requireString(values, 'prices', name), io.cwd, 'price table', name))
    const upstream = requireString(values, 'upstream', name)
    const privateKey = await loadPrivateKey(values, io, name)
    if (typeof values.rpc === 'string' && typeof values.stakes === 'string') throw new UsageError('give --rpc or --stakes, not both', name)
    let stakes = noStakes
    if (typeof values.rpc === 'string') {
      const { createPublicClient, http } = await import('viem')
      stakes = chainStakes(createPublicClient({ transport: http(values.rpc) }) as never, config)
    } else if (typeof values.stakes === 'string') {
      const file = values.stakes
      stakes = inputsFileStakes(() => readJsonFile(file, io.cwd, 'stakes file', name), config)
    }
    const mode = values.sign ?? 'call'
    if (mode !== 'call' && mode !== 'batch') throw new UsageError('--sign must be call or batch', name)
    const signing: SigningMode = mode === 'call' ? { kind: 'call' } : { kind: 'batch', intervalMs: integer(values, 'batch-interval-ms', 1000, name, 10), maxReceipts: integer(values, 'batch-max', 10_000, name, 1, MAX_GATEWAY_BATCH, " (a batch document takes up to about 210 bytes a receipt; the aggregator takes bodies of up to 10 MiB)") }
    const durability = values['queue-durability'] ?? 'disk'
    if (durability !== 'disk' && durability !== 'process') throw new UsageError('--queue-durability must be disk or process', name)
    const dataDir = dataDirOf(values, io.cwd)
    await mkdir(dataDir, { recursive: true })
    const service = await GatewayService.create({
      config,
      prices,
      privateKey,
      upstream: { url: upstream, apiKey: io.env.FOMO_UPSTREAM_API_KEY, timeoutMs: integer(values, 'upstream-timeout-ms', 600_000, name, 1) },
      dataDir,
      queueDurability: durability,
      stakes,
      signing,
      aggregator: typeof values.aggregator === 'string' ? { url: values.aggregator, retainMs: integer(values, 'retain-hours', 48, name) * 3_600_000 } : undefined,
      maxBodyBytes: integer(values, 'max-body-bytes', 4 * 1024 * 1024, name, 1),
      now: () => BigInt(Date.now()) * 1_000_000n,
      log: values.quiet ? undefined : (entry) => io.stderr(`${JSON.stringify(entry)}\n`),
    })
    const address = await service.listen(integer(values, 'port', 8788, name), typeof values.host === 'string' ? values.host : '127.0.0.1')
    io.stdout(`${JSON.stringify({ listening: `http://${address.address}:${address.port}`, provider: getAddress(service.provider), signing: signing.kind, aggregator: values.aggregator ?? null })}\n`)
    await new Promise<void>((done) => {
      process.once('SIGINT', done)
      process.once('SIGTERM', done)
    })
    await service.close()
  },
}

/** Writes the key store whole (atomically, mode 0600): a running gateway reads it again when it changes. */
const saveKeys = (dataDir: string, keys: readonly KeyEntry[]) => writeFileAtomic(resolve(dataDir, KEYS_FILE), `${JSON.stringify(keyStoreJson(keys), null, 2)}\n`, 0o600)

export const gatewayKeysAddCommand: Command = {
  name: 'gateway keys add',
  summary: "Issues an API key for a user's calls through the gateway and prints it once: only its SHA-256 is stored, in the data directory's keys.json (format fomo-gateway-keys-v1, mode 0600). A running gateway picks the key up on its first use.",
  options: {
    user: { type: 'string', valueName: '0x...', description: 'The account the calls are receipted to' },
    label: { type: 'string', valueName: 'text', description: 'A note kept with the key (who, what for)' },
    ...dataDirOption,
  },
  examples: ['fomo gateway keys add --user 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --label alice'],
  async run({ values }, io) {
    const name = 'gateway keys add'
    const user = requireString(values, 'user', name)
    if (!/^0x[0-9a-fA-F]{40}$/.test(user)) throw new UsageError('--user must be a 0x address', name)
    const label = typeof values.label === 'string' ? values.label : ''
    if (label.length > 200) throw new UsageError('--label must be at most 200 characters', name)
    const dataDir = dataDirOf(values, io.cwd)
    await mkdir(dataDir, { recursive: true })
    const keys = await loadKeys(dataDir)
    const key = newApiKey(crypto.getRandomValues(new Uint8Array(32)))
    const entry = keyEntry(key, user.toLowerCase() as Hex, label, Math.floor(Date.now() / 1000))
    await saveKeys(dataDir, [...keys, entry])
    io.stdout(`${JSON.stringify({ key, id: entry.id, user: getAddress(entry.user), label })}\n`)
    io.stderr('The key is shown once: give it to the user (Authorization: Bearer <key>). Only its hash is stored.\n')
  },
}

export const gatewayKeysRevokeCommand: Command = {
  name: 'gateway keys revoke',
  summary: "Revokes API keys: the key with --id, or every key of --user; a running gateway refuses them within a second (it reads keys.json again at most once a second).",
  options: {
    id: { type: 'string', valueName: 'key_...', description: 'The key to revoke (its id, from keys add or keys list)' },
    user: { type: 'string', valueName: '0x...', description: 'Revoke every key of this account' },
    ...dataDirOption,
  },
  examples: ['fomo gateway keys revoke --id key_0123456789abcdef', 'fomo gateway keys revoke --user 0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
  async run({ values }, io) {
    const name = 'gateway keys revoke'
    const id = typeof values.id === 'string' ? values.id : undefined
    const user = typeof values.user === 'string' ? values.user : undefined
    if ((id === undefined) === (user === undefined)) throw new UsageError('give either --id or --user', name)
    if (user !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(user)) throw new UsageError('--user must be a 0x address', name)
    const dataDir = dataDirOf(values, io.cwd)
    const keys = await loadKeys(dataDir)
    const revoked = keys.filter((k) => (id !== undefined ? k.id === id : k.user === user!.toLowerCase()))
    if (revoked.length === 0) throw new UsageError(`no key ${id !== undefined ? `with id ${id}` : `of ${user}`} in ${resolve(dataDir, KEYS_FILE)}; \`fomo gateway keys list\` shows them`, name)
    await saveKeys(dataDir, keys.filter((k) => !revoked.includes(k)))
    for (const k of revoked) io.stdout(`${JSON.stringify({ revoked: k.id, user: getAddress(k.user), label: k.label })}\n`)
  },
}

export const gatewayKeysListCommand: Command = {
  name: 'gateway keys list',
  summary: 'Lists the API keys the gateway issued: id, user, label and creation time (the keys themselves are not stored).',
  options: { ...dataDirOption },
  examples: ['fomo gateway keys list --data-dir ./fomo-gateway'],
  async run({ values }, io) {
    const keys = await loadKeys(dataDirOf(values, io.cwd))
    for (const k of keys) io.stdout(`${JSON.stringify({ id: k.id, user: getAddress(k.user), label: k.label, created: new Date(k.created * 1000).toISOString() })}\n`)
  },
}
