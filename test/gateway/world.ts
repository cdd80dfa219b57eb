/**
 * The gateway's test world: the aggregator test world's configuration and provider (deployment A), a price table,
 * a user with a stake giving the paper's 1,666 bps discount, an in-process gateway in front of the test upstream,
 * OpenAI clients for it, an aggregator on an embedded store, and the gateway as a process of its own. Public test
 * keys only. Nothing here needs the test runner: the benchmark uses it too.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { getAddress } from 'viem'
import { AggregatorService } from '../../src/aggregator/service.ts'
import { openStore, type Store } from '../../src/aggregator/store.ts'
import type { Hex } from '../../src/base/bytes.ts'
import { configJson, type AggregatorConfig } from '../../src/epoch/config.ts'
import { gatewayKeysAddCommand } from '../../src/cli/commands/gateway.ts'
import { runCommand, type Io } from '../../src/cli/command.ts'
import { inputsFileStakes } from '../../src/gateway/discounts.ts'
import { readPriceTable } from '../../src/gateway/prices.ts'
import { GatewayService, type GatewayOptions } from '../../src/gateway/service.ts'
import { address, DEPLOYMENT_A, key, PROVIDER_KEYS, worldConfig } from '../aggregator/world.ts'
import type { StubUpstream } from '../../src/gateway/stubUpstream.ts'

export const CHAT_MODEL = 'test-chat'
export const EMBED_MODEL = 'test-embed'
export const PROVIDER_KEY = PROVIDER_KEYS[0]!
export const USER_KEY = key('gateway user')
export const USER = address('gateway user')
export const OTHER_USER = address('gateway other user')

export const PRICES_JSON = {
  format: 'fomo-gateway-prices-v1',
  models: {
    [CHAT_MODEL]: { deploymentId: DEPLOYMENT_A, inputPerMillion: '150000', outputPerMillion: '600000' },
    [EMBED_MODEL]: { deploymentId: DEPLOYMENT_A, inputPerMillion: '20000', outputPerMillion: '0' },
  },
}
export const PRICES = readPriceTable(PRICES_JSON)

/** The paper's example: 50,000 of 600,000 circulating MT at M = 2 is a 1,666 bps discount. */
export const DISCOUNT_BPS = 1666
export const STAKES_JSON = {
  format: 'fomo-epoch-inputs-v2',
  epoch: 0,
  deployments: { [DEPLOYMENT_A]: { circulatingSupply: '600000', stakes: { [USER]: '50000' } } },
}

/** An Io that collects what a command writes. */
export function bufferIo(cwd = process.cwd()): Io & { out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: {}, cwd, interactive: false }
}

/** Issues an API key with `fomo gateway keys add` into a data directory. */
export async function addKey(dataDir: string, user: Hex, label = 'test'): Promise<string> {
  const io = bufferIo()
  const code = await runCommand(gatewayKeysAddCommand, ['--user', getAddress(user), '--label', label, '--data-dir', dataDir], io)
  if (code !== 0) throw new Error(`keys add failed: ${io.err.join('')}`)
  return JSON.parse(io.out.join('')).key as string
}

export type TestGateway = { service: GatewayService; url: string; dataDir: string; apiKey: string; client: (options?: { apiKey?: string; maxRetries?: number; fetch?: typeof fetch }) => OpenAI; close: () => Promise<void> }

export const nowNs = () => BigInt(Date.now()) * 1_000_000n

/** A gateway in this process in front of `upstream`, with an API key for USER. */
export async function startGateway(upstream: StubUpstream, { timeoutMs, ...options }: Partial<Omit<GatewayOptions, 'upstream'>> & { timeoutMs?: number } = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'fomo-gateway-')))
  const apiKey = await addKey(dataDir, USER)
  const config = options.config ?? worldConfig()
  const service = await GatewayService.create({
    config,
    prices: PRICES,
    privateKey: PROVIDER_KEY,
    upstream: { url: upstream.url, timeoutMs: timeoutMs ?? 10_000 },
    stakes: inputsFileStakes(async () => STAKES_JSON, config),
    signing: { kind: 'call' },
    now: nowNs,
    ...options,
    dataDir,
  })
  const address = await service.listen(0)
  const url = `http://127.0.0.1:${address.port}`
  return {
    service,
    url,
    dataDir,
    apiKey,
    client: (o = {}) => new OpenAI({ apiKey: o.apiKey ?? apiKey, baseURL: `${url}/v1`, maxRetries: o.maxRetries ?? 0, ...(o.fetch ? { fetch: o.fetch } : {}) }),
    close: () => service.close(),
  }
}

/** An OpenAI client straight to the upstream, to compare with what comes through the gateway. */
export const directClient = (upstream: StubUpstream) => new OpenAI({ apiKey: 'none', baseURL: upstream.url, maxRetries: 0 })

export type TestAggregator = { service: AggregatorService; store: Store; url: string; close: () => Promise<void> }

/** A fresh embedded aggregator store with `config` (opening one takes seconds: share it within a file). */
export async function aggregatorStore(config: AggregatorConfig = worldConfig()): Promise<Store> {
  const store = await openStore({ dataDir: await mkdtemp(join(tmpdir(), 'fomo-store-')) })
  await store.setConfig(config)
  return store
}

/** An aggregator (`fomo serve`'s service) on `store` (by default a fresh one), on `port` (0: any); closing it leaves a given store open. */
export async function startAggregator(options: { store?: Store; config?: AggregatorConfig; port?: number; now?: () => bigint } = {}): Promise<TestAggregator> {
  const config = options.config ?? worldConfig()
  const store = options.store ?? (await aggregatorStore(config))
  const service = await AggregatorService.create({ store, config, now: options.now ?? nowNs, threads: 1 })
  const address = await service.listen(options.port ?? 0)
  return {
    service,
    store,
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await service.close()
      if (!options.store) await store.close()
    },
  }
}

/**
 * The files `fomo gateway` reads, written into a new directory (configuration, prices, stakes, the provider's key) with
 * a key for USER in its data directory; the command-line arguments naming them.
 */
export async function gatewayFiles(): Promise<{ dir: string; dataDir: string; apiKey: string; args: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-gateway-files-'))
  const dataDir = join(dir, 'data')
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson(worldConfig())))
  await writeFile(join(dir, 'prices.json'), JSON.stringify(PRICES_JSON))
  await writeFile(join(dir, 'stakes.json'), JSON.stringify(STAKES_JSON))
  await writeFile(join(dir, 'provider.key'), PROVIDER_KEY)
  const apiKey = await addKey(dataDir, USER)
  return { dir, dataDir, apiKey, args: ['--config', join(dir, 'config.json'), '--prices', join(dir, 'prices.json'), '--stakes', join(dir, 'stakes.json'), '--key-file', join(dir, 'provider.key'), '--data-dir', dataDir] }
}

/**
 * `fomo gateway` as a process of its own (test/gateway/child.ts, or the `gateway` command of a built CLI at `bin`),
 * once it listens: its URL.
 */
export async function spawnGateway(args: string[], bin?: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const command = bin ? [bin, 'gateway'] : ['--import', 'tsx', join(import.meta.dirname, 'child.ts')]
  const child = spawn(process.execPath, [...command, ...args, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const found = out.split('\n').find((l) => l.includes('"listening"'))
      if (found) {
        clearInterval(timer)
        resolve(found)
      }
    }, 20)
    child.once('exit', (code) => {
      clearInterval(timer)
      reject(new Error(`the gateway exited (${code}) before listening:\n${out}`))
    })
  })
  return { child, url: JSON.parse(line).listening as string, output: () => out }
}

/** Waits until `check` holds, polling (fails after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

