import { execFile, execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * The built `fomo` command, dist/cli/bin.js: what `npm ci` builds and users run. Rebuilt first when a source is
 * newer than dist (test/build.mjs --if-stale), so a test never runs an old build.
 */
export const BIN = builtBin()

function builtBin(): string {
  const root = join(import.meta.dirname, '..')
  try {
    execFileSync(process.execPath, [join(root, 'test', 'build.mjs'), '--if-stale', '--allow-type-errors'], { cwd: root, stdio: 'pipe', encoding: 'utf8' })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    throw new Error(`building dist for the CLI tests failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
  return join(root, 'dist', 'cli', 'bin.js')
}

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

/** Starts Hardhat's JSON-RPC node on loopback at `port` (a child process the caller kills); its URL. */
export async function startHardhatNode(port: number): Promise<{ node: import('node:child_process').ChildProcess; rpc: string }> {
  const { spawn } = await import('node:child_process')
  const config = join(import.meta.dirname, '..', 'contracts', 'hardhat.config.cjs')
  const node = spawn(process.execPath, ['-e', `process.env.HARDHAT_CONFIG=${JSON.stringify(config)}; require('hardhat').run('node', { hostname: '127.0.0.1', port: ${port} })`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  node.stdout!.on('data', (d) => (out += d))
  node.stderr!.on('data', (d) => (out += d))
  for (let i = 0; i < 600 && !out.includes('JSON-RPC server at'); i++) await new Promise((r) => setTimeout(r, 50))
  if (!out.includes('JSON-RPC server at')) throw new Error(`hardhat node did not start:\n${out}`)
  return { node, rpc: `http://127.0.0.1:${port}` }
}
