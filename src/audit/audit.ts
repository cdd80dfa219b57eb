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
import { StandardTree } from '../merkle/tree.ts'
import { spendFromLeaves, type EpochReceipt, type SpendRow } from '../epoch/spend.ts'
import { readEpochProofs, type EpochProofs } from '../proofs/files.ts'
import { checkChain, type ChainSource } from './chain.ts'
import { AuditDiscrepancy, compareJson, type Checks } from './discrepancy.ts'
import { checkProofs } from './proofs.ts'
import { auditReceipts } from './receipts.ts'
import { compareRewardLeaves, previousRewards } from './rewards.ts'
import { compareSpendLeaves } from './spend.ts'
import { checkStakes, type StakeSource } from './stakes.ts'

export type AuditOptions = {
  /** The sealed epoch directory (epoch-<n>). */
  dir: string
  /** The epoch's receipts (fomo export-receipts NDJSON); without them spend leaves are taken as published. */
  receiptsText?: string | undefined
  /** The same as a file, streamed (memory follows the users, not the receipts); instead of receiptsText. */
  receiptsPath?: string | undefined
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

export type AuditResult = {
  epoch: number
  checks: string[]
  warnings: string[]
  /** Where the time went: reading the artifacts, verifying and counting receipts, repeats, the recomputed seal, comparing. */
  seconds: { read: number; receipts: number; repeats: number; recompute: number; compare: number; proofs: number }
}

export async function auditEpoch(options: AuditOptions): Promise<AuditResult> {
  const { dir } = options
  const started = performance.now()
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

  // The trees are parsed only when needed: without receipts (their leaves are the spend), or to name a difference.
  await read('spend-tree.json', false)
  await read('reward-tree.json', false)
  // The leaf values of a tree dump, as published (not checked: the recomputed tree is compared byte for byte), read
  // from the bytes value by value: a million users' tree is past the longest string.
  const leavesOf = (name: string, file: Uint8Array | undefined) => (file ? (StandardTree.dumpValues(file, name) as string[][]) : [])
  const spendLeaves = () => leavesOf('spend-tree.json', bytes.get('spend-tree.json'))
  const clock = { at: performance.now() }
  const lap = () => {
    const now = performance.now()
    const s = (now - clock.at) / 1000
    clock.at = now
    return s
  }
  const seconds: AuditResult['seconds'] = { read: (performance.now() - started) / 1000, receipts: 0, repeats: 0, recompute: 0, compare: 0, proofs: 0 }

  // Spend: from the receipts when given, else as published.
  let spend: SpendRow[]
  let receipts: EpochReceipt[] | undefined
  const fromReceipts = options.receiptsText !== undefined || options.receiptsPath !== undefined
  if (fromReceipts) {
    const source = options.receiptsPath !== undefined ? { path: options.receiptsPath } : { text: options.receiptsText as string }
    // Proof checks replay the batching rule over every receipt: only then are the receipts kept.
    const keep = await readFile(join(dir, 'proofs.json')).then(() => true, () => false)
    const audited = await auditReceipts(source, config, epoch, checks, { keep })
    ;({ spend, receipts } = audited)
    seconds.receipts = audited.seconds.verify
    seconds.repeats = audited.seconds.repeats
    lap()
  } else {
    spend = spendFromLeaves(spendLeaves(), config.platform, inputs.deployments)
    warnings.push('no receipts given (--receipts): spend leaves are taken as published, signatures and discounts are not checked')
  }

  const sealInput = { epoch, config, spend, inputs: inputs.deployments, previous: previous.rewards, previousManifestSha256: manifest.previousManifestSha256 }
  let out: ReturnType<typeof seal>
  try {
    out = seal(sealInput)
  } catch (error) {
    // A leaf that differs from the receipts is the finding to name first.
    if (fromReceipts) compareSpendLeaves(spend, spendLeaves(), epoch)
    throw error
  }
  seconds.recompute = lap()
  const recomputed = new Map(out.files.map((f) => [f.name, Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength)]))
  const same = (name: string) => {
    const a = recomputed.get(name)
    const b = bytes.get(name)
    return a === undefined ? b === undefined : b !== undefined && a.equals(b)
  }
  if (fromReceipts) {
    // Equal bytes are equal leaves; otherwise the leaves are compared to name the first that differs.
    if (!same('spend-tree.json')) compareSpendLeaves(spend, spendLeaves(), epoch)
    checks.push(`spend leaves: ${spend.length} (deployment, user) totals equal the receipts'`)
  }
  if (!same('spend-tree.json')) throw new AuditDiscrepancy('file', 'spend-tree.json is not the tree its leaves build (nodes, order or root differ)')
  checks.push(`spend tree: root ${out.spendRoot ?? 'none (no receipts)'}`)
  if (!same('reward-tree.json')) {
    const recomputedRewardTree = recomputed.get('reward-tree.json')
    const published = bytes.get('reward-tree.json')
    compareRewardLeaves(leavesOf('reward-tree.json', published), leavesOf('reward-tree.json', recomputedRewardTree))
    throw new AuditDiscrepancy('file', 'reward-tree.json is not the tree its leaves build (nodes, order or root differ)')
  }
  checks.push(`rewards: ${out.credits.length} credits this epoch; reward tree root ${out.rewardRoot ?? 'none'}`)
  await read('ledger.json', recomputed.has('ledger.json'))
  if (!same('ledger.json')) throw new AuditDiscrepancy('file', "ledger.json is not the ledger of the epoch's trees (totals, list order, sums or entries differ)")
  if (recomputed.has('ledger.json')) checks.push('ledger: the spend and reward lists hold the trees\' leaves in key order, with every deployment\'s sums')
  const withoutReceipts = !fromReceipts
  compareJson('report', JSON.parse(recomputed.get('report.json')!.toString('utf8')), await json('report.json'), '$', withoutReceipts ? /^\$\.deployments\[\d+\]\.discountMismatches$/ : undefined)
  checks.push('report: every number recomputed')
  for (const name of ['config.json', 'inputs.json']) if (!same(name)) throw new AuditDiscrepancy('file', `${name} is not in the form the aggregator writes (reformatted or edited)`)
  compareJson('manifest', JSON.parse(recomputed.get('manifest.json')!.toString('utf8')), manifestDocument, '$', withoutReceipts ? /^\$\.files\.report\.json\.sha256$/ : undefined)
  for (const [name, expected] of manifest.files) {
    const b = bytes.get(name) ?? (await read(name))!
    if (sha256Hex(b) !== expected) throw new AuditDiscrepancy('file', `${name} does not have the hash the manifest records`, expected, sha256Hex(b))
  }
  checks.push(`manifest: recomputed, file hashes match (sha256 ${sha256Hex(bytes.get('manifest.json')!)})`)

  seconds.compare = lap()
  const proofsBytes = await read('proofs.json', false)
  let proofs: EpochProofs | undefined
  if (proofsBytes) {
    proofs = readEpochProofs(parseJsonDocument(proofsBytes.toString('utf8'), 'proofs.json'))
    await checkProofs(proofs, { epoch, config, inputs: inputs.deployments, spend, receipts, verificationKeyPath: options.verificationKeyPath, checks, warnings })
  } else warnings.push('no proofs.json: the epoch was not proven (fomo prove)')

  if (options.stakes) await checkStakes(inputs, config, options.stakes, checks, warnings)
  if (options.chain) await checkChain(dir, epoch, options.chain, checks)
  seconds.proofs = lap()
  return { epoch, checks: passed, warnings, seconds }
}
