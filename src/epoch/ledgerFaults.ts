/**
 * The faults of an epoch's ledger anyone can prove on chain, as EpochJudge finds them (its TypeScript model): the lists out of key order, spend sums that
 * are not the committed totals, OpenZeppelin leaves the lists contradict, and a reward that is not what the spend,
 * the totals, the pinned reward parameters and the last final epoch's rewards give. Pure: the caller reads the files
 * and the chain; each fault names the list positions a challenge opens (src/chain/judge.ts sends it).
 */
import type { Hex } from '../base/bytes.ts'
import { RewardLedger, settleEpoch, type DeploymentEpochInput, type ScoreBasis } from '../economics/epoch.ts'
import { epochEmission, type RewardDenominator } from '../economics/emissions.ts'
import { DAY_SECONDS, epochRelease } from '../economics/supply.ts'
import { rewardKey, spendKey, type Ledger, type RewardListEntry, type RewardParams, type SpendListEntry } from './ledger.ts'
import type { RewardLeaf } from './rewards.ts'
import type { SpendLeaf } from './spend.ts'

/**
 * Where a key is, or would be, in a list sorted by key: the position holding it, or the neighbours around it (one at an
 * end, none in an empty list). Exactly what a challenge's lookup opens.
 */
export type Lookup = { found: boolean; positions: number[] }

export function lookup(keys: readonly bigint[], key: bigint): Lookup {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  if (lo < keys.length && keys[lo] === key) return { found: true, positions: [lo] }
  const positions = [lo - 1, lo].filter((p) => p >= 0 && p < keys.length)
  return { found: false, positions }
}

export type LedgerFault =
  | { kind: 'ledger'; what: string }
  | { kind: 'spend-list'; what: string; positions: number[] }
  | { kind: 'spend-totals'; what: string; deployment: number; positions: number[] }
  | { kind: 'spend-tree'; what: string; leaf: SpendLeaf; positions: number[] }
  | { kind: 'reward-list'; what: string; positions: number[] }
  | { kind: 'reward-tree'; what: string; leaf: RewardLeaf; positions: number[] }
  | { kind: 'reward'; what: string; account: Hex; token: Hex; expected: bigint; found: bigint; current: number[]; previous: number[]; spends: number[][] }
  /** A spend list hashed under another epoch than the pending one: its entries open under no other challenge. */
  | { kind: 'foreign-spend'; what: string; leafEpoch: number; position: number }
  /** A reward list entry under another distributor's domain: it opens under no other challenge. */
  | { kind: 'foreign-reward'; what: string; domain: Hex; position: number }

export type LedgerInput = {
  epoch: number
  params: RewardParams
  ledger: Ledger
  spend: readonly SpendListEntry[]
  reward: readonly RewardListEntry[]
  /** The OpenZeppelin trees' leaves (what claims and verifySpend read). */
  spendLeaves: readonly SpendLeaf[]
  rewardLeaves: readonly RewardLeaf[]
  /** The last final epoch's reward list (empty when none is final). */
  previous: readonly RewardListEntry[]
  /** Per deployment of the parameters, the charged revenue its proofs proved (when the registry takes proofs). */
  provenCharged?: readonly bigint[] | undefined
  /** The commitment's totals, which the ledger's must sum to. */
  committed?: { gross: bigint; charged: bigint } | undefined
}

const SCORE_BASES: readonly ScoreBasis[] = ['net', 'charged', 'gross']
const DENOMINATORS: readonly RewardDenominator[] = ['eligible-stakers', 'all-users']
const lc = (h: string) => h.toLowerCase()

/** The first provable fault of an epoch's ledger, or undefined when a judge would find none. */
export function ledgerFault(input: LedgerInput): LedgerFault | undefined {
  const { params, ledger, spend, reward } = input
  const deployments = params.deployments
  if (ledger.totals.length !== deployments.length) return { kind: 'ledger', what: `the ledger has totals for ${ledger.totals.length} deployments, the reward parameters ${deployments.length}` }
  if (ledger.spendCount === 0n || ledger.rewardCount === 0n) return { kind: 'ledger', what: 'a list is empty' }
  const committed = input.committed
  if (committed) {
    const gross = ledger.totals.reduce((n, t) => n + t.gross, 0n)
    const charged = ledger.totals.reduce((n, t) => n + t.charged, 0n)
    if (gross !== committed.gross || charged !== committed.charged) return { kind: 'ledger', what: `the ledger's totals sum to gross ${gross} and charged ${charged}, the commitment's are ${committed.gross} and ${committed.charged}` }
  }
  const proven = input.provenCharged
  if (proven) for (const [i, t] of ledger.totals.entries()) if (t.charged !== proven[i]) return { kind: 'ledger', what: `deployment ${deployments[i]!.id}: the ledger's charged total ${t.charged} is not the ${proven[i]} its proofs prove` }

  // The spend list: known deployments, keys strictly increasing, each deployment's sums linked and ending at its totals.
  const index = new Map(deployments.map((d, i) => [lc(d.id), i]))
  const spendKeys: bigint[] = []
  for (const [p, e] of spend.entries()) {
    const i = index.get(lc(e.leaf.deploymentId))
    if (i === undefined) return { kind: 'spend-list', what: `spend list entry ${p} is of deployment ${e.leaf.deploymentId}, which the reward parameters do not have`, positions: [p] }
    spendKeys.push(spendKey(i, e.leaf.user))
  }
  for (let p = 0; p < spend.length; p++) {
    const a = spend[p]!
    const i = index.get(lc(a.leaf.deploymentId))!
    if (p === 0 && (a.prefixGross !== 0n || a.prefixEligible !== 0n || a.prefixCharged !== 0n)) return { kind: 'spend-list', what: 'the first spend list entry has non-zero sums before it', positions: [0] }
    const sums = { gross: a.prefixGross + a.leaf.gross, eligible: a.prefixEligible + (a.leaf.stake > 0n ? a.leaf.gross : 0n), charged: a.prefixCharged + a.leaf.charged }
    const b = spend[p + 1]
    if (b !== undefined) {
      if (spendKeys[p + 1]! <= spendKeys[p]!) return { kind: 'spend-list', what: `spend list entries ${p} and ${p + 1} are not in key order`, positions: [p, p + 1] }
      const same = index.get(lc(b.leaf.deploymentId)) === i
      const want = same ? sums : { gross: 0n, eligible: 0n, charged: 0n }
      if (b.prefixGross !== want.gross || b.prefixEligible !== want.eligible || b.prefixCharged !== want.charged)
        return { kind: 'spend-list', what: `spend list entry ${p + 1}: the sums before it are not entry ${p}'s ${same ? 'plus its own' : '(zero: another deployment)'}`, positions: [p, p + 1] }
      if (same) continue
    }
    const t = ledger.totals[i]!
    if (t.gross !== sums.gross || t.eligible !== sums.eligible || t.charged !== sums.charged)
      return { kind: 'spend-list', what: `deployment ${a.leaf.deploymentId}: its spend sums (gross ${sums.gross}, eligible ${sums.eligible}, charged ${sums.charged}) are not the ledger's totals (${t.gross}, ${t.eligible}, ${t.charged})`, positions: b === undefined ? [p] : [p, p + 1] }
  }
  for (const [j, t] of ledger.totals.entries()) {
    if (t.gross === 0n && t.eligible === 0n && t.charged === 0n) continue
    const first = lookup(spendKeys, spendKey(j, '0x0000000000000000000000000000000000000000'))
    const e = spend[first.positions[first.positions.length - 1] ?? -1]
    if (first.found || (e !== undefined && index.get(lc(e.leaf.deploymentId)) === j)) continue
    return { kind: 'spend-totals', what: `deployment ${deployments[j]!.id} has totals but no spend leaf`, deployment: j, positions: first.positions }
  }
  // Every OpenZeppelin spend leaf is the list's entry of its key.
  for (const leaf of input.spendLeaves) {
    const i = index.get(lc(leaf.deploymentId))
    const at = i === undefined ? undefined : lookup(spendKeys, spendKey(i, leaf.user))
    if (at === undefined) return { kind: 'spend-tree', what: `the spend tree has a leaf of deployment ${leaf.deploymentId}, which the reward parameters do not have`, leaf, positions: [] }
    const e = at.found ? spend[at.positions[0]!]!.leaf : undefined
    if (!e || e.gross !== leaf.gross || e.charged !== leaf.charged || e.receipts !== leaf.receipts || e.stake !== leaf.stake || lc(e.user) !== lc(leaf.user))
      return { kind: 'spend-tree', what: `the spend tree's leaf of ${leaf.user} on ${leaf.deploymentId} is ${e ? 'another' : 'not'} in the spend list`, leaf, positions: at.positions }
  }

  // The reward list: keys strictly increasing; every OpenZeppelin reward leaf is its entry.
  const rewardKeys = reward.map((e) => rewardKey(e.account, e.token))
  for (let p = 0; p + 1 < reward.length; p++)
    if (rewardKeys[p + 1]! <= rewardKeys[p]!) return { kind: 'reward-list', what: `reward list entries ${p} and ${p + 1} are not in key order`, positions: [p, p + 1] }
  for (const leaf of input.rewardLeaves) {
    const at = lookup(rewardKeys, rewardKey(leaf.account, leaf.token))
    const e = at.found ? reward[at.positions[0]!] : undefined
    if (!e || e.amount !== leaf.amount || lc(e.domain) !== lc(leaf.domain))
      return { kind: 'reward-tree', what: `the reward tree's leaf of ${leaf.account} in ${leaf.token} is ${e ? 'another' : 'not'} in the reward list`, leaf, positions: at.positions }
  }

  // Each reward: the last final cumulative plus what this epoch's spend, totals and parameters credit.
  const expected = expectedRewards(input)
  const previousKeys = input.previous.map((e) => rewardKey(e.account, e.token))
  const check = (account: Hex, token: Hex) => {
    const key = rewardKey(account, token)
    const at = lookup(rewardKeys, key)
    const found = at.found ? reward[at.positions[0]!]!.amount : 0n
    const want = expected.get(account, token)
    if (found === want) return undefined
    return {
      kind: 'reward' as const,
      what: `the cumulative reward of ${account} in ${token} is ${found}; the spend, totals, parameters and last final rewards give ${want}`,
      account,
      token,
      expected: want,
      found,
      current: at.positions,
      previous: lookup(previousKeys, key).positions,
      spends: deployments.map((_, i) => lookup(spendKeys, spendKey(i, account)).positions),
    }
  }
  for (const e of reward) {
    const f = check(e.account, e.token)
    if (f) return f
  }
  for (const e of expected.entries()) {
    const f = check(e.account as Hex, e.token as Hex)
    if (f) return f
  }
  return undefined
}

/** The cumulative rewards the judge expects: the last final ones plus this epoch's settlement of the spend list. */
export function expectedRewards(input: Pick<LedgerInput, 'epoch' | 'params' | 'ledger' | 'spend' | 'previous'>): RewardLedger {
  const { epoch, params, ledger } = input
  const e = BigInt(epoch)
  const seconds = params.epochSeconds
  const deployments: DeploymentEpochInput[] = []
  params.deployments.forEach((d, i) => {
    if (e < d.graduationEpoch) return
    deployments.push({
      id: d.id,
      issuer: d.issuer,
      mtToken: d.mtToken,
      ageDays: ((e - d.graduationEpoch) * seconds) / DAY_SECONDS,
      opex: ledger.totals[i]?.opex ?? 0n,
      users: input.spend.filter((s) => lc(s.leaf.deploymentId) === lc(d.id)).map((s) => ({ account: s.leaf.user, gross: s.leaf.gross, charged: s.leaf.charged, stake: s.leaf.stake })),
      stakingFundRelease: epochRelease(d.stakingFund, d.graduationEpoch, e, seconds),
      incentiveRelease: epochRelease(d.incentiveReserve, d.graduationEpoch, e, seconds),
    })
  })
  const settlement = settleEpoch(
    {
      emission: epochEmission(params.dailyEmission, seconds),
      scoreBasis: SCORE_BASES[params.scoreBasis]!,
      rewardDenominator: DENOMINATORS[params.denominator]!,
      issuerBonusBps: BigInt(params.issuerBonusBps),
      tokens: { flock: params.flock, usdc: params.usdc },
    },
    deployments,
  )
  const rewards = RewardLedger.from(input.previous.map((p) => ({ account: p.account, token: p.token, amount: p.amount })))
  rewards.add(settlement.allocations)
  return rewards
}
