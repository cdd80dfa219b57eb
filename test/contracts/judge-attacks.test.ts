/**
 * EpochJudge attacked (docs/trust-model.md, property 4): each test is one attack on the judge, from an account with no
 * role. Two failures count: a dishonest proposal no challenge revokes, and an honest one some challenge does. An attack
 * the judge refuses is asserted refused (the named error). Holes in the positional lists (a zero leaf below a count,
 * an entry hashed under another epoch or domain) are revoked by challengeListGap and the foreign-entry challenges.
 * Epochs are built with the helpers of ./ledgerWorld.ts (rewards from src/economics/epoch.ts `settleEpoch`).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeFunctionData, getAddress, getContract, keccak256, parseAbi, parseEventLogs, toHex, zeroAddress, zeroHash, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem'
import { EpochJudge, PoseidonT4, ReentrantToken, RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { distributorBytecode } from '../../src/chain/contracts.ts'
import { rewardKey, rewardList, rewardListLeaf, rewardParamsHash, spendKey, spendListLeaf, type RewardParams } from '../../src/epoch/ledger.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'
import type { SpendLeaf } from '../../src/epoch/spend.ts'
import { PositionalTree, positionalDepth } from '../../src/merkle/positional.ts'
import { ledgerChallenge } from '../../src/chain/judge.ts'
import type { OpenedLedger } from '../../src/epoch/ledger.ts'
import { contractsOn, hardhat, type Artifact } from './hre.ts'
import { assemble, commitmentOf, deploymentRange, honestParts, lookupPositions, reassemble, rewardChallengeArgs, rewardEntry, rewardLookup, spendEntry, spendKeyOf, spendLookup, type Assembled, type EpochParts } from './ledgerWorld.ts'

type Hre = Awaited<ReturnType<typeof hardhat>>
type Judge = { address: Address; write: Record<string, (args: readonly unknown[]) => Promise<Hex>>; simulate: Record<string, (args: readonly unknown[], options: object) => Promise<unknown>> }

let hre: Hre
let wallets: WalletClient<Transport, Chain, Account>[]
let publicClient: PublicClient
let deploy: ReturnType<typeof contractsOn>['deploy']
let as: ReturnType<typeof contractsOn>['as']
let admin: Address, publisher: Address, guardian: Address, alice: Address, carol: Address, dave: Address
let Distributor: Artifact
let StakeTableArtifact: Artifact

beforeAll(async () => {
  hre = await hardhat()
  wallets = (await hre.viem.getWalletClients()) as unknown as WalletClient<Transport, Chain, Account>[]
  publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient
  ;({ deploy, as } = contractsOn(wallets, publicClient))
  ;[admin, publisher, guardian, alice, carol, dave] = wallets.slice(0, 6).map((w) => getAddress(w.account!.address)) as [Address, Address, Address, Address, Address, Address]
  Distributor = { abi: RewardDistributor.abi, bytecode: distributorBytecode((await deploy(PoseidonT4, [])).address) }
  StakeTableArtifact = (await hre.artifacts.readArtifact('StakeTable')) as unknown as Artifact
}, 120_000)

/** The judge's faults, as the event's enum values. */
const FAULT = { LedgerShape: 0, EmptyList: 1, ProvenCharged: 2, CommittedTotals: 3, SpendDeployment: 4, SpendOrder: 5, SpendPrefix: 6, SpendTotals: 7, Stake: 8, SpendTree: 9, Reward: 10, RewardOrder: 11, RewardTree: 12, ListGap: 13, ForeignEntry: 14 } as const


const CONFIG = keccak256('0xa77ac4')
const MAX = (1n << 256n) - 1n
const lower = (a: string) => a.toLowerCase() as Hex
const address = (label: string) => lower(keccak256(toHex(label)).slice(0, 42))
const byRewardKey = (x: { account: Hex; token: Hex }, y: { account: Hex; token: Hex }) => (rewardKey(x.account, x.token) < rewardKey(y.account, y.token) ? -1 : 1)

/** A distributor with its judge; `timelock` seconds before a proposal can be finalized (1, the least, by default). */
async function system(timelock = 1n) {
  const registry = await deploy(Distributor, [admin, publisher, guardian, timelock, zeroAddress, 1000n, zeroAddress, zeroAddress])
  const judge = getContract({ abi: EpochJudge.abi, address: (await registry.read.judge!()) as Address, client: { public: publicClient, wallet: wallets[0]! } })
  return { registry, judge, domain: distributorDomain(await publicClient.getChainId(), registry.address) }
}
type System = Awaited<ReturnType<typeof system>>

/** Pins `params` under CONFIG, each deployment staking on a StakeTable holding the stakes of `rows`. */
async function pin(s: System, params: RewardParams, rows: readonly SpendLeaf[]) {
  const tables: Address[] = []
  for (const d of params.deployments) {
    const table = await deploy(StakeTableArtifact, [])
    const mine = rows.filter((r) => r.deploymentId === d.id)
    if (mine.length > 0) await table.write.set!([mine.map((r) => r.user), mine.map((r) => r.stake)])
    tables.push(table.address)
  }
  await s.registry.write.scheduleConfig!([CONFIG, rewardParamsHash(params), params.deployments.map((d) => d.id), tables, [], [], []])
}

async function propose(s: System, a: Assembled, change: { totalGross?: bigint } = {}) {
  const snapshotBlock = (await publicClient.getBlockNumber({ cacheTime: 0 })) - 1n
  const hash = await as(s.registry, publisher).write.propose!([BigInt(a.epoch), { ...commitmentOf(a, CONFIG, snapshotBlock), ...change }, ''])
  expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success')
}

async function finalize(s: System, a: Assembled) {
  await propose(s, a)
  await s.registry.write.finalize!([BigInt(a.epoch)])
}

/** The judge's ABI with the distributor's errors, which `claimFromList` bubbles up from `payListed`. */
const JUDGE_ABI = [...EpochJudge.abi, ...RewardDistributor.abi.filter((x) => x.type === 'error')] as Abi
const judgeOf = (s: System, from: Address) => as({ address: s.judge.address, abi: JUDGE_ABI }, from) as unknown as Judge

/** Sends a challenge from `from` (no role): it must revoke the pending epoch and name `fault`. */
async function revokes(s: System, functionName: string, args: readonly unknown[], fault: number, from: Address = carol) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await judgeOf(s, from).write[functionName]!(args) })
  expect(receipt.status).toBe('success')
  const [event] = parseEventLogs({ abi: EpochJudge.abi, logs: receipt.logs, eventName: 'EpochFaultProven' })
  expect(event?.args).toMatchObject({ epoch: args[0], challenger: from, fault })
  expect(await s.registry.read.hasPending!()).toBe(false)
  return event!.args
}

/** An assembled epoch as the watcher reads its directory (src/chain/judge.ts `OpenedLedger`), as the pending epoch 10. */
const opened = (a: Assembled): OpenedLedger => ({ epoch: 10, ledger: a.ledger, spend: a.spendEntries, reward: a.rewardEntries, spendTree: a.spendList, rewardTree: a.rewardList })

/** The challenge, simulated from carol, reverts with `error`. */
async function refuses(s: System, functionName: string, args: readonly unknown[], error: string) {
  await expect(judgeOf(s, carol).simulate[functionName]!(args, { account: carol })).rejects.toThrow(error)
}

/**
 * Two live deployments (ids ascending), users spending on one or both with and without a stake, an issuer who also
 * spends, OpEx; u4 spends in epoch 9 only (its rewards carry over to 10 with no spend there).
 */
function world(tokens: { flock: Hex; usdc: Hex } = { flock: address('flock'), usdc: address('usdc') }) {
  const [u1, u2, u3, u4] = ['u1', 'u2', 'u3', 'u4'].map(address) as [Hex, Hex, Hex, Hex]
  const ids = ['attack d0', 'attack d1'].map((l) => keccak256(toHex(l))).sort() as [Hex, Hex]
  const e18 = 10n ** 18n
  const params: RewardParams = {
    dailyEmission: 100_000n * e18,
    epochSeconds: 86_400n,
    issuerBonusBps: 1000,
    scoreBasis: 0,
    denominator: 0,
    ...tokens,
    deployments: [
      { id: ids[0], issuer: u3, mtToken: address('mt 0'), graduationEpoch: 0n, stakingFund: 25_000n * e18, incentiveReserve: 200_000n * e18 },
      { id: ids[1], issuer: address('issuer 1'), mtToken: address('mt 1'), graduationEpoch: 2n, stakingFund: 5_000n * e18, incentiveReserve: 100_000n * e18 },
    ],
  }
  const leaf = (d: number, user: Hex, gross: bigint, charged: bigint, stake: bigint): SpendLeaf => ({ deploymentId: ids[d]!, user, gross, charged, receipts: 2n, stake })
  const spendOf = (k: bigint): SpendLeaf[] => [
    leaf(0, u1, 1000n * k, 900n * k, 50n),
    leaf(0, u2, 3000n * k, 2500n * k, 0n),
    leaf(0, u3, 500n * k, 500n * k, 10n),
    leaf(1, u1, 2000n * k, 1800n * k, 5n),
    leaf(1, u2, 700n * k, 600n * k, 7n),
    ...(k === 1n ? [leaf(0, u4, 400n, 400n, 3n)] : []),
  ]
  return { params, ids, users: [u1, u2, u3, u4] as const, spendOf, opex: [100n, 0n] }
}
type World = ReturnType<typeof world>

/** The world's user `i`. */
const u = (w: World, i: number) => w.users[i]!

/** A system with the world pinned, epoch 9 final, and epoch 10's honest parts (not yet proposed). */
async function epochTen(timelock = 1n, tokens?: { flock: Hex; usdc: Hex }) {
  const s = await system(timelock)
  const w = world(tokens)
  await pin(s, w.params, [...w.spendOf(1n), ...w.spendOf(2n)])
  const nine = assemble(honestParts(9, s.domain, w.params, w.spendOf(1n), w.opex, []))
  await propose(s, nine)
  if (timelock > 1n) await hre.network.provider.send('evm_increaseTime', [Number(timelock)])
  await s.registry.write.finalize!([9n])
  const ten = honestParts(10, s.domain, w.params, w.spendOf(2n), w.opex, nine.cumulative)
  return { s, w, nine, ten }
}

/** The reward list's keys, in list order. */
const rewardKeys = (p: Pick<EpochParts, 'rewardEntries'>) => p.rewardEntries.map((r) => rewardKey(r.account, r.token))

/** `parts` with the reward of (account, token) left out of both the OpenZeppelin tree and the list. */
function without(parts: EpochParts, account: Hex, token: Hex): EpochParts {
  const gone = (r: { account: Hex; token: Hex }) => r.account === account && r.token === token
  return { ...parts, rewardLeaves: parts.rewardLeaves.filter((r) => !gone(r)), rewardEntries: parts.rewardEntries.filter((r) => !gone(r)) }
}

/** An address whose reward key in `token` is below every key of the list (`below`) or above them all. */
function strangerBeyond(parts: EpochParts, token: Hex, below: boolean): Hex {
  const keys = rewardKeys(parts)
  for (let i = 0; ; i++) {
    const candidate = address(`stranger ${i}`)
    const k = rewardKey(candidate, token)
    if (below ? k < keys[0]! : k > keys[keys.length - 1]!) return candidate
  }
}

/**
 * `a` with a list (spend or reward) committed with `extra` zero leaves after its entries: the count covers them, so the
 * positions the judge takes for the list's last (count - 1) and the entries after the last real one hold zero.
 */
function padded(a: Assembled, list: 'spend' | 'reward', extra: number): Assembled {
  const zeros = Array.from({ length: extra }, () => zeroHash)
  if (list === 'spend') {
    const tree = PositionalTree.of([...a.spendEntries.map((e) => spendListLeaf(a.epoch, e)), ...zeros])
    return { ...a, spendList: tree, ledger: { ...a.ledger, spendList: tree.root, spendCount: BigInt(tree.length) } }
  }
  const tree = PositionalTree.of([...a.rewardEntries.map(rewardListLeaf), ...zeros])
  return { ...a, rewardList: tree, ledger: { ...a.ledger, rewardList: tree.root, rewardCount: BigInt(tree.length) } }
}

describe('EpochJudge attacked at the ends of its positional lists', () => {
  it('a list of one: an honest epoch of one spend entry and one reward survives every challenge; a wrong sum or reward in it is revoked', async () => {
    const s = await system()
    const u1 = address('solo user')
    const flock = address('flock')
    // One deployment scored by gross spend, no bonus, no streams, nothing charged: the staker's FLOCK is the only reward.
    const params: RewardParams = {
      dailyEmission: 10n ** 21n,
      epochSeconds: 86_400n,
      issuerBonusBps: 0,
      scoreBasis: 2,
      denominator: 0,
      flock,
      usdc: address('usdc'),
      deployments: [{ id: keccak256(toHex('solo')), issuer: address('solo issuer'), mtToken: address('solo mt'), graduationEpoch: 0n, stakingFund: 0n, incentiveReserve: 0n }],
    }
    const spend: SpendLeaf[] = [{ deploymentId: params.deployments[0]!.id, user: u1, gross: 1000n, charged: 0n, receipts: 1n, stake: 10n }]
    await pin(s, params, spend)
    const honest = honestParts(1, s.domain, params, spend, [0n], [])
    expect([honest.spendEntries.length, honest.rewardEntries.length]).toEqual([1, 1])
    const a = assemble(honest)
    expect(a.spendList.proof(0)).toEqual([])
    await propose(s, a)
    const noFault = (fn: string, args: readonly unknown[]) => refuses(s, fn, args, 'EpochJudgeNoFault')
    await noFault('challengeLedger', [1n, a.ledger, params])
    await noFault('challengeSpendList', [1n, a.ledger, params, [spendEntry(a, 0)]])
    await noFault('challengeStake', [1n, a.ledger, spendEntry(a, 0)])
    await noFault('challengeSpendTree', [1n, a.ledger, params, spend[0]!, a.spendTree.getProof(0), spendLookup(a, spendKeyOf(params, spend[0]!))])
    await noFault('challengeRewardTree', [1n, a.ledger, u1, flock, a.rewardEntries[0]!.amount, a.rewardTree.getProof(0), rewardLookup(a, u1, flock)])
    await noFault('challengeReward', rewardChallengeArgs(a, undefined, u1, flock))
    // A key on either side of the only entry is shown absent by it (it is both position 0 and position count - 1).
    const below = strangerBeyond(honest, flock, true)
    const above = strangerBeyond(honest, flock, false)
    for (const stranger of [below, above, params.deployments[0]!.issuer]) await noFault('challengeReward', rewardChallengeArgs(a, undefined, stranger, flock))
    // The only entry cannot be its own neighbour.
    await refuses(s, 'challengeRewardList', [1n, a.ledger, [rewardEntry(a, 0), rewardEntry(a, 0)]], 'EpochJudgeBadLookup')
    await as(s.registry, guardian).write.revoke!([1n])

    // The same epoch with its one deployment's gross total one above its one entry (the commitment raised to match).
    const raised = reassemble(a, { totals: [{ ...a.totals[0]!, gross: a.totals[0]!.gross + 1n }] })
    await propose(s, raised, { totalGross: 1001n })
    expect((await revokes(s, 'challengeSpendList', [1n, raised.ledger, params, [spendEntry(raised, 0)]], FAULT.SpendTotals)).subject).toBe(0n)
    // And with its one reward one unit short.
    const short = reassemble(a, { rewardEntries: [{ ...a.rewardEntries[0]!, amount: a.rewardEntries[0]!.amount - 1n }] })
    await propose(s, short)
    await revokes(s, 'challengeReward', rewardChallengeArgs(short, undefined, u1, flock), FAULT.Reward)
  })

  it('the first and the last entry: a key below the first or above the last is shown absent by one end, and a reward left out there is revoked', async () => {
    const { s, w, nine, ten } = await epochTen()
    const a = assemble(ten)
    await propose(s, a)
    const flock = w.params.flock
    for (const below of [true, false]) await refuses(s, 'challengeReward', rewardChallengeArgs(a, nine, strangerBeyond(ten, flock, below), flock), 'EpochJudgeNoFault')
    // The ends of a list are position 0 and position count - 1, nothing else: the last entry passed off as the first fails.
    const last = a.rewardEntries.length - 1
    const args = rewardChallengeArgs(a, nine, strangerBeyond(ten, flock, true), flock)
    await refuses(s, 'challengeReward', [...args.slice(0, 6), [rewardEntry(a, last)], ...args.slice(7)], 'EpochJudgeBadLookup')
    await as(s.registry, guardian).write.revoke!([10n])

    // The reward with the smallest key, then the one with the largest, left out of both trees.
    for (const at of [0, last]) {
      const { account, token } = ten.rewardEntries[at]!
      const b = assemble(without(ten, account, token))
      await propose(s, b)
      const args = rewardChallengeArgs(b, nine, account, token)
      expect(args[6].map((e) => e.index)).toEqual([at === 0 ? 0n : BigInt(b.rewardEntries.length - 1)])
      const event = await revokes(s, 'challengeReward', args, FAULT.Reward)
      expect(event).toMatchObject({ subject: rewardKey(account, token), committed: 0n, expected: ten.rewardEntries[at]!.amount })
    }
  })

  it('an empty list (count 0) is revoked as EmptyList whatever its root, and nothing opens in it', async () => {
    const { s, ten } = await epochTen()
    const a = assemble(ten)
    for (const ledger of [{ ...a.ledger, rewardCount: 0n }, { ...a.ledger, spendCount: 0n }]) {
      const empty = { ...a, ledger }
      await propose(s, empty)
      await refuses(s, 'challengeRewardList', [10n, ledger, [rewardEntry(a, 0), rewardEntry(a, 1)]], ledger.rewardCount === 0n ? 'EpochJudgeNotInList' : 'EpochJudgeNoFault')
      await refuses(s, 'challengeStake', [10n, ledger, spendEntry(a, 0)], ledger.spendCount === 0n ? 'EpochJudgeNotInList' : 'EpochJudgeNoFault')
      const event = await revokes(s, 'challengeLedger', [10n, ledger, a.params], FAULT.EmptyList)
      expect(event).toMatchObject({ committed: ledger.spendCount, expected: ledger.rewardCount })
    }
  })

  it('a position at or past the count, a padding position, or a proof of another depth opens nothing', async () => {
    const { s, ten } = await epochTen()
    const a = assemble(ten)
    await propose(s, a)
    const n = a.spendEntries.length
    // A tree one entry longer holds a real leaf at position n, with a proof of the same depth (n is not a power of 2).
    expect(n & (n - 1)).not.toBe(0)
    const longer = reassemble(a, { spendEntries: [...a.spendEntries, a.spendEntries[0]!] })
    const pastEnd = { ...spendEntry(longer, n), index: BigInt(n) }
    expect(pastEnd.proof).toHaveLength(a.spendList.proof(0).length)
    await refuses(s, 'challengeStake', [10n, a.ledger, pastEnd], 'EpochJudgeNotInList')
    await refuses(s, 'challengeSpendList', [10n, a.ledger, a.params, [spendEntry(a, n - 1), pastEnd]], 'EpochJudgeNotInList')
    // Position 2^256 - 1 (a padding position as far as the tree goes), and index bits above the depth.
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...spendEntry(a, 0), index: MAX }], 'EpochJudgeNotInList')
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...spendEntry(a, 1), index: 1n + (1n << 200n) }], 'EpochJudgeNotInList')
    // A proof one sibling short (an inner node opened as a leaf) or one too long.
    const e = spendEntry(a, 2)
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...e, proof: e.proof.slice(1) }], 'EpochJudgeNotInList')
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...e, proof: [...e.proof, zeroHash] }], 'EpochJudgeNotInList')
    // The same for the reward list.
    const r = rewardEntry(a, 1)
    await refuses(s, 'challengeRewardList', [10n, a.ledger, [r, { ...rewardEntry(a, 2), index: BigInt(a.rewardEntries.length) }]], 'EpochJudgeNotInList')
    await refuses(s, 'challengeRewardList', [10n, a.ledger, [{ ...r, proof: r.proof.slice(1) }, rewardEntry(a, 2)]], 'EpochJudgeNotInList')
    expect(await s.registry.read.hasPending!()).toBe(true)
  })

  it('a count smaller than the list (its last leaf kept past the count) hides nothing: that reward is shown absent by position count - 1', async () => {
    const { s, nine, ten } = await epochTen()
    const n = ten.rewardEntries.length
    // The tree of all n leaves has the depth a list of n - 1 has, so its proofs are taken at that count.
    expect(positionalDepth(n - 1)).toBe(positionalDepth(n))
    const largest = ten.rewardEntries[n - 1]!
    const base = assemble(without(ten, largest.account, largest.token))
    const tree = PositionalTree.of(ten.rewardEntries.map(rewardListLeaf))
    const a: Assembled = { ...base, rewardList: tree, ledger: { ...base.ledger, rewardList: tree.root, rewardCount: BigInt(n - 1) } }
    await propose(s, a)
    const args = rewardChallengeArgs(a, nine, largest.account, largest.token)
    expect(args[6].map((e) => e.index)).toEqual([BigInt(n - 2)])
    // The leaf past the count does not open, at its position or as the last one.
    await refuses(s, 'challengeReward', [...args.slice(0, 6), [{ ...rewardEntry(a, n - 2), account: largest.account, token: largest.token, cumulative: largest.amount, index: BigInt(n - 1), proof: tree.proof(n - 1) }], ...args.slice(7)], 'EpochJudgeNotInList')
    expect(await revokes(s, 'challengeReward', args, FAULT.Reward)).toMatchObject({ committed: 0n, expected: largest.amount })
  })

  it('a reward list committed with a count past its entries (the largest key left out) is revoked by opening the zero leaf below the count', async () => {
    const { s, ten } = await epochTen()
    const largest = ten.rewardEntries[ten.rewardEntries.length - 1]!
    const a = padded(assemble(without(ten, largest.account, largest.token)), 'reward', 1)
    await propose(s, a)
    const realCount = a.rewardEntries.length
    expect(a.ledger.rewardCount).toBe(BigInt(realCount + 1))
    // The TypeScript model of the lists agrees the zero leaf sits below the count.
    expect(PositionalTree.verify(a.ledger.rewardList, realCount + 1, realCount, zeroHash, a.rewardList.proof(realCount))).toBe(true)
    expect(await revokes(s, 'challengeListGap', [10n, a.ledger, true, BigInt(realCount), a.rewardList.proof(realCount)], FAULT.ListGap)).toMatchObject({ subject: BigInt(realCount) })
  })

  it('a spend list committed with a count past its entries (the last deployment\'s totals raised) is revoked by opening the zero leaf below the count', async () => {
    const { s, w, nine } = await epochTen()
    // A phantom staker, the last key of the last deployment: its gross is in the totals and the rewards' weights, its
    // entry and rewards are not in the lists (its position holds the zero padding).
    const phantom: SpendLeaf = { deploymentId: w.ids[1], user: lower(`0x${'ff'.repeat(20)}`), gross: 10_000n, charged: 0n, receipts: 1n, stake: 1n }
    const full = honestParts(10, s.domain, w.params, [...w.spendOf(2n), phantom], w.opex, nine.cumulative)
    const real = w.spendOf(2n)
    const cumulative = full.cumulative.filter((x) => x.account !== phantom.user)
    const rewardLeaves = cumulative.map((x) => ({ domain: s.domain, account: x.account as Hex, token: x.token as Hex, amount: x.amount }))
    const parts: EpochParts = { ...full, spendLeaves: real, spendEntries: full.spendEntries.filter((e) => e.leaf.user !== phantom.user), rewardLeaves, rewardEntries: rewardList(rewardLeaves), cumulative }
    const a = padded(assemble(parts), 'spend', 1)
    await propose(s, a, { totalGross: a.totals.reduce((n, t) => n + t.gross, 0n) })
    const last = a.spendEntries.length - 1
    expect(await revokes(s, 'challengeListGap', [10n, a.ledger, false, BigInt(last + 1), a.spendList.proof(last + 1)], FAULT.ListGap)).toMatchObject({ subject: BigInt(last + 1) })
  })

  it('a zero leaf in the middle of the reward list, in place of a reward, is revoked by opening it', async () => {
    const { s, w, ten } = await epochTen()
    const at = ten.rewardEntries.findIndex((r) => r.account === u(w, 0) && r.token === w.params.flock)
    const leaves = ten.rewardEntries.map((r, i) => (i === at ? zeroHash : rewardListLeaf(r)))
    const tree = PositionalTree.of(leaves)
    const base = assemble(without(ten, u(w, 0), w.params.flock))
    const a: Assembled = { ...base, rewardEntries: ten.rewardEntries, rewardList: tree, ledger: { ...base.ledger, rewardList: tree.root, rewardCount: BigInt(leaves.length) } }
    await propose(s, a)
    expect(await revokes(s, 'challengeListGap', [10n, a.ledger, true, BigInt(at), tree.proof(at)], FAULT.ListGap)).toMatchObject({ subject: BigInt(at) })
  })

  it('a reward entry under another domain is revoked by opening it under that domain', async () => {
    const { s, w, ten } = await epochTen()
    const foreign = keccak256(toHex('another distributor'))
    const at = ten.rewardEntries.findIndex((r) => r.account === u(w, 0) && r.token === w.params.flock)
    const moved = (r: (typeof ten.rewardEntries)[number]) => (r.account === u(w, 0) && r.token === w.params.flock ? { ...r, domain: foreign } : r)
    const a = assemble({ ...ten, rewardLeaves: ten.rewardLeaves.map(moved), rewardEntries: ten.rewardEntries.map(moved) })
    await propose(s, a)
    // As the watcher sends it (src/chain/judge.ts `ledgerChallenge`).
    const call = ledgerChallenge({ kind: 'foreign-reward', what: 'foreign', domain: foreign, position: at }, opened(a), w.params, undefined, undefined as never)
    expect(call.args).toEqual([10n, a.ledger, foreign, rewardEntry(a, at)])
    await revokes(s, call.functionName, call.args, FAULT.ForeignEntry)
  })

  it('a spend list hashed under another epoch is revoked by opening an entry under that epoch', async () => {
    const { s, w, ten } = await epochTen()
    const raise = (r: (typeof ten.rewardEntries)[number]) => (r.account === u(w, 0) && r.token === w.params.flock ? { ...r, amount: r.amount + 10n ** 18n } : r)
    const honest = assemble({ ...ten, rewardLeaves: ten.rewardLeaves.map(raise), rewardEntries: ten.rewardEntries.map(raise) })
    const tree = PositionalTree.of(ten.spendEntries.map((e) => spendListLeaf(9, e)))
    const a: Assembled = { ...honest, spendList: tree, ledger: { ...honest.ledger, spendList: tree.root } }
    await propose(s, a)
    const call = ledgerChallenge({ kind: 'foreign-spend', what: 'foreign', leafEpoch: 9, position: 0 }, opened(a), w.params, undefined, undefined as never)
    expect(call.args).toEqual([10n, a.ledger, 9n, spendEntry(a, 0)])
    await revokes(s, call.functionName, call.args, FAULT.ForeignEntry)
  })

  it('an honest epoch survives the gap and foreign-entry challenges at every position', async () => {
    const { s, ten } = await epochTen()
    const a = assemble(ten)
    await propose(s, a)
    for (let p = 0; p < a.rewardEntries.length; p++) {
      await refuses(s, 'challengeListGap', [10n, a.ledger, true, BigInt(p), a.rewardList.proof(p)], 'EpochJudgeNotInList')
      await refuses(s, 'challengeForeignReward', [10n, a.ledger, s.domain, rewardEntry(a, p)], 'EpochJudgeNoFault')
      await refuses(s, 'challengeForeignReward', [10n, a.ledger, keccak256(toHex('another distributor')), rewardEntry(a, p)], 'EpochJudgeNotInList')
    }
    for (let p = 0; p < a.spendEntries.length; p++) {
      await refuses(s, 'challengeListGap', [10n, a.ledger, false, BigInt(p), a.spendList.proof(p)], 'EpochJudgeNotInList')
      await refuses(s, 'challengeForeignSpend', [10n, a.ledger, 10n, spendEntry(a, p)], 'EpochJudgeNoFault')
      await refuses(s, 'challengeForeignSpend', [10n, a.ledger, 9n, spendEntry(a, p)], 'EpochJudgeNotInList')
    }
    // Positions at or past the count open nothing, zero or not.
    const n = a.rewardEntries.length
    await refuses(s, 'challengeListGap', [10n, a.ledger, true, BigInt(n), a.rewardList.proof(n - 1)], 'EpochJudgeNotInList')
    expect(await s.registry.read.hasPending!()).toBe(true)
  })
})

describe('EpochJudge attacked through the final reward list and claimFromList', () => {
  /** A world whose FLOCK is `flock`, epoch 10 (changed by `change`) final without challenge. */
  async function finalTen<T extends { address: Address }>(change: (p: EpochParts, w: World) => EpochParts, flock: T) {
    const { s, w, ten } = await epochTen(1n, { flock: lower(flock.address), usdc: address('usdc') })
    const a = assemble(change(ten, w))
    await finalize(s, a)
    return { s, w, a, flock }
  }
  const claim = (s: System, args: readonly unknown[]) => judgeOf(s, carol).write.claimFromList!(args)

  it('duplicate keys left in a final list pay the larger amount once, in either order, never the sum', async () => {
    const flock = await deploy(TestToken, ['FLOCK', 'FLOCK', 18])
    const leaf = (amount: bigint) => ({ domain: zeroHash as Hex, account: lower(alice), token: lower(flock.address), amount })
    for (const order of [[500n, 700n], [700n, 500n]]) {
      // Alice twice, side by side (a RewardOrder fault no one challenged in the timelock).
      const { s, a } = await finalTen((p) => {
        const twice = order.map((x) => ({ ...leaf(x), domain: p.domain }))
        const entries = [...p.rewardEntries, twice[0]!].sort(byRewardKey)
        const at = entries.findIndex((r) => r.account === lower(alice))
        return { ...p, rewardEntries: [...entries.slice(0, at + 1), twice[1]!, ...entries.slice(at + 1)] }
      }, flock)
      await flock.write.mint!([s.registry.address, 10n ** 24n])
      const p = a.rewardEntries.findIndex((r) => r.account === lower(alice))
      const at = (i: number) => [alice, flock.address, a.rewardEntries[i]!.amount, BigInt(i), a.rewardList.proof(i), a.ledger] as const
      const before = await flock.read.balanceOf!([alice])
      await claim(s, at(p))
      // The second leaf pays its difference if larger, nothing (a revert) if not; a repeat of either pays nothing.
      if (order[1]! > order[0]!) await claim(s, at(p + 1))
      else await expect(claim(s, at(p + 1))).rejects.toThrow('RewardDistributorNothingToClaim')
      for (const i of [p, p + 1]) await expect(claim(s, at(i))).rejects.toThrow('RewardDistributorNothingToClaim')
      expect((await flock.read.balanceOf!([alice])) - before).toBe(700n)
      expect(await s.registry.read.claimed!([alice, flock.address])).toBe(700n)
    }
  })

  it('a final leaf under another domain, of an older final list, or a position past the count is not paid', async () => {
    const foreign = keccak256(toHex('another distributor'))
    const { s, w, a, flock } = await finalTen((p) => {
      const mine = { domain: foreign, account: lower(alice), token: p.params.flock, amount: 900n }
      return { ...p, rewardEntries: [...p.rewardEntries, mine].sort(byRewardKey) }
    }, await deploy(TestToken, ['FLOCK', 'FLOCK', 18]))
    await flock.write.mint!([s.registry.address, 10n ** 24n])
    const p = a.rewardEntries.findIndex((r) => r.account === lower(alice))
    await expect(claim(s, [alice, flock.address, 900n, BigInt(p), a.rewardList.proof(p), a.ledger])).rejects.toThrow('EpochJudgeNotInList')
    // Epoch 11 final: epoch 10's ledger is no longer the one claims are taken from.
    const eleven = assemble(honestParts(11, s.domain, w.params, w.spendOf(3n), w.opex, a.cumulative))
    await finalize(s, eleven)
    const q = a.rewardEntries.findIndex((r) => r.account === u(w, 0) && r.token === w.params.flock)
    await expect(claim(s, [u(w, 0), flock.address, a.rewardEntries[q]!.amount, BigInt(q), a.rewardList.proof(q), a.ledger])).rejects.toThrow('EpochJudgeWrongLedger')
    // Epoch 11's last entry opened one position on.
    const n = eleven.rewardEntries.length
    const lastEntry = eleven.rewardEntries[n - 1]!
    await expect(claim(s, [lastEntry.account, lastEntry.token, lastEntry.amount, BigInt(n), eleven.rewardList.proof(n - 1), eleven.ledger])).rejects.toThrow('EpochJudgeNotInList')
    expect(await flock.read.balanceOf!([alice])).toBe(0n)
  })

  it('a token that re-enters claimFromList (or claim) on transfer cannot make the list pay twice', async () => {
    const re = await deploy(ReentrantToken, [])
    const { s, a } = await finalTen((p) => {
      const mine = { domain: p.domain, account: lower(alice), token: lower(re.address), amount: 300n }
      return { ...p, rewardEntries: [...p.rewardEntries, mine].sort(byRewardKey) }
    }, re)
    await re.write.mint!([s.registry.address, 10_000n])
    const p = a.rewardEntries.findIndex((r) => r.account === lower(alice))
    const args = [alice, re.address, 300n, BigInt(p), a.rewardList.proof(p), a.ledger] as const
    // The inner claim finds the leaf paid (claimed is raised before the transfer) and reverts, and so does the outer one.
    await re.write.arm!([s.judge.address, encodeFunctionData({ abi: EpochJudge.abi, functionName: 'claimFromList', args })])
    await expect(claim(s, args)).rejects.toThrow('RewardDistributorNothingToClaim')
    expect(await re.read.balanceOf!([alice])).toBe(0n)
    expect(await s.registry.read.claimed!([alice, re.address])).toBe(0n)
    // Disarmed, it pays once; the list's leaf again pays nothing.
    await re.write.arm!([zeroAddress, '0x'])
    await claim(s, args)
    await expect(claim(s, args)).rejects.toThrow('RewardDistributorNothingToClaim')
    expect(await re.read.balanceOf!([alice])).toBe(300n)
    expect(await re.read.balanceOf!([s.registry.address])).toBe(9_700n)
  })
})

describe('EpochJudge attacked through keys, sums and other epochs', () => {
  it('a deployment position past the pinned deployments decides nothing; a spend leaf of an unpinned deployment is a fault, not a lookup', async () => {
    const { s, w, nine, ten } = await epochTen()
    const a = assemble(ten)
    await propose(s, a)
    for (const position of [2n, 3n, MAX]) await refuses(s, 'challengeSpendTotals', [10n, a.ledger, a.params, position, spendLookup(a, ...deploymentRange(1))], 'EpochJudgeBadLookup')
    // The key range of position 2 (past the last deployment) holds nothing, yet it is no deployment's to be shown empty.
    await refuses(s, 'challengeSpendTotals', [10n, a.ledger, a.params, 2n, spendLookup(a, ...deploymentRange(2))], 'EpochJudgeBadLookup')
    await as(s.registry, guardian).write.revoke!([10n])
    // A spend entry of a deployment not pinned, appended last: used as a lookup's neighbour it is refused, opened alone it revokes.
    const stranger = { leaf: { ...ten.spendEntries[0]!.leaf, deploymentId: keccak256(toHex('unpinned')) }, prefixGross: 0n, prefixEligible: 0n, prefixCharged: 0n }
    const b = assemble({ ...ten, spendEntries: [...ten.spendEntries, stranger] })
    await propose(s, b)
    const n = b.spendEntries.length
    // A reward lookup of a user whose deployment-1 key passes every real entry's: its neighbours would be the last real
    // entry and the unpinned one, which has no key.
    const nobody = lower(`0x${'ff'.repeat(19)}fe`)
    const keys = b.spendEntries.slice(0, n - 1).map((e) => spendKeyOf(b.params, e.leaf))
    const spends = [lookupPositions(keys, spendKey(0, nobody)).map((p) => spendEntry(b, p)), [spendEntry(b, n - 2), spendEntry(b, n - 1)]]
    const args = [10n, b.ledger, b.params, nine.ledger, nobody, w.params.flock, rewardLookup(b, nobody, w.params.flock), rewardLookup(nine, nobody, w.params.flock), spends]
    await refuses(s, 'challengeReward', args, 'EpochJudgeBadLookup')
    await revokes(s, 'challengeSpendList', [10n, b.ledger, b.params, [spendEntry(b, n - 1)]], FAULT.SpendDeployment)
  })

  it('prefix sums and totals that overflow 2^256 - 1 are faults, not reverts', async () => {
    const { s, ten } = await epochTen()
    // An entry whose sums before it, plus its own, pass 2^256 - 1: gross, and eligible (a staked leaf).
    for (const field of ['prefixGross', 'prefixEligible'] as const) {
      const a = assemble({ ...ten, spendEntries: ten.spendEntries.map((e, i) => (i === 1 ? { ...e, leaf: { ...e.leaf, stake: 1n }, [field]: MAX } : e)) })
      await propose(s, a)
      expect((await revokes(s, 'challengeSpendList', [10n, a.ledger, a.params, [spendEntry(a, 1)]], FAULT.SpendPrefix)).subject).toBe(1n)
    }
    // Totals whose gross wraps past 2^256 to exactly the committed total.
    const honest = assemble(ten)
    const committed = honest.totals[1]!.gross
    const wrapped = reassemble(honest, { totals: [{ ...honest.totals[0]!, gross: MAX }, { ...honest.totals[1]!, gross: committed + 1n }] })
    await propose(s, wrapped, { totalGross: committed })
    expect(await revokes(s, 'challengeLedger', [10n, wrapped.ledger, wrapped.params], FAULT.CommittedTotals)).toMatchObject({ subject: 0n, expected: committed })
  })

  it('a reward carried over from the final epoch (no spend now) left out of the list is revoked; another epoch\'s ledger or list is refused', async () => {
    const { s, w, nine, ten } = await epochTen()
    const u4 = u(w, 3)
    const carried = nine.cumulative.filter((x) => x.account === u4)
    expect(carried.length).toBeGreaterThan(0)
    // Honest: u4's rewards carry over unchanged, and survive.
    const honest = assemble(ten)
    await propose(s, honest)
    for (const x of carried) {
      expect(honest.rewardEntries.find((r) => r.account === u4 && r.token === x.token)!.amount).toBe(x.amount)
      await refuses(s, 'challengeReward', rewardChallengeArgs(honest, nine, u4, x.token as Hex), 'EpochJudgeNoFault')
    }
    // Epoch 9's ledger given as the pending one, the pending one as the previous, and epoch 9's entries opened in epoch 10's list.
    const args = rewardChallengeArgs(honest, nine, u4, w.params.flock)
    await refuses(s, 'challengeReward', [args[0], nine.ledger, ...args.slice(2)], 'EpochJudgeWrongLedger')
    await refuses(s, 'challengeReward', [...args.slice(0, 3), honest.ledger, ...args.slice(4)], 'EpochJudgeWrongLedger')
    await refuses(s, 'challengeReward', [...args.slice(0, 7), args[6], args[8]], 'EpochJudgeNotInList')
    await refuses(s, 'challengeStake', [10n, honest.ledger, spendEntry(nine, 0)], 'EpochJudgeNotInList')
    // The same entry, same position, same leaf values, but a list of another epoch: the epoch is in the leaf.
    const same = ten.spendEntries.findIndex((e) => e.leaf.user === u(w, 0))
    await refuses(s, 'challengeStake', [10n, honest.ledger, { ...spendEntry(honest, same), proof: PositionalTree.of(ten.spendEntries.map((e) => spendListLeaf(9, e))).proof(same) }], 'EpochJudgeNotInList')
    // Epoch 9's OpenZeppelin leaves, with their proofs, are not leaves of epoch 10's trees.
    const oldLeaf = nine.spendLeaves[0]!
    const oldValues = ['9', oldLeaf.deploymentId, oldLeaf.user, oldLeaf.gross.toString(), oldLeaf.charged.toString(), oldLeaf.receipts.toString(), oldLeaf.stake.toString()]
    await refuses(s, 'challengeSpendTree', [10n, honest.ledger, honest.params, oldLeaf, nine.spendTree.getProof(oldValues), spendLookup(honest, spendKeyOf(honest.params, oldLeaf))], 'EpochJudgeNotInTree')
    const oldReward = nine.rewardLeaves[0]!
    const oldRewardProof = nine.rewardTree.getProof([oldReward.domain, oldReward.account, oldReward.token, oldReward.amount.toString()])
    await refuses(s, 'challengeRewardTree', [10n, honest.ledger, oldReward.account, oldReward.token, oldReward.amount, oldRewardProof, rewardLookup(honest, oldReward.account, oldReward.token)], 'EpochJudgeNotInTree')
    // The pending ledger under the next epoch's number.
    await refuses(s, 'challengeLedger', [11n, honest.ledger, honest.params], 'EpochJudgeNotPending')
    await as(s.registry, guardian).write.revoke!([10n])

    // Dishonest: u4 dropped from both trees, as if it had never been rewarded.
    const dropped = assemble({ ...ten, rewardLeaves: ten.rewardLeaves.filter((r) => r.account !== u4), rewardEntries: ten.rewardEntries.filter((r) => r.account !== u4) })
    await propose(s, dropped)
    const event = await revokes(s, 'challengeReward', rewardChallengeArgs(dropped, nine, u4, carried[0]!.token as Hex), FAULT.Reward)
    expect(event).toMatchObject({ committed: 0n, expected: carried[0]!.amount })
  })

  it('a later final epoch\'s ledger is the previous one: an older final ledger is refused as the previous', async () => {
    const { s, w, nine, ten } = await epochTen()
    const a = assemble(ten)
    await finalize(s, a)
    const eleven = assemble(honestParts(11, s.domain, w.params, w.spendOf(3n), w.opex, a.cumulative))
    await propose(s, eleven)
    const args = rewardChallengeArgs(eleven, a, u(w, 0), w.params.flock)
    await refuses(s, 'challengeReward', args, 'EpochJudgeNoFault')
    const older = rewardChallengeArgs(eleven, nine, u(w, 0), w.params.flock)
    await refuses(s, 'challengeReward', older, 'EpochJudgeWrongLedger')
  })

  it('challengeStake: a row opened with any field changed (receipts, a prefix, its position) is not the list\'s; an address\'s spelling does not matter', async () => {
    const { s, w, ten } = await epochTen()
    const a = assemble(ten)
    await propose(s, a)
    const p = a.spendEntries.findIndex((e) => e.leaf.user === u(w, 0) && e.leaf.deploymentId === w.ids[1])
    const e = spendEntry(a, p)
    await refuses(s, 'challengeStake', [10n, a.ledger, e], 'EpochJudgeNoFault')
    // Checksummed or lower case, the ABI encodes one address.
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...e, leaf: { ...e.leaf, user: getAddress(e.leaf.user) } }], 'EpochJudgeNoFault')
    for (const changed of [{ ...e, leaf: { ...e.leaf, receipts: e.leaf.receipts + 1n } }, { ...e, prefixGross: e.prefixGross + 1n }, { ...e, prefixCharged: 1n }, { ...e, index: e.index + 1n }, { ...e, leaf: { ...e.leaf, deploymentId: w.ids[0] } }])
      await refuses(s, 'challengeStake', [10n, a.ledger, changed], 'EpochJudgeNotInList')
    expect(await s.registry.read.hasPending!()).toBe(true)
  })
})

describe('EpochJudge attacked by size: a challenge must fit in a block', () => {
  it('the dearest challenge (a reward recomputed over every pinned deployment) grows with the admin\'s deployment count, not with anything the proposal chooses', async () => {
    const used: Array<[number, bigint]> = []
    for (const count of [1, 8, 32]) {
      const s = await system()
      const table = await deploy(StakeTableArtifact, [])
      const staker = address('every deployment')
      const params: RewardParams = {
        dailyEmission: 10n ** 23n,
        epochSeconds: 86_400n,
        issuerBonusBps: 500,
        scoreBasis: 0,
        denominator: 0,
        flock: address('flock'),
        usdc: address('usdc'),
        deployments: Array.from({ length: count }, (_, i) => ({ id: keccak256(toHex(`deployment ${i}`)), issuer: address(`issuer ${i}`), mtToken: address(`mt ${i}`), graduationEpoch: 0n, stakingFund: 10n ** 21n, incentiveReserve: 10n ** 22n })).sort((x, y) => (x.id < y.id ? -1 : 1)),
      }
      // The staker and one other user spend on every deployment: each lookup opens an entry.
      const spend = params.deployments.flatMap((d, i): SpendLeaf[] => [
        { deploymentId: d.id, user: staker, gross: 1000n + BigInt(i), charged: 900n, receipts: 1n, stake: 5n },
        { deploymentId: d.id, user: address(`user ${i}`), gross: 500n, charged: 500n, receipts: 1n, stake: 0n },
      ])
      await table.write.set!([[staker], [5n]])
      await s.registry.write.scheduleConfig!([CONFIG, rewardParamsHash(params), params.deployments.map((d) => d.id), params.deployments.map(() => table.address), [], [], []])
      const honest = honestParts(1, s.domain, params, spend, params.deployments.map(() => 0n), [])
      const raise = (r: (typeof honest.rewardEntries)[number]) => (r.account === staker && r.token === params.flock ? { ...r, amount: r.amount + 1n } : r)
      const a = assemble({ ...honest, rewardLeaves: honest.rewardLeaves.map(raise), rewardEntries: honest.rewardEntries.map(raise) })
      await propose(s, a)
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await judgeOf(s, carol).write.challengeReward!(rewardChallengeArgs(a, undefined, staker, params.flock)) })
      expect(receipt.status).toBe('success')
      used.push([count, receipt.gasUsed])
    }
    console.log(`challengeReward gas by pinned deployments (2 spend entries each): ${used.map(([n, g]) => `${n}: ${g}`).join(', ')}`)
    // Linear in the deployments: far below a 30,000,000-gas block at 32 of them.
    for (const [, gas] of used) expect(gas).toBeLessThan(30_000_000n)
  })
})

describe('EpochJudge attacked in time: twice, late, raced', () => {
  it('a fault proven twice, by a second challenger racing the first, or after a guardian: the second is refused; the old proof does not fit a new proposal', async () => {
    const { s, w, nine, ten } = await epochTen()
    const bump = (r: (typeof ten.rewardEntries)[number]) => (r.account === u(w, 1) && r.token === w.params.flock ? { ...r, amount: r.amount + 1n } : r)
    const bad = assemble({ ...ten, rewardLeaves: ten.rewardLeaves.map(bump), rewardEntries: ten.rewardEntries.map(bump) })
    await propose(s, bad)
    const args = rewardChallengeArgs(bad, nine, u(w, 1), w.params.flock)
    // Two challengers race; the first mined revokes; the second finds nothing pending (no bond or reward to steal).
    await revokes(s, 'challengeReward', args, FAULT.Reward, dave)
    await refuses(s, 'challengeReward', args, 'EpochJudgeNotPending')
    // The same dishonest proposal again (its spend root is not barred: the fault was the reward's), revoked again.
    await propose(s, bad)
    await revokes(s, 'challengeReward', args, FAULT.Reward)
    // Revoked by the guardian first: the challenge has nothing left to revoke.
    await propose(s, bad)
    await as(s.registry, guardian).write.revoke!([10n])
    await refuses(s, 'challengeReward', args, 'EpochJudgeNotPending')
    // The honest proposal of the same epoch: the old proof is of another ledger, and no challenge of it passes.
    const honest = assemble(ten)
    await propose(s, honest)
    await refuses(s, 'challengeReward', args, 'EpochJudgeWrongLedger')
    await refuses(s, 'challengeReward', rewardChallengeArgs(honest, nine, u(w, 1), w.params.flock), 'EpochJudgeNoFault')
  })

  it('a fault proven after the timelock ends but before finalize still revokes; after finalize nothing does', async () => {
    const { s, w, nine, ten } = await epochTen(3_600n)
    const bump = (r: (typeof ten.rewardEntries)[number]) => (r.account === u(w, 1) && r.token === w.params.flock ? { ...r, amount: r.amount + 1n } : r)
    const bad = assemble({ ...ten, rewardLeaves: ten.rewardLeaves.map(bump), rewardEntries: ten.rewardEntries.map(bump) })
    const args = rewardChallengeArgs(bad, nine, u(w, 1), w.params.flock)
    await propose(s, bad)
    await expect(s.registry.write.finalize!([10n])).rejects.toThrow('EpochRegistryTimelock')
    await hre.network.provider.send('evm_increaseTime', [3_601])
    await hre.network.provider.send('evm_mine', [])
    await revokes(s, 'challengeReward', args, FAULT.Reward)
    // Proposed again and finalized by anyone the moment the timelock ends (a finalize mined before the challenge).
    await propose(s, bad)
    await hre.network.provider.send('evm_increaseTime', [3_601])
    await s.registry.write.finalize!([10n])
    await refuses(s, 'challengeReward', args, 'EpochJudgeNotPending')
    expect(await s.registry.read.lastFinalizedEpoch!()).toBe(10n)
  })
})
