/**
 * Several stateless `fomo serve` nodes on one PostgreSQL server behind HAProxy (Debian's package) on loopback:
 * one node is killed with SIGKILL while the ingest client sends through the balancer, and every receipt is still
 * stored exactly once and acknowledged exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sendReceipts } from '../../src/aggregator/client.ts'
import { openStore } from '../../src/aggregator/store.ts'
import { fomo } from '../helpers.ts'
import { liveReceipts, serve, writeConfig } from './processes.ts'
import { databaseUrl, freshLocation } from './stores.ts'

function findHaproxy(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']
  for (const dir of dirs) if (dir && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy')
  return undefined
}

const HAPROXY = findHaproxy()
const skipReason = !HAPROXY ? 'HAProxy is not installed (apt-get install -y haproxy; .ci/run does it)' : !databaseUrl() ? 'no PostgreSQL server for the tests' : undefined
if (skipReason) console.warn(`balancer.test.ts skipped: ${skipReason}`)

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

let balancer: ChildProcess | undefined
afterEach(() => {
  balancer?.kill('SIGKILL')
  balancer = undefined
})

/** HAProxy in the foreground, round robin over the nodes, each health-checked on /v1/health every 200 ms. */
async function startBalancer(nodes: string[]): Promise<string> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fomo-haproxy-'))
  const config = [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // A connection refused by a dead node is tried again on another: nothing was sent, so this is safe for POSTs.
    '  retries 3',
    '  option redispatch',
    'frontend ingest',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    '  option httpchk',
    '  http-check send meth GET uri /v1/health',
    ...nodes.map((url, i) => `  server node${i} ${new URL(url).host} check inter 200ms fall 1 rise 2`),
    '',
  ].join('\n')
  await writeFile(join(dir, 'haproxy.cfg'), config)
  let out = ''
  balancer = spawn(HAPROXY!, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] })
  balancer.stdout!.on('data', (d) => (out += d))
  balancer.stderr!.on('data', (d) => (out += d))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/v1/health`)).status === 200) return url
    } catch {
      // not listening yet
    }
    if (i > 100 || balancer.exitCode !== null) throw new Error(`HAProxy did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('several fomo serve nodes behind HAProxy', () => {
  it.skipIf(skipReason !== undefined)('a node killed with SIGKILL mid-load: accepted = stored, nothing counted twice', async () => {
    const started = performance.now()
    // Stages on stderr, so a slow machine's timeout says where the time went.
    const stage = (what: string) => process.stderr.write(`balancer test: ${what} at ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
    const { databaseUrl: url } = await freshLocation('postgres')
    const dir = await writeConfig()
    expect((await fomo(['init', '--config', join(dir, 'config.json'), '--database-url', url!])).code).toBe(0)
    const nodes = await Promise.all([0, 1, 2].map(() => serve(['--database-url', url!])))
    const front = await startBalancer(nodes.map((n) => n.url))
    stage('three nodes and HAProxy up')

    const n = 3_000
    const texts = liveReceipts(n).map((d) => JSON.stringify(d))
    stage(`${n} receipts signed`)
    let killed = false
    const victim = nodes[1]!
    const summary = await sendReceipts(texts, {
      url: front,
      batchSize: 100,
      concurrency: 4,
      retrySeconds: 60,
      onProgress: (done) => {
        // A third of the way: requests are in flight on every node.
        if (!killed && done >= n / 3) {
          killed = true
          victim.child.kill('SIGKILL')
        }
      },
    })
    stage(`sent: ${JSON.stringify({ ...summary, rejections: summary.rejections.length })}`)
    expect(killed).toBe(true)
    expect(await victim.exited).toBe(null)
    // Every receipt acknowledged exactly once: accepted, or a duplicate of what a lost answer had stored.
    expect(summary.rejected).toBe(0)
    expect(summary.accepted + summary.duplicates).toBe(n)
    const store = await openStore({ databaseUrl: url })
    expect(await store.receiptCount()).toBe(n)

    // Nothing counted twice: everything sent again through the surviving nodes comes back as a duplicate.
    const again = await sendReceipts(texts, { url: front, batchSize: 500, concurrency: 2, retrySeconds: 30 })
    stage('sent again')
    expect(again).toMatchObject({ accepted: 0, duplicates: n, rejected: 0 })
    expect(await store.receiptCount()).toBe(n)
    await store.close()
  }, 150_000)
})
