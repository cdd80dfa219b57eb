/**
 * Issue 14, the embedded store's lock: with a stale lock file (its process is dead), processes taking the lock at
 * the same moment (real child processes, started together) let exactly one in, trial after trial.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

/**
 * A child that says it is ready, reads the instant to start at (ms since the epoch) on stdin, waits for it, takes the
 * lock, says whether it got in, and holds it a while.
 */
const CHILD = `
import { acquireLock } from './src/aggregator/sql.ts'
const path = process.argv[process.argv.length - 1]
console.log('ready')
process.stdin.once('data', async (data) => {
  const at = Number(String(data))
  while (Date.now() < at) {}
  try {
    await acquireLock(path)
    console.log('got')
    await new Promise((r) => setTimeout(r, 1000))
  } catch (error) {
    console.log(/in use by another fomo process/.test(error.message) ? 'refused' : 'error ' + error.message)
  }
  process.exit(0)
})
`

/** Starts a child; resolves once it is ready, with its way to start and its last line. */
function child(path: string) {
  const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, path], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  const ready = new Promise<void>((resolve) => c.stdout.on('data', (d) => ((out += d), out.includes('ready') && resolve())))
  const result = new Promise<string>((resolve) => c.once('exit', () => resolve(out.trim().split('\n').pop()!)))
  return { ready, result, go: (at: number) => c.stdin.end(String(at)) }
}

/** The pid of a process that has exited: what a crashed holder leaves in the lock file. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''])
  await new Promise((r) => child.once('exit', r))
  return child.pid!
}

describe('the embedded store lock', () => {
  it('lets exactly one of three processes in over a stale lock, in every trial', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fomo-lock-'))
    for (let trial = 0; trial < 5; trial++) {
      const path = join(dir, `fomo-${trial}.lock`)
      await writeFile(path, String(await deadPid()))
      const children = [0, 1, 2].map(() => child(path))
      await Promise.all(children.map((c) => c.ready))
      // All take the lock at the same instant.
      const at = Date.now() + 100
      for (const c of children) c.go(at)
      const outs = await Promise.all(children.map((c) => c.result))
      expect(outs.sort(), `trial ${trial}`).toEqual(['got', 'refused', 'refused'])
    }
  })
})
