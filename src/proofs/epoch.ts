import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeAbiParameters, keccak256 } from 'viem'
import type { AggregatorConfig, EpochInputs } from '../epoch/config.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import { parseJsonDocument } from '../base/json.ts'
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { BATCH_PUBLIC_SIGNALS, BatchProver, ProofError, readBatchProof, type BatchProof } from './groth16.ts'
import { batchInput, type BatchParameters, type BatchReceipt, type StakeRow } from './statement.ts'

/**
 * Proving a sealed epoch: its receipts cut into batches by one fixed rule, one Groth16 proof per batch, and the
 * proofs document written beside the epoch (proofs.json). The rule is deterministic so that an auditor holding the
 * receipts rebuilds the same batches and checks each proven root.
 */
export const EPOCH_PROOFS_FORMAT = 'fomo-epoch-proofs-v1'
export const CIRCUIT_KEYS_FORMAT = 'fomo-circuit-keys-v1'

/** What a receipt contributes to a proof, taken from a verified receipt. */
export type EpochReceipt = { digest: Hex; deploymentId: Hex; user: Hex; gross: bigint; discountBps: number; charged: bigint }

export type PlannedBatch = { deploymentId: Hex; receipts: BatchReceipt[]; rows: StakeRow[]; params: BatchParameters; digests: Hex[] }

export type ProvenBatch = { deploymentId: Hex; rows: Array<{ user: Hex; stake: bigint }>; proof: BatchProof }

export type EpochProofs = {
  format: typeof EPOCH_PROOFS_FORMAT
  epoch: number
  circuit: { name: string; receipts: number; rows: number; verificationKeySha256: string; testOnly: boolean }
  /** The hash chain of every batch's public signals (see proofsHash): what the on-chain commitment carries. */
  proofsHash: Hex
  batches: ProvenBatch[]
}

/** A circuit's proving set: the witness generator, the proving key and the verification key. */
export type CircuitKeys = { name: string; receipts: number; rows: number; wasm: string; zkey: string; verificationKey: string; testOnly: boolean }

const sortHex = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Cuts an epoch's receipts into batches: per deployment (ascending id), receipts ordered by (user, digest), a new
 * batch whenever the current one holds `n` receipts or a new user would make it `k + 1` users. Each batch's stake
 * table lists its users in order of appearance with their snapshot stakes. Throws naming the receipt when a
 * receipt's discount is not the one its user's snapshot stake gives: such an epoch cannot be proven.
 */
export function planBatches(epoch: number, config: AggregatorConfig, inputs: EpochInputs['deployments'], receipts: readonly EpochReceipt[], n: number, k: number): PlannedBatch[] {
  const byDeployment = new Map<Hex, EpochReceipt[]>()
  for (const r of receipts) {
    const list = byDeployment.get(r.deploymentId) ?? []
    list.push(r)
    byDeployment.set(r.deploymentId, list)
  }
  const discount = { maxDiscountBps: config.platform.maxDiscountBps, multiplier: config.platform.discountMultiplier }
  const batches: PlannedBatch[] = []
  for (const deploymentId of [...byDeployment.keys()].sort(sortHex)) {
    const list = byDeployment.get(deploymentId)!.sort((a, b) => sortHex(a.user, b.user) || sortHex(a.digest, b.digest))
    const snapshot = inputs.get(deploymentId)
    const circulating = snapshot?.circulatingSupply
    if (circulating === undefined || circulating === 0n)
      throw new ProofError(`deployment ${deploymentId} has receipts but no circulating supply in the epoch's inputs`, 'Proofs attest discounts against the stake snapshot; give the snapshot (fomo inputs) before sealing.')
    const params: BatchParameters = { epoch: BigInt(epoch), deploymentId: BigInt(deploymentId), maxDiscountBps: discount.maxDiscountBps, multiplier: discount.multiplier, circulating }
    let current: PlannedBatch | undefined
    for (const r of list) {
      const stake = snapshot?.stakes.get(r.user) ?? 0n
      if (stake > circulating) throw new ProofError(`the stake of ${r.user} in deployment ${deploymentId} (${stake}) is above the circulating supply (${circulating})`)
      const expected = stakingDiscountBps(stake, circulating, discount)
      if (BigInt(r.discountBps) !== expected)
        throw new ProofError(`receipt ${r.digest} of ${r.user} carries a ${r.discountBps} bps discount; the stake snapshot gives ${expected} bps`, 'Its charged amount cannot be proven; the report counts such receipts as discount mismatches.')
      const user = BigInt(r.user)
      let row = current ? current.rows.findIndex((x) => x.user === user) : -1
      if (!current || current.receipts.length === n || (row < 0 && current.rows.length === k)) {
        current = { deploymentId, receipts: [], rows: [], params, digests: [] }
        batches.push(current)
        row = -1
      }
      if (row < 0) {
        row = current.rows.length
        current.rows.push({ user, stake })
      }
      current.receipts.push({ digest: BigInt(r.digest), user, gross: r.gross, discountBps: BigInt(r.discountBps), charged: r.charged, row })
      current.digests.push(r.digest)
    }
  }
  return batches
}

/** The public signals of a batch proof as the contract takes them (BATCH_PUBLIC_SIGNALS order). */
export const signalsOf = (proof: BatchProof): bigint[] => BATCH_PUBLIC_SIGNALS.map((name) => BigInt(proof.publicSignals[name]))

/** The hash chain the registry keeps: h_i = keccak256(abi.encode(h_{i-1}, uint256[11] signals_i)), h_0 = 0. */
export function proofsHash(batches: readonly { proof: BatchProof }[]): Hex {
  let chain: Hex = `0x${'0'.repeat(64)}`
  for (const b of batches) chain = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256[11]' }], [chain, signalsOf(b.proof) as never]))
  return chain
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
}

/** Proves every planned batch; `progress` is told after each proof. */
export async function proveEpoch(epoch: number, plan: readonly PlannedBatch[], keys: CircuitKeys, progress?: (done: number, total: number) => void): Promise<EpochProofs> {
  const batches: ProvenBatch[] = []
  const prover = await BatchProver.load({ name: keys.name, wasm: keys.wasm }, keys.zkey)
  for (const b of plan) {
    const proof = await prover.prove(batchInput(b.receipts, b.rows, b.params, keys.receipts, keys.rows))
    batches.push({ deploymentId: b.deploymentId, rows: b.rows.map((r) => ({ user: `0x${r.user.toString(16).padStart(40, '0')}` as Hex, stake: r.stake })), proof })
    progress?.(batches.length, plan.length)
  }
  return {
    format: EPOCH_PROOFS_FORMAT,
    epoch,
    circuit: { name: keys.name, receipts: keys.receipts, rows: keys.rows, verificationKeySha256: await sha256File(keys.verificationKey), testOnly: keys.testOnly },
    proofsHash: proofsHash(batches),
    batches,
  }
}

export function epochProofsJson(p: EpochProofs): string {
  return `${JSON.stringify({ ...p, batches: p.batches.map((b) => ({ ...b, rows: b.rows.map((r) => ({ user: r.user, stake: r.stake.toString() })) })) }, null, 2)}\n`
}

function readBoolean(r: Reader): boolean {
  if (typeof r.value !== 'boolean') r.fail('true or false')
  return r.value
}

/** Reads a proofs document: format, shapes and every public signal a field element (proofs are verified by the auditor). */
export function readEpochProofs(document: unknown): EpochProofs {
  const r = new Reader(EPOCH_PROOFS_FORMAT, document)
  r.object(['format', 'epoch', 'circuit', 'proofsHash', 'batches'])
  r.field('format').literal([EPOCH_PROOFS_FORMAT])
  const c = r.field('circuit')
  c.object(['name', 'receipts', 'rows', 'verificationKeySha256', 'testOnly'])
  const testOnly = readBoolean(c.field('testOnly'))
  const batches = r.field('batches').array({ max: 1_000_000 }).map((b): ProvenBatch => {
    b.object(['deploymentId', 'rows', 'proof'])
    return {
      deploymentId: b.field('deploymentId').string(/^0x[0-9a-f]{64}$/, 'a deployment id (0x and 64 lower-case hex digits)') as Hex,
      rows: b.field('rows').array({ min: 1 }).map((row) => {
        row.object(['user', 'stake'])
        return { user: row.field('user').string(/^0x[0-9a-f]{40}$/, 'an address in lower case') as Hex, stake: row.field('stake').baseUnits() }
      }),
      proof: readBatchProof(b.field('proof').value),
    }
  })
  return {
    format: EPOCH_PROOFS_FORMAT,
    epoch: Number(r.field('epoch').integer(0, 0xffff_ffff)),
    circuit: {
      name: c.field('name').string(/^[A-Za-z0-9_.-]{1,64}$/, 'a circuit name'),
      receipts: Number(c.field('receipts').integer(1, 1 << 20)),
      rows: Number(c.field('rows').integer(1, 1 << 20)),
      verificationKeySha256: c.field('verificationKeySha256').string(/^[0-9a-f]{64}$/, 'a sha256 in hex'),
      testOnly,
    },
    proofsHash: r.field('proofsHash').string(/^0x[0-9a-f]{64}$/, 'a keccak256 hash') as Hex,
    batches,
  }
}

/**
 * Reads a circuit keys file (format fomo-circuit-keys-v1): the circuit's batch size and stake rows and the paths,
 * relative to the file, of its witness generator (.wasm), proving key (.zkey) and verification key (.json).
 */
export async function readCircuitKeys(path: string): Promise<CircuitKeys & { wasmSource?: string }> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new ProofError(`cannot read circuit keys ${path}: ${e.code ?? e.message}`, 'Give a fomo-circuit-keys-v1 file (docs/circuits.md).')
  })
  const r = new Reader(CIRCUIT_KEYS_FORMAT, parseJsonDocument(text, path))
  r.object(['format', 'name', 'receipts', 'rows', 'wasm', 'circuit', 'zkey', 'verificationKey', 'testOnly'])
  r.field('format').literal([CIRCUIT_KEYS_FORMAT])
  const at = (p: string) => resolve(dirname(path), p)
  const testOnly = readBoolean(r.field('testOnly'))
  const wasm = r.field('wasm')
  const circuit = r.field('circuit')
  if (wasm.isPresent() === circuit.isPresent()) r.fail('either "wasm" (a compiled witness generator) or "circuit" (a circom source to compile)')
  return {
    name: r.field('name').string(/^[A-Za-z0-9_.-]{1,64}$/, 'a circuit name'),
    receipts: Number(r.field('receipts').integer(1, 1 << 20)),
    rows: Number(r.field('rows').integer(1, 1 << 20)),
    wasm: wasm.isPresent() ? at(wasm.string()) : '',
    ...(circuit.isPresent() ? { wasmSource: at(circuit.string()) } : {}),
    zkey: at(r.field('zkey').string()),
    verificationKey: at(r.field('verificationKey').string()),
    testOnly,
  }
}

/** The package's root: bundled circuits compile into its .cache, and its test-only keys live in fixtures/zk. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The bundled TEST-ONLY keys of the 4-receipt circuit (a ceremony with public entropy: never for real value). */
export const TEST_CIRCUIT_KEYS = join(PACKAGE_ROOT, 'fixtures', 'zk', 'receipt_batch_4.keys.json')

/** Reads a keys file and compiles its circuit when it names a circom source instead of a witness generator. */
export async function loadCircuitKeys(path: string): Promise<CircuitKeys> {
  const { wasmSource, ...keys } = await readCircuitKeys(path)
  if (!wasmSource) return keys
  const { compileCached } = await import('./circom.ts')
  return { ...keys, wasm: (await compileCached(relative(PACKAGE_ROOT, wasmSource), PACKAGE_ROOT)).wasm }
}
