/**
 * The audit's rewards: the previous epoch's cumulative rewards (from the sibling directory whose manifest hash the
 * manifest names), and the check of the published reward leaves against the recomputed ones.
 */
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Allocation } from '../economics/epoch.ts'
import { sha256Hex } from '../epoch/manifest.ts'
import { allocationsOfRewardTree } from '../epoch/rewards.ts'
import { StandardTree } from '../merkle/tree.ts'
import { AuditDiscrepancy } from './discrepancy.ts'

const key = (account: string, token: string) => `${account.toLowerCase()}/${token.toLowerCase()}`

/** The cumulative rewards of the epoch before: none for a first epoch (no previous manifest hash). */
export async function previousRewards(dir: string, previousSha: string | null, given: string | undefined): Promise<{ rewards: Allocation[]; from?: string }> {
  if (previousSha === null) return { rewards: [] }
  const parent = dirname(dir)
  const candidates = given ? [given] : (await readdir(parent).catch(() => [] as string[])).filter((n) => /^epoch-\d+$/.test(n)).map((n) => join(parent, n))
  for (const candidate of candidates) {
    const manifest = await readFile(join(candidate, 'manifest.json')).catch(() => undefined)
    if (!manifest || sha256Hex(manifest) !== previousSha) continue
    const tree = await readFile(join(candidate, 'reward-tree.json'), 'utf8').catch(() => undefined)
    return { rewards: tree ? allocationsOfRewardTree(StandardTree.load(JSON.parse(tree))) : [], from: candidate }
  }
  throw new AuditDiscrepancy('file', `the previous epoch's directory (manifest sha256 ${String(previousSha)}) is not beside ${dir}`, undefined, undefined)
}

/** Each recomputed (account, token, cumulative amount) leaf against the published ones: missing, differing or extra. */
export function compareRewardLeaves(found: string[][], expected: string[][]): void {
  const published = new Map<string, { value: string[]; index: number }>()
  found.forEach((value, index) => published.set(key(value[0]!, value[1]!), { value, index }))
  for (const [account, token, amount] of expected as Array<[string, string, string]>) {
    const leaf = published.get(key(account, token))
    const subject = `cumulative reward of ${account} in token ${token}`
    if (!leaf) throw new AuditDiscrepancy('reward-leaf', `${subject} is missing from reward-tree.json`, amount, 'no leaf')
    if (String(leaf.value[2]) !== amount) throw new AuditDiscrepancy('reward-leaf', `${subject} (leaf #${leaf.index})`, amount, String(leaf.value[2]))
    published.delete(key(account, token))
  }
  for (const { value, index } of published.values()) throw new AuditDiscrepancy('reward-leaf', `reward leaf #${index} (${value[0]} in token ${value[1]}) is owed nothing`, 'no leaf', String(value[2]))
}
