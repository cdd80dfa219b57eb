/**
 * The published shape: `npm pack` the package, install the tarball into a fresh project and use it there as a user
 * would, from plain Node (no tsx): every import path loads, receipts sign and verify (also on the worker threads of
 * dist), trees build (also on worker threads), the economics compute, the README's provider example runs, the
 * declarations type-check a consumer, the `fomo` bin runs, and the tarball holds no tests or fixtures it does not need.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ReceiptVerifier } from '../src/receipts/verify.ts'
import { BIN } from './helpers.ts'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..')
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
const SUBPATHS = Object.keys(pkg.exports).filter((s) => s !== './package.json')

const KEY = `0x${'11'.repeat(32)}`
const DOMAIN = { name: 'FOMO Usage Receipts', version: '1', chainId: 31337, verifyingContract: '0x5fbdb2315678afecb367f032d93f642f64180aa3' }
const DEPLOYMENT = `0x${'ab'.repeat(32)}`
const USER = `0x${'22'.repeat(20)}`

let dir = ''
let files: string[] = []

beforeAll(async () => {
  expect(BIN).toMatch(/dist/) // importing helpers built dist when a source was newer
  dir = await mkdtemp(join(tmpdir(), 'fomo-package-'))
  // Packs the dist just built: pack's own `prepare` would rebuild it under the other tests' running commands.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT })
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
  files = packed!.files.map((f) => f.path)
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'fomo-kit-consumer', private: true, type: 'module' }))
  // The dependencies are in npm's cache since `npm ci` (about 15-25 s here); scripts off: fomo-kit needs none.
  await run('npm', ['install', join(dir, packed!.filename), '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir })
}, 300_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** Runs a plain .mjs script in the consumer project; its last stdout line is JSON. */
async function script(name: string, text: string): Promise<Record<string, unknown>> {
  await writeFile(join(dir, name), text)
  const { stdout } = await run(process.execPath, [name], { cwd: dir })
  return JSON.parse(stdout.trim().split('\n').pop()!)
}

describe('the packed package', () => {
  it('holds dist, the bundled test keys the auditor reads, and no tests, sources or other fixtures', () => {
    expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['README.md', 'fixtures/zk/receipt_batch_4.keys.json', 'fixtures/zk/receipt_batch_4.verification_key.json', 'package.json'])
    expect(files.filter((f) => /\.test\.|\.bench\.|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([])
    expect(files).not.toContain('dist/receipts/verifyWorker.mjs') // the tsx loader of the sources
    for (const target of ['dist/cli/bin.js', 'dist/merkle/treeWorker.mjs', 'dist/base/keccakWasm.mjs', 'dist/base/keccakWasm.d.mts', 'dist/receipts/verifyWorkerMain.js'])
      expect(files).toContain(target)
    for (const subpath of SUBPATHS) for (const target of Object.values(pkg.exports[subpath] as Record<string, string>)) expect(files).toContain(target.slice(2))
  })

  it('every import path loads in plain Node and does its job, worker threads included', async () => {
    const out = await script(
      'consumer.mjs',
      `
import { addressOf, ReceiptVerifier, signReceipt, VerifierPool } from 'fomo-kit/receipts'
import { closeWorkers, StandardTree } from 'fomo-kit/merkle'
import { chargedAmount, stakingDiscountBps } from 'fomo-kit/economics'
import { readCircuitKeys, readVerificationKey, TEST_CIRCUIT_KEYS } from 'fomo-kit/proofs'

const exported = {}
for (const subpath of ${JSON.stringify(SUBPATHS)}) exported[subpath] = Object.keys(await import('fomo-kit/' + subpath.slice(2))).length

const key = '${KEY}'
const domain = ${JSON.stringify(DOMAIN)}
const receipt = { deploymentId: '${DEPLOYMENT}', provider: addressOf(key), user: '${USER}', epoch: 20000, requestId: '0x' + '01'.repeat(32),
  timestamp: 1728000000n, inputTokens: 1000, outputTokens: 200, grossAmount: 1000n, discountBps: 2500, chargedAmount: chargedAmount(1000n, 2500n) }
const signed = signReceipt(receipt, key, domain)
const verified = new ReceiptVerifier({ domain }).verify(JSON.parse(JSON.stringify(signed)))
const forged = { ...signed, message: { ...signed.message, chargedAmount: '1' } }
const pool = new VerifierPool({ domain, threads: 2 })
const columns = await pool.verifyTexts([JSON.stringify(signed), JSON.stringify(forged)])
await pool.close()

const values = Array.from({ length: 25_000 }, (_, i) => ['0x' + (i + 1).toString(16).padStart(40, '0'), String(i * 7)])
const threaded = await StandardTree.build(values, ['address', 'uint256'], { threads: 2 })
const single = StandardTree.of(values, ['address', 'uint256'])
await closeWorkers()

const keys = await readCircuitKeys(TEST_CIRCUIT_KEYS)
const vkey = await readVerificationKey(keys.verificationKey)
console.log(JSON.stringify({
  exported,
  receipt: { provider: verified.receipt.provider, charged: String(verified.receipt.chargedAmount), digest: verified.digest },
  pool: { valid: [...columns.valid], failures: columns.failures.map((f) => f.index) },
  tree: { same: threaded.root === single.root, proves: threaded.verify(12_345, threaded.getProof(12_345)) },
  economics: { charged: String(chargedAmount(1000n, 2500n)), discount: String(stakingDiscountBps(10n ** 18n, 10n ** 20n, { maxDiscountBps: 5000n, multiplier: 2n })) },
  proofs: { circuit: keys.name, vkeyProtocol: vkey.protocol },
}))
`,
    )
    expect(Object.keys(out.exported as object).sort()).toEqual([...SUBPATHS].sort())
    for (const [subpath, count] of Object.entries(out.exported as Record<string, number>)) expect(count, subpath).toBeGreaterThan(0)
    expect(out.receipt).toMatchObject({ provider: '0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a', charged: '750' })
    expect(out.pool).toEqual({ valid: [1, 0], failures: [1] })
    expect(out.tree).toEqual({ same: true, proves: true })
    expect(out.economics).toEqual({ charged: '750', discount: '200' })
    expect(out.proofs).toEqual({ circuit: 'receipt_batch_4', vkeyProtocol: 'groth16' })
  })

  it('its declarations type-check a TypeScript consumer (nodenext, strict)', async () => {
    const imports = SUBPATHS.map((s, i) => `import * as m${i} from 'fomo-kit/${s.slice(2)}'`).join('\n')
    await writeFile(
      join(dir, 'consumer.ts'),
      `${imports}
import { signReceipt, type ReceiptDomain, type UsageReceipt } from 'fomo-kit/receipts'
import { StandardTree } from 'fomo-kit/merkle'
import { chargedAmount } from 'fomo-kit/economics'
import { sendReceipts, type IngestSummary } from 'fomo-kit/aggregator'

export const modules = [${SUBPATHS.map((_, i) => `m${i}`).join(', ')}]
const domain: ReceiptDomain = ${JSON.stringify(DOMAIN)}
const receipt: UsageReceipt = { deploymentId: '0x00', provider: '0x00', user: '0x00', epoch: 1, requestId: '0x00', timestamp: 1n, inputTokens: 1, outputTokens: 1, grossAmount: 1n, discountBps: 0, chargedAmount: 1n }
export const document = signReceipt(receipt, '0x00', domain)
export const format: 'fomo-receipt-v1' = document.format
export const tree: Promise<StandardTree> = StandardTree.build([['0x00', '1']], ['address', 'uint256'])
export const sent: Promise<IngestSummary> = sendReceipts([], { url: 'http://127.0.0.1:1' })
// @ts-expect-error amounts are bigints: the declarations are typed, not any
chargedAmount(1000, 2500n)
`,
    )
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: ['consumer.ts'],
      }),
    )
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }))
    expect(result.stdout).toBe('')
  })

  it('installs the fomo command, which runs from dist', async () => {
    const fomo = join(dir, 'node_modules', '.bin', 'fomo')
    const help = await run(fomo, ['--help'], { cwd: dir })
    expect(help.stdout).toContain('receipt verify')
    const receipt = JSON.parse(await readFile(join(ROOT, 'fixtures', 'receipts', 'vectors.json'), 'utf8')).signed[0]
    await writeFile(join(dir, 'signed.json'), JSON.stringify(receipt))
    const verified = await run(fomo, ['receipt', 'verify', '--in', 'signed.json'], { cwd: dir })
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, receipts: 1 })
  })

  it("runs the README's provider example: a call gets a signed receipt, which reaches the aggregator", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const example = /```js\n(\/\/ provider\.mjs[\s\S]*?)```/.exec(readme)?.[1]
    expect(example, 'README.md has the provider example').toBeDefined()
    await writeFile(join(dir, 'provider.mjs'), example!)

    const received: string[] = []
    const aggregator = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        const texts = (JSON.parse(body) as unknown[]).map((r) => JSON.stringify(r))
        received.push(...texts)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ accepted: texts.length, duplicates: 0, rejected: 0, results: texts.map((_, index) => ({ index, status: 'accepted' })) }))
      })
    })
    const port = async (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
    const aggregatorPort = await port(aggregator)
    const free = createServer()
    const providerPort = await port(free)
    await new Promise((resolve) => free.close(resolve))

    const env = { ...process.env, FOMO_PRIVATE_KEY: KEY, FOMO_CHAIN_ID: String(DOMAIN.chainId), FOMO_REGISTRY: DOMAIN.verifyingContract, FOMO_DEPLOYMENT: DEPLOYMENT, FOMO_AGGREGATOR_URL: `http://127.0.0.1:${aggregatorPort}`, PORT: String(providerPort) }
    const provider = spawn(process.execPath, ['provider.mjs'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    provider.stderr.on('data', (d) => (stderr += d))
    try {
      let answer: { receipt: unknown } | undefined
      for (let i = 0; i < 100 && !answer; i++) {
        answer = await fetch(`http://127.0.0.1:${providerPort}/v1/chat/completions`, { method: 'POST', headers: { 'x-user': USER } })
          .then((r) => r.json() as Promise<{ receipt: unknown }>)
          .catch(async () => void (await new Promise((r) => setTimeout(r, 100))))
      }
      expect(answer, stderr).toBeDefined()
      const verified = new ReceiptVerifier({ domain: DOMAIN as never }).verify(answer!.receipt)
      expect(verified.receipt).toMatchObject({ user: USER, inputTokens: 1200, outputTokens: 350, grossAmount: 390n, discountBps: 0, chargedAmount: 390n })
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(received.map((t) => JSON.parse(t))).toEqual([answer!.receipt])
    } finally {
      provider.kill()
      await new Promise((resolve) => aggregator.close(resolve))
    }
  })
})
