/**
 * Ingest load on loopback: `fomo serve` as its own process, autocannon as the
 * load tool sending per-call signed receipts in requests of 1,000, each request
 * a distinct set. Counts what the server accepted and what the store holds.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { getAddress, keccak256, toBytes } from 'viem'
import { configJson, readConfig } from '../../src/epoch/config.ts'
import { openStore } from '../../src/aggregator/store.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { addressOf, signReceipt } from '../../src/receipts/sign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME } from '../../src/receipts/types.ts'
import { BIN } from '../helpers.ts'

export type IngestBench = { store: string; requests: number; receipts: number; seconds: number; acceptedPerSecond: number; accepted: number; stored: number; latencyP50: number; latencyP99: number; errors: number }

const PER_REQUEST = 1000

export async function benchIngest(store: { dataDir?: string; databaseUrl?: string }, label: string, requests: number, log: (line: string) => void): Promise<IngestBench> {
  const keys = Array.from({ length: 8 }, (_, i) => keccak256(toBytes(`ingest bench provider ${i}`)))
  const deploymentId = keccak256(toBytes('ingest bench deployment'))
  const config = readConfig({
    format: 'fomo-aggregator-config-v1',
    domain: { name: RECEIPT_DOMAIN_NAME, version: '1', chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    tokens: { flock: getAddress(addressOf(keccak256(toBytes('flock')))), usdc: getAddress(addressOf(keccak256(toBytes('usdc')))) },
    platform: { dailyEmission: '20000' },
    deployments: [{ id: deploymentId, name: 'bench', issuer: getAddress(addressOf(keys[0]!)), mtToken: getAddress(addressOf(keys[1]!)), graduationEpoch: 0, raised: '100000', incentiveReserve: '200000' }],
    providers: keys.map((k) => ({ deploymentId, provider: getAddress(addressOf(k)) })),
  })
  const dir = await mkdtemp(join(tmpdir(), 'fomo-ingest-bench-'))
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson(config)))
  const s = await openStore(store)
  await s.setConfig(config)
  await s.close()

  log(`ingest (${label}): signing ${(requests * PER_REQUEST).toLocaleString('en-US')} receipts`)
  const separator = domainSeparator(config.domain)
  const now = BigInt(Math.floor(Date.now() / 1000))
  const epoch = Number(now / 86_400n)
  const users = Array.from({ length: 2000 }, (_, i) => addressOf(keccak256(toBytes(`bench user ${i}`))))
  const bodies: string[] = []
  for (let r = 0; r < requests; r++) {
    const items: string[] = []
    for (let k = 0; k < PER_REQUEST; k++) {
      const i = r * PER_REQUEST + k
      const p = i % keys.length
      const gross = 1_000n + BigInt(i % 9_000)
      const receipt: UsageReceipt = {
        deploymentId,
        provider: addressOf(keys[p]!),
        user: users[i % users.length]!,
        epoch,
        requestId: keccak256(toBytes(`bench request ${i}`)),
        timestamp: now - BigInt(i % 30) < BigInt(epoch) * 86_400n ? BigInt(epoch) * 86_400n : now - BigInt(i % 30),
        inputTokens: 500,
        outputTokens: 200,
        grossAmount: gross,
        discountBps: 0,
        chargedAmount: gross,
      }
      items.push(JSON.stringify(signReceipt(receipt, keys[p]!, config.domain, separator)))
    }
    bodies.push(`[${items.join(',')}]`)
  }

  const args = store.databaseUrl ? ['--database-url', store.databaseUrl] : ['--data-dir', store.dataDir!]
  const server = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  server.stdout.on('data', (d) => (out += d))
  server.stderr.on('data', (d) => (out += d))
  for (let i = 0; i < 400 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 25))
  const url = JSON.parse(out.split('\n').find((l) => l.includes('listening'))!).listening as string

  let next = 0
  let accepted = 0
  log(`ingest (${label}): autocannon, ${requests} requests of ${PER_REQUEST}`)
  const result = await autocannon({
    url,
    connections: 4,
    amount: requests,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: '/v1/receipts',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[next++ % bodies.length] }),
        onResponse: (status: number, body: string) => {
          if (status === 200) accepted += JSON.parse(body).accepted
        },
      },
    ],
  } as never)
  server.kill('SIGTERM')
  await new Promise((r) => server.once('exit', r))
  const check = await openStore(store)
  const stored = await check.receiptCount()
  await check.close()
  const seconds = (result as { duration: number }).duration
  return {
    store: label,
    requests,
    receipts: requests * PER_REQUEST,
    seconds,
    acceptedPerSecond: accepted / seconds,
    accepted,
    stored,
    latencyP50: (result as { latency: { p50: number } }).latency.p50,
    latencyP99: (result as { latency: { p99: number } }).latency.p99,
    errors: (result as { errors: number; non2xx: number }).errors + (result as { non2xx: number }).non2xx,
  }
}
