/**
 * Issue 14, what users read: errors never print BigInt literals, long work prints progress lines when stderr is
 * not a terminal, and the ingest client keeps retrying for as long as it is told (a restart takes longer than 3 s).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { sendReceipts } from '../../src/aggregator/client.ts'
import { describe as show, InvalidParameterError } from '../../src/base/errors.ts'
import { progress } from '../../src/cli/progress.ts'

describe('error messages', () => {
  it('print integers as decimals, never BigInt literals like 0n', () => {
    expect(show(0n)).toBe('0')
    expect(show({ amount: 10n ** 30n, list: [1n] })).toBe('{"amount":"1000000000000000000000000000000","list":["1"]}')
    expect(new InvalidParameterError('discountBps', 'at most 10000', 20000n).message).toBe('discountBps: expected at most 10000, got 20000')
  })
})

describe('progress', () => {
  const io = (interactive: boolean) => {
    const lines: string[] = []
    return { lines, io: { stdout: () => undefined, stderr: (t: string) => void lines.push(t), env: {}, cwd: '.', interactive } }
  }

  it('prints a plain line every interval when stderr is not a terminal, and nothing for short work', () => {
    const log = io(false)
    let now = 1_000_000
    const bar = progress(log.io, 'tree', { intervalMs: 10_000, now: () => now })
    bar.update(10, 1000, 'hash')
    now += 9_000
    bar.update(400, 1000, 'hash')
    expect(log.lines).toEqual([])
    now += 2_000
    bar.update(500, 1000, 'hash')
    now += 10_000
    bar.update(1_234_567, undefined, 'encode')
    bar.done('tree: built')
    expect(log.lines).toEqual(['tree hash: 500/1,000 (50 %), 11 s\n', 'tree encode: 1,234,567, 21 s\n', 'tree: built (21.0 s)\n'])
  })

  it('redraws one line in place on a terminal', () => {
    const term = io(true)
    const bar = progress(term.io, 'demo', { now: () => 5 })
    bar.update(1, 2, 'seal')
    expect(term.lines[0]).toMatch(/^\rdemo seal \[#{12} {12}\] 1\/2 {2}\x1b\[K$/)
  })
})

describe('the ingest client', () => {
  it('keeps retrying an unreachable aggregator for --retry-seconds, backing off to 5 s', async () => {
    let now = 0
    const waits: number[] = []
    const sleep = async (ms: number) => {
      waits.push(ms)
      now += ms
    }
    const sent = sendReceipts(['{}'], { url: 'http://127.0.0.1:9', retrySeconds: 60, sleep, now: () => now })
    await expect(sent).rejects.toThrow(/^could not deliver to http:\/\/127\.0\.0\.1:9\/v1\/receipts after \d+ attempts \(fetch failed\); check the aggregator is running, then send again/)
    expect(waits.slice(0, 7)).toEqual([100, 200, 400, 800, 1600, 3200, 5000])
    expect(now).toBeGreaterThan(55_000)
    expect(now).toBeLessThanOrEqual(60_000)
  })

  it('refuses a 2xx answer that is no ingest answer (another server at --url), naming the URL', async () => {
    const server = createServer((_req, res) => res.end('{"ok":true}'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await expect(sendReceipts(['{}'], { url, attempts: 1 })).rejects.toThrow(/answered 200 with no ingest answer .*; check --url names a fomo aggregator/)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
