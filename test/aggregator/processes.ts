/** `fomo` commands as real child processes for tests: started, watched for a line of output, killed after each test. */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { configJson, type AggregatorConfig } from '../../src/epoch/config.ts'
import { BIN } from '../helpers.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { receipt, signed, worldConfig } from './world.ts'

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
})

export type Started = { child: ChildProcess; line: (pattern: RegExp) => Promise<string>; output: () => string; exited: Promise<number | null> }

/** Starts `fomo <args>`; `line` waits for an output line matching a pattern (rejecting if the process exits first). */
export function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = out.split('\n').find((l) => pattern.test(l))
        if (m) {
          clearInterval(timer)
          resolve(m)
        }
      }
      const timer = setInterval(check, 25)
      void exited.then((code) => {
        check()
        clearInterval(timer)
        reject(new Error(`process exited (${code}) before printing ${pattern}:\n${out}`))
      })
    })
  return { child, line, output: () => out, exited }
}

/** `fomo serve` on a free port with the store arguments given; its URL once it listens. */
export async function serve(store: string[], env: Record<string, string> = {}): Promise<Started & { url: string }> {
  const s = start(['serve', ...store, '--port', '0', '--quiet'], env)
  const url = JSON.parse(await s.line(/"listening"/)).listening as string
  return { ...s, url }
}

/** Stops a process with SIGTERM and waits for it. */
export async function stop(s: Started): Promise<void> {
  s.child.kill('SIGTERM')
  await s.exited
}

export const post = async (url: string, docs: unknown[]) => (await fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(docs) })).json()

/** A temporary directory holding config.json (`config`, the test world's by default). */
export async function writeConfig(config: AggregatorConfig = worldConfig()): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-proc-'))
  await writeFile(join(dir, 'config.json'), JSON.stringify(configJson(config)))
  return dir
}

export const liveEpoch = () => Math.floor(Date.now() / 1000 / 86_400)

/** A receipt of the current epoch, timestamped a little before now (so a real clock accepts it) unless given one. */
export function liveReceipt(i: number, options: { deployment?: 0 | 1; timestamp?: bigint } = {}): UsageReceipt {
  const epoch = liveEpoch()
  const now = BigInt(Math.floor(Date.now() / 1000))
  const start = BigInt(epoch) * 86_400n
  const ts = now - 120n - BigInt(i % 60) < start ? start : now - 120n - BigInt(i % 60)
  return receipt(i, { epoch, timestamp: options.timestamp ?? ts, ...(options.deployment === undefined ? {} : { deployment: options.deployment }) })
}

/** Signed receipts of the current epoch (liveReceipt). */
export function liveReceipts(n: number, from = 0) {
  return Array.from({ length: n }, (_, k) => signed(liveReceipt(from + k)))
}
