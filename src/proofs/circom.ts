/**
 * circom 2 from TypeScript: compiling circuits with the WebAssembly compiler from npm (cached under .cache),
 * computing witnesses, and checking witnesses against the constraint system directly (the circuit tests' tools).
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { basename, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { BaseError } from '../base/errors.ts'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

/** The BN254 scalar field: every circuit value lives modulo this prime. */
export const FIELD_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617n

export class CircuitError extends BaseError {
  override name = 'CircuitError'
  constructor(message: string, hint?: string, cause?: unknown) {
    super('CIRCUIT', message, { metaMessages: hint ? [hint] : undefined, cause })
  }
}

export type CompiledCircuit = { name: string; r1cs: string; wasm: string; sym: string; constraints: number }

/**
 * Compiles a circom 2 circuit with the WebAssembly build of the compiler from npm (circom2), run from the
 * project root with node_modules as the include path (circom2 does not follow includes that climb with ..).
 */
export async function compileCircuit(source: string, outDir: string, root: string, includes: readonly string[] = []): Promise<CompiledCircuit> {
  await mkdir(outDir, { recursive: true })
  const cli = require.resolve('circom2/cli.js')
  let stdout: string
  try {
    ;({ stdout } = await run(process.execPath, [cli, source, '--r1cs', '--wasm', '--sym', '--O2', '-l', 'node_modules', ...includes.flatMap((l) => ['-l', l]), '-o', outDir], { cwd: root, maxBuffer: 16 << 20 }))
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    throw new CircuitError(`circom could not compile ${source}`, `${e.stderr ?? ''}${e.stdout ?? ''}`.trim().slice(0, 2000), error)
  }
  const name = basename(source, '.circom')
  // circom writes a CommonJS witness calculator; this package is ESM, so mark its folder CommonJS.
  await writeFile(join(outDir, `${name}_js`, 'package.json'), '{ "type": "commonjs" }\n')
  const constraints = Number(/non-linear constraints: (\d+)/.exec(stdout)?.[1] ?? NaN) + Number(/(?<!non-)linear constraints: (\d+)/.exec(stdout)?.[1] ?? 0)
  return { name, r1cs: join(outDir, `${name}.r1cs`), wasm: join(outDir, `${name}_js`, `${name}.wasm`), sym: join(outDir, `${name}.sym`), constraints }
}

type WitnessCalculator = { calculateWitness(input: Record<string, unknown>, sanityCheck: boolean): Promise<bigint[]> }

/** Computes a full witness (every signal, index 0 is the constant 1); throws when an assert of the circuit fails. */
export async function calculateWitness(circuit: CompiledCircuit, input: Record<string, unknown>): Promise<bigint[]> {
  const builder = require(join(circuit.wasm, '..', 'witness_calculator.js')) as (code: Buffer) => Promise<WitnessCalculator>
  const calculator = await builder(await readFile(circuit.wasm))
  return calculator.calculateWitness(input, true)
}

type LinearCombination = Record<string, string>

/** The circuit's constraints (A * B = C over linear combinations of signals), to check any witness directly. */
export async function loadConstraints(circuit: CompiledCircuit): Promise<Array<[LinearCombination, LinearCombination, LinearCombination]>> {
  const snarkjs = (await import('snarkjs')) as unknown as { r1cs: { exportJson(file: string, logger?: unknown): Promise<{ constraints: Array<[LinearCombination, LinearCombination, LinearCombination]> }> } }
  return (await snarkjs.r1cs.exportJson(circuit.r1cs)).constraints
}

/** Witness index to signal name (the first name of each wire), from the compiler's .sym file. */
export async function loadSymbols(circuit: CompiledCircuit): Promise<Map<number, string>> {
  const names = new Map<number, string>()
  for (const line of (await readFile(circuit.sym, 'utf8')).split('\n')) {
    const [, wire, , name] = line.split(',')
    if (wire !== undefined && name !== undefined && Number(wire) >= 0 && !names.has(Number(wire))) names.set(Number(wire), name)
  }
  return names
}

/** For each signal, the constraints it appears in: to check a one-signal change cheaply. */
export function constraintsBySignal(constraints: ReadonlyArray<[LinearCombination, LinearCombination, LinearCombination]>): Map<number, number[]> {
  const index = new Map<number, number[]>()
  constraints.forEach((abc, c) => {
    for (const lc of abc)
      for (const signal of Object.keys(lc)) {
        const list = index.get(Number(signal)) ?? []
        if (list[list.length - 1] !== c) list.push(c)
        index.set(Number(signal), list)
      }
  })
  return index
}

/** Index of the first violated constraint, or -1 when the witness satisfies them all. */
export function firstViolation(constraints: ReadonlyArray<[LinearCombination, LinearCombination, LinearCombination]>, witness: readonly bigint[], only?: readonly number[]): number {
  const evaluate = (lc: LinearCombination) => {
    let acc = 0n
    for (const [signal, coefficient] of Object.entries(lc)) acc = (acc + BigInt(coefficient) * (witness[Number(signal)] as bigint)) % FIELD_PRIME
    return acc
  }
  const violated = ([a, b, c]: [LinearCombination, LinearCombination, LinearCombination]) => (evaluate(a) * evaluate(b) - evaluate(c)) % FIELD_PRIME !== 0n
  if (only) return only.find((c) => violated(constraints[c]!)) ?? -1
  return constraints.findIndex(violated)
}

/**
 * circom's --inspect warnings for a circuit, one line each. Each remaining warning must be justified where it
 * is accepted (see docs/circuits.md).
 */
export async function inspectWarnings(source: string, root: string): Promise<string[]> {
  const cli = require.resolve('circom2/cli.js')
  const { stdout, stderr } = await run(process.execPath, [cli, source, '--inspect', '-l', 'node_modules', '-o', join(root, '.cache', 'circuits')], { cwd: root, maxBuffer: 16 << 20 })
  return `${stdout}\n${stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.startsWith('warning'))
}

/**
 * Compiles a circuit of this package once: the output in <root>/.cache/circuits/<name>-<stamp> is reused while the
 * main file, the sources under circuits/lib and the compiler version are unchanged (the stamp is their sha256). Compiled into
 * a temporary directory and renamed into place, so concurrent processes never read a half-written witness generator.
 */
export async function compileCached(source: string, root: string): Promise<CompiledCircuit> {
  const { createHash, randomBytes } = await import('node:crypto')
  const { readdir, rename, rm } = await import('node:fs/promises')
  const hash = createHash('sha256')
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name.endsWith('.circom')) hash.update(relative(root, path)).update(await readFile(path))
    }
  }
  // The main file and the library it includes: adding other circuits does not make this one stale.
  hash.update(source).update(await readFile(join(root, source)))
  await walk(join(root, 'circuits', 'lib'))
  for (const pkg of ['circom2', 'circomlib']) hash.update(String((require(`${pkg}/package.json`) as { version: string }).version))
  const name = basename(source, '.circom')
  const outDir = join(root, '.cache', 'circuits', `${name}-${hash.digest('hex').slice(0, 16)}`)
  const compiled = (constraints: number): CompiledCircuit => ({ name, r1cs: join(outDir, `${name}.r1cs`), wasm: join(outDir, `${name}_js`, `${name}.wasm`), sym: join(outDir, `${name}.sym`), constraints })
  const done = await readFile(join(outDir, 'constraints'), 'utf8').catch(() => undefined)
  if (done !== undefined) return compiled(Number(done))
  const tmp = `${outDir}.${randomBytes(4).toString('hex')}.tmp`
  try {
    const fresh = await compileCircuit(source, tmp, root)
    await writeFile(join(tmp, 'constraints'), String(fresh.constraints))
    await rename(tmp, outDir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished first: its output is the same.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
    })
    return compiled(fresh.constraints)
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
