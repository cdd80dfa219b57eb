/**
 * Vitest global setup: starts a real PostgreSQL server (Debian's package) on
 * loopback in a temporary directory for the server-mode store tests, and stops
 * it afterwards. FOMO_TEST_DATABASE_URL, when set, is used instead. Without
 * PostgreSQL binaries the server-mode tests report themselves skipped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

function findBin(name: string): string | undefined {
  for (const dir of ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']) {
    const path = join(dir, name)
    if (existsSync(path)) return path
  }
  return undefined
}

let server: ChildProcess | undefined
let dir: string | undefined
let stop: (() => void) | undefined

export default async function setup(project: TestProject) {
  if (process.env.FOMO_TEST_DATABASE_URL) {
    project.provide('databaseUrl', process.env.FOMO_TEST_DATABASE_URL)
    return
  }
  const initdb = findBin('initdb')
  const postgres = findBin('postgres')
  if (!initdb || !postgres) {
    project.provide('databaseUrl', '')
    return
  }
  dir = mkdtempSync(join(tmpdir(), 'fomo-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  // PostgreSQL refuses to run as root: run it as the postgres user then.
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
  const run = (cmd: string[]) => execFileSync(asUser[0] ?? cmd[0]!, [...asUser.slice(1), ...(asUser.length ? cmd : cmd.slice(1))], { stdio: 'pipe' })
  run([initdb, '-D', data, '-A', 'trust', '-U', 'fomo', '--no-sync'])
  const pgCtl = findBin('pg_ctl')
  stop = () => {
    if (pgCtl) run([pgCtl, '-D', data, '-m', 'immediate', '-w', 'stop'])
  }
  const port = 20000 + (process.pid % 20000)
  const args = [postgres, '-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off', '-c', 'max_connections=200']
  server = spawn(asUser[0] ?? args[0]!, [...asUser.slice(1), ...(asUser.length ? args : args.slice(1))], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  server.stderr?.on('data', (d) => (log += d))
  // Keep the runner free to exit: teardown stops the server explicitly.
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
  project.provide('databaseUrl', url)
  return teardown
}

async function teardown() {
  try {
    stop?.()
  } catch {
    server?.kill('SIGKILL')
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
}
