/**
 * The statement a batch proof attests, computed in TypeScript: the reference the circuit is tested against.
 *
 * A batch holds 1 to N receipts of one provider, deployment and epoch, for one registry (its domain), and a table of
 * up to K (user, stake) rows in strictly increasing user order: every receipt names the row of its user. Each row's
 * discount is min(X, floor(stake * M * 10^4 / circulating)); each receipt's charged amount is
 * gross - floor(gross * discount / 10^4) with its row's discount. Leaves are Poseidon(digestHi, digestLo, user,
 * gross, charged) (0 for padding), the root is a Poseidon Merkle root over the N leaves, and the stakes commitment
 * is a Poseidon hash chain over the K rows, each with its user's gross and charged summed over the batch, which an
 * auditor recomputes from the staking snapshot and holds the spend tree to (src/audit/proofs.ts). The batch root
 * is one leaf of its provider's attested tree: the path to the signed root and the provider's EdDSA signature
 * (src/proofs/attestation.ts) are checked, and the provider's key id, the signed message, the batch's index and
 * the attested batch count are public, so the registry takes every attested batch exactly once.
 */
import { poseidon2, poseidon3 } from 'poseidon-lite'
import { numberToHex } from 'viem'
import { chargedAmount, stakingDiscountBps } from '../economics/revenue.ts'
import { InvalidParameterError } from '../base/errors.ts'
import { ATTESTATION_DEPTH, attestationMessage, verifyMessageSignature, type AttestationKey, type AttestationSignature } from './attestation.ts'
import { digestLimbs, poseidonRoot, receiptLeaf } from './poseidon.ts'

export { digestLimbs, poseidonRoot }

export type BatchReceipt = { digest: bigint; user: bigint; gross: bigint; discountBps: bigint; charged: bigint; row: number }
export type StakeRow = { user: bigint; stake: bigint }
/** A stake row with its user's spend in the batch: what the stakes commitment holds per row. */
export type StakeTableRow = StakeRow & { gross: bigint; charged: bigint }
export type BatchParameters = { epoch: bigint; deploymentId: bigint; domain: bigint; maxDiscountBps: bigint; multiplier: bigint; circulating: bigint }
/** The batch's place in its provider's attestation: the key, its signature, the path to the signed root, the index and batch count. */
export type BatchAttestation = { key: Pick<AttestationKey, 'x' | 'y' | 'id'>; signature: AttestationSignature; path: bigint[]; index: number; batches: number }

export type BatchStatement = {
  root: bigint
  stakesCommitment: bigint
  totalGross: bigint
  totalCharged: bigint
  count: bigint
  /** The provider's key id, the signed message, the batch's index and the attested batch count: the registry takes each attested batch once. */
  providerKey: bigint
  attestation: bigint
  batchIndex: bigint
  batchCount: bigint
  leaves: bigint[]
  /** The rows in use with their users' spend in the batch. */
  table: StakeTableRow[]
}

/** Bits below a row cell's stake and gross: stake < 2^96 and each sum at most 2^75 (2^11 receipts of gross <= 2^64), inside its 76-bit slot. */
const CELL_STAKE_SHIFT = 152n
const CELL_GROSS_SHIFT = 76n
const CELL_SLOT_LIMIT = 1n << CELL_GROSS_SHIFT

/** A row's committed value, stake * 2^152 + gross * 2^76 + charged, as the circuit and EpochRegistry pack it. */
export function stakeRowCell(r: StakeTableRow): bigint {
  if (r.stake < 0n || r.stake >> 96n !== 0n) throw new InvalidParameterError('row.stake', 'below 2^96', r.stake)
  if (r.gross < 0n || r.gross >= CELL_SLOT_LIMIT) throw new InvalidParameterError('row.gross', 'below 2^76', r.gross)
  if (r.charged < 0n || r.charged > r.gross) throw new InvalidParameterError('row.charged', 'at most the row\'s gross', r.charged)
  return (r.stake << CELL_STAKE_SHIFT) | (r.gross << CELL_GROSS_SHIFT) | r.charged
}

/** The Poseidon chain over the K rows (padding rows are all zero): h = Poseidon(h, user, cell) from 0. */
export function stakesCommitment(rows: readonly StakeTableRow[]): bigint {
  return rows.reduce((acc, r) => poseidon3([acc, r.user, stakeRowCell(r)]), 0n)
}

/** The rows with each user's gross and charged summed over the receipts that name its row. */
export function stakeTable(receipts: readonly Pick<BatchReceipt, 'row' | 'gross' | 'charged'>[], rows: readonly StakeRow[]): StakeTableRow[] {
  const table = rows.map((r) => ({ user: r.user, stake: r.stake, gross: 0n, charged: 0n }))
  for (const [i, r] of receipts.entries()) {
    const row = table[r.row]
    if (!row) throw new InvalidParameterError(`receipts[${i}].row`, `a row below ${table.length}`, r.row)
    row.gross += r.gross
    row.charged += r.charged
  }
  return table
}

/** The table padded with zero rows to the circuit's K. */
export function paddedTable(table: readonly StakeTableRow[], k: number): StakeTableRow[] {
  return [...table, ...Array.from({ length: k - table.length }, () => ({ user: 0n, stake: 0n, gross: 0n, charged: 0n }))]
}

/**
 * Computes the statement; throws naming the receipt when it is not provable (wrong discount or charged amount), or
 * the attestation when its path or signature does not hold.
 */
export function batchStatement(receipts: readonly BatchReceipt[], rows: readonly StakeRow[], p: BatchParameters, n: number, k: number, a: BatchAttestation): BatchStatement {
  if (n < 1 || (n & (n - 1)) !== 0) throw new InvalidParameterError('n', 'a power of two', n)
  if (receipts.length < 1 || receipts.length > n) throw new InvalidParameterError('receipts', `1 to ${n}`, receipts.length)
  if (rows.length > k) throw new InvalidParameterError('rows', `at most ${k}`, rows.length)
  for (let i = 1; i < rows.length; i++) if (rows[i]!.user <= rows[i - 1]!.user) throw new InvalidParameterError(`rows[${i}].user`, "above the previous row's user", rows[i]!.user)
  if (n > 1 << 11) throw new InvalidParameterError('n', 'at most 2^11 (a row\'s spend sum must fit its 76-bit slot)', n)
  const padded = [...rows, ...Array.from({ length: k - rows.length }, () => ({ user: 0n, stake: 0n }))]
  const discounts = padded.map((r) => stakingDiscountBps(r.stake, p.circulating, { maxDiscountBps: p.maxDiscountBps, multiplier: p.multiplier }))
  const leaves = receipts.map((r, i) => {
    const row = padded[r.row]
    if (!row || r.row >= rows.length || row.user !== r.user) throw new InvalidParameterError(`receipts[${i}].row`, 'the row of the receipt\'s user', r.row)
    if (r.discountBps !== discounts[r.row]) throw new InvalidParameterError(`receipts[${i}].discountBps`, `the discount of its user's stake (${discounts[r.row]})`, r.discountBps)
    if (r.gross < 1n || r.charged !== chargedAmount(r.gross, r.discountBps)) throw new InvalidParameterError(`receipts[${i}].charged`, `gross - floor(gross * discount / 10^4)`, r.charged)
    return receiptLeaf(r.digest, r.user, r.gross, r.charged)
  })
  while (leaves.length < n) leaves.push(0n)
  const root = poseidonRoot(leaves)
  if (a.path.length !== ATTESTATION_DEPTH) throw new InvalidParameterError('attestation.path', `${ATTESTATION_DEPTH} siblings`, a.path.length)
  if (!Number.isInteger(a.index) || a.index < 0 || a.index >= a.batches) throw new InvalidParameterError('attestation.index', `0 to ${a.batches - 1}`, a.index)
  const attested = a.path.reduce((node, sibling, d) => ((a.index >> d) & 1 ? poseidon2([sibling, node]) : poseidon2([node, sibling])), root)
  const message = attestationMessage(attested, a.batches, Number(p.epoch), numberToHex(p.deploymentId, { size: 32 }), numberToHex(p.domain, { size: 32 }))
  if (!verifyMessageSignature(message, a.signature, a.key))
    throw new InvalidParameterError('attestation.signature', "the provider key's signature over the attested root, batch count, epoch, deployment and registry", a.signature.s)
  const table = stakeTable(receipts, rows)
  return {
    root,
    stakesCommitment: stakesCommitment(paddedTable(table, k)),
    totalGross: receipts.reduce((s, r) => s + r.gross, 0n),
    totalCharged: receipts.reduce((s, r) => s + r.charged, 0n),
    count: BigInt(receipts.length),
    providerKey: a.key.id,
    attestation: message,
    batchIndex: BigInt(a.index),
    batchCount: BigInt(a.batches),
    leaves,
    table,
  }
}

/** The circuit's input for a batch (decimal strings, padded to N receipts). */
export function batchInput(receipts: readonly BatchReceipt[], rows: readonly StakeRow[], p: BatchParameters, n: number, k: number, a: BatchAttestation): Record<string, string | string[]> {
  const pad = (xs: string[], size: number) => [...xs, ...Array.from({ length: size - xs.length }, () => '0')]
  const [depHi, depLo] = digestLimbs(p.deploymentId)
  const [domainHi, domainLo] = digestLimbs(p.domain)
  return {
    epoch: p.epoch.toString(),
    deploymentIdHi: depHi.toString(),
    deploymentIdLo: depLo.toString(),
    domainHi: domainHi.toString(),
    domainLo: domainLo.toString(),
    maxDiscountBps: p.maxDiscountBps.toString(),
    multiplier: p.multiplier.toString(),
    circulating: p.circulating.toString(),
    count: String(receipts.length),
    digestHi: pad(receipts.map((r) => digestLimbs(r.digest)[0].toString()), n),
    digestLo: pad(receipts.map((r) => digestLimbs(r.digest)[1].toString()), n),
    user: pad(receipts.map((r) => r.user.toString()), n),
    gross: pad(receipts.map((r) => r.gross.toString()), n),
    row: pad(receipts.map((r) => String(r.row)), n),
    rowUser: pad(rows.map((r) => r.user.toString()), k),
    rowStake: pad(rows.map((r) => r.stake.toString()), k),
    providerAx: a.key.x.toString(),
    providerAy: a.key.y.toString(),
    signatureR8x: a.signature.r8x.toString(),
    signatureR8y: a.signature.r8y.toString(),
    signatureS: a.signature.s.toString(),
    batchPath: a.path.map(String),
    batchPosition: String(a.index),
    batches: String(a.batches),
  }
}
