/**
 * The audit's rewards: the previous epoch's cumulative rewards (from the sibling directory whose manifest hash the
 * manifest names), and the check of the published reward leaves against the recomputed ones.
 */
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Allocation } from '../economics/epoch.ts'
import { sha256Hex } from '../epoch/manifest.ts'
import { allocationsOfRewardTree, rewardLeafOf, type RewardLeaf } from '../epoch/rewards.ts'
import { pairKey } from '../epoch/spend.ts'
import { StandardTree } from '../merkle/tree.ts'
import { AuditDiscrepancy } from './discrepancy.ts'


/** The cumulative rewards of the epoch before: none for a first epoch (no previous manifest hash). */
export async function previousRewards(dir: string, previousSha: string | null, given: string | undefined): Promise<{ rewards: Allocation[]; from?: string }> {
  if (previousSha === null) return { rewards: [] }
  const from = await previousDirectory(dir, previousSha, given)
  if (from === undefined) throw new AuditDiscrepancy('file', `the previous epoch's directory (manifest sha256 ${String(previousSha)}) is not beside ${dir}`, undefined, undefined)
  const tree = await readFile(join(from, 'reward-tree.json')).catch(() => undefined)
  return { rewards: tree ? allocationsOfRewardTree(StandardTree.loadBytes(tree, 'reward-tree.json')) : [], from }
}

/** The directory beside `dir` (or `given`) whose manifest has sha256 `previousSha`: the epoch `dir` builds on. */
export async function previousDirectory(dir: string, previousSha: string, given?: string): Promise<string | undefined> {
  const parent = dirname(dir)
  const candidates = given ? [given] : (await readdir(parent).catch(() => [] as string[])).filter((n) => /^epoch-\d+(-[0-9a-fx-]+)?$/.test(n)).map((n) => join(parent, n))
  for (const candidate of candidates) {
    const manifest = await readFile(join(candidate, 'manifest.json')).catch(() => undefined)
    if (manifest && sha256Hex(manifest) === previousSha) return candidate
  }
  return undefined
}

/** Each recomputed (domain, account, token, cumulative amount) leaf against the published ones: missing, differing or extra. */
export function compareRewardLeaves(found: string[][], expected: string[][]): void {
  const published = new Map<string, { leaf: RewardLeaf; index: number }>()
  found.forEach((value, index) => {
    const leaf = rewardLeafOf(value)
    published.set(pairKey(leaf.account, leaf.token), { leaf, index })
  })
  for (const want of expected.map(rewardLeafOf)) {
    const k = pairKey(want.account, want.token)
    const got = published.get(k)
    const subject = `cumulative reward of ${want.account} in token ${want.token}`
    if (!got) throw new AuditDiscrepancy('reward-leaf', `${subject} is missing from reward-tree.json`, want.amount.toString(), 'no leaf')
    if (got.leaf.amount !== want.amount) throw new AuditDiscrepancy('reward-leaf', `${subject} (leaf #${got.index})`, want.amount.toString(), got.leaf.amount.toString())
    if (got.leaf.domain.toLowerCase() !== want.domain) throw new AuditDiscrepancy('reward-leaf', `${subject} (leaf #${got.index}): distributor domain`, want.domain, got.leaf.domain)
    published.delete(k)
  }
  for (const { leaf, index } of published.values()) throw new AuditDiscrepancy('reward-leaf', `reward leaf #${index} (${leaf.account} in token ${leaf.token}) is owed nothing`, 'no leaf', leaf.amount.toString())
}
