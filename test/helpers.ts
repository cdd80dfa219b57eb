import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const BIN = join(import.meta.dirname, '..', 'src', 'cli', 'bin.mjs')
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures')

/** Runs the fomo CLI in a child process; never throws, returns code and output. */
export async function fomo(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 << 20 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}
