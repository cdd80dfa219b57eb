/** The attack both the auditor and the judge must catch: spend moved between users, every total kept. */
import { readSpendTree } from '../src/chain/challenges.ts'
import { readSealedEpoch } from '../src/epoch/directory.ts'
import { seal } from '../src/epoch/seal.ts'
import { spendFromLeaves } from '../src/epoch/spend.ts'

/**
 * The files of the sealed epoch in `dir` sealed again with one unit of gross and charged moved from one user (`from`)
 * to another (`to`) of the same deployment: trees, ledger, report and manifest agree with each other and every
 * deployment total is unchanged.
 */
export async function movedSpendFiles(dir: string) {
  const sealed = await readSealedEpoch(dir)
  const spend = spendFromLeaves([...(await readSpendTree(dir)).entries()].map(([, v]) => v as string[]), sealed.config.platform, sealed.inputs.deployments)
  const from = spend.find((r) => r.charged > 1n && spend.some((o) => o !== r && o.deploymentId === r.deploymentId))!
  const to = spend.find((r) => r !== from && r.deploymentId === from.deploymentId)!
  const moved = spend.map((r) => (r === from ? { ...r, gross: r.gross - 1n, charged: r.charged - 1n } : r === to ? { ...r, gross: r.gross + 1n, charged: r.charged + 1n } : r))
  const { files } = seal({ epoch: sealed.epoch, config: sealed.config, spend: moved, inputs: sealed.inputs.deployments, previous: [], previousManifestSha256: null })
  return { epoch: sealed.epoch, files, from, to }
}
