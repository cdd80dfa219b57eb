/**
 * The statement a batch proof attests, computed in TypeScript: the reference the circuit is tested against.
 *
 * A batch holds 1 to N receipts of one deployment and epoch, for one registry (its domain), and a table of up to K
 * (user, stake) rows: every receipt names the row of its user. Rows are in strictly increasing user order and
 * receipts in strictly increasing (user, digestHi) order; the first and last (user, digestHi) are public, so the
 * registry takes an epoch's batches only in that order, and no receipt counts twice. Each row's discount is min(X, floor(stake * M * 10^4 / circulating)); each
 * receipt's charged amount is gross - floor(gross * discount / 10^4) with its row's discount. Leaves are
 * Poseidon(digestHi, digestLo, user, gross, charged) (0 for padding), the root is a Poseidon Merkle root over the
 * N leaves, and the stakes commitment is a Poseidon hash chain over the K rows, which an auditor recomputes
 * from the staking snapshot.
 */
import { poseidon2, poseidon3, poseidon5 } from 'poseidon-lite'
import { chargedAmount, stakingDiscountBps } from '../economics/revenue.ts'
import { InvalidParameterError } from '../base/errors.ts'

export type BatchReceipt = { digest: bigint; user: bigint; gross: bigint; discountBps: bigint; charged: bigint; row: number }
export type StakeRow = { user: bigint; stake: bigint }
export type BatchParameters = { epoch: bigint; deploymentId: bigint; domain: bigint; maxDiscountBps: bigint; multiplier: bigint; circulating: bigint }

export type BatchStatement = {
  root: bigint
  stakesCommitment: bigint
  totalGross: bigint
  totalCharged: bigint
  count: bigint
  /** The first and last (user, digestHi) of the batch: the registry chains an epoch's batches by them. */
  firstUser: bigint
  firstKey: bigint
  lastUser: bigint
  lastKey: bigint
  leaves: bigint[]
}

const MASK128 = (1n << 128n) - 1n

export const digestLimbs = (digest: bigint): [bigint, bigint] => [digest >> 128n, digest & MASK128]

export function poseidonRoot(leaves: readonly bigint[]): bigint {
  let level = [...leaves]
  while (level.length > 1) {
    const next: bigint[] = []
    for (let i = 0; i < level.length; i += 2) next.push(poseidon2([level[i]!, level[i + 1]!]))
    level = next
  }
  return level[0]!
}

export function stakesCommitment(rows: readonly StakeRow[]): bigint {
  return rows.reduce((acc, r) => poseidon3([acc, r.user, r.stake]), 0n)
}

/** Computes the statement; throws naming the receipt when it is not provable (wrong discount or charged amount). */
export function batchStatement(receipts: readonly BatchReceipt[], rows: readonly StakeRow[], p: BatchParameters, n: number, k: number): BatchStatement {
  if (n < 1 || (n & (n - 1)) !== 0) throw new InvalidParameterError('n', 'a power of two', n)
  if (receipts.length < 1 || receipts.length > n) throw new InvalidParameterError('receipts', `1 to ${n}`, receipts.length)
  if (rows.length > k) throw new InvalidParameterError('rows', `at most ${k}`, rows.length)
  for (let i = 1; i < rows.length; i++) if (rows[i]!.user <= rows[i - 1]!.user) throw new InvalidParameterError(`rows[${i}].user`, "above the previous row's user", rows[i]!.user)
  for (let i = 1; i < receipts.length; i++) {
    const [a, b] = [receipts[i - 1]!, receipts[i]!]
    if (b.row < a.row || (b.row === a.row && digestLimbs(b.digest)[0] <= digestLimbs(a.digest)[0]))
      throw new InvalidParameterError(`receipts[${i}]`, "after the previous receipt in (user, digest) order, with a higher digest prefix than the same user's previous receipt", b.digest)
  }
  const padded = [...rows, ...Array.from({ length: k - rows.length }, () => ({ user: 0n, stake: 0n }))]
  const discounts = padded.map((r) => stakingDiscountBps(r.stake, p.circulating, { maxDiscountBps: p.maxDiscountBps, multiplier: p.multiplier }))
  const leaves = receipts.map((r, i) => {
    const row = padded[r.row]
    if (!row || r.row >= rows.length || row.user !== r.user) throw new InvalidParameterError(`receipts[${i}].row`, 'the row of the receipt\'s user', r.row)
    if (r.discountBps !== discounts[r.row]) throw new InvalidParameterError(`receipts[${i}].discountBps`, `the discount of its user's stake (${discounts[r.row]})`, r.discountBps)
    if (r.gross < 1n || r.charged !== chargedAmount(r.gross, r.discountBps)) throw new InvalidParameterError(`receipts[${i}].charged`, `gross - floor(gross * discount / 10^4)`, r.charged)
    return poseidon5([...digestLimbs(r.digest), r.user, r.gross, r.charged])
  })
  while (leaves.length < n) leaves.push(0n)
  return {
    root: poseidonRoot(leaves),
    stakesCommitment: stakesCommitment(padded),
    totalGross: receipts.reduce((s, r) => s + r.gross, 0n),
    totalCharged: receipts.reduce((s, r) => s + r.charged, 0n),
    count: BigInt(receipts.length),
    firstUser: receipts[0]!.user,
    firstKey: digestLimbs(receipts[0]!.digest)[0],
    lastUser: receipts.at(-1)!.user,
    lastKey: digestLimbs(receipts.at(-1)!.digest)[0],
    leaves,
  }
}

/** The circuit's input for a batch (decimal strings, padded to N receipts). */
export function batchInput(receipts: readonly BatchReceipt[], rows: readonly StakeRow[], p: BatchParameters, n: number, k: number): Record<string, string | string[]> {
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
  }
}
