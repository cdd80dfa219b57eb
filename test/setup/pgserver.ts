/** Starts a throwaway PostgreSQL server (Debian's package) on loopback; used by the test setup and the benchmarks. */
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function findBin(name: string): string | undefined {
  for (const dir of ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']) {
    const path = join(dir, name)
    if (existsSync(path)) return path
  }
  return undefined
}

export function postgresAvailable(): boolean {
  return Boolean(findBin('initdb') && findBin('postgres') && findBin('pg_ctl'))
}

export async function startPostgres(options: { fsync?: boolean } = {}): Promise<{ url: string; stop: () => void }> {
  const initdb = findBin('initdb')!
  const postgres = findBin('postgres')!
  const pgCtl = findBin('pg_ctl')!
  const dir = mkdtempSync(join(tmpdir(), 'fomo-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  // PostgreSQL refuses to run as root: run it as the postgres user then.
  const prefix = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
  const run = (cmd: string[]) => {
    const full = [...prefix, ...cmd]
    execFileSync(full[0]!, full.slice(1), { stdio: 'pipe' })
  }
  run([initdb, '-D', data, '-A', 'trust', '-U', 'fomo', '--no-sync'])
  const port = 20000 + ((process.pid * 7 + Date.now()) % 20000)
  const full = [...prefix, postgres, '-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', `fsync=${options.fsync ? 'on' : 'off'}`, '-c', 'max_connections=200']
  const server = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  server.stderr?.on('data', (d) => (log += d))
  server.unref()
  ;(server.stderr as unknown as { unref?: () => void } | null)?.unref?.()
  const url = `postgres://fomo@127.0.0.1:${port}/postgres`
  const { default: pg } = await import('pg')
  for (let i = 0; ; i++) {
    try {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.end()
      break
    } catch (error) {
      if (i > 100) throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    url,
    stop: () => {
      try {
        run([pgCtl, '-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {
        server.kill('SIGKILL')
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
