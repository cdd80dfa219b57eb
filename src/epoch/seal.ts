import { createHash } from 'node:crypto'
import { ageFactor } from '../economics/emissions.ts'
import { compareAllocations, RewardLedger, settleEpoch, type Allocation, type DeploymentEpochInput } from '../economics/epoch.ts'
import { mulDivDown } from '../economics/math.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import { releasedBetween, splitProceeds, VESTING_DAYS } from '../economics/supply.ts'
import { BaseError } from '../base/errors.ts'
import type { Hex } from '../base/bytes.ts'
import { StandardTree } from '../merkle/tree.ts'
import { configJson, epochInputsJson, type AggregatorConfig } from './config.ts'

/**
 * Sealing as a pure function: from the epoch's aggregates, inputs and the
 * previous cumulative rewards to the spend tree, the cumulative reward tree,
 * the report and the manifest. Same inputs, same bytes.
 */
export const MANIFEST_FORMAT = 'fomo-epoch-manifest-v1'
export const REPORT_FORMAT = 'fomo-epoch-report-v1'
export const SPEND_LEAF_ENCODING = ['uint64', 'bytes32', 'address', 'uint256', 'uint256', 'uint256']
export const REWARD_LEAF_ENCODING = ['address', 'address', 'uint256']
const UINT256_MAX = (1n << 256n) - 1n
const DAY = 86_400n

export class SealError extends BaseError {
  override name = 'SealError'
  constructor(message: string, hint?: string) {
    super('SEAL', message, hint ? { metaMessages: [hint] } : {})
  }
}

export type SpendRow = { deploymentId: Hex; user: Hex; gross: bigint; charged: bigint; count: bigint; minDiscountBps: number; maxDiscountBps: number }
export type DeploymentInputs = { opex: bigint; circulatingSupply: bigint | undefined; stakes: Map<Hex, bigint> }

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

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

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

export function seal(input: SealInput): SealOutput {
  const { epoch, config } = input
  const seconds = BigInt(config.epochSeconds)
  const emission = mulDivDown(config.platform.dailyEmission, seconds, DAY)
  const byDeployment = new Map<Hex, SpendRow[]>()
  for (const row of input.spend) {
    if (row.gross > UINT256_MAX || row.charged > UINT256_MAX) throw new SealError(`spend of ${row.user} overflows uint256`)
    const list = byDeployment.get(row.deploymentId) ?? []
    list.push(row)
    byDeployment.set(row.deploymentId, list)
  }

  const settlementInputs: DeploymentEpochInput[] = []
  const details = new Map<Hex, { ageDays: bigint | null; circulating: bigint | undefined; discountMismatches: number; stakingFundRelease: bigint; incentiveRelease: bigint; receipts: bigint }>()
  for (const d of config.deployments) {
    const rows = byDeployment.get(d.id) ?? []
    const inputs = input.inputs.get(d.id)
    const live = epoch >= d.graduationEpoch
    const elapsed = BigInt(epoch - d.graduationEpoch) * seconds
    const ageDays = live ? elapsed / DAY : null
    const stakingFundRelease = live ? releasedBetween(splitProceeds(d.raised).stakingIncentives, elapsed, elapsed + seconds, VESTING_DAYS * DAY) : 0n
    const incentiveRelease = live ? releasedBetween(d.incentiveReserve, elapsed, elapsed + seconds, VESTING_DAYS * DAY) : 0n
    const circulating = inputs?.circulatingSupply
    let discountMismatches = 0
    const users = rows.map((row) => {
      const stake = inputs?.stakes.get(row.user) ?? 0n
      // Receipts must carry the discount the stake snapshot gives; the report counts those that do not.
      if (circulating !== undefined && stake <= circulating) {
        const expected = Number(stakingDiscountBps(stake, circulating, { maxDiscountBps: config.platform.maxDiscountBps, multiplier: config.platform.discountMultiplier }))
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

  const spendValues = [...input.spend]
    .sort((a, b) => (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
    .map((r) => [String(epoch), r.deploymentId, r.user, r.gross.toString(), r.charged.toString(), r.count.toString()])
  const spendTree = spendValues.length > 0 ? StandardTree.of(spendValues, SPEND_LEAF_ENCODING) : undefined
  const cumulative = RewardLedger.from(input.previous)
  cumulative.add(settlement.allocations)
  const rewardEntries = cumulative.entries()
  const rewardTree = rewardEntries.length > 0 ? buildRewardTree(rewardEntries) : undefined

  const totals = {
    receipts: input.spend.reduce((n, r) => n + r.count, 0n).toString(),
    users: new Set(input.spend.map((r) => r.user)).size,
    gross: input.spend.reduce((n, r) => n + r.gross, 0n).toString(),
    charged: input.spend.reduce((n, r) => n + r.charged, 0n).toString(),
  }
  const report = {
    format: REPORT_FORMAT,
    epoch,
    window: { start: (BigInt(epoch) * seconds).toString(), end: (BigInt(epoch + 1) * seconds).toString() },
    units: 'base units: USDC 6 decimals, FLOCK and MT 18; ratios in bps or WAD (1e18)',
    totals,
    emission: emission.toString(),
    emissionToTreasury: settlement.emissionDust.toString(),
    deployments: config.deployments.map((d) => {
      const s = settlement.deployments.find((x) => x.id === d.id)
      const x = details.get(d.id)!
      return {
        id: d.id,
        name: d.name,
        live: s !== undefined,
        ageDays: x.ageDays === null ? null : Number(x.ageDays),
        ageFactor: x.ageDays === null ? null : ageFactor(x.ageDays).toString(),
        receipts: x.receipts.toString(),
        circulatingSupply: x.circulating?.toString() ?? null,
        discountMismatches: x.discountMismatches,
        grossSpend: (s?.grossSpend ?? 0n).toString(),
        chargedRevenue: (s?.chargedRevenue ?? 0n).toString(),
        opex: (input.inputs.get(d.id)?.opex ?? 0n).toString(),
        netRevenue: (s?.netRevenue ?? 0n).toString(),
        waterfall: s ? Object.fromEntries(Object.entries(s.waterfall).map(([k, v]) => [k, v.toString()])) : null,
        deploymentScore: (s?.score ?? 0n).toString(),
        emissionShare: (s?.emissionShare ?? 0n).toString(),
        issuerBonus: (s?.issuerBonus ?? 0n).toString(),
        stakerPool: (s?.stakerPool ?? 0n).toString(),
        stakingFundRelease: x.stakingFundRelease.toString(),
        incentiveRelease: x.incentiveRelease.toString(),
        toTreasury: { flock: (s?.treasuryFlock ?? 0n).toString(), mt: (s?.treasuryMt ?? 0n).toString() },
        rewardedAccounts: s?.rewards.size ?? 0,
      }
    }),
    credits: settlement.allocations.map((a) => ({ account: a.account, token: a.token, amount: a.amount.toString() })),
  }

  const files = new Map<string, Uint8Array>()
  files.set('report.json', json(report))
  if (spendTree) files.set('spend-tree.json', new TextEncoder().encode(`${JSON.stringify(spendTree.dump())}\n`))
  if (rewardTree) files.set('reward-tree.json', new TextEncoder().encode(`${JSON.stringify(rewardTree.dump())}\n`))
  const configBytes = json(configJson(config))
  // What an auditor needs to recompute everything from the receipts: the configuration and the epoch's inputs.
  files.set('config.json', configBytes)
  files.set('inputs.json', json(epochInputsJson(epoch, input.inputs)))
  const manifest = {
    format: MANIFEST_FORMAT,
    epoch,
    domain: config.domain,
    configSha256: sha256(configBytes),
    previousManifestSha256: input.previousManifestSha256,
    parameters: configJson(config).platform,
    tokens: config.tokens,
    roots: { spend: spendTree?.root ?? null, reward: rewardTree?.root ?? null },
    leafEncodings: { spend: SPEND_LEAF_ENCODING, reward: REWARD_LEAF_ENCODING },
    totals: { ...totals, rewardLeaves: rewardEntries.length, spendLeaves: spendValues.length },
    files: Object.fromEntries([...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, content]) => [name, { sha256: sha256(content), bytes: content.length }])),
  }
  const manifestBytes = json(manifest)
  const out = [...files].map(([name, content]) => ({ name, content, sha256: sha256(content) }))
  out.push({ name: 'manifest.json', content: manifestBytes, sha256: sha256(manifestBytes) })
  return {
    credits: settlement.allocations.sort(compareAllocations),
    files: out.sort((a, b) => (a.name < b.name ? -1 : 1)),
    spendRoot: spendTree?.root ?? null,
    rewardRoot: rewardTree?.root ?? null,
    manifestSha256: sha256(manifestBytes),
  }
}

