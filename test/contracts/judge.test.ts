/**
 * EpochJudge (docs/trust-model.md, property 4): any account, with no role, revokes a pending proposal by proving one
 * wrong fact of its ledger on chain, and the event names the fault; an honest proposal survives every challenge of
 * every leaf, pair and reward (EpochJudgeNoFault), here and in a fast-check property over random honest epochs whose
 * rewards src/economics/epoch.ts `settleEpoch` and `RewardLedger` compute (the Solidity agrees to the unit).
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { getAddress, getContract, keccak256, parseEventLogs, toHex, zeroAddress, zeroHash, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem'
import { EpochJudge, MTStaking, PoseidonT4, RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { distributorBytecode } from '../../src/chain/contracts.ts'
import type { Allocation } from '../../src/economics/epoch.ts'
import { rewardKey, rewardParamsHash, type RewardParams } from '../../src/epoch/ledger.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'
import type { SpendLeaf } from '../../src/epoch/spend.ts'
import type { EpochProofs } from '../../src/proofs/files.ts'
import type { BatchProof } from '../../src/proofs/groth16.ts'
import { contractsOn, hardhat, type Artifact } from './hre.ts'
import { assemble, commitmentOf, deploymentRange, honestParts, NO_LEDGER, rewardChallengeArgs, rewardEntry, rewardLookup, spendEntry, spendKeyOf, spendLookup, type Assembled, type EpochParts } from './ledgerWorld.ts'

type Hre = Awaited<ReturnType<typeof hardhat>>
let hre: Hre
let wallets: WalletClient<Transport, Chain, Account>[]
let publicClient: PublicClient
let deploy: ReturnType<typeof contractsOn>['deploy']
let as: ReturnType<typeof contractsOn>['as']
let admin: Address, publisher: Address, guardian: Address, alice: Address, carol: Address
let Distributor: { abi: typeof RewardDistributor.abi; bytecode: Hex }
/** Test-only contracts (contracts/src/test): a staking contract whose stakes anyone sets, a verifier that accepts any proof. */
let StakeTableArtifact: Artifact
let AcceptingVerifierArtifact: Artifact

beforeAll(async () => {
  hre = await hardhat()
  wallets = (await hre.viem.getWalletClients()) as unknown as WalletClient<Transport, Chain, Account>[]
  publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient
  ;({ deploy, as } = contractsOn(wallets, publicClient))
  ;[admin, publisher, guardian, alice, carol] = wallets.slice(0, 5).map((w) => getAddress(w.account!.address)) as [Address, Address, Address, Address, Address]
  Distributor = { abi: RewardDistributor.abi, bytecode: distributorBytecode((await deploy(PoseidonT4, [])).address) }
  StakeTableArtifact = (await hre.artifacts.readArtifact('StakeTable')) as unknown as Artifact
  AcceptingVerifierArtifact = (await hre.artifacts.readArtifact('AcceptingVerifier')) as unknown as Artifact
}, 120_000)

/** The judge's faults, as the event's enum values. */
const FAULT = { LedgerShape: 0, EmptyList: 1, ProvenCharged: 2, CommittedTotals: 3, SpendDeployment: 4, SpendOrder: 5, SpendPrefix: 6, SpendTotals: 7, Stake: 8, SpendTree: 9, Reward: 10, RewardOrder: 11, RewardTree: 12, ListGap: 13, ForeignEntry: 14, SpendRows: 15 } as const


const CONFIG = keccak256('0xc0')
const lower = (a: string) => a.toLowerCase() as Hex
const address = (label: string) => lower(keccak256(toHex(label)).slice(0, 42))

/** A distributor (timelock 1 s, the least) with its judge; a verifier when given. */
async function system(verifier: Address = zeroAddress) {
  const registry = await deploy(Distributor, [admin, publisher, guardian, 1n, verifier, 1000n, zeroAddress, zeroAddress])
  const judge = getContract({ abi: EpochJudge.abi, address: await registry.read.judge(), client: { public: publicClient, wallet: wallets[0]! } })
  return { registry, judge, domain: distributorDomain(await publicClient.getChainId(), registry.address) }
}
type System = Awaited<ReturnType<typeof system>>

/** Pins the reward parameters under CONFIG, each deployment staking on a StakeTable holding the stakes given (or the stakings given). */
async function pin(s: System, params: RewardParams, stakes: ReadonlyArray<{ deploymentId: Hex; user: Hex; stake: bigint }>, stakings?: Address[]) {
  const tables = stakings ?? []
  if (!stakings)
    for (const d of params.deployments) {
      const table = await deploy(StakeTableArtifact, [])
      const rows = stakes.filter((r) => r.deploymentId === d.id)
      if (rows.length > 0) await table.write.set!([rows.map((r) => r.user), rows.map((r) => r.stake)])
      tables.push(table.address)
    }
  await s.registry.write.scheduleConfig([CONFIG, rewardParamsHash(params), params.deployments.map((d) => d.id).slice(0, tables.length), tables, [], [], []])
}

async function snapshot() {
  return (await publicClient.getBlockNumber({ cacheTime: 0 })) - 1n
}

async function propose(s: System, a: Assembled) {
  const hash = await as(s.registry, publisher).write.propose([BigInt(a.epoch), commitmentOf(a, CONFIG, await snapshot()), ''])
  expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success')
}

async function finalize(s: System, a: Assembled) {
  await propose(s, a)
  await s.registry.write.finalize([BigInt(a.epoch)])
}

/** Sends a challenge from carol (no role): it must revoke the pending epoch and name `fault`. */
async function revokes(s: System, functionName: string, args: readonly unknown[], fault: number) {
  const judge = as(s.judge, carol) as unknown as { write: Record<string, (args: readonly unknown[]) => Promise<Hex>> }
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await judge.write[functionName]!(args) })
  expect(receipt.status).toBe('success')
  const [event] = parseEventLogs({ abi: EpochJudge.abi, logs: receipt.logs, eventName: 'EpochFaultProven' })
  expect(event?.args).toMatchObject({ epoch: args[0], challenger: carol, fault })
  expect(await s.registry.read.hasPending()).toBe(false)
  return event!.args
}

/** The challenge, simulated from carol, reverts with `error`. */
async function refuses(s: System, functionName: string, args: readonly unknown[], error: string) {
  const judge = as(s.judge, carol) as unknown as { simulate: Record<string, (args: readonly unknown[], options: object) => Promise<unknown>> }
  await expect(judge.simulate[functionName]!(args, { account: carol })).rejects.toThrow(error)
}

/**
 * Every challenge the judge has, on every leaf, neighbouring pair and (account, token) worth trying: all revert with
 * EpochJudgeNoFault on an honest epoch. Returns how many were tried.
 */
async function survivesEverything(s: System, a: Assembled, previous: Assembled | undefined, extra: { accounts?: Hex[]; tokens?: Hex[] } = {}) {
  const e = BigInt(a.epoch)
  const noFault = (fn: string, args: readonly unknown[]) => refuses(s, fn, args, 'EpochJudgeNoFault')
  const calls: Array<Promise<void>> = []
  calls.push(noFault('challengeLedger', [e, a.ledger, a.params]))
  const n = a.spendEntries.length
  for (let p = 0; p < n; p++) {
    calls.push(noFault('challengeSpendList', [e, a.ledger, a.params, [spendEntry(a, p)]]))
    if (p + 1 < n) calls.push(noFault('challengeSpendList', [e, a.ledger, a.params, [spendEntry(a, p), spendEntry(a, p + 1)]]))
    calls.push(noFault('challengeStake', [e, a.ledger, spendEntry(a, p)]))
  }
  a.params.deployments.forEach((d, j) => {
    if (a.spendEntries.some((x) => x.leaf.deploymentId === d.id)) return
    calls.push(noFault('challengeSpendTotals', [e, a.ledger, a.params, BigInt(j), spendLookup(a, ...deploymentRange(j))]))
  })
  for (const [i, v] of a.spendTree.entries()) {
    const leaf = a.spendLeaves.find((l) => l.deploymentId === v[1] && l.user === v[2])!
    calls.push(noFault('challengeSpendTree', [e, a.ledger, a.params, leaf, a.spendTree.getProof(i), spendLookup(a, spendKeyOf(a.params, leaf))]))
  }
  for (let p = 0; p + 1 < a.rewardEntries.length; p++) calls.push(noFault('challengeRewardList', [e, a.ledger, [rewardEntry(a, p), rewardEntry(a, p + 1)]]))
  for (const [i, v] of a.rewardTree.entries()) {
    const [, account, token, amount] = v as [Hex, Hex, Hex, string]
    calls.push(noFault('challengeRewardTree', [e, a.ledger, account, token, BigInt(amount), a.rewardTree.getProof(i), rewardLookup(a, account, token)]))
  }
  const accounts = new Set<Hex>([...a.spendLeaves.map((l) => l.user), ...a.params.deployments.map((d) => d.issuer), ...a.rewardEntries.map((r) => r.account), ...(extra.accounts ?? [])])
  const tokens = new Set<Hex>([a.params.flock, a.params.usdc, ...a.params.deployments.map((d) => d.mtToken), ...(extra.tokens ?? [])])
  for (const account of accounts) for (const token of tokens) calls.push(noFault('challengeReward', rewardChallengeArgs(a, previous, account, token)))
  await Promise.all(calls)
  return calls.length
}

/**
 * The fixed world: four deployments (ascending ids), one not yet live and one live without spend; users spending on
 * several, an issuer who also spends, stakers and non-stakers, OpEx. Epoch 9 then epoch 10 (cumulative from 9).
 */
function fixedWorld(tokens: { flock: Hex; usdc: Hex; mt: Hex }) {
  const [u1, u2, u3, u4] = ['u1', 'u2', 'u3', 'u4'].map(address) as [Hex, Hex, Hex, Hex]
  const ids = ['d0', 'd1', 'd2', 'd3'].map((l) => keccak256(toHex(l))).sort() as [Hex, Hex, Hex, Hex]
  const e18 = 10n ** 18n
  const params: RewardParams = {
    dailyEmission: 1_000_000n * e18,
    epochSeconds: 86_400n,
    issuerBonusBps: 1000,
    scoreBasis: 0,
    denominator: 0,
    flock: tokens.flock,
    usdc: tokens.usdc,
    deployments: [
      { id: ids[0], issuer: u3, mtToken: tokens.mt, graduationEpoch: 0n, stakingFund: 25_000n * e18, incentiveReserve: 200_000n * e18 },
      { id: ids[1], issuer: address('issuer 1'), mtToken: address('mt 1'), graduationEpoch: 5n, stakingFund: 12_500n * e18, incentiveReserve: 200_000n * e18 },
      { id: ids[2], issuer: address('issuer 2'), mtToken: address('mt 2'), graduationEpoch: 100n, stakingFund: 5_000n * e18, incentiveReserve: 200_000n * e18 },
      { id: ids[3], issuer: address('issuer 3'), mtToken: address('mt 3'), graduationEpoch: 0n, stakingFund: 1_000n * e18, incentiveReserve: 200_000n * e18 },
    ],
  }
  const leaf = (d: number, user: Hex, gross: bigint, charged: bigint, receipts: bigint, stake: bigint): SpendLeaf => ({ deploymentId: ids[d]!, user, gross, charged, receipts, stake })
  const spendOf = (k: bigint): SpendLeaf[] => [
    leaf(0, u1, 1000n * k, 900n * k, 3n, 50n),
    leaf(0, u2, 3000n * k, 2500n * k, 7n, 0n),
    leaf(0, u3, 500n * k, 500n * k, 1n, 10n),
    leaf(1, u1, 2000n * k, 1800n * k, 4n, 5n),
    leaf(1, u4, 700n * k, 600n * k, 2n, 7n),
    leaf(2, u2, 100n * k, 90n * k, 1n, 1n),
  ]
  return { params, users: [u1, u2, u3, u4] as const, ids, spendOf, opex: [100n, 0n, 0n, 0n] }
}

/** A system with the fixed world pinned, epoch 9 final and epoch 10's honest parts (not yet proposed). */
async function fixedSystem(options: { flock?: Hex; usdc?: Hex } = {}) {
  const s = await system()
  const world = fixedWorld({ flock: options.flock ?? address('flock'), usdc: options.usdc ?? address('usdc'), mt: address('mt 0') })
  const stakes = [...world.spendOf(1n), ...world.spendOf(2n)]
  await pin(s, world.params, stakes)
  const nine = assemble(honestParts(9, s.domain, world.params, world.spendOf(1n), world.opex, []))
  await finalize(s, nine)
  const ten = honestParts(10, s.domain, world.params, world.spendOf(2n), world.opex, nine.cumulative)
  return { s, world, nine, ten }
}

describe('EpochJudge: an honest epoch cannot be revoked', () => {
  it('every challenge of every leaf, neighbouring pair and reward of an honest epoch reverts EpochJudgeNoFault, with and without a final epoch before it', async () => {
    const s = await system()
    const world = fixedWorld({ flock: address('flock'), usdc: address('usdc'), mt: address('mt 0') })
    await pin(s, world.params, [...world.spendOf(1n), ...world.spendOf(2n)])
    const nine = assemble(honestParts(9, s.domain, world.params, world.spendOf(1n), world.opex, []))
    await propose(s, nine)
    const stranger = address('stranger')
    expect(await survivesEverything(s, nine, undefined, { accounts: [stranger], tokens: [address('other token')] })).toBeGreaterThan(50)
    await s.registry.write.finalize([9n])
    const ten = assemble(honestParts(10, s.domain, world.params, world.spendOf(2n), world.opex, nine.cumulative))
    await propose(s, ten)
    expect(await survivesEverything(s, ten, nine, { accounts: [stranger] })).toBeGreaterThan(50)
    // The issuer u3 also spends on its deployment: its FLOCK is bonus + pool + fund, every role summed.
    expect(ten.rewardEntries.some((r) => r.account === world.users[2] && r.token === world.params.flock)).toBe(true)
    expect(await s.registry.read.hasPending()).toBe(true)
  })

  it('refuses inputs that are not the commitment\'s: not pending, another ledger or parameters, an entry or leaf not where it says, a lookup that decides nothing', async () => {
    const { s, world, nine, ten } = await fixedSystem()
    const a = assemble(ten)
    await refuses(s, 'challengeLedger', [10n, a.ledger, a.params], 'EpochJudgeNotPending')
    await propose(s, a)
    await refuses(s, 'challengeLedger', [11n, a.ledger, a.params], 'EpochJudgeNotPending')
    await refuses(s, 'challengeLedger', [10n, { ...a.ledger, spendCount: a.ledger.spendCount + 1n }, a.params], 'EpochJudgeWrongLedger')
    await refuses(s, 'challengeLedger', [10n, a.ledger, { ...a.params, issuerBonusBps: 999 }], 'EpochJudgeWrongParams')
    const wrongIndex = { ...spendEntry(a, 1), index: 2n }
    await refuses(s, 'challengeSpendList', [10n, a.ledger, a.params, [wrongIndex]], 'EpochJudgeNotInList')
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...spendEntry(a, 1), proof: spendEntry(a, 1).proof.slice(1) }], 'EpochJudgeNotInList')
    await refuses(s, 'challengeStake', [10n, a.ledger, { ...spendEntry(a, 1), leaf: { ...spendEntry(a, 1).leaf, stake: 1n } }], 'EpochJudgeNotInList')
    const leaf = a.spendLeaves[0]!
    await refuses(s, 'challengeSpendTree', [10n, a.ledger, a.params, { ...leaf, gross: leaf.gross + 1n }, a.spendTree.getProof(0), spendLookup(a, spendKeyOf(a.params, leaf))], 'EpochJudgeNotInTree')
    // A lookup of a key that opens neither the key nor its two neighbours, or entries that are not neighbours.
    const args = rewardChallengeArgs(a, nine, world.users[0], world.params.flock)
    await refuses(s, 'challengeReward', [...args.slice(0, 6), [rewardEntry(a, 0), rewardEntry(a, 2)], ...args.slice(7)], 'EpochJudgeBadLookup')
    await refuses(s, 'challengeSpendList', [10n, a.ledger, a.params, [spendEntry(a, 0), spendEntry(a, 2)]], 'EpochJudgeBadLookup')
    await refuses(s, 'challengeRewardList', [10n, a.ledger, [rewardEntry(a, 0)]], 'EpochJudgeBadLookup')
    await refuses(s, 'challengeSpendTotals', [10n, a.ledger, a.params, 0n, spendLookup(a, ...deploymentRange(0))], 'EpochJudgeBadLookup')
    // Only the judge revokes through the registry, and only the judge pays from a list.
    await expect(as(s.registry, carol).write.revokeChallenged([10n, true])).rejects.toThrow('EpochRegistryNotJudge')
    await expect(as(s.registry, carol).write.payListed([carol, carol, world.params.flock, 1n])).rejects.toThrow('EpochRegistryNotJudge')
    expect(await s.registry.read.hasPending()).toBe(true)
  })

  it('refuses pinned parameters it cannot compute with (deployments out of order), as a revert, not a revocation', async () => {
    const s = await system()
    const world = fixedWorld({ flock: address('flock'), usdc: address('usdc'), mt: address('mt 0') })
    const unsorted = { ...world.params, deployments: [world.params.deployments[1]!, world.params.deployments[0]!] }
    await pin(s, unsorted, [])
    const parts = honestParts(9, s.domain, world.params, world.spendOf(1n).filter((l) => l.deploymentId === world.ids[0] || l.deploymentId === world.ids[1]), [0n, 0n, 0n, 0n], [])
    const a = assemble({ ...parts, params: unsorted, totals: parts.totals.slice(0, 2) })
    await propose(s, a)
    await refuses(s, 'challengeLedger', [9n, a.ledger, unsorted], 'EpochJudgeInvalidParams')
    expect(await s.registry.read.hasPending()).toBe(true)
  })
})

describe('EpochJudge: any account revokes a dishonest proposal, and the event names the fault', () => {
  /** Proposes epoch 10 changed by `change`, the fixed world's epoch 9 final. */
  async function dishonest(change: (p: EpochParts, world: ReturnType<typeof fixedWorld>, nine: Assembled) => EpochParts | void) {
    const { s, world, nine, ten } = await fixedSystem()
    const a = assemble(change(ten, world, nine) ?? ten)
    await propose(s, a)
    return { s, world, nine, a }
  }
  /** The position of a deployment's last spend list entry. */
  const lastOf = (a: Assembled, id: Hex) => a.spendEntries.reduce((at, e, i) => (e.leaf.deploymentId === id ? i : at), -1)
  const bump = (p: EpochParts, at: (r: { account: Hex; token: Hex }) => boolean, delta: bigint) => {
    for (const list of [p.rewardLeaves, p.rewardEntries]) {
      const i = list.findIndex(at)
      list[i] = { ...list[i]!, amount: list[i]!.amount + delta }
    }
  }

  it('a reward leaf raised by 1 wei', async () => {
    const { s, world, nine, a } = await dishonest((p, w) => bump(p, (r) => r.account === w.users[3] && r.token === w.params.flock, 1n))
    const expected = a.rewardEntries.find((r) => r.account === world.users[3] && r.token === world.params.flock)!.amount - 1n
    const event = await revokes(s, 'challengeReward', rewardChallengeArgs(a, nine, world.users[3], world.params.flock), FAULT.Reward)
    expect(event).toMatchObject({ subject: rewardKey(world.users[3], world.params.flock), committed: expected + 1n, expected })
    // The spend tree was right: the same spend root can be proposed again with the reward fixed.
    expect(await s.registry.read.challengedSpendRoot([a.spendTree.root as Hex])).toBe(false)
  })

  it('a reward left out of both trees (its neighbours bracket it)', async () => {
    const { s, world, nine, a } = await dishonest((p, w) => {
      const gone = (r: { account: Hex; token: Hex }) => r.account === w.users[0] && r.token === w.params.flock
      return { ...p, rewardLeaves: p.rewardLeaves.filter((r) => !gone(r)), rewardEntries: p.rewardEntries.filter((r) => !gone(r)) }
    })
    const args = rewardChallengeArgs(a, nine, world.users[0], world.params.flock)
    expect(args[6].every((e) => e.account !== world.users[0] || e.token !== world.params.flock)).toBe(true)
    const event = await revokes(s, 'challengeReward', args, FAULT.Reward)
    expect(event.committed).toBe(0n)
    expect(event.expected).toBeGreaterThan(0n)
  })

  it('a reward leaf for an account with no spend', async () => {
    const stranger = address('stranger')
    const { s, world, nine, a } = await dishonest((p, w) => {
      const leaf = { domain: p.domain, account: stranger, token: w.params.flock, amount: 10n ** 18n }
      const rewardEntries = [...p.rewardEntries, leaf].sort((x, y) => (rewardKey(x.account, x.token) < rewardKey(y.account, y.token) ? -1 : 1))
      return { ...p, rewardLeaves: [...p.rewardLeaves, leaf], rewardEntries }
    })
    const event = await revokes(s, 'challengeReward', rewardChallengeArgs(a, nine, stranger, world.params.flock), FAULT.Reward)
    expect(event).toMatchObject({ committed: 10n ** 18n, expected: 0n })
  })

  it('the issuer bonus computed with another bps than the pinned one', async () => {
    const { creditsOf, cumulativeOf } = await import('./ledgerWorld.ts')
    const { rewardList } = await import('../../src/epoch/ledger.ts')
    const { s, world, nine, a } = await dishonest((p, w, nine) => {
      const cumulative = cumulativeOf(nine.cumulative, creditsOf(10, w.params, p.spendLeaves, p.opex, { issuerBonusBps: 1500n }))
      const rewardLeaves = cumulative.map((x) => ({ domain: p.domain, account: x.account as Hex, token: x.token as Hex, amount: x.amount }))
      return { ...p, rewardLeaves, rewardEntries: rewardList(rewardLeaves), cumulative }
    })
    const issuer = world.params.deployments[1]!.issuer
    await revokes(s, 'challengeReward', rewardChallengeArgs(a, nine, issuer, world.params.flock), FAULT.Reward)
  })

  it('the previous cumulative amounts dropped (the epoch credited from zero)', async () => {
    const { creditsOf, cumulativeOf } = await import('./ledgerWorld.ts')
    const { rewardList } = await import('../../src/epoch/ledger.ts')
    const { s, world, nine, a } = await dishonest((p, w) => {
      const cumulative = cumulativeOf([], creditsOf(10, w.params, p.spendLeaves, p.opex))
      const rewardLeaves = cumulative.map((x) => ({ domain: p.domain, account: x.account as Hex, token: x.token as Hex, amount: x.amount }))
      return { ...p, rewardLeaves, rewardEntries: rewardList(rewardLeaves), cumulative }
    })
    const event = await revokes(s, 'challengeReward', rewardChallengeArgs(a, nine, world.users[0], world.params.flock), FAULT.Reward)
    expect(event.expected - event.committed).toBe(nine.cumulative.find((x) => x.account === world.users[0] && x.token === world.params.flock)!.amount)
  })

  it('a spend leaf added with the totals unchanged: the sums are not the totals', async () => {
    const { spendList } = await import('../../src/epoch/ledger.ts')
    const { s, a } = await dishonest((p, w) => {
      const extra: SpendLeaf = { deploymentId: w.ids[1], user: address('u9'), gross: 5000n, charged: 5000n, receipts: 1n, stake: 3n }
      const spendLeaves = [...p.spendLeaves, extra]
      // The lists are consistent with the leaves but for the totals, which stay the honest ones.
      return { ...p, spendLeaves, spendEntries: spendList(spendLeaves, w.params.deployments.map((d) => d.id)).entries }
    })
    const last = lastOf(a, a.params.deployments[1]!.id)
    await refuses(s, 'challengeSpendList', [10n, a.ledger, a.params, [spendEntry(a, last - 1), spendEntry(a, last)]], 'EpochJudgeNoFault')
    const event = await revokes(s, 'challengeSpendList', [10n, a.ledger, a.params, [spendEntry(a, last), spendEntry(a, last + 1)]], FAULT.SpendTotals)
    expect(event.subject).toBe(1n)
  })

  it('totals.eligible raised, on a deployment with leaves and on one without', async () => {
    const first = await dishonest((p) => ({ ...p, totals: p.totals.map((t, i) => (i === 0 ? { ...t, eligible: t.eligible + 1n } : t)) }))
    const last = lastOf(first.a, first.a.params.deployments[0]!.id)
    await revokes(first.s, 'challengeSpendList', [10n, first.a.ledger, first.a.params, [spendEntry(first.a, last), spendEntry(first.a, last + 1)]], FAULT.SpendTotals)
    // d3 has no spend leaf: its neighbours show that, and its totals must be zero.
    const second = await dishonest((p) => ({ ...p, totals: p.totals.map((t, i) => (i === 3 ? { ...t, eligible: 1n } : t)) }))
    const event = await revokes(second.s, 'challengeSpendTotals', [10n, second.a.ledger, second.a.params, 3n, spendLookup(second.a, ...deploymentRange(3))], FAULT.SpendTotals)
    expect(event.subject).toBe(3n)
  })

  it('a duplicate key in the spend list, and in the reward list', async () => {
    const spend = await dishonest((p) => ({ ...p, spendEntries: [p.spendEntries[0]!, ...p.spendEntries] }))
    const event = await revokes(spend.s, 'challengeSpendList', [10n, spend.a.ledger, spend.a.params, [spendEntry(spend.a, 0), spendEntry(spend.a, 1)]], FAULT.SpendOrder)
    expect(event.committed).toBe(event.expected)
    const reward = await dishonest((p) => ({ ...p, rewardEntries: [...p.rewardEntries.slice(0, 2), p.rewardEntries[1]!, ...p.rewardEntries.slice(2)] }))
    await revokes(reward.s, 'challengeRewardList', [10n, reward.a.ledger, [rewardEntry(reward.a, 1), rewardEntry(reward.a, 2)]], FAULT.RewardOrder)
  })

  it('leaves out of key order (overlapping neighbours), in each list', async () => {
    const swap = <T,>(xs: T[], i: number) => [...xs.slice(0, i), xs[i + 1]!, xs[i]!, ...xs.slice(i + 2)]
    const spend = await dishonest((p) => ({ ...p, spendEntries: swap(p.spendEntries, 0).map((e, i) => (i === 0 ? { ...e, prefixGross: 0n, prefixEligible: 0n, prefixCharged: 0n } : e)) }))
    const event = await revokes(spend.s, 'challengeSpendList', [10n, spend.a.ledger, spend.a.params, [spendEntry(spend.a, 0), spendEntry(spend.a, 1)]], FAULT.SpendOrder)
    expect(event.committed > event.expected).toBe(true)
    const reward = await dishonest((p) => ({ ...p, rewardEntries: swap(p.rewardEntries, 3) }))
    await revokes(reward.s, 'challengeRewardList', [10n, reward.a.ledger, [rewardEntry(reward.a, 3), rewardEntry(reward.a, 4)]], FAULT.RewardOrder)
  })

  it('a prefix that is not the sum before it, and a first entry with a prefix', async () => {
    const middle = await dishonest((p) => ({ ...p, spendEntries: p.spendEntries.map((e, i) => (i === 1 ? { ...e, prefixCharged: e.prefixCharged + 1n } : e)) }))
    expect((await revokes(middle.s, 'challengeSpendList', [10n, middle.a.ledger, middle.a.params, [spendEntry(middle.a, 0), spendEntry(middle.a, 1)]], FAULT.SpendPrefix)).subject).toBe(1n)
    const first = await dishonest((p) => ({ ...p, spendEntries: p.spendEntries.map((e, i) => (i === 0 ? { ...e, prefixGross: 1n } : e)) }))
    await revokes(first.s, 'challengeSpendList', [10n, first.a.ledger, first.a.params, [spendEntry(first.a, 0)]], FAULT.SpendPrefix)
  })

  it('a spend list entry of a deployment the parameters do not have', async () => {
    const { s, a } = await dishonest((p) => {
      const e = p.spendEntries[p.spendEntries.length - 1]!
      return { ...p, spendEntries: [...p.spendEntries, { leaf: { ...e.leaf, deploymentId: `0x${'ff'.repeat(32)}` as Hex }, prefixGross: 0n, prefixEligible: 0n, prefixCharged: 0n }] }
    })
    await revokes(s, 'challengeSpendList', [10n, a.ledger, a.params, [spendEntry(a, a.spendEntries.length - 1)]], FAULT.SpendDeployment)
  })

  it('an OpenZeppelin leaf the lists lack or hold otherwise: a spend leaf, a reward leaf, a reward amount', async () => {
    const spend = await dishonest((p) => ({ ...p, spendEntries: p.spendEntries.filter((e) => e.leaf.user !== p.spendLeaves[4]!.user || e.leaf.deploymentId !== p.spendLeaves[4]!.deploymentId) }))
    const gone = spend.a.spendLeaves[4]!
    const i = spend.a.spendTree.indexOf([String(10), gone.deploymentId, gone.user, gone.gross.toString(), gone.charged.toString(), gone.receipts.toString(), gone.stake.toString()])
    await revokes(spend.s, 'challengeSpendTree', [10n, spend.a.ledger, spend.a.params, gone, spend.a.spendTree.getProof(i), spendLookup(spend.a, spendKeyOf(spend.a.params, gone))], FAULT.SpendTree)

    const reward = await dishonest((p) => ({ ...p, rewardEntries: p.rewardEntries.slice(1) }))
    const lost = reward.a.rewardLeaves.find((r) => !reward.a.rewardEntries.some((e) => e.account === r.account && e.token === r.token))!
    const j = reward.a.rewardTree.indexOf([lost.domain, lost.account, lost.token, lost.amount.toString()])
    await revokes(reward.s, 'challengeRewardTree', [10n, reward.a.ledger, lost.account, lost.token, lost.amount, reward.a.rewardTree.getProof(j), rewardLookup(reward.a, lost.account, lost.token)], FAULT.RewardTree)

    const amountDiffers = await dishonest((p) => ({ ...p, rewardLeaves: p.rewardLeaves.map((r, k) => (k === 0 ? { ...r, amount: r.amount + 5n } : r)) }))
    const r0 = amountDiffers.a.rewardLeaves[0]!
    const k = amountDiffers.a.rewardTree.indexOf([r0.domain, r0.account, r0.token, r0.amount.toString()])
    const event = await revokes(amountDiffers.s, 'challengeRewardTree', [10n, amountDiffers.a.ledger, r0.account, r0.token, r0.amount, amountDiffers.a.rewardTree.getProof(k), rewardLookup(amountDiffers.a, r0.account, r0.token)], FAULT.RewardTree)
    expect(event.committed - event.expected).toBe(5n)
  })

  it('a malformed ledger: totals not one per deployment, an empty list, totals that do not sum to the committed ones', async () => {
    const shape = await dishonest((p) => ({ ...p, totals: p.totals.slice(0, 3) }))
    expect(await revokes(shape.s, 'challengeLedger', [10n, shape.a.ledger, shape.a.params], FAULT.LedgerShape)).toMatchObject({ committed: 3n, expected: 4n })
    const sums = await dishonest((p) => ({ ...p, totals: p.totals.map((t, i) => (i === 2 ? { ...t, gross: t.gross + 1n } : t)) }))
    expect(await revokes(sums.s, 'challengeLedger', [10n, sums.a.ledger, sums.a.params], FAULT.CommittedTotals)).toMatchObject({ subject: 0n })
    // An empty reward list: a ledger whose count is zero (its root non-zero, so no entry opens).
    const { s, ten } = await fixedSystem()
    const a = assemble(ten)
    const empty = { ...a, ledger: { ...a.ledger, rewardCount: 0n } }
    await propose(s, empty)
    await revokes(s, 'challengeLedger', [10n, empty.ledger, a.params], FAULT.EmptyList)
  })
})

describe('EpochJudge: stakes against the chain (challengeStake, moved from the registry)', () => {
  /** Alice has staked 100 MT on the deployment's MTStaking for the whole window before the snapshot; bob never staked. */
  async function staked(pinBoth: boolean) {
    const s = await system()
    const mt = await deploy(TestToken, ['MT', 'MT', 18])
    const staking = await deploy(MTStaking, [mt.address, admin, 3000n, 2n, 1n])
    await mt.write.mint([alice, 1000n])
    await as(mt, alice).write.approve([staking.address, 1000n])
    await as(staking, alice).write.stake([100n])
    await hre.network.provider.send('hardhat_mine', ['0x3'])
    const world = fixedWorld({ flock: address('flock'), usdc: address('usdc'), mt: lower(mt.address) })
    // Two deployments: the first stakes on MTStaking; the second only when `pinBoth` (else the configuration lacks its staking contract).
    const params = { ...world.params, deployments: world.params.deployments.slice(0, 2) }
    const second = await deploy(StakeTableArtifact, [])
    await pin(s, params, [], pinBoth ? [staking.address, second.address] : [staking.address])
    return { s, params, ids: world.ids }
  }
  const epochWith = (s: System, params: RewardParams, rows: SpendLeaf[]) => assemble(honestParts(3, s.domain, params, rows, [0n, 0n], []))
  const row = (deploymentId: Hex, user: Address, stake: bigint): SpendLeaf => ({ deploymentId, user: lower(user), gross: 1000n, charged: 900n, receipts: 2n, stake })

  it('an honest proposal survives the challenge of each of its leaves', async () => {
    const { s, params, ids } = await staked(true)
    const bob = getAddress(wallets[5]!.account!.address)
    const a = epochWith(s, params, [row(ids[0], alice, 100n), row(ids[0], bob, 0n)])
    await propose(s, a)
    for (let p = 0; p < a.spendEntries.length; p++) await refuses(s, 'challengeStake', [3n, a.ledger, spendEntry(a, p)], 'EpochJudgeNoFault')
  })

  for (const [name, rowsOf, challenged, actual] of [
    ["a 1-wei stake given to a non-staker (to share the stakers' pool)", (d: Hex[], u: Address[]) => [row(d[0]!, u[0]!, 100n), row(d[0]!, u[1]!, 1n)], 1, 0n],
    ["a staker's stake raised", (d: Hex[], u: Address[]) => [row(d[0]!, u[0]!, 101n), row(d[0]!, u[1]!, 0n)], 0, 100n],
    ["a staker's stake left out (read as zero)", (d: Hex[], u: Address[]) => [row(d[0]!, u[0]!, 0n), row(d[0]!, u[1]!, 0n)], 0, 100n],
    ['a leaf of a deployment the pinned configuration has no staking contract for', (d: Hex[], u: Address[]) => [row(d[0]!, u[0]!, 100n), row(d[1]!, u[1]!, 0n)], 1, 0n],
  ] as const)
    it(`revokes, from any account, and bars the spend root: ${name}`, async () => {
      const { s, params, ids } = await staked(false)
      const bob = getAddress(wallets[5]!.account!.address)
      const rows = rowsOf(ids, [alice, bob]) as SpendLeaf[]
      const a = epochWith(s, params, rows)
      await propose(s, a)
      const p = a.spendEntries.findIndex((e) => e.leaf.deploymentId === rows[challenged]!.deploymentId && e.leaf.user === rows[challenged]!.user)
      const event = await revokes(s, 'challengeStake', [3n, a.ledger, spendEntry(a, p)], FAULT.Stake)
      expect(event).toMatchObject({ subject: BigInt(p), committed: rows[challenged]!.stake, expected: actual })
      await refuses(s, 'challengeStake', [3n, a.ledger, spendEntry(a, p)], 'EpochJudgeNotPending')
      // The spend root proven wrong is never proposed again, so a watcher need not challenge it every time.
      expect(await s.registry.read.challengedSpendRoot([a.spendTree.root as Hex])).toBe(true)
      await expect(as(s.registry, publisher).write.propose([3n, commitmentOf(a, CONFIG, await snapshot()), ''])).rejects.toThrow('EpochRegistryChallengedRoot')
    })
})

/**
 * A registry with a verifier that accepts any proof, pinning the fixed world's first two deployments (each staking on
 * an MTStaking, whose X, M and circulating supply are read at proposal; provider keys 11 and 12), and their spend
 * leaves without stakes.
 */
async function provenSystem() {
  const verifier = await deploy(AcceptingVerifierArtifact, [])
  const s = await system(verifier.address)
  const world = fixedWorld({ flock: address('flock'), usdc: address('usdc'), mt: address('mt 0') })
  const params = { ...world.params, deployments: world.params.deployments.slice(0, 2) }
  const ids = params.deployments.map((d) => d.id)
  const stakings: Address[] = []
  for (let i = 0; i < 2; i++) stakings.push((await deploy(MTStaking, [(await deploy(TestToken, ['MT', 'MT', 18])).address, admin, 3000n, 2n, 1n])).address)
  const keys = [11n, 12n]
  await s.registry.write.scheduleConfig([CONFIG, rewardParamsHash(params), ids, stakings, ids, keys, [admin, admin]])
  const spend = world.spendOf(1n).filter((l) => ids.includes(l.deploymentId)).map((l) => ({ ...l, stake: 0n }))
  return { s, world, params, keys, spend }
}

describe('EpochJudge: charged totals are what the proofs prove (a registry with a verifier)', () => {
  it('revokes a ledger whose deployments\' charged totals are not the proven ones, though their sum is', async () => {
    const { s, params, keys, spend } = await provenSystem()
    const honest = honestParts(1, s.domain, params, spend, [0n, 0n], [])
    // The totals move one unit of charged from d0 to d1: their sum stays the committed (and proven) total.
    const moved = { ...honest, totals: honest.totals.map((t, i) => ({ ...t, charged: t.charged + (i === 0 ? -1n : 1n) })) }
    for (const [parts, fault] of [[honest, undefined], [moved, FAULT.ProvenCharged]] as const) {
      const a = assemble(parts)
      const c = commitmentOf(a, CONFIG, 0n)
      // One attested batch per deployment, proving exactly its honest charged total (and the gross, count).
      const signals = (i: number) => {
        const id = BigInt(params.deployments[i]!.id)
        const d = BigInt(s.domain)
        const mine = spend.filter((l) => l.deploymentId === params.deployments[i]!.id)
        const sum = (f: (l: SpendLeaf) => bigint) => mine.reduce((n, l) => n + f(l), 0n)
        return [0n, 0n, sum((l) => l.gross), sum((l) => l.charged), keys[i]!, 1n, 0n, 1n, 1n, id >> 128n, id & ((1n << 128n) - 1n), d >> 128n, d & ((1n << 128n) - 1n), 3000n, 2n, 0n, sum((l) => l.receipts)]
      }
      const proofs = [0, 1].map((i) => ({ a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n], signals: signals(i) }))
      const { encodeAbiParameters } = await import('viem')
      let chain: Hex = zeroHash
      for (const p of proofs) chain = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256[17]' }], [chain, p.signals as never]))
      await as(s.registry, publisher).write.proposeWithProofs([1n, { ...c, proofsHash: chain, snapshotBlock: await snapshot() }, proofs as never, ''])
      expect(await s.registry.read.provenCharged([1n, params.deployments[0]!.id])).toBe(honest.totals[0]!.charged)
      if (fault === undefined) {
        await refuses(s, 'challengeLedger', [1n, a.ledger, params], 'EpochJudgeNoFault')
        await as(s.registry, guardian).write.revoke([1n])
      } else {
        expect(await revokes(s, 'challengeLedger', [1n, a.ledger, params], fault)).toMatchObject({ subject: 0n, committed: honest.totals[0]!.charged - 1n, expected: honest.totals[0]!.charged })
      }
    }
  })
})

describe('EpochJudge.challengeSpendRows: a spend leaf below its user\'s proven rows (a registry with a verifier)', () => {
  it('revokes spend moved between users or a user left out, over one or several transactions; an honest leaf cannot be revoked; each batch counts once and only for its deployment', async () => {
    const { spendRowsChallenge, spendRowsFault, spendRowsPerTransaction, submitSpendRowsChallenge } = await import('../../src/chain/spendRows.ts')
    // A transaction of about 12 million gas: 8 batches of 32 rows (about 1.2 million each), at least one at any size.
    expect([spendRowsPerTransaction(2), spendRowsPerTransaction(32), spendRowsPerTransaction(1024)]).toEqual([64, 8, 1])
    const { paddedTable, stakesCommitment } = await import('../../src/proofs/statement.ts')
    const { BATCH_PROOF_FORMAT, BATCH_PUBLIC_SIGNALS } = await import('../../src/proofs/groth16.ts')
    const { EPOCH_PROOFS_FORMAT } = await import('../../src/proofs/files.ts')
    const { proofsHash } = await import('../../src/proofs/prove.ts')
    const { proofCalldata } = await import('../../src/chain/publication.ts')
    const { s, world, params, keys, spend } = await provenSystem()
    const [d0, d1] = params.deployments.map((d) => d.id) as [Hex, Hex]
    // The proofs: d0's users split over two batches of provider key 11, d1's in one batch of key 12 (the verifier
    // accepts any proof; the signals and stake tables are what the registry keeps and the judge opens).
    const K = 4
    const half = (l: SpendLeaf, first: boolean) => ({ user: BigInt(l.user), stake: 0n, gross: first ? l.gross / 2n : l.gross - l.gross / 2n, charged: first ? l.charged / 2n : l.charged - l.charged / 2n })
    const byUser = (a: { user: bigint }, b: { user: bigint }) => (a.user < b.user ? -1 : 1)
    const of = (id: Hex) => spend.filter((l) => l.deploymentId === id)
    const tables = [of(d0).map((l) => half(l, true)).sort(byUser), of(d0).map((l) => half(l, false)).sort(byUser), of(d1).map((l) => ({ ...half(l, true), gross: l.gross, charged: l.charged })).sort(byUser)]
    const place = [[d0, keys[0]!, 0n, 2n], [d0, keys[0]!, 1n, 2n], [d1, keys[1]!, 0n, 1n]] as const
    const receipts = spend.reduce((n, l) => n + l.receipts, 0n)
    const d = BigInt(s.domain)
    const batches = tables.map((rows, i) => {
      const [id, key, index, count] = place[i]!
      const sum = (f: 'gross' | 'charged') => rows.reduce((n, r) => n + r[f], 0n)
      const signals = [0n, stakesCommitment(paddedTable(rows, K)), sum('gross'), sum('charged'), key, 1n, index, count, 1n, BigInt(id) >> 128n, BigInt(id) & ((1n << 128n) - 1n), d >> 128n, d & ((1n << 128n) - 1n), 3000n, 2n, 0n, i === 0 ? receipts : 0n]
      const proof: BatchProof = {
        format: BATCH_PROOF_FORMAT,
        circuit: 'receipt_batch_4',
        publicSignals: Object.fromEntries(BATCH_PUBLIC_SIGNALS.map((name, j) => [name, String(signals[j])])) as Record<(typeof BATCH_PUBLIC_SIGNALS)[number], string>,
        proof: { pi_a: ['0', '0'], pi_b: [['0', '0'], ['0', '0']], pi_c: ['0', '0'], protocol: 'groth16' as const, curve: 'bn128' as const },
      }
      return { deploymentId: id, provider: address('provider'), rows: rows.map((r) => ({ ...r, user: lower(`0x${r.user.toString(16).padStart(40, '0')}`) })), proof }
    })
    const proofs: EpochProofs = { format: EPOCH_PROOFS_FORMAT, epoch: 1, circuit: { name: 'receipt_batch_4', receipts: 4, rows: K, verificationKeySha256: '', testOnly: true }, proofsHash: proofsHash(batches), attestations: [], batches }
    // The registry's errors come back through the judge: read with both ABIs.
    const walletOf = (who: Address) => wallets.find((w) => w.account.address.toLowerCase() === who.toLowerCase())!
    const judge = getContract({ abi: [...EpochJudge.abi, ...RewardDistributor.abi.filter((x) => x.type === 'error')], address: s.judge.address, client: { public: publicClient, wallet: walletOf(carol) } })
    const refusesWith = (args: readonly unknown[], error: string) => expect(judge.simulate.challengeSpendRows(args as never, { account: carol })).rejects.toThrow(error)
    const propose = async (leaves: SpendLeaf[]) => {
      const a = assemble(honestParts(1, s.domain, params, leaves, [0n, 0n], []))
      await as(s.registry, publisher).write.proposeWithProofs([1n, { ...commitmentOf(a, CONFIG, 0n), proofsHash: proofs.proofsHash, snapshotBlock: await snapshot() }, batches.map((b) => proofCalldata(b.proof)) as never, ''])
      return { a, opened: { epoch: 1, ledger: a.ledger, spend: a.spendEntries, reward: a.rewardEntries, spendTree: a.spendList, rewardTree: a.rewardList } }
    }
    const callOf = (c: ReturnType<typeof spendRowsChallenge>, picked: number[]) => [...c.head, picked.map((i) => c.batches.find((b) => b.batch === BigInt(i)) ?? opened(c, i))] as const
    const opened = (c: ReturnType<typeof spendRowsChallenge>, i: number) => {
      const table = paddedTable(tables[i]!, K)
      return { batch: BigInt(i), signals: BATCH_PUBLIC_SIGNALS.map((n) => BigInt(batches[i]!.proof.publicSignals[n])), users: table.map((r) => r.user), cells: table.map((r) => (r.stake << 152n) | (r.gross << 76n) | r.charged) }
    }

    // Honest: every leaf is its rows. Counting all of a user's batches leaves the proposal pending; nothing revokes it.
    const honest = await propose(spend)
    expect(spendRowsFault(honest.a.spendEntries, params, proofs)).toBeUndefined()
    for (const leaf of spend) {
      const c = spendRowsChallenge({ deploymentId: leaf.deploymentId, user: leaf.user, leaf, proven: leaf, batches: leaf.deploymentId === d0 ? [0, 1] : [2], positions: spendLookup(honest.a, spendKeyOf(params, leaf)).map((e) => Number(e.index)) }, honest.opened, params, proofs)
      await publicClient.waitForTransactionReceipt({ hash: await judge.write.challengeSpendRows(callOf(c, c.batches.map((b) => Number(b.batch))) as never) })
      await refusesWith(callOf(c, []), 'EpochJudgeNoFault')
    }
    expect(await s.registry.read.hasPending()).toBe(true)
    await as(s.registry, guardian).write.revoke([1n])

    // One unit of gross and charged moved from u2 to u1 on d0: totals, ledger and rewards all consistent.
    const [u1, u2, u3] = world.users
    const moved = spend.map((l) => (l.deploymentId !== d0 ? l : l.user === u2 ? { ...l, gross: l.gross - 1n, charged: l.charged - 1n } : l.user === u1 ? { ...l, gross: l.gross + 1n, charged: l.charged + 1n } : l))
    const m = await propose(moved)
    const fault = spendRowsFault(m.a.spendEntries, params, proofs)!
    expect(fault).toMatchObject({ deploymentId: d0, user: u2, leaf: { gross: 2999n, charged: 2499n }, proven: { gross: 3000n, charged: 2500n }, batches: [0, 1] })
    const c = spendRowsChallenge(fault, m.opened, params, proofs, 1)
    // Each batch once, in increasing order, of the leaf's deployment, with the registry's signals and whole table.
    await refusesWith(callOf(c, [1, 0]), 'EpochJudgeBatchOrder')
    await refusesWith(callOf(c, [0, 0]), 'EpochJudgeBatchOrder')
    await refusesWith(callOf(c, [0, 2]), 'EpochJudgeBatchDeployment')
    const forged = { ...opened(c, 0), signals: opened(c, 0).signals.map((v, i) => (i === 2 ? v + 1n : v)) }
    await refusesWith([...c.head, [forged]], 'EpochRegistryBatchUnknown')
    const inflated = { ...opened(c, 0), cells: opened(c, 0).cells.map((v, i) => (tables[0]![i]?.user === BigInt(u2) ? v + (1n << 76n) : v)) }
    await refusesWith([...c.head, [inflated]], 'EpochRegistryStakeRowsOpening')
    await refusesWith([...c.head.slice(0, 3), d1, u2, c.head[5], [opened(c, 2)]], 'EpochJudgeBadLookup')
    // Counts are each challenger's own: alice's first batch neither helps nor blocks carol.
    const alice_ = getContract({ abi: EpochJudge.abi, address: s.judge.address, client: { public: publicClient, wallet: walletOf(alice) } })
    await publicClient.waitForTransactionReceipt({ hash: await alice_.write.challengeSpendRows(callOf(c, [0]) as never) })
    expect(await judge.read.countedSpendRows([alice, 1n, d0, u2])).toEqual({ gross: 1500n, charged: 1250n, next: 1n })
    expect(await judge.read.countedSpendRows([carol, 1n, d0, u2])).toEqual({ gross: 0n, charged: 0n, next: 0n })
    // Over two transactions (one batch each): the first counts, the second passes the leaf and revokes.
    const sent = await submitSpendRowsChallenge({ public: publicClient, wallet: walletOf(carol) }, s.registry.address, c)
    expect(sent).toHaveLength(2)
    const [counted] = parseEventLogs({ abi: EpochJudge.abi, logs: (await publicClient.getTransactionReceipt({ hash: sent[0]! })).logs, eventName: 'SpendRowsCounted' })
    expect(counted?.args).toMatchObject({ epoch: 1n, challenger: carol, deploymentId: d0, user: getAddress(u2), gross: 1500n, charged: 1250n, next: 1n })
    const [proven] = parseEventLogs({ abi: EpochJudge.abi, logs: (await publicClient.getTransactionReceipt({ hash: sent[1]! })).logs, eventName: 'EpochFaultProven' })
    expect(proven?.args).toMatchObject({ epoch: 1n, challenger: carol, fault: FAULT.SpendRows, subject: spendKeyOf(params, { deploymentId: d0, user: u2 }), committed: 2999n, expected: 3000n })
    expect(await s.registry.read.hasPending()).toBe(false)

    // Two units moved (another proposal: nothing counted for the last one carries over). A challenger that counted
    // the first batch and stopped goes on from the second: one more transaction.
    const twice = await propose(spend.map((l) => (l.deploymentId !== d0 ? l : l.user === u2 ? { ...l, gross: l.gross - 2n, charged: l.charged - 2n } : l.user === u1 ? { ...l, gross: l.gross + 2n, charged: l.charged + 2n } : l)))
    const again = spendRowsChallenge(spendRowsFault(twice.a.spendEntries, params, proofs)!, twice.opened, params, proofs)
    expect(await judge.read.countedSpendRows([alice, 1n, d0, u2])).toEqual({ gross: 0n, charged: 0n, next: 0n })
    await publicClient.waitForTransactionReceipt({ hash: await judge.write.challengeSpendRows(callOf(again, [0]) as never) })
    expect(await s.registry.read.hasPending()).toBe(true)
    expect(await submitSpendRowsChallenge({ public: publicClient, wallet: walletOf(carol) }, s.registry.address, again)).toHaveLength(1)
    expect(await s.registry.read.hasPending()).toBe(false)

    // u3 left out of d0, its spend given to u1: no leaf at all, shown absent by its neighbours, one transaction.
    const dropped = spend.filter((l) => !(l.deploymentId === d0 && l.user === u3)).map((l) => (l.deploymentId === d0 && l.user === u1 ? { ...l, gross: l.gross + 500n, charged: l.charged + 500n, receipts: l.receipts + 1n } : l))
    const g = await propose(dropped)
    const absent = spendRowsFault(g.a.spendEntries, params, proofs)!
    expect(absent).toMatchObject({ deploymentId: d0, user: u3, leaf: { gross: 0n, charged: 0n }, proven: { gross: 500n, charged: 500n } })
    expect(absent.positions).toHaveLength(2)
    // One of its two batches already passes a leaf of zero: the finder opens no more than the chain needs.
    expect(absent.batches).toEqual([0])
    const last = await submitSpendRowsChallenge({ public: publicClient, wallet: walletOf(carol) }, s.registry.address, spendRowsChallenge(absent, g.opened, params, proofs))
    expect(last).toHaveLength(1)
    expect(await s.registry.read.hasPending()).toBe(false)
  })
})

describe('EpochJudge.claimFromList: the reward list is authoritative', () => {
  it('pays a final list leaf the OpenZeppelin tree left out, once across both paths, to the account or its chosen recipient', async () => {
    const flock = await deploy(TestToken, ['FLOCK', 'FLOCK', 18])
    const { s, world, ten } = await fixedSystem({ flock: lower(flock.address) })
    await flock.write.mint([s.registry.address, 10n ** 30n])
    // Alice's leaf is in the list, not in the OZ tree; then a full OZ tree epoch pays her difference only.
    const leaf = { domain: s.domain, account: lower(alice), token: lower(flock.address), amount: 700n }
    const withAlice = [...ten.rewardEntries, leaf].sort((x, y) => (rewardKey(x.account, x.token) < rewardKey(y.account, y.token) ? -1 : 1))
    const a = assemble({ ...ten, rewardEntries: withAlice })
    await finalize(s, a)
    const p = a.rewardEntries.findIndex((r) => r.account === leaf.account)
    const judge = as(s.judge, carol)
    await expect(judge.simulate.claimFromList([alice, flock.address, 700n, BigInt(p), a.rewardList.proof(p), a.ledger], { account: carol })).resolves.toBeTruthy()
    await expect(judge.write.claimFromList([alice, flock.address, 701n, BigInt(p), a.rewardList.proof(p), a.ledger])).rejects.toThrow('EpochJudgeNotInList')
    await expect(judge.write.claimFromList([alice, flock.address, 700n, BigInt(p), a.rewardList.proof(p), NO_LEDGER])).rejects.toThrow('EpochJudgeWrongLedger')
    // Claimed by carol for alice, who chose bob as her recipient: bob is paid.
    const bob = getAddress(wallets[5]!.account!.address)
    await as(s.registry, alice).write.setRecipient([bob])
    await judge.write.claimFromList([alice, flock.address, 700n, BigInt(p), a.rewardList.proof(p), a.ledger])
    expect(await flock.read.balanceOf([bob])).toBe(700n)
    expect(await s.registry.read.claimed([alice, flock.address])).toBe(700n)
    await expect(judge.write.claimFromList([alice, flock.address, 700n, BigInt(p), a.rewardList.proof(p), a.ledger])).rejects.toThrow()
    // The next epoch's OZ tree holds alice at 1,000: the OZ claim pays the 300 not yet paid, to alice claiming herself.
    const eleven = honestParts(11, s.domain, world.params, world.spendOf(3n), world.opex, [...a.cumulative, { account: lower(alice), token: lower(flock.address), amount: 1000n }])
    const b = assemble(eleven)
    await finalize(s, b)
    const i = b.rewardTree.indexOf([s.domain, lower(alice), lower(flock.address), '1000'])
    await as(s.registry, alice).write.claim([alice, flock.address, 1000n, b.rewardTree.getProof(i) as Hex[]])
    expect(await flock.read.balanceOf([alice])).toBe(300n)
    const q = b.rewardEntries.findIndex((r) => r.account === lower(alice))
    await expect(judge.write.claimFromList([alice, flock.address, 1000n, BigInt(q), b.rewardList.proof(q), b.ledger])).rejects.toThrow()
  })

  it('refuses a claim from the list before any epoch is final', async () => {
    const s = await system()
    await expect(as(s.judge, carol).write.claimFromList([alice, alice, 1n, 0n, [], NO_LEDGER])).rejects.toThrow('EpochJudgeNoFinalEpoch')
  })
})

describe('EpochJudge agrees with settleEpoch: random honest epochs survive every challenge', () => {
  const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b))
  const addr = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b))
  const world = fc
    .record({
      pool: fc.uniqueArray(addr, { minLength: 2, maxLength: 6 }),
      tokens: fc.uniqueArray(addr, { minLength: 3, maxLength: 3 }),
      epoch: fc.integer({ min: 0, max: 400 }),
      gap: fc.integer({ min: 1, max: 3 }),
      dailyEmission: fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: fc.bigInt({ min: 0n, max: 10n ** 27n }), weight: 4 }),
      epochSeconds: fc.oneof(fc.constantFrom(3_600n, 86_400n, 604_800n), fc.bigInt({ min: 1n, max: 10n * 86_400n })),
      issuerBonusBps: fc.integer({ min: 0, max: 10_000 }),
      scoreBasis: fc.integer({ min: 0, max: 2 }),
      denominator: fc.integer({ min: 0, max: 1 }),
      deployments: fc.uniqueArray(
        fc.record({
          id: hex32,
          issuerIsUser: fc.boolean(),
          issuer: addr,
          mtIsFlock: fc.boolean(),
          mtToken: addr,
          age: fc.oneof(fc.integer({ min: -3, max: -1 }), fc.integer({ min: 0, max: 400 })),
          stakingFund: fc.bigInt({ min: 0n, max: 10n ** 25n }),
          incentiveReserve: fc.bigInt({ min: 0n, max: 10n ** 25n }),
          opex: fc.bigInt({ min: 0n, max: 10n ** 13n }),
          stakes: fc.array(fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: fc.bigInt({ min: 1n, max: 10n ** 22n }), weight: 2 }), { minLength: 6, maxLength: 6 }),
          spends: fc.array(fc.array(fc.record({ user: fc.nat(5), gross: fc.bigInt({ min: 1n, max: 10n ** 13n }), discount: fc.nat(3000), receipts: fc.bigInt({ min: 1n, max: 9n }) }), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 2 }),
        }),
        { minLength: 1, maxLength: 3, selector: (d) => d.id },
      ),
    })
    .map((w) => {
      const pool = w.pool.map(lower)
      const [flock, usdc] = w.tokens.map(lower) as [Hex, Hex]
      const ds = [...w.deployments].sort((a, b) => (a.id < b.id ? -1 : 1))
      const params: RewardParams = {
        dailyEmission: w.dailyEmission,
        epochSeconds: w.epochSeconds,
        issuerBonusBps: w.issuerBonusBps,
        scoreBasis: w.scoreBasis,
        denominator: w.denominator,
        flock,
        usdc,
        deployments: ds.map((d) => ({
          id: d.id,
          issuer: d.issuerIsUser ? pool[0]! : lower(d.issuer),
          mtToken: d.mtIsFlock ? flock : lower(d.mtToken),
          graduationEpoch: BigInt(Math.max(0, w.epoch - d.age)),
          stakingFund: d.stakingFund,
          incentiveReserve: d.incentiveReserve,
        })),
      }
      const spendOf = (k: number): SpendLeaf[] =>
        ds.flatMap((d) => {
          const seen = new Set<number>()
          return d.spends[k]!.flatMap((r) => {
            const user = r.user % pool.length
            if (seen.has(user)) return []
            seen.add(user)
            return [{ deploymentId: d.id, user: pool[user]!, gross: r.gross, charged: r.gross - (r.gross * BigInt(r.discount)) / 10_000n, receipts: r.receipts, stake: d.stakes[user]! }]
          })
        })
      return { params, epochs: [w.epoch, w.epoch + w.gap], spends: [spendOf(0), spendOf(1)], opex: ds.map((d) => d.opex), pool }
    })
    .filter((w) => w.spends.every((s) => s.length > 0))

  it('in several deployments, some not yet live, with random users, spend, stakes, OpEx and parameters', async () => {
    let tried = 0
    let notLive = 0
    let epochs = 0
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        const s = await system()
        await pin(s, w.params, [...w.spends[0]!, ...w.spends[1]!])
        let previous: Assembled | undefined
        let cumulative: Allocation[] = []
        for (const k of [0, 1]) {
          const parts = honestParts(w.epochs[k]!, s.domain, w.params, w.spends[k]!, w.opex, cumulative)
          // No reward at all (no live deployment, nothing to pay): no reward root, so nothing an aggregator proposes.
          if (parts.rewardLeaves.length === 0) continue
          const a = assemble(parts)
          epochs++
          notLive += w.params.deployments.filter((d) => BigInt(a.epoch) < d.graduationEpoch).length
          await propose(s, a)
          tried += await survivesEverything(s, a, previous, { accounts: [w.pool[w.pool.length - 1]!] })
          await s.registry.write.finalize([BigInt(a.epoch)])
          previous = a
          cumulative = a.cumulative
        }
      }),
      { numRuns: 16 },
    )
    console.log(`random honest epochs: ${epochs} proposed, ${tried} challenges tried, ${notLive} deployments not yet live`)
    // Not vacuous: most runs propose both epochs and try every challenge of each.
    expect(epochs).toBeGreaterThanOrEqual(10)
    expect(tried).toBeGreaterThan(300)
    expect(notLive).toBeGreaterThan(0)
  }, 600_000)
})
