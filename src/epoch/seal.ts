/**
 * Sealing as a pure function: from the epoch's spend rows, inputs and the previous cumulative rewards to the spend
 * tree, the cumulative reward tree, the report, config.json, inputs.json and the manifest. Same inputs, same bytes:
 * the aggregator seals with it and the auditor recomputes with it.
 */
import type { Hex } from '../base/bytes.ts'
import { jsonFileBytes } from '../base/json.ts'
import { compareAllocations, RewardLedger, settleEpoch, type Allocation, type DeploymentEpochInput } from '../economics/epoch.ts'
import { epochEmission } from '../economics/emissions.ts'
import { discountParameters } from '../economics/parameters.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import { DAY_SECONDS, epochRelease, splitProceeds } from '../economics/supply.ts'
import { StandardTree } from '../merkle/tree.ts'
import { configBytes as configFileBytes, type AggregatorConfig } from './config.ts'
import { epochInputsJson, type DeploymentInputs } from './inputs.ts'
import { deploymentOrder, epochLists, ledgerJson } from './ledger.ts'
import { epochManifest, sha256Hex } from './manifest.ts'
import { epochReport, type DeploymentDetails } from './report.ts'
import { buildRewardTree, distributorDomain, SealError, UINT256_MAX } from './rewards.ts'
import { SPEND_LEAF_ENCODING, spendLeafOf, spendLeafValues, type SpendRow } from './spend.ts'

export type SealInput = {
  epoch: number
  config: AggregatorConfig
  spend: SpendRow[]
  inputs: Map<Hex, DeploymentInputs>
  /** Cumulative rewards up to the previous epoch. */
  previous: Allocation[]
  previousManifestSha256: string | null
}

export type SealOutput = {
  credits: Allocation[]
  files: Array<{ name: string; content: Uint8Array; sha256: string }>
  spendRoot: Hex | null
  rewardRoot: Hex | null
  manifestSha256: string
}


/**
 * A tree's dump file: `JSON.stringify(tree.dump())` and a newline, byte for byte, written from the tree's packed
 * buffers in chunks (no object per leaf, no string of the whole dump).
 */
function dumpFileBytes(tree: StandardTree): Uint8Array {
  const chunks = [...tree.dumpChunks()]
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0) + 1)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  out[at] = 0x0a
  return out
}

/**
 * Phases of a seal on the performance timeline (`performance.getEntriesByName`), so a caller that seals through the
 * store can say where the time went.
 */
export const SEAL_PHASES = { settle: 'fomo seal: settle', trees: 'fomo seal: trees', artifacts: 'fomo seal: artifacts' } as const

export function seal(input: SealInput): SealOutput {
  const { epoch, config } = input
  let phase = performance.now()
  const measure = (name: string) => {
    const now = performance.now()
    performance.measure(name, { start: phase, end: now })
    phase = now
  }
  const seconds = BigInt(config.epochSeconds)
  const emission = epochEmission(config.platform.dailyEmission, seconds)
  const byDeployment = new Map<Hex, SpendRow[]>()
  const configured = new Set(config.deployments.map((d) => d.id))
  for (const row of input.spend) {
    // Every spend leaf must be of a deployment the configuration pins: anyone could revoke the epoch with another.
    if (!configured.has(row.deploymentId))
      throw new SealError(`the epoch has spend on deployment ${row.deploymentId}, which the configuration does not have`, 'Seal it with a configuration that still lists the deployment (it was dropped after its receipts were accepted).')
    if (row.gross > UINT256_MAX || row.charged > UINT256_MAX) throw new SealError(`spend of ${row.user} overflows uint256`)
    const list = byDeployment.get(row.deploymentId) ?? []
    list.push(row)
    byDeployment.set(row.deploymentId, list)
  }

  const settlementInputs: DeploymentEpochInput[] = []
  const details = new Map<Hex, DeploymentDetails>()
  const discount = discountParameters(config.platform)
  for (const d of config.deployments) {
    const rows = byDeployment.get(d.id) ?? []
    const inputs = input.inputs.get(d.id)
    const live = epoch >= d.graduationEpoch
    const ageDays = live ? (BigInt(epoch - d.graduationEpoch) * seconds) / DAY_SECONDS : null
    const stakingFundRelease = epochRelease(splitProceeds(d.raised).stakingIncentives, BigInt(d.graduationEpoch), BigInt(epoch), seconds)
    const incentiveRelease = epochRelease(d.incentiveReserve, BigInt(d.graduationEpoch), BigInt(epoch), seconds)
    const circulating = inputs?.circulatingSupply
    let discountMismatches = 0
    const users = rows.map((row) => {
      const stake = inputs?.stakes.get(row.user) ?? 0n
      // Receipts must carry the discount the stake snapshot gives; the report counts those that do not.
      if (circulating !== undefined && stake <= circulating) {
        const expected = Number(stakingDiscountBps(stake, circulating, discount))
        if (row.minDiscountBps !== expected || row.maxDiscountBps !== expected) discountMismatches++
      }
      return { account: row.user, gross: row.gross, charged: row.charged, stake }
    })
    details.set(d.id, { ageDays, circulating, discountMismatches, stakingFundRelease, incentiveRelease, receipts: rows.reduce((n, r) => n + r.count, 0n) })
    if (live)
      settlementInputs.push({ id: d.id, issuer: d.issuer, mtToken: d.mtToken, ageDays: ageDays as bigint, opex: inputs?.opex ?? 0n, users, stakingFundRelease, incentiveRelease })
  }
  const settlement = settleEpoch(
    { emission, scoreBasis: config.platform.scoreBasis, rewardDenominator: config.platform.rewardDenominator, issuerBonusBps: config.platform.issuerBonusBps, tokens: config.tokens },
    settlementInputs,
  )

  measure(SEAL_PHASES.settle)
  const spendValues = spendLeafValues(epoch, input.spend, input.inputs)
  const spendTree = spendValues.length > 0 ? StandardTree.of(spendValues, SPEND_LEAF_ENCODING) : undefined
  const cumulative = RewardLedger.from(input.previous)
  cumulative.add(settlement.allocations)
  const rewardEntries = cumulative.entries()
  const domain = distributorDomain(config.domain.chainId, config.domain.verifyingContract)
  const rewardTree = rewardEntries.length > 0 ? buildRewardTree(rewardEntries, domain) : undefined
  // The same leaves in key order, as positional lists anyone can show a reward wrong or missing from (src/epoch/ledger.ts).
  const order = deploymentOrder(config).map((d) => d.id)
  const lists =
    spendTree && rewardTree
      ? epochLists(
          epoch,
          spendValues.map(spendLeafOf),
          rewardEntries.map((e) => ({ domain, account: e.account as Hex, token: e.token as Hex, amount: e.amount })),
          order,
          order.map((id) => input.inputs.get(id)?.opex ?? 0n),
          (i) => spendTree.nodes.subarray(32 * (spendTree.treeIndices[i] as number), 32 * (spendTree.treeIndices[i] as number) + 32),
        )
      : undefined

  measure(SEAL_PHASES.trees)
  const totals = {
    receipts: input.spend.reduce((n, r) => n + r.count, 0n).toString(),
    users: new Set(input.spend.map((r) => r.user)).size,
    gross: input.spend.reduce((n, r) => n + r.gross, 0n).toString(),
    charged: input.spend.reduce((n, r) => n + r.charged, 0n).toString(),
  }
  const report = epochReport({ epoch, config, totals, emission, settlement, details, inputs: input.inputs })

  const files = new Map<string, Uint8Array>()
  files.set('report.json', jsonFileBytes(report))
  if (spendTree) files.set('spend-tree.json', dumpFileBytes(spendTree))
  if (rewardTree) files.set('reward-tree.json', dumpFileBytes(rewardTree))
  if (lists) files.set('ledger.json', jsonFileBytes(ledgerJson(epoch, lists)))
  const configBytes = configFileBytes(config)
  // What an auditor needs to recompute everything from the receipts: the configuration and the epoch's inputs.
  files.set('config.json', configBytes)
  files.set('inputs.json', jsonFileBytes(epochInputsJson(epoch, input.inputs)))
  const manifest = epochManifest({
    epoch,
    config,
    configBytes,
    previousManifestSha256: input.previousManifestSha256,
    roots: { spend: spendTree?.root ?? null, reward: rewardTree?.root ?? null },
    totals: { ...totals, rewardLeaves: rewardEntries.length, spendLeaves: spendValues.length },
    files,
  })
  const manifestBytes = jsonFileBytes(manifest)
  const out = [...files].map(([name, content]) => ({ name, content, sha256: sha256Hex(content) }))
  out.push({ name: 'manifest.json', content: manifestBytes, sha256: sha256Hex(manifestBytes) })
  measure(SEAL_PHASES.artifacts)
  return {
    credits: settlement.allocations.sort(compareAllocations),
    files: out.sort((a, b) => (a.name < b.name ? -1 : 1)),
    spendRoot: spendTree?.root ?? null,
    rewardRoot: rewardTree?.root ?? null,
    manifestSha256: sha256Hex(manifestBytes),
  }
}
