/**
 * The gateway against its upstream, side by side in one run: non-streamed chat completions sent straight to the test
 * upstream, and through `fomo gateway` (this tree's build) signing per call and batch-signing, each a process of its own (the gateway
 * forwards to a stub aggregator that acknowledges every receipt, so forwarding costs what it costs). Measured, in
 * this order: latency at a light fixed rate and at the target rate (own client, each call timed to the microsecond;
 * the gateway's added latency is its percentile less the direct one), then throughput at saturation (autocannon, 64
 * connections).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, request, Agent, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { constants as fsConstants, readFileSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { toHex } from '../../src/base/bytes.ts'
import { callReceipt, usageOf } from '../../src/gateway/metering.ts'
import { recordLine } from '../../src/gateway/queue.ts'
import { RECEIPT_FORMAT, type SignedReceiptDocument } from '../../src/receipts/document.ts'
import { receiptDigest, receiptMessageJson } from '../../src/receipts/receipt.ts'
import { addressOf, privateKeyBytes } from '../../src/receipts/sign.ts'
import { signDigest } from '../../src/receipts/signature.ts'
import { domainSeparator, RECEIPT_TYPES } from '../../src/receipts/types.ts'
import { worldConfig } from '../aggregator/world.ts'
import { BIN } from '../helpers.ts'
import { CHAT_MODEL, DISCOUNT_BPS, gatewayFiles, PRICES, PROVIDER_KEY, spawnGateway, USER } from '../gateway/world.ts'

export type GatewayBenchRow = {
  target: 'direct' | 'gateway, signed per call, before' | 'gateway, signed per call' | 'gateway, batch-signed' | 'gateway, signed per call, `--queue-durability process`'
  /** Calls per second at saturation. */
  throughput: number
  /** autocannon's latency at saturation (ms, whole milliseconds). */
  saturatedP50: number
  saturatedP99: number
  /** Latency at each fixed rate (ms), in the order of GatewayBench.rates. */
  latency: Array<{ p50: number; p99: number }>
  /** Receipts the gateway recorded, and calls it answered with a 200, over both runs. */
  receipts: number | null
  answered: number
  errors: number
  /**
   * CPU time per call (µs) of the process serving the calls, over all of the row's runs: the upstream's for the direct
   * row, the gateway's for the others; all its threads, and its main thread alone. null where /proc is not there.
   */
  cpu: { all: number; main: number } | null
}

/** `fsync`: one 1 KiB record's O_DSYNC write, appended to a file and into zero-filled space (ms; see fsyncLatency). */
export type GatewayBench = { seconds: number; rates: number[]; fsync: Record<'append' | 'zeroFilled', { p50: number; p99: number }>; steps: Array<{ step: string; us: number }>; rows: GatewayBenchRow[] }

const BODY = JSON.stringify({ model: 'test-chat', messages: [{ role: 'user', content: 'What is the capital of France? Answer in one word.' }] })
const PATH = '/v1/chat/completions'

/** Runs the comparison: per target, `seconds` at each fixed rate (calls/s), then `seconds` saturated. */
export async function benchGateway(log: (line: string) => void, options: { seconds?: number; rates?: number[] } = {}): Promise<GatewayBench> {
  const seconds = options.seconds ?? 8
  const rates = options.rates ?? [200, 1000, 2000]
  const children: ChildProcess[] = []
  const sink = await stubAggregator()
  try {
    const upstream = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'gateway', 'upstreamChild.ts')], { stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(upstream)
    const upstreamUrl = await new Promise<string>((resolve) => upstream.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).listening)))
    const answer = await (await fetch(`${upstreamUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })).text()
    const steps = stepCosts(answer)
    log(`gateway: its own steps per call, in process: ${steps.map((x) => `${x.step} ${x.us.toFixed(1)} µs`).join(', ')}`)
    const fsync = await fsyncLatency()
    log(`gateway: one record's O_DSYNC write takes ${fsync.append.p50.toFixed(2)} ms (p50), ${fsync.append.p99.toFixed(2)} ms (p99) appended, ${fsync.zeroFilled.p50.toFixed(2)} / ${fsync.zeroFilled.p99.toFixed(2)} ms into zero-filled space`)
    const rows: GatewayBenchRow[] = []
    log(`gateway: direct to the upstream (${seconds} s at each of ${rates.join(', ')} calls/s, ${seconds} s saturated)`)
    rows.push({ target: 'direct', ...(await measure(new URL(upstreamUrl).origin, {}, seconds, rates, upstream.pid)), receipts: null })
    // With FOMO_BENCH_BASELINE (a built dist/cli/bin.js), that build's gateway, signing per call, is measured first.
    const baseline = process.env.FOMO_BENCH_BASELINE
    for (const [target, sign, durability, bin] of [
      ...(baseline ? [['gateway, signed per call, before', 'call', 'disk', baseline] as const] : []),
      ['gateway, signed per call', 'call', 'disk', BIN],
      ['gateway, batch-signed', 'batch', 'disk', BIN],
      ['gateway, signed per call, `--queue-durability process`', 'call', 'process', BIN],
    ] as const) {
      const files = await gatewayFiles()
      const gateway = await spawnGateway([...files.args, '--upstream', upstreamUrl, '--aggregator', sink.url, '--sign', sign, '--queue-durability', durability], bin)
      children.push(gateway.child)
      log(`gateway: through the gateway, --sign ${sign} --queue-durability ${durability}`)
      const measured = await measure(gateway.url, { authorization: `Bearer ${files.apiKey}` }, seconds, rates, gateway.child.pid)
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
      const receipts = Number(/^fomo_gateway_receipts_total\{mode="\w+"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)
      rows.push({ target, ...measured, receipts })
      gateway.child.kill('SIGTERM')
    }
    return { seconds, rates, fsync, steps, rows }
  } finally {
    for (const c of children) c.kill('SIGKILL')
    await new Promise((r) => sink.server.close(r))
  }
}

async function measure(origin: string, headers: Record<string, string>, seconds: number, rates: number[], pid: number | undefined): Promise<Omit<GatewayBenchRow, 'target' | 'receipts'>> {
  const cpuBefore = cpuTimes(pid)
  const timed = []
  for (const rate of rates) timed.push(await fixedRate(origin, headers, seconds, rate))
  const saturated = (await autocannon({
    url: `${origin}${PATH}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: BODY,
    connections: 64,
    duration: seconds,
  })) as unknown as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number; '2xx': number }
  const cpuAfter = cpuTimes(pid)
  const calls = saturated['2xx'] + saturated.non2xx + timed.reduce((n, t) => n + t.answered + t.errors, 0)
  return {
    cpu: cpuBefore && cpuAfter && calls > 0 ? { all: ((cpuAfter.all - cpuBefore.all) * 1000) / calls, main: ((cpuAfter.main - cpuBefore.main) * 1000) / calls } : null,
    throughput: saturated.requests.average,
    saturatedP50: saturated.latency.p50,
    saturatedP99: saturated.latency.p99,
    latency: timed.map((t) => ({ p50: t.p50, p99: t.p99 })),
    answered: saturated['2xx'] + timed.reduce((n, t) => n + t.answered, 0),
    errors: saturated.errors + saturated.non2xx + timed.reduce((n, t) => n + t.errors, 0),
  }
}

/** Seconds each fixed rate runs before its calls are timed: the connections it needs are open, and the code warm. */
const WARM_UP_SECONDS = 2

/**
 * `rate` calls a second for `seconds` (after WARM_UP_SECONDS at the same rate, untimed), sent in 1 ms ticks over
 * kept-alive connections; latency of each, in ms.
 */
async function fixedRate(origin: string, headers: Record<string, string>, seconds: number, rate: number): Promise<{ p50: number; p99: number; answered: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const url = new URL(origin)
  const latencies: number[] = []
  let errors = 0
  let answered = 0
  const inFlight = new Set<Promise<void>>()
  const call = (timed: boolean) => {
    const started = performance.now()
    const p = new Promise<void>((resolve) => {
      const req = request({ hostname: url.hostname, port: url.port, path: PATH, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), ...headers } }, (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 200) errors++
          else {
            answered++
            if (timed) latencies.push(performance.now() - started)
          }
          resolve()
        })
      })
      req.on('error', () => {
        errors++
        resolve()
      })
      req.end(BODY)
    })
    inFlight.add(p)
    void p.then(() => inFlight.delete(p))
  }
  const start = performance.now()
  let sent = 0
  while (performance.now() - start < (WARM_UP_SECONDS + seconds) * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    const timed = performance.now() - start >= WARM_UP_SECONDS * 1000
    while (sent < due) {
      call(timed)
      sent++
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  await Promise.all(inFlight)
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
  return { p50: at(0.5), p99: at(0.99), answered, errors }
}

/**
 * CPU time a process has used (ms): all its threads (utime + stime, in USER_HZ ticks of 10 ms) and its main thread
 * (schedstat, in ns). null off Linux.
 */
function cpuTimes(pid: number | undefined): { all: number; main: number } | null {
  if (pid === undefined) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const all = (Number(fields[11]) + Number(fields[12])) * 10
    const main = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
    return Number.isFinite(all) && Number.isFinite(main) ? { all, main } : null
  } catch {
    return null
  }
}

/**
 * The gateway's own work for one call, step by step in this process, as service.ts and signer.ts do it (µs per call,
 * the least of 5 rounds of 2,000 calls, so that other processes' load counts as little as it can): parsing the
 * request, parsing the answer for its usage and pricing it, the EIP-712 digest, the secp256k1 signature, the signed
 * document and its queue line. What the CPU column adds beyond these is Node's HTTP, the sockets and the collector.
 */
function stepCosts(answer: string): Array<{ step: string; us: number }> {
  const config = worldConfig()
  const separator = domainSeparator(config.domain)
  const key = privateKeyBytes(PROVIDER_KEY)
  const provider = addressOf(PROVIDER_KEY)
  const price = PRICES.get(CHAT_MODEL)!
  const requestBody = Buffer.from(BODY)
  const answerBody = Buffer.from(answer)
  const receiptOf = (i: number) => {
    const out = callReceipt({ price, usage: usageOf((JSON.parse(answerBody.toString('utf8')) as { usage?: unknown }).usage)!, discountBps: DISCOUNT_BPS, provider, user: USER, requestId: toHex(new Uint8Array(32).fill(i & 0xff)), timestamp: 1_700_000_000n + BigInt(i), epochSeconds: config.epochSeconds })
    if (!('receipt' in out)) throw new Error('the test answer carries no billable usage')
    return out.receipt
  }
  const n = 2000
  const receipts = Array.from({ length: n }, (_, i) => receiptOf(i))
  const digests = receipts.map((r) => receiptDigest(r, separator))
  const signatures = digests.map((d) => signDigest(d, key))
  let sink = 0
  const steps: Array<[string, (i: number) => void]> = [
    ['request JSON', () => void (sink += (JSON.parse(requestBody.toString('utf8')) as { model: string }).model.length)],
    ['answer JSON, usage and price', (i) => void (sink += Number(receiptOf(i).grossAmount & 1n))],
    ['EIP-712 digest', (i) => void (sink += receiptDigest(receipts[i]!, separator)[0]!)],
    ['secp256k1 signature', (i) => void (sink += signDigest(digests[i]!, key).length)],
    [
      'signed document and queue line',
      (i) => {
        const digest = toHex(digests[i]!)
        const document: SignedReceiptDocument = { format: RECEIPT_FORMAT, domain: config.domain, types: RECEIPT_TYPES, primaryType: 'UsageReceipt', message: receiptMessageJson(receipts[i]!), signature: signatures[i]! }
        sink += Buffer.from(`${recordLine({ kind: 'receipt', digest, document })}\n`).length
      },
    ],
  ]
  const out = steps.map(([step, run]) => {
    let best = Infinity
    for (let round = 0; round < 5; round++) {
      const started = performance.now()
      for (let i = 0; i < n; i++) run(i)
      best = Math.min(best, ((performance.now() - started) * 1000) / n)
    }
    return { step, us: best }
  })
  if (sink === 0) throw new Error('unreachable')
  return out
}

/**
 * One 1 KiB record's O_DSYNC write in the directory the gateways' queues are in, 300 times each way, alternating:
 * appended to a growing file (each write also commits the file's new size), and written into space zero-filled and
 * synced beforehand, as the queue writes (ms).
 */
async function fsyncLatency(): Promise<GatewayBench['fsync']> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-fsync-'))
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_DSYNC
  const appended = await open(join(dir, 'appended.ndjson'), flags | fsConstants.O_APPEND)
  const zeroFilled = await open(join(dir, 'zero-filled.ndjson'), flags)
  const record = Buffer.alloc(1024, 0x61)
  const times = { append: [] as number[], zeroFilled: [] as number[] }
  try {
    await zeroFilled.write(Buffer.alloc(300 * 1024), 0, 300 * 1024, 0)
    for (let i = 0; i < 300; i++) {
      let started = performance.now()
      await appended.write(record)
      times.append.push(performance.now() - started)
      started = performance.now()
      await zeroFilled.write(record, 0, record.length, i * record.length)
      times.zeroFilled.push(performance.now() - started)
    }
  } finally {
    await appended.close()
    await zeroFilled.close()
    await rm(dir, { recursive: true, force: true })
  }
  const percentiles = (t: number[]) => {
    t.sort((a, b) => a - b)
    return { p50: t[150]!, p99: t[297]! }
  }
  return { append: percentiles(times.append), zeroFilled: percentiles(times.zeroFilled) }
}

/** An aggregator stand-in that acknowledges every receipt and batch it is sent as accepted. */
async function stubAggregator(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
      const count = Array.isArray(body) ? body.length : (body as { receipts: { timestamp: unknown[] } }).receipts.timestamp.length
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...(Array.isArray(body) ? {} : { batch: 'accepted' }), accepted: count, duplicates: 0, rejected: 0, results: [] }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** The section of docs/benchmarks.md. */
export function gatewayBenchSection(b: GatewayBench): string[] {
  const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const ms = (x: number) => `${f(x, 2)} ms`
  const direct = b.rows.find((r) => r.target === 'direct')!
  const lines = [
    '## Gateway overhead, non-streamed chat completions',
    '',
    `The test upstream, \`fomo gateway\` and the load run on the same machine, each gateway a process of its own forwarding to a stub aggregator, every receipt written durably (an O_DSYNC write) before its answer, except in the last row: there (\`--queue-durability process\`) a call is answered once the kernel holds its receipt's record, which a killed gateway process does not lose (the kill -9 tests run this mode too) but a power cut can. Latency: ${b.rates.map((r) => f(r)).join(' and ')} calls/s for ${b.seconds} s each over kept-alive connections, every call timed, each rate after ${WARM_UP_SECONDS} s at that rate untimed (so the connections it needs are open); added = the gateway's percentile less the direct one. Then throughput: autocannon, 64 connections, ${b.seconds} s (its latency there is in whole milliseconds and mostly queueing).`,
    '',
    `| target | ${b.rates.map((r) => `p50 / p99 at ${f(r)}/s | added p50 / p99 at ${f(r)}/s`).join(' | ')} | calls/s saturated | p50 / p99 saturated | CPU per call, all threads / main thread | receipts / answered | errors |`,
    `| --- | ${b.rates.map(() => '---: | ---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: |`,
  ]
  for (const r of b.rows) {
    const cells = r.latency.flatMap((l, i) => [`${ms(l.p50)} / ${ms(l.p99)}`, r === direct ? '-' : `${ms(l.p50 - direct.latency[i]!.p50)} / ${ms(l.p99 - direct.latency[i]!.p99)}`])
    const name = r.target === 'gateway, signed per call, before' ? `gateway, signed per call, before (${process.env.FOMO_BENCH_BASELINE_LABEL ?? process.env.FOMO_BENCH_BASELINE})` : r.target
    lines.push(`| ${name} | ${cells.join(' | ')} | ${f(r.throughput)} | ${r.saturatedP50} / ${r.saturatedP99} ms | ${r.cpu ? `${f(r.cpu.all)} / ${f(r.cpu.main)} µs` : '-'} | ${r.receipts === null ? '-' : `${f(r.receipts)} / ${f(r.answered)}`} | ${r.errors} |`)
  }
  lines.push(
    '',
    `Durability sets a floor under the added latency: a call is answered after its receipt's durable write. A 1 KiB O_DSYNC write took ${ms(b.fsync.append.p50)} (p50) and ${ms(b.fsync.append.p99)} (p99) on this disk in the same run appended to a file, and ${ms(b.fsync.zeroFilled.p50)} and ${ms(b.fsync.zeroFilled.p99)} into space zero-filled beforehand, as the queue writes (no new size to commit with each write). The last row shows what is left without durability.`,
    '',
    `The gateway's own steps per call, timed in the benchmark's process (the least of 5 rounds of 2,000): ${b.steps.map((x) => `${x.step} ${f(x.us, 1)} µs`).join(', ')}; ${f(b.steps.reduce((n, x) => n + x.us, 0), 1)} µs in all. The rest of the gateway's CPU per call is Node's HTTP server and client, the socket system calls and garbage collection.`,
    '',
    "CPU per call: the CPU time the serving process used over the row's runs divided by the calls sent to it; in the direct row the upstream's (what serving one HTTP call costs here), in the others the gateway's (it serves one call and makes one, and signs and records the receipt). The main thread's is what bounds the gateway's calls per second.",
    '',
    'Targets: at least 2,000 calls/s through the gateway on 2 cores, with p50 added latency under 2 ms.',
  )
  return lines
}
