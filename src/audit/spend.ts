/**
 * The audit's spend check: the (deployment, user) totals rebuilt from the receipts against the published spend
 * leaves, naming the first leaf and field that differ, a missing leaf or a leaf without receipts.
 */
import { pairKey, sortSpend, type SpendRow } from '../epoch/spend.ts'
import { AuditDiscrepancy } from './discrepancy.ts'


export function compareSpendLeaves(spend: readonly SpendRow[], leaves: string[][], epoch: number): void {
  const published = new Map<string, { value: string[]; index: number }>()
  leaves.forEach((value, index) => published.set(pairKey(value[1]!, value[2]!), { value, index }))
  const names = ['epoch', 'deploymentId', 'user', 'gross', 'charged', 'receipts'] as const
  for (const row of sortSpend([...spend])) {
    const k = pairKey(row.deploymentId, row.user)
    const leaf = published.get(k)
    const subject = `spend leaf of user ${row.user} in deployment ${row.deploymentId}`
    const expected = [String(epoch), row.deploymentId, row.user, row.gross.toString(), row.charged.toString(), row.count.toString()]
    if (!leaf) throw new AuditDiscrepancy('spend-leaf', `${subject} is missing from spend-tree.json`, `gross ${expected[3]}, charged ${expected[4]}, receipts ${expected[5]}`, 'no leaf')
    for (let i = 0; i < names.length; i++)
      if (String(leaf.value[i]).toLowerCase() !== expected[i]) throw new AuditDiscrepancy('spend-leaf', `${subject} (leaf #${leaf.index}): ${names[i]}`, expected[i], String(leaf.value[i]))
    published.delete(k)
  }
  for (const { value, index } of published.values())
    throw new AuditDiscrepancy('spend-leaf', `spend leaf #${index} (user ${value[2]} in deployment ${value[1]}) has no receipts`, 'no leaf', `gross ${value[3]}`)
}
