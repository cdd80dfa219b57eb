/**
 * An epoch's spend: what each user paid each deployment, as the rows sealing reads from the store, as the auditor
 * rebuilds them from the receipts, and as the leaves of the spend tree (epoch, deployment, user, gross, charged,
 * count, stake). One place maps a verified receipt to what an epoch counts of it. The leaf carries the user's
 * eligible stake at the snapshot block, so anyone can challenge a wrong one on chain against the staking contract.
 */
import type { Hex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import { discountParameters, type PlatformParameters } from '../economics/parameters.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import type { VerifiedReceipt } from '../receipts/verify.ts'
import type { DeploymentInputs } from './inputs.ts'

/** ABI types of a spend leaf: (epoch, deploymentId, user, gross, charged, receipts, stake). */
export const SPEND_LEAF_ENCODING = ['uint64', 'bytes32', 'address', 'uint256', 'uint256', 'uint256', 'uint256']

/** A spend leaf's values by name, as `EpochRegistry.SpendLeaf` takes them (the epoch is the tree's). */
export type SpendLeaf = { deploymentId: Hex; user: Hex; gross: bigint; charged: bigint; receipts: bigint; stake: bigint }

/** A spend tree leaf's values (as a tree dump holds them) by name. */
export function spendLeafOf(value: readonly unknown[]): SpendLeaf {
  const [, deploymentId, user, gross, charged, receipts, stake] = value as [string, Hex, Hex, string, string, string, string | undefined]
  if (value.length !== SPEND_LEAF_ENCODING.length || stake === undefined)
    throw new SpendLeafError(`a spend leaf has ${value.length} values; (${SPEND_LEAF_ENCODING.join(', ')}) has ${SPEND_LEAF_ENCODING.length}`)
  return { deploymentId, user, gross: BigInt(gross), charged: BigInt(charged), receipts: BigInt(receipts), stake: BigInt(stake) }
}

export class SpendLeafError extends BaseError {
  override name = 'SpendLeafError'
  constructor(message: string) {
    super('SPEND_LEAF', message, { metaMessages: ['The tree was sealed by an older fomo-kit (leaves without the stake): seal it again.'] })
  }
}

/** One (deployment, user) total of an epoch, with the range of discounts its receipts carried. */
export type SpendRow = { deploymentId: Hex; user: Hex; gross: bigint; charged: bigint; count: bigint; minDiscountBps: number; maxDiscountBps: number }

/** What an epoch counts of one verified receipt (addresses and ids in lower case). */
/** What an epoch counts of a receipt (addresses and ids in lower case). */
export type EpochReceipt = { digest: Hex; deploymentId: Hex; provider: Hex; user: Hex; gross: bigint; discountBps: number; charged: bigint }

export function epochReceiptOf(v: VerifiedReceipt): EpochReceipt {
  return {
    digest: v.digest,
    deploymentId: v.receipt.deploymentId.toLowerCase() as Hex,
    provider: v.receipt.provider.toLowerCase() as Hex,
    user: v.receipt.user.toLowerCase() as Hex,
    gross: v.receipt.grossAmount,
    discountBps: v.receipt.discountBps,
    charged: v.receipt.chargedAmount,
  }
}

/** The lookup key of a pair of hex identifiers, case-insensitive: (deployment, user) for spend, (account, token) for rewards. */
export const pairKey = (a: string, b: string) => `${a.toLowerCase()}/${b.toLowerCase()}`

/** Orders rows as the store groups them (deployment, then user): the order settlement follows. */
export function sortSpend(rows: SpendRow[]): SpendRow[] {
  return rows.sort((a, b) => (pairKey(a.deploymentId, a.user) < pairKey(b.deploymentId, b.user) ? -1 : 1))
}

/** The (deployment, user) totals of a set of receipts, each receipt counted once as given. */
export function spendFromReceipts(receipts: readonly EpochReceipt[]): SpendRow[] {
  const rows = new Map<string, SpendRow>()
  for (const r of receipts) {
    const k = pairKey(r.deploymentId, r.user)
    const row = rows.get(k)
    if (!row) rows.set(k, { deploymentId: r.deploymentId, user: r.user, gross: r.gross, charged: r.charged, count: 1n, minDiscountBps: r.discountBps, maxDiscountBps: r.discountBps })
    else {
      row.gross += r.gross
      row.charged += r.charged
      row.count++
      row.minDiscountBps = Math.min(row.minDiscountBps, r.discountBps)
      row.maxDiscountBps = Math.max(row.maxDiscountBps, r.discountBps)
    }
  }
  return sortSpend([...rows.values()])
}

/**
 * Rows from published spend leaves. The leaves do not carry discounts: they are taken as the snapshot gives them,
 * so a report's discount mismatch counts cannot be checked this way.
 */
export function spendFromLeaves(leaves: readonly string[][], platform: PlatformParameters, inputs: ReadonlyMap<Hex, Pick<DeploymentInputs, 'circulatingSupply' | 'stakes'>>): SpendRow[] {
  return sortSpend(
    leaves.map((v) => {
      const { deploymentId, user, gross, charged, receipts } = spendLeafOf(v)
      const d = inputs.get(deploymentId)
      const stake = d?.stakes.get(user) ?? 0n
      const circulating = d?.circulatingSupply
      const bps = circulating !== undefined && stake <= circulating ? Number(stakingDiscountBps(stake, circulating, discountParameters(platform))) : 0
      return { deploymentId, user, gross, charged, count: receipts, minDiscountBps: bps, maxDiscountBps: bps }
    }),
  )
}

/** The spend tree's leaf values, ordered by (deployment, user); each user's stake is the snapshot's (zero if none). */
export function spendLeafValues(epoch: number, spend: readonly SpendRow[], inputs: ReadonlyMap<Hex, Pick<DeploymentInputs, 'stakes'>>): string[][] {
  return [...spend]
    .sort((a, b) => (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
    .map((r) => [String(epoch), r.deploymentId, r.user, r.gross.toString(), r.charged.toString(), r.count.toString(), (inputs.get(r.deploymentId)?.stakes.get(r.user) ?? 0n).toString()])
}
