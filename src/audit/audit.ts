/**
 * The auditor: re-derives a sealed epoch from what it is given and names the first number that differs. From the
 * receipts (when given) it checks every signature and rebuilds the spend leaves; from the configuration, the
 * epoch's inputs and the previous epoch's cumulative rewards it recomputes the spend tree, rewards, reward tree,
 * report and manifest with the aggregator's own pure seal function; it verifies every batch proof and what the
 * proofs bind; and it compares the stake snapshot and the on-chain commitment. This file orchestrates the checks.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseJsonDocument } from '../base/json.ts'
import { readConfig } from '../epoch/config.ts'
import { readEpochInputs } from '../epoch/inputs.ts'
import { readManifest, sha256Hex } from '../epoch/manifest.ts'
import { seal } from '../epoch/seal.ts'
import { spendFromLeaves, spendFromReceipts, type EpochReceipt, type SpendRow } from '../epoch/spend.ts'
import { readEpochProofs, type EpochProofs } from '../proofs/files.ts'
import { checkChain, type ChainSource } from './chain.ts'
import { AuditDiscrepancy, compareJson, type Checks } from './discrepancy.ts'
import { checkProofs } from './proofs.ts'
import { verifiedReceipts } from './receipts.ts'
import { compareRewardLeaves, previousRewards } from './rewards.ts'
import { compareSpendLeaves } from './spend.ts'
import { checkStakes, type StakeSource } from './stakes.ts'

export type AuditOptions = {
  /** The sealed epoch directory (epoch-<n>). */
  dir: string
  /** The epoch's receipts (fomo export-receipts NDJSON); without them spend leaves are taken as published. */
  receiptsText?: string | undefined
  /** The verification key proofs must have been made for (pinned by the auditor, not taken from the epoch). */
  verificationKeyPath?: string | undefined
  /** Compare with the commitment in this registry. */
  chain?: ChainSource | undefined
  /**
   * Compare inputs.json's stake snapshot (circulating supply and every eligible stake) with each deployment's
   * MTStaking contract at the snapshot block, and the contract's X and M there with config.json's: the stakes and
   * parameters every discount and every proof's stakes commitment rest on.
   */
  stakes?: StakeSource | undefined
  /** The previous epoch's directory; by default the sibling whose manifest hash the manifest names. */
  previousDir?: string | undefined
  /** Told each check as it passes. */
  onCheck?: ((line: string) => void) | undefined
}

export type AuditResult = { epoch: number; checks: string[]; warnings: string[] }

type LeafValues = Array<{ value: string[]; treeIndex: number }>

/** The leaf values of a tree dump, as published (not checked: the recomputed tree is compared byte for byte). */
const leavesOf = (dump: Record<string, unknown> | undefined): string[][] => ((dump?.values ?? []) as LeafValues).map((v) => v.value)

export async function auditEpoch(options: AuditOptions): Promise<AuditResult> {
  const { dir } = options
  const passed: string[] = []
  const checks: Checks = {
    push: (line) => {
      passed.push(line)
      options.onCheck?.(line)
    },
  }
  const warnings: string[] = []
  const bytes = new Map<string, Buffer>()
  const read = async (name: string, required = true): Promise<Buffer | undefined> => {
    const b = await readFile(join(dir, name)).catch(() => undefined)
    if (!b && required) throw new AuditDiscrepancy('file', `${name} is missing from ${dir}`)
    if (b) bytes.set(name, b)
    return b
  }
  const json = async (name: string) => parseJsonDocument((await read(name))!.toString('utf8'), name) as Record<string, unknown>

  const manifestDocument = await json('manifest.json')
  const manifest = readManifest(manifestDocument)
  const { epoch } = manifest
  const config = readConfig(await json('config.json'))
  const inputs = readEpochInputs(await json('inputs.json'), config)
  if (inputs.epoch !== epoch) throw new AuditDiscrepancy('file', 'inputs.json is for another epoch', String(epoch), String(inputs.epoch))
  const previous = await previousRewards(dir, manifest.previousManifestSha256, options.previousDir)
  checks.push(previous.from ? `previous cumulative rewards from ${previous.from}` : 'first epoch: no previous rewards')

  const spendDoc = (await read('spend-tree.json', false)) ? await json('spend-tree.json') : undefined
  const spendLeaves = leavesOf(spendDoc)
  const rewardDoc = (await read('reward-tree.json', false)) ? await json('reward-tree.json') : undefined

  // Spend: from the receipts when given, else as published.
  let spend: SpendRow[]
  let receipts: EpochReceipt[] | undefined
  if (options.receiptsText !== undefined) {
    receipts = verifiedReceipts(options.receiptsText, config, epoch, checks)
    spend = spendFromReceipts(receipts)
    compareSpendLeaves(spend, spendLeaves, epoch)
    checks.push(`spend leaves: ${spend.length} (deployment, user) totals equal the receipts'`)
  } else {
    spend = spendFromLeaves(spendLeaves, config.platform, inputs.deployments)
    warnings.push('no receipts given (--receipts): spend leaves are taken as published, signatures and discounts are not checked')
  }

  const out = seal({ epoch, config, spend, inputs: inputs.deployments, previous: previous.rewards, previousManifestSha256: manifest.previousManifestSha256 })
  const recomputed = new Map(out.files.map((f) => [f.name, Buffer.from(f.content)]))
  const same = (name: string) => {
    const a = recomputed.get(name)
    const b = bytes.get(name)
    return a === undefined ? b === undefined : b !== undefined && a.equals(b)
  }
  if (!same('spend-tree.json')) throw new AuditDiscrepancy('file', 'spend-tree.json is not the tree its leaves build (nodes, order or root differ)')
  checks.push(`spend tree: root ${out.spendRoot ?? 'none (no receipts)'}`)
  const recomputedRewardTree = recomputed.get('reward-tree.json')
  compareRewardLeaves(leavesOf(rewardDoc), leavesOf(recomputedRewardTree ? JSON.parse(recomputedRewardTree.toString('utf8')) : undefined))
  if (!same('reward-tree.json')) throw new AuditDiscrepancy('file', 'reward-tree.json is not the tree its leaves build (nodes, order or root differ)')
  checks.push(`rewards: ${out.credits.length} credits this epoch; reward tree root ${out.rewardRoot ?? 'none'}`)
  await read('ledger.json', recomputed.has('ledger.json'))
  if (!same('ledger.json')) throw new AuditDiscrepancy('file', "ledger.json is not the ledger of the epoch's trees (totals, list order, sums or entries differ)")
  if (recomputed.has('ledger.json')) checks.push('ledger: the spend and reward lists hold the trees\' leaves in key order, with every deployment\'s sums')
  const withoutReceipts = options.receiptsText === undefined
  compareJson('report', JSON.parse(recomputed.get('report.json')!.toString('utf8')), await json('report.json'), '$', withoutReceipts ? /^\$\.deployments\[\d+\]\.discountMismatches$/ : undefined)
  checks.push('report: every number recomputed')
  for (const name of ['config.json', 'inputs.json']) if (!same(name)) throw new AuditDiscrepancy('file', `${name} is not in the form the aggregator writes (reformatted or edited)`)
  compareJson('manifest', JSON.parse(recomputed.get('manifest.json')!.toString('utf8')), manifestDocument, '$', withoutReceipts ? /^\$\.files\.report\.json\.sha256$/ : undefined)
  for (const [name, expected] of manifest.files) {
    const b = bytes.get(name) ?? (await read(name))!
    if (sha256Hex(b) !== expected) throw new AuditDiscrepancy('file', `${name} does not have the hash the manifest records`, expected, sha256Hex(b))
  }
  checks.push(`manifest: recomputed, file hashes match (sha256 ${sha256Hex(bytes.get('manifest.json')!)})`)

  const proofsBytes = await read('proofs.json', false)
  let proofs: EpochProofs | undefined
  if (proofsBytes) {
    proofs = readEpochProofs(parseJsonDocument(proofsBytes.toString('utf8'), 'proofs.json'))
    await checkProofs(proofs, { epoch, config, inputs: inputs.deployments, spend, receipts, verificationKeyPath: options.verificationKeyPath, checks, warnings })
  } else warnings.push('no proofs.json: the epoch was not proven (fomo prove)')

  if (options.stakes) await checkStakes(inputs, config, options.stakes, checks, warnings)
  if (options.chain) await checkChain(dir, epoch, options.chain, checks)
  return { epoch, checks: passed, warnings }
}
