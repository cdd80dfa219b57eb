/**
 * The cumulative reward tree: one leaf (domain, account, token, cumulative amount) per account and token, holding
 * everything owed up to and including the epoch, so a claim pays the difference with what was already claimed. The
 * domain names the one distributor (chain and contract) the tree pays on: a distributor hashes leaves with its own
 * domain, so the same tree published on another one (another chain, a redeploy) pays nothing there.
 */
import { encodeAbiParameters, keccak256 } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import type { Allocation } from '../economics/epoch.ts'
import { StandardTree } from '../merkle/tree.ts'

/** ABI types of a reward leaf: (distributor domain, account, token, cumulative amount). */
export const REWARD_LEAF_ENCODING = ['bytes32', 'address', 'address', 'uint256']

/** A reward leaf's values by name. */
export type RewardLeaf = { domain: Hex; account: Hex; token: Hex; amount: bigint }

/** keccak256(abi.encode(chainId, distributor)): the distributor's domain, as the contract computes it (`domain()`). */
export function distributorDomain(chainId: number | bigint, distributor: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'address' }], [BigInt(chainId), distributor]))
}

/** A reward tree leaf's values (as a tree dump holds them) by name. */
export function rewardLeafOf(value: readonly unknown[]): RewardLeaf {
  if (value.length !== REWARD_LEAF_ENCODING.length)
    throw new SealError(`a reward leaf has ${value.length} values; (${REWARD_LEAF_ENCODING.join(', ')}) has ${REWARD_LEAF_ENCODING.length}`, 'The tree was sealed by an older fomo-kit (leaves without the distributor domain): seal it again.')
  return { domain: value[0] as Hex, account: value[1] as Hex, token: value[2] as Hex, amount: BigInt(value[3] as string) }
}

export const UINT256_MAX = (1n << 256n) - 1n

export class SealError extends BaseError {
  override name = 'SealError'
  constructor(message: string, hint?: string) {
    super('SEAL', message, hint ? { metaMessages: [hint] } : {})
  }
}

/** Reward tree over (domain, account, token, cumulative amount); a repeated (account, token) is a build error. */
export function buildRewardTree(entries: readonly Allocation[], domain: Hex): StandardTree {
  const seen = new Set<string>()
  for (const e of entries) {
    const key = `${e.account}/${e.token}`
    if (seen.has(key)) throw new SealError(`reward leaf (${e.account}, ${e.token}) appears twice`, 'Each (account, token) has one cumulative leaf.')
    seen.add(key)
    if (e.amount > UINT256_MAX) throw new SealError(`reward of ${e.account} in ${e.token} overflows uint256`)
  }
  return StandardTree.of(entries.map((e) => [domain, e.account, e.token, e.amount.toString()]), REWARD_LEAF_ENCODING)
}

/** Reads a reward tree's leaves back as allocations (a previous epoch's cumulative rewards). */
export function allocationsOfRewardTree(tree: StandardTree): Allocation[] {
  return [...tree.entries()].map(([, v]) => {
    const { account, token, amount } = rewardLeafOf(v)
    return { account, token, amount }
  })
}
