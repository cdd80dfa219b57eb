/**
 * Issue 14, the stores under faults: `fomo serve --database-url` lives through PostgreSQL dropping its connections
 * (what a restart does) and answers 503 while the database is away; the embedded store on a full disk answers 503
 * and recovers when space returns (a small tmpfs, as root); a port in use leaves no lock behind; an explicit
 * --data-dir wins over FOMO_DATABASE_URL. Nothing stored is lost or counted twice.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openStore } from '../../src/aggregator/store.ts'
import { fomo } from '../helpers.ts'
import { liveReceipts, serve, stop, writeConfig } from '../aggregator/processes.ts'
import { databaseUrl, freshLocation } from '../aggregator/stores.ts'
import { worldConfig } from '../aggregator/world.ts'

const config = worldConfig()
const post = (url: string, docs: unknown[]) =>
  fetch(`${url}/v1/receipts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(docs), signal: AbortSignal.timeout(60_000) }).then(async (r) => ({ status: r.status, body: await r.json() }))
const health = (url: string) => fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status)

describe.skipIf(!databaseUrl())('fomo serve --database-url', () => {
  it('lives through PostgreSQL dropping every connection, answers 503 while it is away, and recovers', async () => {
    const location = await freshLocation('postgres')
    const store = await openStore(location)
    await store.setConfig(config)
    await store.close()
    const server = await serve(['--database-url', location.databaseUrl!])
    const { default: pg } = await import('pg')
    const admin = new pg.Client({ connectionString: databaseUrl() })
    await admin.connect()
    const name = new URL(location.databaseUrl!).pathname.slice(1)
    try {
      const first = liveReceipts(3)
      expect((await post(server.url, first)).body.accepted).toBe(3)
      // A restart, as the service sees it: its connections end and new ones are refused for a while.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name])
      await new Promise((r) => setTimeout(r, 500))
      expect(server.child.exitCode, server.output()).toBe(null)
      const docs = liveReceipts(4, 10)
      const down = await post(server.url, docs)
      expect(down).toMatchObject({ status: 503, body: { retry: true } })
      expect(await health(server.url)).toBe(503)
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)
      expect(await health(server.url)).toBe(200)
      expect((await post(server.url, docs)).body).toMatchObject({ accepted: 4, duplicates: 0 })
      expect((await post(server.url, first)).body).toMatchObject({ accepted: 0, duplicates: 3 })
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined)
      await admin.end()
      await stop(server)
    }
    const check = await openStore(location)
    expect(await check.receiptCount()).toBe(7)
    await check.close()
  })
})

/** A small tmpfs as root (a disk that can fill up), else a plain temporary directory. */
async function smallDisk(): Promise<{ dir: string; tmpfs: boolean; release: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fomo-disk-'))
  try {
    if (process.getuid?.() !== 0) throw new Error('not root')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', dir])
    return { dir, tmpfs: true, release: async () => void execFileSync('umount', [dir]) }
  } catch {
    return { dir, tmpfs: false, release: () => rm(dir, { recursive: true, force: true }) }
  }
}

describe('the embedded store', () => {
  it('a port in use leaves no lock; a full disk gives 503 and recovers when space returns', async () => {
    const disk = await smallDisk()
    const data = join(disk.dir, 'data')
    const busy = createServer().listen(0, '127.0.0.1')
    await once(busy, 'listening')
    try {
      // An explicit --data-dir wins over FOMO_DATABASE_URL from the environment.
      const conf = await writeConfig()
      const init = await fomo(['init', '--config', join(conf, 'config.json'), '--data-dir', data], { env: { FOMO_DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' } })
      expect(init.code, init.stderr).toBe(0)
      expect(JSON.parse(init.stdout)).toMatchObject({ store: 'pglite' })

      const port = (busy.address() as { port: number }).port
      const taken = await fomo(['serve', '--data-dir', data, '--port', String(port)])
      expect(taken.code).toBe(1)
      expect(taken.stderr.split('\n')[0]).toBe(`error: cannot listen on 127.0.0.1:${port}: the port is in use; stop the process using it or give another --port`)
      expect(taken.stderr).not.toMatch(/^\s+at /m)
      expect(existsSync(join(data, 'fomo.lock'))).toBe(false)
      if (!disk.tmpfs) return

      const server = await serve(['--data-dir', data])
      let stored = 0
      try {
        // Fill the disk but a little: requests go on until the database cannot extend its files.
        const free = await statfs(disk.dir)
        await mkdir(join(disk.dir, 'filler'))
        await writeFile(join(disk.dir, 'filler', 'f'), Buffer.alloc(Math.max(0, free.bavail * free.bsize - (384 << 10)))).catch(() => undefined)
        let failed: unknown[] | undefined
        for (let k = 0; k < 40 && !failed; k++) {
          const docs = liveReceipts(300, 1000 + 300 * k)
          const r = await post(server.url, docs)
          if (r.status === 200) stored += r.body.accepted
          else {
            expect(r).toMatchObject({ status: 503, body: { retry: true } })
            failed = docs
          }
        }
        expect(failed, 'the disk never filled up').toBeDefined()
        // The service still answers (no hang), and once space returns the same request is stored, once.
        expect([200, 503]).toContain(await health(server.url))
        await rm(join(disk.dir, 'filler'), { recursive: true })
        const again = await post(server.url, failed!)
        expect(again.status).toBe(200)
        expect(again.body).toMatchObject({ accepted: 300, duplicates: 0 })
        stored += 300
      } finally {
        await stop(server)
      }
      const check = await openStore({ dataDir: data })
      expect(await check.receiptCount()).toBe(stored)
      await check.close()
    } finally {
      busy.close()
      await disk.release()
    }
  })
})
