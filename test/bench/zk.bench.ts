/**
 * The batch circuit's budget: constraints per receipt, and the time and memory of one Groth16 proof of a full batch
 * (64 and 256 receipts) on this machine, each in a fresh process. The powers of tau (2^18) and the zkeys are made
 * locally once and cached outside the repository (FOMO_ZK_CACHE, default ~/.cache/fomo-kit/zk): they are
 * benchmark-only, made with public entropy.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { compileCached } from '../../src/proofs/circom.ts'
import { verifyBatchProof } from '../../src/proofs/groth16.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')
const POWER = 18

export type ZkBench = { n: number; k: number; constraints: number; setupSeconds: number | null; loadSeconds: number; proveSeconds: number[]; peakRssMB: number; verifyMs: number; zkeyMB: number }

export function zkCacheDir(): string {
  return process.env.FOMO_ZK_CACHE ?? join(homedir(), '.cache', 'fomo-kit', 'zk')
}

const exists = (path: string) => access(path).then(() => true, () => false)

/**
 * A prepared powers of tau of 2^POWER made here: one random contribution (so tau is not the generator's 1), then
 * phase 2 prepared. No beacon: these keys only time the prover, whose cost does not depend on the ceremony.
 */
export async function ensurePtau(dir: string, log: (line: string) => void): Promise<string> {
  const final = join(dir, `pot${POWER}_final.ptau`)
  if (await exists(final)) return final
  const snarkjs = join(root, 'node_modules', '.bin', 'snarkjs')
  const step = async (args: string[]) => {
    log(`zk: snarkjs ${args.slice(0, 2).join(' ')}`)
    await run(snarkjs, args, { cwd: dir, maxBuffer: 64 << 20 })
  }
  await step(['powersoftau', 'new', 'bn128', String(POWER), 'pot_0000.ptau'])
  await step(['powersoftau', 'contribute', 'pot_0000.ptau', 'pot_0001.ptau', '--name=bench contribution', '-e=fomo-kit bench entropy, not for production'])
  await step(['powersoftau', 'prepare', 'phase2', 'pot_0001.ptau', `${final}.tmp`])
  await rename(`${final}.tmp`, final)
  for (const f of ['pot_0000.ptau', 'pot_0001.ptau']) await rm(join(dir, f), { force: true })
  return final
}

async function benchSize(n: number, dir: string, ptau: string, log: (line: string) => void): Promise<ZkBench> {
  const k = n / 8
  log(`zk: compiling the ${n}-receipt circuit`)
  const circuit = await compileCached(`circuits/bench/receipt_batch_${n}.circom`, root)
  const r1csHash = createHash('sha256').update(await readFile(circuit.r1cs)).digest('hex').slice(0, 16)
  const zkey = join(dir, `receipt_batch_${n}.${r1csHash}.zkey`)
  const vkeyPath = `${zkey}.vkey.json`
  let setupSeconds: number | null = null
  if (!(await exists(zkey))) {
    log(`zk: phase 2 for ${n} receipts (${circuit.constraints.toLocaleString('en-US')} constraints)`)
    const snarkjs = (await import('snarkjs')) as any
    const started = performance.now()
    await snarkjs.zKey.newZKey(circuit.r1cs, ptau, `${zkey}.0`)
    await snarkjs.zKey.contribute(`${zkey}.0`, `${zkey}.1`, 'bench contribution', 'fomo-kit bench entropy, not for production')
    await snarkjs.zKey.beacon(`${zkey}.1`, `${zkey}.tmp`, 'bench beacon', '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 10)
    const vkey = await snarkjs.zKey.exportVerificationKey(`${zkey}.tmp`)
    await writeFile(vkeyPath, JSON.stringify(vkey))
    await rename(`${zkey}.tmp`, zkey)
    for (const f of [`${zkey}.0`, `${zkey}.1`]) await rm(f, { force: true })
    setupSeconds = (performance.now() - started) / 1000
  }
  const vkey = JSON.parse(await readFile(vkeyPath, 'utf8'))
  const proveSeconds: number[] = []
  let peakRssMB = 0
  let loadSeconds = 0
  let verifyMs = 0
  for (let i = 0; i < 2; i++) {
    log(`zk: proving ${n} receipts (run ${i + 1} of 2)`)
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'prove-child.ts'), circuit.wasm, zkey, String(n), String(k)], { cwd: root, maxBuffer: 16 << 20 })
    const r = JSON.parse(stdout.trim().split('\n').pop()!)
    proveSeconds.push(r.proveMs / 1000)
    loadSeconds = r.loadMs / 1000
    peakRssMB = Math.max(peakRssMB, r.peakRssMB)
    const t = performance.now()
    if (!(await verifyBatchProof(vkey, r.proof))) throw new Error(`the ${n}-receipt benchmark proof does not verify`)
    verifyMs = performance.now() - t
  }
  return { n, k, constraints: circuit.constraints, setupSeconds, loadSeconds, proveSeconds, peakRssMB, verifyMs, zkeyMB: (await stat(zkey)).size / 2 ** 20 }
}

export async function benchZk(log: (line: string) => void): Promise<{ runs: ZkBench[]; rowConstraints: number }> {
  const dir = zkCacheDir()
  await mkdir(dir, { recursive: true })
  const ptau = await ensurePtau(dir, log)
  const runs: ZkBench[] = []
  for (const n of [32, 64, 256]) runs.push(await benchSize(n, dir, ptau, log))
  // One stake row's discount (the standalone template), to separate per-row from per-receipt cost in the model.
  const rowConstraints = (await compileCached('circuits/test/staking_discount.circom', root)).constraints
  return { runs, rowConstraints }
}

/**
 * Constraints of ReceiptBatch(N, K) as a*N + b*K + e*N*K + d: receipts cost a each, stake rows b each, and each
 * receipt's one-hot row selection e per row. Fitted exactly on three measured sizes with K = N/8, with b taken
 * from the standalone discount template.
 */
export function constraintModel(runs: readonly ZkBench[], b: number): (n: number, k: number) => number {
  const [p, q, r] = runs as [ZkBench, ZkBench, ZkBench]
  // With K = N/8: c = (a + b/8) N + (e/8) N^2 + d. Solve for A = a + b/8, E = e/8, d.
  const row = (x: ZkBench) => [x.n, x.n * x.n, 1, x.constraints]
  const m = [row(p), row(q), row(r)]
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      if (i === j) continue
      const f = m[j]![i]! / m[i]![i]!
      for (let c = 0; c < 4; c++) m[j]![c]! -= f * m[i]![c]!
    }
  const [A, E, d] = [m[0]![3]! / m[0]![0]!, m[1]![3]! / m[1]![1]!, m[2]![3]! / m[2]![2]!]
  const a = A - b / 8
  const e = 8 * E
  return (n, k) => a * n + b * k + e * n * k + d
}
