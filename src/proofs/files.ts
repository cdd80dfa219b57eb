/**
 * The files of proving: the proofs document written beside a sealed epoch (proofs.json, format
 * fomo-epoch-proofs-v4, with the providers' attestations the batches are bound to) and the circuit keys file (format fomo-circuit-keys-v1) naming a circuit's witness
 * generator, proving key and verification key, with the bundled test-only keys.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Hex } from '../base/bytes.ts'
import { parseJsonDocument } from '../base/json.ts'
import { Reader } from '../base/reader.ts'
import { EpochDirectoryError } from '../epoch/directory.ts'
import { attestationJson, readAttestation, type ProviderAttestation } from './attestation.ts'
import { ProofError, readBatchProof, type BatchProof } from './groth16.ts'

export const EPOCH_PROOFS_FORMAT = 'fomo-epoch-proofs-v4'
export const CIRCUIT_KEYS_FORMAT = 'fomo-circuit-keys-v1'

/** A proven batch: its stake table's rows in use, each with its user's gross and charged in the batch, and the proof. */
export type ProvenBatch = { deploymentId: Hex; provider: Hex; rows: Array<{ user: Hex; stake: bigint; gross: bigint; charged: bigint }>; proof: BatchProof }

export type EpochProofs = {
  format: typeof EPOCH_PROOFS_FORMAT
  epoch: number
  circuit: { name: string; receipts: number; rows: number; verificationKeySha256: string; testOnly: boolean }
  /** The hash chain of every batch's public signals (see proofsHash): what the on-chain commitment carries. */
  proofsHash: Hex
  /** The providers' signed attestations the batches prove (one per provider and deployment). */
  attestations: ProviderAttestation[]
  batches: ProvenBatch[]
}

/** A circuit's proving set: the witness generator, the proving key and the verification key. */
export type CircuitKeys = { name: string; receipts: number; rows: number; wasm: string; zkey: string; verificationKey: string; testOnly: boolean }

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
}

export function epochProofsJson(p: EpochProofs): string {
  return `${JSON.stringify({ ...p, attestations: p.attestations.map(attestationJson), batches: p.batches.map((b) => ({ ...b, rows: b.rows.map((r) => ({ user: r.user, stake: r.stake.toString(), gross: r.gross.toString(), charged: r.charged.toString() })) })) }, null, 2)}\n`
}

function readBoolean(r: Reader): boolean {
  if (typeof r.value !== 'boolean') r.fail('true or false')
  return r.value
}

/** Reads a proofs document: format, shapes and every public signal a field element (proofs are verified by the auditor). */
export function readEpochProofs(document: unknown): EpochProofs {
  const r = new Reader(EPOCH_PROOFS_FORMAT, document)
  r.object(['format', 'epoch', 'circuit', 'proofsHash', 'attestations', 'batches'])
  r.field('format').literal([EPOCH_PROOFS_FORMAT])
  const c = r.field('circuit')
  c.object(['name', 'receipts', 'rows', 'verificationKeySha256', 'testOnly'])
  const testOnly = readBoolean(c.field('testOnly'))
  const batches = r.field('batches').array({ max: 1_000_000 }).map((b): ProvenBatch => {
    b.object(['deploymentId', 'provider', 'rows', 'proof'])
    return {
      deploymentId: b.field('deploymentId').string(/^0x[0-9a-f]{64}$/, 'a deployment id (0x and 64 lower-case hex digits)') as Hex,
      provider: b.field('provider').string(/^0x[0-9a-f]{40}$/, 'the provider\'s address in lower case') as Hex,
      rows: b.field('rows').array({ min: 1 }).map((row) => {
        row.object(['user', 'stake', 'gross', 'charged'])
        const user = row.field('user').string(/^0x[0-9a-f]{40}$/, 'an address in lower case') as Hex
        const stake = row.field('stake').baseUnits()
        if (stake >> 96n !== 0n) row.field('stake').fail('a stake below 2^96 base units')
        const gross = row.field('gross').baseUnits()
        if (gross >> 76n !== 0n) row.field('gross').fail("the user's gross in the batch, below 2^76 base units")
        const charged = row.field('charged').baseUnits()
        if (charged > gross) row.field('charged').fail("the user's charged in the batch, at most its gross")
        return { user, stake, gross, charged }
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
    attestations: r.field('attestations').array({ max: 1_000_000 }).map((a) => readAttestation(a.value, a.path)),
    batches,
  }
}

/** The epoch's proofs.json if there is one (read and shape-checked; verification is the auditor's). */
export async function readProofsFile(dir: string): Promise<EpochProofs | undefined> {
  const text = await readFile(join(dir, 'proofs.json'), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined
    throw new EpochDirectoryError(`cannot read ${join(dir, 'proofs.json')}: ${e.code ?? e.message}`)
  })
  return text === undefined ? undefined : readEpochProofs(parseJsonDocument(text, 'proofs.json'))
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
