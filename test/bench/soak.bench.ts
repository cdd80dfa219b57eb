/**
 * The soak run: `fomo serve` on a PostgreSQL server (fsync on) under a steady load of per-call signed receipts for
 * a long time (`--soak-seconds=600` by default), with two faults in the middle: kill -9 of the server (restarted by
 * the run on the same port) and a restart of PostgreSQL. The load goes through the real ingest client, which retries
 * what was not acknowledged. Reported: receipts sent, accepted, acknowledged as duplicates (a retry of a request whose
 * commit was not acknowledged), stored; the serve process's RSS over time; request latency.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, keccak256, toBytes } from 'viem'
import { sendReceipts } from '../../src/aggregator/client.ts'
import { openStore } from '../../src/aggregator/store.ts'
import { configJson, readConfig } from '../../src/epoch/config.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { addressOf, signReceipt } from '../../src/receipts/sign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME } from '../../src/receipts/types.ts'
import { BIN } from '../helpers.ts'

export type SoakSample = { second: number; rssMB: number | null; accepted: number; pid: number | null }
export type SoakBench = {
  seconds: number
  /** From the first request to the last answer (the load time plus the drain of requests in flight). */
  wallSeconds: number
  ratePerSecond: number
  perRequest: number
  sent: number
  accepted: number
  duplicates: number
  rejected: number
  stored: number
  requests: number
  retries: number
  /** Requests that needed no retry, and all requests (retries included), in ms. */
  latency: { first: { p50: number; p99: number; max: number; n: number }; all: { p50: number; p99: number; max: number; n: number } }
  /** Ticks of the load generator that found the in-flight cap reached and waited. */
  deferred: number
  faults: Array<{ at: number; what: string; downSeconds: number }>
  /** Server exits the run did not cause (each restarted). */
  unplannedExits: number
  /** Requests the server answered with a 5xx (the client retried them), by the error the server logged. */
  serverErrors: Record<string, number>
  /** Whether the last node failed to exit within 15 s of SIGTERM. */
  stopHung: boolean
  samples: SoakSample[]
}

/** `--soak-seconds=N` (default 600). */
export function soakSecondsArg(argv: readonly string[]): number {
  return intArg(argv, 'soak-seconds', 600, 30)
}

/** `--soak-rate=N` receipts per second (default 500, a multiple of the request size). */
export function soakRateArg(argv: readonly string[]): number {
  const rate = intArg(argv, 'soak-rate', 500, PER_REQUEST)
  if (rate % PER_REQUEST !== 0) throw new Error(`--soak-rate=${rate}: give a multiple of ${PER_REQUEST} receipts per second`)
  return rate
}

function intArg(argv: readonly string[], name: string, fallback: number, min: number): number {
  const v = argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  if (v === undefined) return fallback
  if (!/^[0-9]{1,6}$/.test(v) || Number(v) < min) throw new Error(`--${name}=${v}: give a whole number, at least ${min}`)
  return Number(v)
}

const PER_REQUEST = 100
/** Requests in flight at most (the store's connection pool holds 8); past it a tick waits. */
const MAX_IN_FLIGHT = 16

function findPgBin(name: string): string {
  for (const dir of ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']) {
    const path = join(dir, name)
    if (existsSync(path)) return path
  }
  throw new Error(`PostgreSQL's ${name} was not found; install Debian's postgresql package (apt-get install -y postgresql)`)
}

/** A PostgreSQL server on loopback that can be restarted on the same port and data directory. */
async function restartablePostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'fomo-soak-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const prefix = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
  const run = (cmd: string[]) => execFileSync([...prefix, ...cmd][0]!, [...prefix, ...cmd].slice(1), { stdio: 'pipe' })
  run([findPgBin('initdb'), '-D', data, '-A', 'trust', '-U', 'fomo', '--no-sync'])
  const port = 20000 + ((process.pid * 13 + Date.now()) % 20000)
  const url = `postgres://fomo@127.0.0.1:${port}/postgres`
  let server: ChildProcess | undefined
  const { default: pg } = await import('pg')
  const up = async () => {
    const full = [...prefix, findPgBin('postgres'), '-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=on', '-c', 'max_connections=200']
    server = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] })
    for (let i = 0; ; i++) {
      try {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        await client.end()
        return
      } catch (error) {
        if (i > 300) throw new Error(`PostgreSQL did not start: ${(error as Error).message}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }
  const down = () => run([findPgBin('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'])
  await up()
  return {
    url,
    restart: async () => {
      down()
      await up()
    },
    stop: () => {
      try {
        down()
      } catch {
        server?.kill('SIGKILL')
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function rssMB(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const m = /VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

export async function benchSoak(log: (line: string) => void, seconds = soakSecondsArg(process.argv), rate = soakRateArg(process.argv)): Promise<SoakBench> {
  const REQUESTS_PER_SECOND = rate / PER_REQUEST
  const keys = Array.from({ length: 4 }, (_, i) => keccak256(toBytes(`soak bench provider ${i}`)))
  const providers = keys.map(addressOf)
  const deploymentId = keccak256(toBytes('soak bench deployment'))
  const config = readConfig({
    format: 'fomo-aggregator-config-v1',
    domain: { name: RECEIPT_DOMAIN_NAME, version: '1', chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    tokens: { flock: getAddress(addressOf(keccak256(toBytes('flock')))), usdc: getAddress(addressOf(keccak256(toBytes('usdc')))) },
    platform: { dailyEmission: '20000' },
    deployments: [{ id: deploymentId, name: 'soak', issuer: getAddress(providers[0]!), mtToken: getAddress(providers[1]!), graduationEpoch: 0, raised: '100000', incentiveReserve: '200000' }],
    providers: keys.map((k) => ({ deploymentId, provider: getAddress(addressOf(k)) })),
  })
  const separator = domainSeparator(config.domain)
  const users = Array.from({ length: 1000 }, (_, i) => addressOf(keccak256(toBytes(`soak user ${i}`))))
  const dir = await mkdtemp(join(tmpdir(), 'fomo-soak-'))
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson(config)))

  log('soak: starting PostgreSQL (fsync on)')
  const pg = await restartablePostgres()
  const result: SoakBench = {
    seconds,
    wallSeconds: 0,
    ratePerSecond: REQUESTS_PER_SECOND * PER_REQUEST,
    perRequest: PER_REQUEST,
    sent: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    stored: 0,
    requests: 0,
    retries: 0,
    latency: { first: { p50: 0, p99: 0, max: 0, n: 0 }, all: { p50: 0, p99: 0, max: 0, n: 0 } },
    deferred: 0,
    faults: [],
    unplannedExits: 0,
    serverErrors: {},
    stopHung: false,
    samples: [],
  }
  let server: ChildProcess | undefined
  let expectingExit = false
  let port = 0
  try {
    const store = await openStore({ databaseUrl: pg.url })
    await store.setConfig(config)
    await store.close()

    const startServer = async (): Promise<void> => {
      // Request logs on: the errors behind 5xx answers are counted from them.
      const child = spawn(process.execPath, [BIN, 'serve', '--database-url', pg.url, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let partial = ''
      child.stdout!.on('data', (d) => (out += d))
      child.stderr!.on('data', (d) => {
        const lines = (partial + d).split('\n')
        partial = lines.pop()!
        for (const line of lines) {
          if (!line.includes('"request failed"')) {
            if (!line.startsWith('{')) out = (out + line + '\n').slice(-4000)
            continue
          }
          const error = String((JSON.parse(line) as { error?: unknown }).error).slice(0, 120)
          result.serverErrors[error] = (result.serverErrors[error] ?? 0) + 1
        }
      })
      server = child
      for (let i = 0; !out.includes('"listening"'); i++) {
        if (child.exitCode !== null || i > 1200) throw new Error(`fomo serve did not start:\n${out}`)
        await new Promise((r) => setTimeout(r, 25))
      }
      const url = JSON.parse(out.split('\n').find((l) => l.includes('"listening"'))!).listening as string
      port = Number(new URL(url).port)
      child.once('exit', () => {
        if (server !== child || expectingExit) return
        // Not caused by the run (e.g. the store connection lost): counted, and the node restarted as an operator's supervisor would.
        result.unplannedExits++
        log(`soak: fomo serve exited on its own at ${Math.round((performance.now() - t0) / 1000)} s:\n${out.slice(-1000)}`)
        void restartWithRetry()
      })
    }
    const restartWithRetry = async () => {
      for (let i = 0; ; i++) {
        try {
          await startServer()
          return
        } catch (error) {
          if (i > 60) throw error
          await new Promise((r) => setTimeout(r, 1000))
        }
      }
    }
    let t0 = performance.now()
    await startServer()
    const url = `http://127.0.0.1:${port}`
    log(`soak: fomo serve on ${url}, ${seconds} s at ${result.ratePerSecond} receipts/s (requests of ${PER_REQUEST})`)

    const epochAt = (ts: bigint) => Number(ts / 86_400n)
    let nextReceipt = 0
    const makeRequest = (): string[] => {
      const ts = BigInt(Math.floor(Date.now() / 1000)) - 5n
      const texts: string[] = []
      for (let k = 0; k < PER_REQUEST; k++) {
        const i = nextReceipt++
        const p = i % keys.length
        const gross = 1_000n + BigInt(i % 9_000)
        const receipt: UsageReceipt = {
          deploymentId,
          provider: providers[p]!,
          user: users[i % users.length]!,
          epoch: epochAt(ts),
          requestId: keccak256(toBytes(`soak request ${i}`)),
          timestamp: ts,
          inputTokens: 500,
          outputTokens: 200,
          grossAmount: gross,
          discountBps: 0,
          chargedAmount: gross,
        }
        texts.push(JSON.stringify(signReceipt(receipt, keys[p]!, config.domain, separator)))
      }
      return texts
    }

    const first: number[] = []
    const all: number[] = []
    const inFlight = new Set<Promise<void>>()
    const send = (texts: string[]) => {
      const started = performance.now()
      const job = sendReceipts(texts, { url, batchSize: PER_REQUEST, concurrency: 1, retrySeconds: 300 }).then(
        (s) => {
          const ms = performance.now() - started
          all.push(ms)
          if (s.retries === 0) first.push(ms)
          result.requests += s.requests
          result.retries += s.retries
          result.accepted += s.accepted
          result.duplicates += s.duplicates
          result.rejected += s.rejected
        },
        (error: Error) => log(`soak: a request was not delivered: ${error.message}`),
      )
      const tracked = job.finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
    }

    const at = () => Math.round((performance.now() - t0) / 1000)
    // The faults run on their own timers, whatever the load generator is waiting for.
    const faults: Array<Promise<void>> = []
    const killTimer = setTimeout(() => {
      const when = at()
      log(`soak: kill -9 of fomo serve at ${when} s`)
      const down = performance.now()
      expectingExit = true
      const old = server!
      const exited = new Promise((r) => old.once('exit', r))
      old.kill('SIGKILL')
      faults.push(
        exited
          .then(() => {
            expectingExit = false
            // The supervisor's restart delay: long enough that clients see refused connections and retry.
            return new Promise((r) => setTimeout(r, 2000))
          })
          .then(restartWithRetry)
          .then(() => void log(`soak: fomo serve restarted after ${at() - when} s`))
          .then(() => void result.faults.push({ at: when, what: 'kill -9 of fomo serve, restarted by the run after 2 s', downSeconds: (performance.now() - down) / 1000 })),
      )
    }, seconds * 400)
    const pgTimer = setTimeout(() => {
      const when = at()
      log(`soak: restarting PostgreSQL at ${when} s`)
      const down = performance.now()
      faults.push(pg.restart().then(() => void log(`soak: PostgreSQL up again after ${at() - when} s`)).then(() => void result.faults.push({ at: when, what: 'PostgreSQL restarted (pg_ctl stop -m fast, then started again)', downSeconds: (performance.now() - down) / 1000 })))
    }, seconds * 700)
    const sampleEvery = Math.max(5, Math.round(seconds / 60))
    let nextSample = 0
    t0 = performance.now()
    // Ticks at the steady rate until the wall time is up; a late tick is sent at once (the rate stays the average).
    for (let tick = 0; performance.now() - t0 < seconds * 1000; tick++) {
      const due = t0 + (tick * 1000) / REQUESTS_PER_SECOND
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const elapsed = (performance.now() - t0) / 1000
      if (elapsed >= nextSample) {
        result.samples.push({ second: Math.round(elapsed), rssMB: rssMB(server?.pid), accepted: result.accepted + result.duplicates, pid: server?.pid ?? null })
        log(`soak: ${Math.round(elapsed)} s, ${result.accepted + result.duplicates} acknowledged, ${inFlight.size} in flight`)
        nextSample += sampleEvery
      }
      while (inFlight.size >= MAX_IN_FLIGHT) {
        result.deferred++
        await Promise.race(inFlight)
      }
      const texts = makeRequest()
      result.sent += texts.length
      send(texts)
    }
    clearTimeout(killTimer)
    clearTimeout(pgTimer)
    await Promise.all(faults)
    log(`soak: load over, waiting for ${inFlight.size} requests in flight`)
    await Promise.all(inFlight)
    result.samples.push({ second: Math.round((performance.now() - t0) / 1000), rssMB: rssMB(server?.pid), accepted: result.accepted + result.duplicates, pid: server?.pid ?? null })
    log('soak: stopping fomo serve, counting what is stored')
    expectingExit = true
    const last = server!
    const exited = new Promise((r) => last.once('exit', r))
    last.kill('SIGTERM')
    // A node that does not stop on SIGTERM is a finding, reported; the count is taken anyway.
    if ((await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))])) === false) {
      result.stopHung = true
      log('soak: fomo serve did not exit within 15 s of SIGTERM; killed')
      last.kill('SIGKILL')
      await exited
    }
    const check = await openStore({ databaseUrl: pg.url })
    result.stored = await check.receiptCount()
    await check.close()
    first.sort((a, b) => a - b)
    all.sort((a, b) => a - b)
    const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs[xs.length - 1] ?? 0, n: xs.length })
    result.latency = { first: stats(first), all: stats(all) }
    result.wallSeconds = (performance.now() - t0) / 1000
    return result
  } finally {
    expectingExit = true
    server?.kill('SIGKILL')
    pg.stop()
  }
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** The benchmarks.md section of a soak run. */
export function soakSection(r: SoakBench): string[] {
  const lines: string[] = []
  lines.push('## Soak', '')
  lines.push(
    `\`fomo serve\` (one node) on a PostgreSQL server (fsync on), all on the same 2 cores, under a steady ${f(r.ratePerSecond)} per-call signed receipts/s for ${f(r.seconds)} s (${f(r.wallSeconds)} s until the last answer): ${f(r.ratePerSecond / r.perRequest)} requests/s of ${r.perRequest} distinct receipts each, sent through the ingest client (\`sendReceipts\`, which retries what was not acknowledged), at most ${MAX_IN_FLIGHT} requests in flight. Faults in the middle: kill -9 of the server at 40 % of the run (restarted by the run on the same port after 2 s) and a restart of PostgreSQL at 70 %. Rerun with \`npm run bench -- --only=soak --soak-seconds=${r.seconds} --soak-rate=${r.ratePerSecond}\`.`,
    '',
  )
  lines.push('| sent | accepted | duplicates (retried after a lost answer) | rejected | stored | accepted + duplicates = stored | requests | retries | unplanned server exits |', '| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |')
  lines.push(`| ${f(r.sent)} | ${f(r.accepted)} | ${f(r.duplicates)} | ${f(r.rejected)} | ${f(r.stored)} | ${r.accepted + r.duplicates === r.stored && r.stored === r.sent ? 'yes' : 'NO'} | ${f(r.requests)} | ${f(r.retries)} | ${r.unplannedExits} |`)
  lines.push('', '| faults | at | until served again |', '| --- | ---: | ---: |')
  for (const x of r.faults) lines.push(`| ${x.what} | ${f(x.at)} s | ${f(x.downSeconds, 1)} s |`)
  if (r.stopHung) lines.push('', 'At the end, `fomo serve` did not exit within 15 s of SIGTERM and was killed (the stored count is read after).')
  const errors = Object.entries(r.serverErrors).sort((a, b) => b[1] - a[1])
  lines.push('', `5xx answers the server logged (each retried by the client): ${errors.length === 0 ? 'none' : errors.map(([m, n]) => `${f(n)} × "${m.replace(/\|/g, '/')}"`).join('; ')}.`)
  lines.push('', '| request latency | requests | p50 | p99 | max |', '| --- | ---: | ---: | ---: | ---: |')
  lines.push(`| answered at the first attempt | ${f(r.latency.first.n)} | ${f(r.latency.first.p50)} ms | ${f(r.latency.first.p99)} ms | ${f(r.latency.first.max)} ms |`)
  lines.push(`| all, retries through the faults included | ${f(r.latency.all.n)} | ${f(r.latency.all.p50)} ms | ${f(r.latency.all.p99)} ms | ${f(r.latency.all.max)} ms |`)
  lines.push('', 'RSS of the `fomo serve` process over time (a new process after the kill):', '')
  lines.push('| second | RSS | receipts acknowledged so far | process |', '| ---: | ---: | ---: | ---: |')
  const step = Math.max(1, Math.ceil(r.samples.length / 12))
  const pids = [...new Set(r.samples.map((s) => s.pid))]
  r.samples.forEach((s, i) => {
    if (i % step === 0 || i === r.samples.length - 1) lines.push(`| ${f(s.second)} | ${s.rssMB === null ? 'down' : `${f(s.rssMB)} MB`} | ${f(s.accepted)} | ${s.pid === null ? '' : `#${pids.indexOf(s.pid) + 1}`} |`)
  })
  return lines
}
