/**
 * Epochs as EpochJudge sees them, honest or deliberately wrong: the OpenZeppelin spend and reward trees, the positional
 * spend and reward lists and the ledger (src/epoch/ledger.ts), and the rewards from src/economics/epoch.ts
 * `settleEpoch` and `RewardLedger`, so the formulas live once, in TypeScript, and the judge must agree to the unit.
 * A test builds an epoch's parts, changes what it wants wrong, and assembles the trees, lists and commitment; the
 * openings (entries with positional proofs, lookups of a key) are what the judge's challenges take.
 * Used by test/contracts/judge.test.ts and the challenge gas benchmark (test/bench/gas.ts).
 */
import { zeroHash, type Address, type Hex } from 'viem'
import { RewardLedger, settleEpoch, type Allocation, type DeploymentEpochInput } from '../../src/economics/epoch.ts'
import { epochEmission } from '../../src/economics/emissions.ts'
import { DAY_SECONDS, epochRelease } from '../../src/economics/supply.ts'
import { ledgerHash, rewardKey, rewardList, rewardListLeaf, spendKey, spendList, spendListLeaf, type DeploymentTotals, type Ledger, type RewardParams, type SpendListEntry } from '../../src/epoch/ledger.ts'
import { REWARD_LEAF_ENCODING, type RewardLeaf } from '../../src/epoch/rewards.ts'
import { SPEND_LEAF_ENCODING, type SpendLeaf } from '../../src/epoch/spend.ts'
import { PositionalTree } from '../../src/merkle/positional.ts'
import { StandardTree } from '../../src/merkle/tree.ts'

const SCORE_BASES = ['net', 'charged', 'gross'] as const
const DENOMINATORS = ['eligible-stakers', 'all-users'] as const

/**
 * What the epoch credits each (account, token), by `settleEpoch` over the live deployments, as src/epoch/seal.ts feeds
 * it (`issuerBonusBps` may be overridden to build a wrong tree). Addresses must be lower case throughout: settlement
 * keys accounts by string.
 */
export function creditsOf(epoch: number, params: RewardParams, spend: readonly SpendLeaf[], opex: readonly bigint[], override: { issuerBonusBps?: bigint } = {}): Allocation[] {
  const seconds = params.epochSeconds
  const inputs: DeploymentEpochInput[] = []
  params.deployments.forEach((d, i) => {
    if (BigInt(epoch) < d.graduationEpoch) return
    inputs.push({
      id: d.id,
      issuer: d.issuer,
      mtToken: d.mtToken,
      ageDays: ((BigInt(epoch) - d.graduationEpoch) * seconds) / DAY_SECONDS,
      opex: opex[i] ?? 0n,
      users: spend.filter((l) => l.deploymentId === d.id).map((l) => ({ account: l.user, gross: l.gross, charged: l.charged, stake: l.stake })),
      stakingFundRelease: epochRelease(d.stakingFund, d.graduationEpoch, BigInt(epoch), seconds),
      incentiveRelease: epochRelease(d.incentiveReserve, d.graduationEpoch, BigInt(epoch), seconds),
    })
  })
  const parameters = {
    emission: epochEmission(params.dailyEmission, seconds),
    scoreBasis: SCORE_BASES[params.scoreBasis]!,
    rewardDenominator: DENOMINATORS[params.denominator]!,
    issuerBonusBps: override.issuerBonusBps ?? BigInt(params.issuerBonusBps),
    tokens: { flock: params.flock, usdc: params.usdc },
  }
  return settleEpoch(parameters, inputs).allocations
}

/** Cumulative rewards: the previous epoch's plus this one's credits (`RewardLedger`). */
export function cumulativeOf(previous: readonly Allocation[], credits: readonly Allocation[]): Allocation[] {
  const ledger = RewardLedger.from(previous)
  ledger.add(credits)
  return ledger.entries()
}

/** The parts of an epoch a test may change before assembling it. */
export type EpochParts = {
  epoch: number
  domain: Hex
  params: RewardParams
  opex: bigint[]
  /** The OpenZeppelin spend tree's leaves. */
  spendLeaves: SpendLeaf[]
  /** The OpenZeppelin reward tree's leaves. */
  rewardLeaves: RewardLeaf[]
  /** The spend list, in list order. */
  spendEntries: SpendListEntry[]
  /** The reward list, in list order. */
  rewardEntries: RewardLeaf[]
  totals: DeploymentTotals[]
  /** The cumulative rewards (what the next epoch's `previous` is). */
  cumulative: Allocation[]
}

/** An honest epoch: the spend leaves' lists and totals, and the cumulative rewards from `previous`. */
export function honestParts(epoch: number, domain: Hex, params: RewardParams, spendLeaves: SpendLeaf[], opex: bigint[], previous: readonly Allocation[]): EpochParts {
  const list = spendList(spendLeaves, params.deployments.map((d) => d.id))
  const cumulative = cumulativeOf(previous, creditsOf(epoch, params, spendLeaves, opex))
  const rewardLeaves = cumulative.map((a) => ({ domain, account: a.account as Hex, token: a.token as Hex, amount: a.amount }))
  return {
    epoch,
    domain,
    params,
    opex,
    spendLeaves,
    rewardLeaves,
    spendEntries: list.entries,
    rewardEntries: rewardList(rewardLeaves),
    totals: list.totals.map((t, i) => ({ ...t, opex: opex[i] ?? 0n })),
    cumulative,
  }
}

/** An assembled epoch: its trees, lists and ledger. */
export type Assembled = EpochParts & { spendTree: StandardTree; rewardTree: StandardTree; spendList: PositionalTree; rewardList: PositionalTree; ledger: Ledger }

const spendValues = (epoch: number, l: SpendLeaf) => [String(epoch), l.deploymentId, l.user, l.gross.toString(), l.charged.toString(), l.receipts.toString(), l.stake.toString()]
const rewardValues = (l: RewardLeaf) => [l.domain, l.account, l.token, l.amount.toString()]

export function assemble(p: EpochParts): Assembled {
  const spendTree = StandardTree.of(p.spendLeaves.map((l) => spendValues(p.epoch, l)), SPEND_LEAF_ENCODING)
  const rewardTree = StandardTree.of(p.rewardLeaves.map(rewardValues), REWARD_LEAF_ENCODING)
  const spendPositional = PositionalTree.of(p.spendEntries.map((e) => spendListLeaf(p.epoch, e)))
  const rewardPositional = PositionalTree.of(p.rewardEntries.map(rewardListLeaf))
  const ledger: Ledger = { totals: p.totals, spendList: spendPositional.root, spendCount: BigInt(p.spendEntries.length), rewardList: rewardPositional.root, rewardCount: BigInt(p.rewardEntries.length) }
  return { ...p, spendTree, rewardTree, spendList: spendPositional, rewardList: rewardPositional, ledger }
}

/**
 * An assembled epoch with some parts changed, rebuilding only the trees those parts feed (an epoch of 100,000 leaves
 * is changed many times in the gas benchmark).
 */
export function reassemble(a: Assembled, change: Partial<Pick<EpochParts, 'spendLeaves' | 'rewardLeaves' | 'spendEntries' | 'rewardEntries' | 'totals'>>): Assembled {
  const p = { ...a, ...change }
  const spendTree = change.spendLeaves ? StandardTree.of(p.spendLeaves.map((l) => spendValues(p.epoch, l)), SPEND_LEAF_ENCODING) : a.spendTree
  const rewardTree = change.rewardLeaves ? StandardTree.of(p.rewardLeaves.map(rewardValues), REWARD_LEAF_ENCODING) : a.rewardTree
  const spendPositional = change.spendEntries ? PositionalTree.of(p.spendEntries.map((e) => spendListLeaf(p.epoch, e))) : a.spendList
  const rewardPositional = change.rewardEntries ? PositionalTree.of(p.rewardEntries.map(rewardListLeaf)) : a.rewardList
  const ledger: Ledger = { totals: p.totals, spendList: spendPositional.root, spendCount: BigInt(p.spendEntries.length), rewardList: rewardPositional.root, rewardCount: BigInt(p.rewardEntries.length) }
  return { ...p, spendTree, rewardTree, spendList: spendPositional, rewardList: rewardPositional, ledger }
}

/** The commitment of an assembled epoch (totals from its OZ spend leaves). */
export function commitmentOf(a: Assembled, configHash: Hex, snapshotBlock: bigint) {
  const sum = (f: (l: SpendLeaf) => bigint) => a.spendLeaves.reduce((n, l) => n + f(l), 0n)
  return {
    spendRoot: a.spendTree.root as Hex,
    rewardRoot: a.rewardTree.root as Hex,
    totalGross: sum((l) => l.gross),
    totalCharged: sum((l) => l.charged),
    receiptCount: sum((l) => l.receipts),
    manifestHash: a.ledger.spendList,
    domain: a.domain,
    proofsHash: zeroHash,
    configHash,
    snapshotBlock,
    ledgerHash: ledgerHash(a.ledger),
  }
}

/** The spend list entry at position `p`, opened as the judge takes it. */
export function spendEntry(a: Assembled, p: number) {
  const e = a.spendEntries[p]!
  return { leaf: e.leaf, prefixGross: e.prefixGross, prefixEligible: e.prefixEligible, prefixCharged: e.prefixCharged, index: BigInt(p), proof: a.spendList.proof(p) }
}

/** The reward list entry at position `p`, opened as the judge takes it. */
export function rewardEntry(a: Assembled, p: number) {
  const e = a.rewardEntries[p]!
  return { account: e.account, token: e.token, cumulative: e.amount, index: BigInt(p), proof: a.rewardList.proof(p) }
}

/** The key of a spend list entry (its deployment must be in the parameters). */
export function spendKeyOf(params: RewardParams, leaf: Pick<SpendLeaf, 'deploymentId' | 'user'>): bigint {
  const i = params.deployments.findIndex((d) => d.id === leaf.deploymentId)
  if (i < 0) throw new Error(`deployment ${leaf.deploymentId} is not in the parameters`)
  return spendKey(i, leaf.user)
}

/** The positions a lookup of keys [low, high] opens in a list of keys in order: the key itself, or its neighbours. */
export function lookupPositions(keys: readonly bigint[], low: bigint, high: bigint = low): number[] {
  if (keys.length === 0) return []
  const at = keys.findIndex((k) => k >= low)
  if (at >= 0 && low === high && keys[at] === low) return [at]
  if (at === 0) return [0]
  if (at < 0) return [keys.length - 1]
  return [at - 1, at]
}

/** The lookup of spend key range [low, high] in an assembled epoch's spend list. */
export function spendLookup(a: Assembled, low: bigint, high: bigint = low) {
  return lookupPositions(a.spendEntries.map((e) => spendKeyOf(a.params, e.leaf)), low, high).map((p) => spendEntry(a, p))
}

/** The lookup of (account, token) in an assembled epoch's reward list. */
export function rewardLookup(a: Assembled, account: Address | Hex, token: Address | Hex) {
  return lookupPositions(a.rewardEntries.map((e) => rewardKey(e.account, e.token)), rewardKey(account as Hex, token as Hex)).map((p) => rewardEntry(a, p))
}

/** The range of spend keys of the deployment at position `i`. */
export function deploymentRange(i: number): [bigint, bigint] {
  const low = BigInt(i + 1) << 160n
  return [low, low | ((1n << 160n) - 1n)]
}

/** The ledger of no epoch (what `challengeReward` takes as the previous ledger when none is final). */
export const NO_LEDGER: Ledger = { totals: [], spendList: zeroHash, spendCount: 0n, rewardList: zeroHash, rewardCount: 0n }

/** `challengeReward`'s arguments for (account, token): the lookups in the current and previous lists and every deployment's spend. */
export function rewardChallengeArgs(a: Assembled, previous: Assembled | undefined, account: Hex, token: Hex) {
  const spends = a.params.deployments.map((d, i) => (BigInt(a.epoch) < d.graduationEpoch ? [] : spendLookup(a, spendKey(i, account))))
  return [BigInt(a.epoch), a.ledger, a.params, previous?.ledger ?? NO_LEDGER, account, token, rewardLookup(a, account, token), previous ? rewardLookup(previous, account, token) : [], spends] as const
}
