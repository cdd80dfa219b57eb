/**
 * The cumulative reward tree: one leaf (account, token, cumulative amount) per account and token, holding everything
 * owed up to and including the epoch, so a claim pays the difference with what was already claimed.
 */
import { BaseError } from '../base/errors.ts'
import type { Allocation } from '../economics/epoch.ts'
import { StandardTree } from '../merkle/tree.ts'

/** ABI types of a reward leaf: (account, token, cumulative amount). */
export const REWARD_LEAF_ENCODING = ['address', 'address', 'uint256']

export const UINT256_MAX = (1n << 256n) - 1n

export class SealError extends BaseError {
  override name = 'SealError'
  constructor(message: string, hint?: string) {
    super('SEAL', message, hint ? { metaMessages: [hint] } : {})
  }
}

/** Reward tree over (account, token, cumulative amount); a repeated (account, token) is a build error. */
export function buildRewardTree(entries: readonly Allocation[]): StandardTree {
  const seen = new Set<string>()
  for (const e of entries) {
    const key = `${e.account}/${e.token}`
    if (seen.has(key)) throw new SealError(`reward leaf (${e.account}, ${e.token}) appears twice`, 'Each (account, token) has one cumulative leaf.')
    seen.add(key)
    if (e.amount > UINT256_MAX) throw new SealError(`reward of ${e.account} in ${e.token} overflows uint256`)
  }
  return StandardTree.of(entries.map((e) => [e.account, e.token, e.amount.toString()]), REWARD_LEAF_ENCODING)
}

/** Reads a reward tree dump's leaves back as allocations (a previous epoch's cumulative rewards). */
export function allocationsOfRewardTree(tree: StandardTree): Allocation[] {
  return [...tree.entries()].map(([, v]) => ({ account: v[0] as string, token: v[1] as string, amount: BigInt(v[2] as string) }))
}
