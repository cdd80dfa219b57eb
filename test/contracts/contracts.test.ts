import { pinnedContent } from '../../src/epoch/config.ts'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeFunctionData, getAddress, getContract, keccak256, zeroAddress, zeroHash, type Abi, type Address, type Hex, type PublicClient, type WalletClient, type Transport, type Chain, type Account } from 'viem'
import { FalseReturningToken, MTStaking, PoseidonT4, ReentrantToken, RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { distributorBytecode } from '../../src/chain/contracts.ts'
import { stakingDiscountBps } from '../../src/economics/revenue.ts'
import { distributorDomain, REWARD_LEAF_ENCODING } from '../../src/epoch/rewards.ts'
import { SPEND_LEAF_ENCODING } from '../../src/epoch/spend.ts'
import { spendLeafProof } from '../../src/chain/publication.ts'
import { StandardTree } from '../../src/merkle/tree.ts'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { GENERATED, renderArtifacts } from '../generate-contract-artifacts.ts'
import { contractsOn, hardhat, type Artifact } from './hre.ts'
import { measureClaimGas } from '../bench/gas.ts'
import { writeFileSync } from 'node:fs'

type Hre = Awaited<ReturnType<typeof hardhat>>
let hre: Hre
let wallets: WalletClient<Transport, Chain, Account>[]
let publicClient: PublicClient
let deploy: ReturnType<typeof contractsOn>['deploy']
let as: ReturnType<typeof contractsOn>['as']
let admin: Address, publisher: Address, guardian: Address, alice: Address, bob: Address, carol: Address

const TIMELOCK = 3600n
/** Blocks a snapshot may be old at proposal. */
const SNAPSHOT_MAX_AGE = 50n

beforeAll(async () => {
  hre = await hardhat()
  wallets = (await hre.viem.getWalletClients()) as unknown as WalletClient<Transport, Chain, Account>[]
  publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient
  ;({ deploy, as } = contractsOn(wallets, publicClient))
  ;[admin, publisher, guardian, alice, bob, carol] = wallets.slice(0, 6).map((w) => getAddress(w.account!.address)) as [Address, Address, Address, Address, Address, Address]
  // The distributor calls the PoseidonT4 library (stake-row challenges): deployed once, linked into each distributor.
  Distributor = { abi: RewardDistributor.abi, bytecode: distributorBytecode((await deploy(PoseidonT4, [])).address) }
}, 120_000)

let Distributor: { abi: typeof RewardDistributor.abi; bytecode: Hex }



async function deploySystem() {
  // The distributor is also the epoch registry: one contract publishes roots and pays claims.
  const distributor = await deploy(Distributor, [admin, publisher, guardian, TIMELOCK, zeroAddress, SNAPSHOT_MAX_AGE, zeroAddress, zeroAddress])
  const registry = distributor
  const flock = await deploy(TestToken, ['FLOCK', 'FLOCK', 18])
  const usdc = await deploy(TestToken, ['USD Coin', 'USDC', 6])
  // The first configuration is pinned at once; its one deployment stakes on a staking contract of its own.
  const mt = await deploy(TestToken, ['MT', 'MT', 18])
  const staking = await deploy(MTStaking, [mt.address, admin, 3000n, 2n, 1n])
  await distributor.write.scheduleConfig([CONFIG_HASH, REWARD_PARAMS, [DEPLOYMENT], [staking.address], [], [], []])
  return { registry, distributor, flock, usdc, mt, staking }
}

/** The pinned configuration of `deploySystem` (any hash: the registry pins what the admin gives). */
const CONFIG_HASH = keccak256('0xc0')
/** The hash of its reward parameters (any: only the judge reads them, test/contracts/judge.test.ts). */
const REWARD_PARAMS = keccak256('0x5e')
const DEPLOYMENT = keccak256('0x0d')
type System = Awaited<ReturnType<typeof deploySystem>>

async function domainOf(registry: System['registry']): Promise<Hex> {
  return distributorDomain(await publicClient.getChainId(), registry.address)
}

/** A commitment under the pinned configuration, its snapshot the last mined block. */
async function commitment(rewardRoot: Hex, domain: Hex, spendRoot: Hex = keccak256('0x01')) {
  const snapshotBlock = (await publicClient.getBlockNumber({ cacheTime: 0 })) - 1n
  return { spendRoot, rewardRoot, totalGross: 10n, totalCharged: 9n, receiptCount: 3n, manifestHash: keccak256('0x02'), domain, proofsHash: zeroHash, configHash: CONFIG_HASH, snapshotBlock, ledgerHash: keccak256('0x03') }
}

async function publish(s: System, epoch: bigint, tree: StandardTree) {
  await as(s.registry, publisher).write.propose([epoch, await commitment(tree.root as Hex, await domainOf(s.registry)), ''])
  await hre.network.provider.send('evm_increaseTime', [Number(TIMELOCK)])
  await s.registry.write.finalize([epoch])
}

/** The domain of a distributor on the in-process EVM (chain 31337), as its `domain()` computes it. */
const domainOfDistributor = (s: Pick<System, 'distributor'>) => distributorDomain(31337, s.distributor.address)
/** A reward tree for the system's distributor: leaves (domain, account, token, cumulative). */
const rewardTree = (s: Pick<System, 'distributor'>, entries: Array<[Address, Address, bigint]>) =>
  StandardTree.of(entries.map(([a, t, v]) => [domainOfDistributor(s), a, t, v.toString()]), REWARD_LEAF_ENCODING)

async function expectRevert(promise: Promise<unknown>, error: string) {
  await expect(promise).rejects.toThrow(error)
}

describe('shared vectors: Solidity computes what src/ computes', () => {
  it('reward leaf hashing equals the TypeScript tree leaves', async () => {
    const s = await deploySystem()
    const tree = rewardTree(s, [[alice, s.flock.address, 123n], [bob, s.usdc.address, 2n ** 200n]])
    for (const [i, v] of tree.entries()) expect(await s.distributor.read.leafHash([v[1] as Address, v[2] as Address, BigInt(v[3] as string)])).toBe(tree.leafHash(tree.at(i)))
  })

  it('the staking discount equals stakingDiscountBps on random inputs', async () => {
    const token = await deploy(TestToken, ['MT', 'MT', 18])
    const staking = await deploy(MTStaking, [token.address, admin, 3000n, 2n, 1n])
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: 10n ** 27n }), fc.bigInt({ min: 0n, max: 10n ** 27n }), async (circulating, s) => {
        const stake = s % (circulating + 1n)
        expect(await staking.read.discountBps([stake, circulating])).toBe(stakingDiscountBps(stake, circulating, { maxDiscountBps: 3000n, multiplier: 2n }))
      }),
      { numRuns: 150 },
    )
    expect(await staking.read.discountBps([50_000n * 10n ** 18n, 600_000n * 10n ** 18n])).toBe(1666n)
  })
})

describe('EpochRegistry (checklist 28)', () => {
  it('accepts only the publisher, non-zero roots and its own domain; no silent queue; guardian revoke; timelock', async () => {
    const s = await deploySystem()
    const domain = await domainOf(s.registry)
    const root = keccak256('0xaa')
    await expectRevert(as(s.registry, alice).write.propose([1n, await commitment(root, domain), '']), 'AccessControlUnauthorizedAccount')
    await expectRevert(as(s.registry, publisher).write.propose([1n, await commitment(zeroHash, domain), '']), 'EpochRegistryZeroRoot')
    await expectRevert(as(s.registry, publisher).write.propose([1n, await commitment(root, domain, zeroHash), '']), 'EpochRegistryZeroRoot')
    // Without a ledger no challenge of the judge could open anything: refused like a zero root.
    await expectRevert(as(s.registry, publisher).write.propose([1n, { ...(await commitment(root, domain)), ledgerHash: zeroHash }, '']), 'EpochRegistryZeroRoot')
    await expectRevert(as(s.registry, publisher).write.propose([1n, await commitment(root, keccak256('0x99')), '']), 'EpochRegistryWrongDomain')
    await as(s.registry, publisher).write.propose([1n, await commitment(root, domain), ''])
    await expectRevert(as(s.registry, publisher).write.propose([2n, await commitment(root, domain), '']), 'EpochRegistryPendingExists')
    await expectRevert(s.registry.write.finalize([1n]), 'EpochRegistryTimelock')
    expect(await s.registry.read.currentRewardRoot()).toBe(zeroHash)
    await expectRevert(as(s.registry, alice).write.revoke([1n]), 'AccessControlUnauthorizedAccount')
    await as(s.registry, guardian).write.revoke([1n])
    const revoked = await s.registry.getEvents.EpochRevoked()
    expect(revoked[0]?.args.epoch).toBe(1n)
    await expectRevert(s.registry.write.finalize([1n]), 'EpochRegistryNoPending')
    await as(s.registry, publisher).write.propose([1n, await commitment(root, domain), ''])
    await hre.network.provider.send('evm_increaseTime', [Number(TIMELOCK)])
    await as(s.registry, bob).write.finalize([1n])
    expect(await s.registry.read.currentRewardRoot()).toBe(root)
    await expectRevert(as(s.registry, publisher).write.propose([1n, await commitment(root, domain), '']), 'EpochRegistryEpochNotAfter')
  })

  it('checks a spend leaf against a final spend root built by src/merkle', async () => {
    const s = await deploySystem()
    const values = [0, 1, 2].map((i) => ['7', DEPLOYMENT, [alice, bob, carol][i]!, String(1000 * (i + 1)), String(900 * (i + 1)), String(i + 1), String(i)])
    const spend = StandardTree.of(values, SPEND_LEAF_ENCODING)
    await as(s.registry, publisher).write.propose([7n, await commitment(keccak256('0xab'), await domainOf(s.registry), spend.root as Hex), ''])
    await hre.network.provider.send('evm_increaseTime', [Number(TIMELOCK)])
    await s.registry.write.finalize([7n])
    const { leaf, proof } = spendLeafProof(spend, 1)
    expect(leaf).toEqual({ deploymentId: DEPLOYMENT, user: bob.toLowerCase(), gross: 2000n, charged: 1800n, receipts: 2n, stake: 1n })
    expect(await s.registry.read.verifySpend([7n, leaf, proof])).toBe(true)
    expect(await s.registry.read.verifySpend([7n, { ...leaf, gross: 2001n }, proof])).toBe(false)
    expect(await s.registry.read.verifySpend([7n, { ...leaf, stake: 0n }, proof])).toBe(false)
    expect(await s.registry.read.verifySpend([8n, leaf, proof])).toBe(false)
  })
})

describe('EpochRegistry: a pinned configuration and a snapshot block from the chain', () => {
  it('refuses proposals before a configuration is pinned, and with another configuration than the pinned one', async () => {
    const bare = await deploy(Distributor, [admin, publisher, guardian, TIMELOCK, zeroAddress, SNAPSHOT_MAX_AGE, zeroAddress, zeroAddress])
    const domain = distributorDomain(31337, bare.address)
    await expectRevert(as(bare, publisher).write.propose([1n, await commitment(keccak256('0xaa'), domain), '']), 'EpochRegistryNoConfig')
    const s = await deploySystem()
    const c = await commitment(keccak256('0xaa'), await domainOf(s.registry))
    await expectRevert(as(s.registry, publisher).write.propose([1n, { ...c, configHash: keccak256('0xc1') }, '']), 'EpochRegistryWrongConfig')
    await as(s.registry, publisher).write.propose([1n, c, ''])
  })

  it('changes the configuration only through the admin and the timelock; a pending proposal keeps its own', async () => {
    const s = await deploySystem()
    const other = await deploy(MTStaking, [s.mt.address, admin, 3000n, 2n, 1n])
    const next = keccak256('0xc2')
    await expectRevert(as(s.registry, publisher).write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [], [], []]), 'AccessControlUnauthorizedAccount')
    for (const [hash, ids, stakings, rewardParams = REWARD_PARAMS] of [
      [zeroHash, [DEPLOYMENT], [other.address]],
      [next, [DEPLOYMENT], [other.address], zeroHash],
      [CONFIG_HASH, [DEPLOYMENT], [other.address]],
      [next, [], []],
      [next, [DEPLOYMENT], []],
      [next, [DEPLOYMENT], [zeroAddress]],
      [next, [DEPLOYMENT], [alice]],
      [next, [DEPLOYMENT, DEPLOYMENT], [other.address, other.address]],
    ] as Array<[Hex, Hex[], Address[], Hex?]>)
      await expectRevert(s.registry.write.scheduleConfig([hash, rewardParams, ids, stakings, [], [], []]), 'EpochRegistryInvalidConfig')
    // Provider keys: lists of different lengths, a key of a deployment the configuration does not have, a key with no
    // provider account, or one key pinned twice (to two accounts).
    await expectRevert(s.registry.write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [DEPLOYMENT], [], []]), 'EpochRegistryInvalidConfig')
    await expectRevert(s.registry.write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [DEPLOYMENT], [5n], []]), 'EpochRegistryInvalidConfig')
    await expectRevert(s.registry.write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [keccak256('0x0e')], [5n], [alice]]), 'EpochRegistryInvalidConfig')
    await expectRevert(s.registry.write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [DEPLOYMENT], [5n], [zeroAddress]]), 'EpochRegistryInvalidConfig')
    await expectRevert(s.registry.write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [DEPLOYMENT, DEPLOYMENT], [5n, 5n], [alice, publisher]]), 'EpochRegistryInvalidConfig')
    const domain = await domainOf(s.registry)
    await as(s.registry, publisher).write.propose([1n, await commitment(keccak256('0xaa'), domain), ''])
    await s.registry.write.scheduleConfig([next, REWARD_PARAMS, [DEPLOYMENT], [other.address], [DEPLOYMENT], [5n], [alice]])
    const [scheduled] = await s.registry.getEvents.ConfigScheduled({ configHash: next })
    expect(scheduled?.args).toMatchObject({ rewardParams: REWARD_PARAMS, deploymentIds: [DEPLOYMENT], stakings: [getAddress(other.address)], keyDeploymentIds: [DEPLOYMENT], providerKeys: [5n], providerAccounts: [getAddress(alice)] })
    expect(await s.registry.read.providerAccountOf([next, DEPLOYMENT, 5n])).toBe(getAddress(alice))
    expect(await s.registry.read.rewardParamsOf([next])).toBe(REWARD_PARAMS)
    // What the registry records of the schedule is what the auditor recomputes from config.json.
    const content = pinnedContent({ hash: next, rewardParams: REWARD_PARAMS, deploymentIds: [DEPLOYMENT], stakings: [other.address.toLowerCase() as Hex], keyDeploymentIds: [DEPLOYMENT], keyIds: [5n], keyAccounts: [alice.toLowerCase() as Hex] })
    expect(await s.registry.read.pinnedContentOf([next])).toBe(content)
    expect(await s.registry.read.configHash()).toBe(CONFIG_HASH)
    await expectRevert(s.registry.write.activateConfig(), 'EpochRegistryConfigNotReady')
    await hre.network.provider.send('evm_increaseTime', [Number(TIMELOCK)])
    await as(s.registry, alice).write.activateConfig()
    expect(await s.registry.read.configHash()).toBe(next)
    await expectRevert(s.registry.write.activateConfig(), 'EpochRegistryConfigNotReady')
    // The pending proposal was made under the first configuration and is challenged against its staking contract.
    expect(await s.registry.read.stakingOf([CONFIG_HASH, DEPLOYMENT])).toBe(getAddress(s.staking.address))
    expect(await s.registry.read.stakingOf([next, DEPLOYMENT])).toBe(getAddress(other.address))
    await s.registry.write.finalize([1n])
    await expectRevert(as(s.registry, publisher).write.propose([2n, await commitment(keccak256('0xaa'), domain), '']), 'EpochRegistryWrongConfig')
    await as(s.registry, publisher).write.propose([2n, { ...(await commitment(keccak256('0xaa'), domain)), configHash: next }, ''])
  })

  it('takes a snapshot block only strictly in the past and after the last final epoch\'s', async () => {
    const s = await deploySystem()
    const domain = await domainOf(s.registry)
    const c = await commitment(keccak256('0xaa'), domain)
    // The proposal is mined in the next block: a snapshot at it or later is not strictly past.
    for (const ahead of [null, 1n, 5n]) {
      const snapshotBlock = ahead === null ? 0n : (await publicClient.getBlockNumber()) + ahead
      await expectRevert(as(s.registry, publisher).write.propose([1n, { ...c, snapshotBlock }, '']), 'EpochRegistrySnapshotBlock')
    }
    // A snapshot more than snapshotMaxAge blocks before the proposal is one the aggregator chose long past.
    await hre.network.provider.send('hardhat_mine', [`0x${SNAPSHOT_MAX_AGE.toString(16)}`])
    await expectRevert(as(s.registry, publisher).write.propose([1n, c, '']), 'EpochRegistrySnapshotBlock')
    const atLimit = (await publicClient.getBlockNumber({ cacheTime: 0 })) + 1n - SNAPSHOT_MAX_AGE
    await as(s.registry, publisher).write.propose([1n, { ...c, snapshotBlock: atLimit }, ''])
    await as(s.registry, guardian).write.revoke([1n])
    await expectRevert(deploy(Distributor, [admin, publisher, guardian, TIMELOCK, zeroAddress, 0n, zeroAddress, zeroAddress]), 'EpochRegistryInvalidConfig')
    const fresh = await commitment(keccak256('0xaa'), domain)
    await as(s.registry, publisher).write.propose([1n, fresh, ''])
    await hre.network.provider.send('evm_increaseTime', [Number(TIMELOCK)])
    await s.registry.write.finalize([1n])
    for (const snapshotBlock of [fresh.snapshotBlock, fresh.snapshotBlock - 1n])
      await expectRevert(as(s.registry, publisher).write.propose([2n, { ...fresh, snapshotBlock }, '']), 'EpochRegistrySnapshotBlock')
    await as(s.registry, publisher).write.propose([2n, { ...fresh, snapshotBlock: fresh.snapshotBlock + 1n }, ''])
  })
})

describe('RewardDistributor (checklist 24-33)', () => {
  it('pays the difference once, then only deltas; a lowered amount pays nothing and funds stay', async () => {
    const s = await deploySystem()
    await s.flock.write.mint([s.distributor.address, 1000n])
    const t1 = rewardTree(s, [[alice, s.flock.address, 100n], [bob, s.flock.address, 50n]])
    await publish(s, 1n, t1)
    await as(s.distributor, carol).write.claim([alice, s.flock.address, 100n, t1.getProof(0) as Hex[]])
    expect(await s.flock.read.balanceOf([alice])).toBe(100n)
    await expectRevert(s.distributor.write.claim([alice, s.flock.address, 100n, t1.getProof(0) as Hex[]]), 'RewardDistributorNothingToClaim')
    expect(await s.flock.read.balanceOf([alice])).toBe(100n)
    const t2 = rewardTree(s, [[alice, s.flock.address, 160n], [bob, s.flock.address, 40n]])
    await publish(s, 2n, t2)
    await s.distributor.write.claim([alice, s.flock.address, 160n, t2.getProof(0) as Hex[]])
    expect(await s.flock.read.balanceOf([alice])).toBe(160n)
    await s.distributor.write.claim([bob, s.flock.address, 40n, t2.getProof(1) as Hex[]])
    // bob had claimed nothing: 40 is paid; a later root lowering him below what he has is a no-op.
    const t3 = rewardTree(s, [[alice, s.flock.address, 160n], [bob, s.flock.address, 10n]])
    await publish(s, 3n, t3)
    await expectRevert(s.distributor.write.claim([bob, s.flock.address, 10n, t3.getProof(1) as Hex[]]), 'RewardDistributorNothingToClaim')
    expect(await s.flock.read.balanceOf([s.distributor.address])).toBe(1000n - 200n)
  })

  it('pays a duplicated leaf of one batch once, across tokens and accounts', async () => {
    const s = await deploySystem()
    await s.flock.write.mint([s.distributor.address, 1000n])
    await s.usdc.write.mint([s.distributor.address, 1000n])
    const t = rewardTree(s, [[alice, s.flock.address, 10n], [alice, s.usdc.address, 20n], [bob, s.flock.address, 30n]])
    await publish(s, 1n, t)
    const claim = (i: number) => {
      const [, account, token, amount] = t.at(i) as [Hex, Address, Address, string]
      return { account, token, cumulative: BigInt(amount), proof: t.getProof(i) as Hex[] }
    }
    await s.distributor.write.claimMany([[claim(0), claim(0), claim(1), claim(2), claim(1)]])
    expect(await s.flock.read.balanceOf([alice])).toBe(10n)
    expect(await s.usdc.read.balanceOf([alice])).toBe(20n)
    expect(await s.flock.read.balanceOf([bob])).toBe(30n)
    // Token A's claim never touched token B's record.
    expect(await s.distributor.read.claimed([alice, s.usdc.address])).toBe(20n)
  })

  it('rejects a wrong account, token, amount, proof length or an internal-node proof', async () => {
    const s = await deploySystem()
    await s.flock.write.mint([s.distributor.address, 1000n])
    const t = rewardTree(s, [[alice, s.flock.address, 10n], [bob, s.flock.address, 20n], [carol, s.flock.address, 30n], [admin, s.flock.address, 40n]])
    await publish(s, 1n, t)
    const i = t.indexOf([domainOfDistributor(s), alice, s.flock.address, '10'])
    const proof = t.getProof(i) as Hex[]
    await expectRevert(s.distributor.write.claim([bob, s.flock.address, 10n, proof]), 'RewardDistributorInvalidProof')
    await expectRevert(s.distributor.write.claim([alice, s.usdc.address, 10n, proof]), 'RewardDistributorInvalidProof')
    await expectRevert(s.distributor.write.claim([alice, s.flock.address, 11n, proof]), 'RewardDistributorInvalidProof')
    await expectRevert(s.distributor.write.claim([alice, s.flock.address, 10n, proof.slice(1)]), 'RewardDistributorInvalidProof')
    await expectRevert(s.distributor.write.claim([alice, s.flock.address, 10n, [...proof, zeroHash]]), 'RewardDistributorInvalidProof')
    // An internal node's children, offered as a leaf: the double-hashed leaf never equals the node.
    const left = `0x${Buffer.from(t.nodes.subarray(96, 128)).toString('hex')}` as Address
    await expectRevert(s.distributor.write.claim([left.slice(0, 42) as Address, s.flock.address, 0n, [`0x${Buffer.from(t.nodes.subarray(64, 96)).toString('hex')}`]]), 'RewardDistributorInvalidProof')
  })

  it('a reward tree made for one distributor pays nothing on another (a second deployment, another chain)', async () => {
    const a = await deploySystem()
    const b = await deploySystem()
    await a.flock.write.mint([a.distributor.address, 1000n])
    await a.flock.write.mint([b.distributor.address, 1000n])
    expect(await b.distributor.read.domain()).toBe(domainOfDistributor(b))
    const t = rewardTree(a, [[alice, a.flock.address, 10n], [bob, a.flock.address, 20n]])
    // The same root, published on both: the leaves carry a's domain, so b's hashing never meets them.
    await publish(a, 1n, t)
    await publish(b, 1n, t)
    await expectRevert(b.distributor.write.claim([alice, a.flock.address, 10n, t.getProof(t.indexOf([domainOfDistributor(a), alice, a.flock.address, '10'])) as Hex[]]), 'RewardDistributorInvalidProof')
    expect(await b.distributor.read.claimable([alice, a.flock.address, 10n, t.getProof(0) as Hex[]])).toBe(0n)
    await a.distributor.write.claim([alice, a.flock.address, 10n, t.getProof(t.indexOf([domainOfDistributor(a), alice, a.flock.address, '10'])) as Hex[]])
    expect(await a.flock.read.balanceOf([alice])).toBe(10n)
    expect(await a.flock.read.balanceOf([b.distributor.address])).toBe(1000n)
  })

  it('sends funds only to the account or the recipient it chose itself', async () => {
    const s = await deploySystem()
    await s.flock.write.mint([s.distributor.address, 1000n])
    const t = rewardTree(s, [[alice, s.flock.address, 10n], [bob, s.flock.address, 20n]])
    await publish(s, 1n, t)
    await as(s.distributor, alice).write.setRecipient([carol])
    await as(s.distributor, bob).write.claim([alice, s.flock.address, 10n, t.getProof(t.indexOf([domainOfDistributor(s), alice, s.flock.address, '10'])) as Hex[]])
    expect(await s.flock.read.balanceOf([carol])).toBe(10n)
    expect(await s.flock.read.balanceOf([bob])).toBe(0n)
    // bob cannot redirect alice's rewards: setRecipient sets only the caller's own.
    await as(s.distributor, bob).write.setRecipient([bob])
    expect(await s.distributor.read.recipientOf([alice])).toBe(carol)
    // bob claiming his own leaf is paid to himself.
    await as(s.distributor, bob).write.claim([bob, s.flock.address, 20n, t.getProof(t.indexOf([domainOfDistributor(s), bob, s.flock.address, '20'])) as Hex[]])
    expect(await s.flock.read.balanceOf([bob])).toBe(20n)
  })

  it('reverts when underfunded or the token returns false, leaving claimed unchanged', async () => {
    const s = await deploySystem()
    const bad = await deploy(FalseReturningToken, [])
    await s.flock.write.mint([s.distributor.address, 5n])
    const t = rewardTree(s, [[alice, s.flock.address, 10n], [alice, bad.address, 10n]])
    await publish(s, 1n, t)
    await expectRevert(s.distributor.write.claim([alice, s.flock.address, 10n, t.getProof(t.indexOf([domainOfDistributor(s), alice, s.flock.address, '10'])) as Hex[]]), 'ERC20InsufficientBalance')
    expect(await s.distributor.read.claimed([alice, s.flock.address])).toBe(0n)
    await expectRevert(s.distributor.write.claim([alice, bad.address, 10n, t.getProof(t.indexOf([domainOfDistributor(s), alice, bad.address, '10'])) as Hex[]]), 'SafeERC20FailedOperation')
    expect(await s.distributor.read.claimed([alice, bad.address])).toBe(0n)
  })

  it('a reentrant token cannot make the distributor pay twice', async () => {
    const s = await deploySystem()
    const re = await deploy(ReentrantToken, [])
    await re.write.mint([s.distributor.address, 100n])
    const t = rewardTree(s, [[alice, re.address, 10n], [bob, re.address, 10n]])
    await publish(s, 1n, t)
    const proof = t.getProof(t.indexOf([domainOfDistributor(s), alice, re.address, '10'])) as Hex[]
    const { encodeFunctionData } = await import('viem')
    // Re-entering claim: the leaf is already marked claimed, so the inner call reverts and so does the whole claim.
    await re.write.arm([s.distributor.address, encodeFunctionData({ abi: s.distributor.abi, functionName: 'claim', args: [alice, re.address, 10n, proof] })])
    await expectRevert(s.distributor.write.claim([alice, re.address, 10n, proof]), 'RewardDistributorNothingToClaim')
    expect(await re.read.balanceOf([alice])).toBe(0n)
    expect(await s.distributor.read.claimed([alice, re.address])).toBe(0n)
    // Re-entering claimMany: the inner call skips the paid leaf; the outer one pays once.
    const again = await deploy(ReentrantToken, [])
    await again.write.mint([s.distributor.address, 100n])
    const t2 = rewardTree(s, [[alice, again.address, 10n], [bob, again.address, 10n]])
    await publish(s, 2n, t2)
    const proof2 = t2.getProof(t2.indexOf([domainOfDistributor(s), alice, again.address, '10'])) as Hex[]
    await again.write.arm([s.distributor.address, encodeFunctionData({ abi: s.distributor.abi, functionName: 'claimMany', args: [[{ account: alice, token: again.address, cumulative: 10n, proof: proof2 }]] })])
    await s.distributor.write.claim([alice, again.address, 10n, proof2])
    expect(await again.read.balanceOf([alice])).toBe(10n)
    expect(await again.read.balanceOf([s.distributor.address])).toBe(90n)
  })

  it('invariants under random roots and claims: paid <= funded per token, claimed only grows, paid = new - old', async () => {
    const s = await deploySystem()
    const accounts = [alice, bob, carol]
    const tokens = [s.flock, s.usdc]
    for (const t of tokens) await t.write.mint([s.distributor.address, 10n ** 30n])
    const funded = 10n ** 30n
    const cumulative = new Map<string, bigint>()
    let epoch = 1n
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(2), fc.nat(1), fc.bigInt({ min: -50n, max: 1000n })), { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(2), fc.nat(1)), { maxLength: 4 }), async (updates, claims) => {
        for (const [a, t, delta] of updates) {
          const key = `${accounts[a]}/${tokens[t]!.address}`
          const next = (cumulative.get(key) ?? 0n) + delta
          cumulative.set(key, next < 0n ? 0n : next)
        }
        const entries = [...cumulative].map(([k, v]) => [...k.split('/'), v] as [Address, Address, bigint])
        const tree = rewardTree(s, entries)
        await publish(s, epoch++, tree)
        for (const [a, t] of claims) {
          const account = accounts[a]!
          const token = tokens[t]!
          const amount = cumulative.get(`${account}/${token.address}`)
          if (amount === undefined) continue
          const before = await s.distributor.read.claimed([account, token.address])
          const balance = await token.read.balanceOf([account])
          const proof = tree.getProof(tree.indexOf([domainOfDistributor(s), account, token.address, amount.toString()])) as Hex[]
          await s.distributor.write.claimMany([[{ account, token: token.address, cumulative: amount, proof }]])
          const after = await s.distributor.read.claimed([account, token.address])
          expect(after >= before).toBe(true)
          expect((await token.read.balanceOf([account])) - balance).toBe(after - before)
        }
        for (const token of tokens) expect(funded - (await token.read.balanceOf([s.distributor.address])) <= funded).toBe(true)
      }),
      { numRuns: 25 },
    )
  })
})

describe('MTStaking', () => {
  it('checkpoints stakes and circulating supply by block, and reads the discount at a snapshot block', async () => {
    const mt = await deploy(TestToken, ['QwenALICE', 'QALICE', 18])
    const staking = await deploy(MTStaking, [mt.address, admin, 3000n, 2n, 5n])
    const e = 10n ** 18n
    await mt.write.mint([bob, 100_000n * e])
    await as(mt, bob).write.approve([staking.address, 100_000n * e])
    await staking.write.setCirculatingSupply([600_000n * e])
    const staked = (await publicClient.waitForTransactionReceipt({ hash: await as(staking, bob).write.stake([50_000n * e]) })).blockNumber
    // The snapshot block: the stake was held over its whole eligibility window (5 blocks).
    await hre.network.provider.send('hardhat_mine', ['0x5'])
    const snapshot = staked + 5n
    await as(staking, bob).write.unstake([20_000n * e])
    await staking.write.setCirculatingSupply([700_000n * e])
    expect(await staking.read.stakeAt([bob, snapshot])).toBe(50_000n * e)
    expect(await staking.read.circulatingSupplyAt([snapshot])).toBe(600_000n * e)
    expect(await staking.read.discountBpsAt([bob, snapshot])).toBe(1666n)
    expect(await staking.read.stakeOf([bob])).toBe(30_000n * e)
    expect(await staking.read.totalStaked()).toBe(30_000n * e)
    await expectRevert(as(staking, bob).write.unstake([40_000n * e]), 'MTStakingInsufficientStake')
    await expectRevert(staking.read.stakeAt([bob, snapshot + 1000n]), 'MTStakingFutureBlock')
  })
})

describe('MTStaking eligibility: the stake held since the window began less its withdrawals, strictly past blocks, checkpointed X and M', () => {
  const e = 10n ** 18n
  const WINDOW = 5n
  const mine = (blocks: bigint) => hre.network.provider.send('hardhat_mine', [`0x${blocks.toString(16)}`])
  /** The block a transaction was mined in (each transaction is its own block: automine). */
  const minedIn = async (hash: Promise<Hex>) => (await publicClient.waitForTransactionReceipt({ hash: await hash })).blockNumber
  const latest = async () => (await publicClient.getBlock({ blockTag: 'latest', includeTransactions: false })).number

  /** A Model Token and MTStaking (X = 3,000 bps, M = 2) with 600,000 MT circulating; alice, bob and carol hold and approve MT. */
  async function stakingWorld(window = WINDOW) {
    const mt = await deploy(TestToken, ['MT', 'MT', 18])
    const staking = await deploy(MTStaking, [mt.address, admin, 3000n, 2n, window])
    for (const who of [alice, bob, carol]) {
      await mt.write.mint([who, 1_000_000n * e])
      await as(mt, who).write.approve([staking.address, 1_000_000n * e])
    }
    await staking.write.setCirculatingSupply([600_000n * e])
    return { mt, staking }
  }

  it('refuses a zero window and reads it back', async () => {
    const mt = await deploy(TestToken, ['MT', 'MT', 18])
    await expectRevert(deploy(MTStaking, [mt.address, admin, 3000n, 2n, 0n]), 'MTStakingZeroWindow')
    const { staking } = await stakingWorld()
    expect(await staking.read.eligibilityWindow()).toBe(WINDOW)
  })

  it('a one-block stake counts nothing; a stake held the whole window counts fully; an unstake and restake inside it counts the drop', async () => {
    const { staking } = await stakingWorld()
    const bobStaked = await minedIn(as(staking, bob).write.stake([50_000n * e]))
    await mine(WINDOW)
    // Alice stakes one block before the snapshot block S.
    const aliceStaked = await minedIn(as(staking, alice).write.stake([50_000n * e]))
    const S = aliceStaked + 1n
    await mine(2n)
    expect(S - WINDOW).toBeGreaterThanOrEqual(bobStaked)
    expect(await staking.read.stakeAt([alice, S])).toBe(50_000n * e)
    expect(await staking.read.eligibleStakeAt([alice, S])).toBe(0n)
    expect(await staking.read.discountBpsAt([alice, S])).toBe(0n)
    expect(await staking.read.eligibleStakeAt([bob, S])).toBe(50_000n * e)
    expect(await staking.read.discountBpsAt([bob, S])).toBe(1666n)
    // Alice counts once her stake has been held since the window's start.
    await mine(WINDOW)
    expect(await staking.read.eligibleStakeAt([alice, aliceStaked + WINDOW])).toBe(50_000n * e)
    expect(await staking.read.eligibleStakeAt([alice, aliceStaked + WINDOW - 1n])).toBe(0n)

    // Carol holds 50,000, drops to 20,000 for one block, and restakes.
    const carolStaked = await minedIn(as(staking, carol).write.stake([50_000n * e]))
    await mine(WINDOW)
    const dropped = await minedIn(as(staking, carol).write.unstake([30_000n * e]))
    const restaked = await minedIn(as(staking, carol).write.stake([30_000n * e]))
    await mine(WINDOW + 1n)
    expect(dropped - 1n - WINDOW).toBe(carolStaked)
    expect(await staking.read.eligibleStakeAt([carol, dropped - 1n])).toBe(50_000n * e)
    for (let b = dropped; b <= dropped + WINDOW; b++) expect(await staking.read.eligibleStakeAt([carol, b])).toBe(20_000n * e)
    expect(await staking.read.discountBpsAt([carol, restaked])).toBe(stakingDiscountBps(20_000n * e, 600_000n * e, { maxDiscountBps: 3000n, multiplier: 2n }))
    expect(await staking.read.eligibleStakeAt([carol, dropped + WINDOW + 1n])).toBe(50_000n * e)
    expect(await staking.read.stakeAt([carol, restaked])).toBe(50_000n * e)
  })

  it('stake added inside the window does not count; a withdrawal inside it counts against it even if staked back', async () => {
    const { staking } = await stakingWorld()
    // Bob holds 100 from before the window, then inside it: unstakes 50 and stakes 50 back.
    const bobStaked = await minedIn(as(staking, bob).write.stake([100n * e]))
    await mine(WINDOW)
    await as(staking, bob).write.unstake([50n * e])
    const bobBack = await minedIn(as(staking, bob).write.stake([50n * e]))
    // Alice holds 100 from before the window, then inside it: stakes 30 more.
    const aliceStaked = await minedIn(as(staking, alice).write.stake([100n * e]))
    await mine(WINDOW)
    const aliceAdded = await minedIn(as(staking, alice).write.stake([30n * e]))
    // Carol holds 100 from before the window, then inside it: stakes 30 and takes the 30 back.
    const carolStaked = await minedIn(as(staking, carol).write.stake([100n * e]))
    await mine(WINDOW)
    await as(staking, carol).write.stake([30n * e])
    const carolOut = await minedIn(as(staking, carol).write.unstake([30n * e]))
    await mine(1n)

    expect(bobBack - WINDOW).toBeGreaterThan(bobStaked)
    expect(await staking.read.stakeAt([bob, bobBack])).toBe(100n * e)
    expect(await staking.read.eligibleStakeAt([bob, bobBack])).toBe(50n * e)
    expect(aliceAdded - WINDOW).toBeGreaterThan(aliceStaked)
    expect(await staking.read.stakeAt([alice, aliceAdded])).toBe(130n * e)
    expect(await staking.read.eligibleStakeAt([alice, aliceAdded])).toBe(100n * e)
    // A lower bound of the minimum (100 at every block of the window), not the minimum: the 30 withdrawn counts.
    expect(carolOut - WINDOW).toBeGreaterThan(carolStaked)
    expect(await staking.read.stakeAt([carol, carolOut])).toBe(100n * e)
    expect(await staking.read.eligibleStakeAt([carol, carolOut])).toBe(70n * e)
  })

  it('W = 1: the window is [S - 1, S], so a stake made at S - 1 counts and one made at S does not', async () => {
    const { staking } = await stakingWorld(1n)
    const staked = await minedIn(as(staking, alice).write.stake([100n * e]))
    await mine(2n)
    expect(await staking.read.eligibleStakeAt([alice, staked])).toBe(0n)
    expect(await staking.read.eligibleStakeAt([alice, staked + 1n])).toBe(100n * e)
    const out = await minedIn(as(staking, alice).write.unstake([40n * e]))
    await mine(2n)
    expect(await staking.read.eligibleStakeAt([alice, out])).toBe(60n * e)
    expect(await staking.read.eligibleStakeAt([alice, out + 1n])).toBe(60n * e)
  })

  it('eligibleStakeAt is at most the minimum of stakeAt over every block of the window, and equals it when nothing was added inside it, on random stakes and unstakes', async () => {
    const mt = await deploy(TestToken, ['MT', 'MT', 18])
    await mt.write.mint([alice, 10n ** 30n])
    const step = fc.oneof(
      fc.record({ kind: fc.constant('stake' as const), amount: fc.bigInt({ min: 1n, max: 100n }) }),
      fc.record({ kind: fc.constant('unstake' as const), amount: fc.bigInt({ min: 1n, max: 100n }) }),
      fc.record({ kind: fc.constant('mine' as const), amount: fc.bigInt({ min: 1n, max: 3n }) }),
    )
    let equalities = 0
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: 4n }), fc.array(step, { minLength: 1, maxLength: 8 }), async (window, steps) => {
        const staking = await deploy(MTStaking, [mt.address, admin, 3000n, 2n, window])
        await as(mt, alice).write.approve([staking.address, 10n ** 30n])
        const first = await latest()
        let current = 0n
        const addedIn = new Set<bigint>()
        const withdrawnIn = new Map<bigint, bigint>()
        for (const { kind, amount } of steps) {
          if (kind === 'mine') await mine(amount)
          else if (kind === 'stake') {
            addedIn.add(await minedIn(as(staking, alice).write.stake([amount])))
            current += amount
          } else if (current > 0n) {
            const a = amount > current ? current : amount
            withdrawnIn.set(await minedIn(as(staking, alice).write.unstake([a])), a)
            current -= a
          }
        }
        await mine(1n)
        const last = (await latest()) - 1n
        const stakeAt = new Map<bigint, bigint>()
        for (let b = first - window < 0n ? 0n : first - window; b <= last; b++) stakeAt.set(b, await staking.read.stakeAt([alice, b]))
        for (let b = first; b <= last; b++) {
          const start = b - window < 0n ? 0n : b - window
          let minimum = stakeAt.get(start)!
          let removed = 0n
          let added = false
          for (let x = start; x <= b; x++) if (stakeAt.get(x)! < minimum) minimum = stakeAt.get(x)!
          for (let x = start + 1n; x <= b; x++) {
            removed += withdrawnIn.get(x) ?? 0n
            added ||= addedIn.has(x)
          }
          const eligible = await staking.read.eligibleStakeAt([alice, b])
          expect(eligible).toBe(stakeAt.get(start)! > removed ? stakeAt.get(start)! - removed : 0n)
          expect(eligible <= minimum).toBe(true)
          if (!added) expect(eligible).toBe(minimum)
          if (!added) equalities++
        }
      }),
      { numRuns: 15 },
    )
    expect(equalities).toBeGreaterThan(0)
  })

  it('reads eligibleStakeAt in a bounded number of lookups for an account that changes its stake in every block', async () => {
    const window = 64n
    const { staking } = await stakingWorld(window)
    // Bob stakes once; alice stakes, then changes her stake in every block (stake 2, unstake 1, ...).
    await as(staking, bob).write.stake([1000n])
    await as(staking, alice).write.stake([1000n])
    let changes = 0
    const churn = async (blocks: number) => {
      for (let i = 0; i < blocks; i++, changes++) {
        if (changes % 2 === 0) await as(staking, alice).write.stake([2n])
        else await as(staking, alice).write.unstake([1n])
      }
      await mine(1n)
      return (await latest()) - 1n
    }
    const gas = (who: Address, S: bigint) => publicClient.estimateGas({ to: staking.address, data: encodeFunctionData({ abi: MTStaking.abi, functionName: 'eligibleStakeAt', args: [who, S] }) })
    const S1 = await churn(2 * Number(window))
    const [alice1, bob1] = [await gas(alice, S1), await gas(bob, S1)]
    const S2 = await churn(6 * Number(window))
    const alice2 = await gas(alice, S2)
    console.log(`eligibleStakeAt gas (estimateGas, incl. 21,000 intrinsic): bob ${bob1}; alice ${alice1} after ${2n * window} changes, ${alice2} after ${8n * window}`)
    // The window (S1 - 64, S1] holds 32 stakes of 2 and 32 unstakes of 1: the 32 withdrawn count, the 64 added do not.
    expect(await staking.read.eligibleStakeAt([alice, S1])).toBe((await staking.read.stakeAt([alice, S1 - window])) - 32n)
    // Three binary searches of cold storage (2,100 gas a probe), where the old scan read all 65 checkpoints of the
    // window (over 136,000 gas of cold reads alone, growing linearly with W): bounded, and 4x the checkpoints adds
    // about two probes a search.
    expect(alice1).toBeLessThan(100_000n)
    expect(alice2 - alice1).toBeLessThan(20_000n)
    expect(bob1).toBeLessThan(40_000n)
  }, 60_000)

  it('refuses a read at the current block: a contract cannot stake and read its discount in one transaction', async () => {
    const { mt, staking } = await stakingWorld()
    const artifact = (await hre.artifacts.readArtifact('FlashStaker')) as unknown as Artifact
    // FlashStaker bubbles MTStaking's revert: decode it with MTStaking's errors.
    const abi = [...artifact.abi, ...MTStaking.abi.filter((x) => x.type === 'error')] as Abi
    const flash = await deploy({ abi, bytecode: artifact.bytecode }, [staking.address])
    await mt.write.mint([flash.address, 300_000n * e])
    await expectRevert(flash.write.stakeAndRead!([300_000n * e]), 'MTStakingFutureBlock')
    expect(await staking.read.stakeOf([flash.address])).toBe(0n)
    // A read at any block not yet past is refused: a call at the latest block runs in that block.
    const now = await latest()
    await expectRevert(staking.read.stakeAt([alice, now]), 'MTStakingFutureBlock')
    await expectRevert(staking.read.eligibleStakeAt([alice, now + 1n]), 'MTStakingFutureBlock')
    await expectRevert(staking.read.discountBpsAt([alice, now + 1n]), 'MTStakingFutureBlock')
    await expectRevert(staking.read.maxDiscountBpsAt([now + 1n]), 'MTStakingFutureBlock')
  })

  it('X and M changed after the snapshot block leave its discount unchanged', async () => {
    const { staking } = await stakingWorld()
    const staked = await minedIn(as(staking, bob).write.stake([50_000n * e]))
    await mine(WINDOW)
    const S = staked + WINDOW
    const changed = await minedIn(staking.write.setDiscountParameters([1000n, 1n]))
    await mine(1n)
    expect(await staking.read.discountBpsAt([bob, S])).toBe(1666n)
    expect([await staking.read.maxDiscountBpsAt([S]), await staking.read.multiplierAt([S])]).toEqual([3000n, 2n])
    expect([await staking.read.maxDiscountBps(), await staking.read.multiplier()]).toEqual([1000n, 1n])
    expect([await staking.read.maxDiscountBpsAt([changed]), await staking.read.multiplierAt([changed])]).toEqual([1000n, 1n])
    expect(await staking.read.discountBpsAt([bob, changed])).toBe(stakingDiscountBps(50_000n * e, 600_000n * e, { maxDiscountBps: 1000n, multiplier: 1n }))
    expect(await staking.read.discountBps([50_000n * e, 600_000n * e])).toBe(833n)
    await expectRevert(staking.write.setDiscountParameters([10_001n, 1n]), 'MTStakingBadParameters')
    await expectRevert(staking.write.setDiscountParameters([3000n, 0n]), 'MTStakingBadParameters')
    await expectRevert(as(staking, bob).write.setDiscountParameters([3000n, 2n]), 'AccessControlUnauthorizedAccount')
  })
})

describe('shared vectors at the bounds: MTStaking.discountBps reverts where stakingDiscountBps throws', () => {
  const MAX = 2n ** 256n - 1n
  type Outcome = bigint | 'throws'
  const inTypeScript = (stake: bigint, circulating: bigint, maxDiscountBps: bigint, multiplier: bigint): Outcome => {
    try {
      return stakingDiscountBps(stake, circulating, { maxDiscountBps, multiplier })
    } catch {
      return 'throws'
    }
  }
  const inSolidity = async (read: Promise<bigint>): Promise<Outcome> => {
    try {
      return await read
    } catch (error) {
      expect(String(error)).toMatch(/MTStakingStakeAboveSupply|MTStakingBadParameters/)
      return 'throws'
    }
  }

  it('agree on the named bounds and on random uint256 inputs', async () => {
    const token = await deploy(TestToken, ['MT', 'MT', 18])
    const staking = await deploy(MTStaking, [token.address, admin, 3000n, 2n, 1n])
    const c = 600_000n * 10n ** 18n
    const vectors: Array<[bigint, bigint, bigint, bigint, Outcome]> = [
      [c, c, 3000n, 2n, 3000n], // stake = circulating
      [c + 1n, c, 3000n, 2n, 'throws'], // stake = circulating + 1
      [1n, 0n, 3000n, 2n, 'throws'], // circulating 0 with a stake
      [0n, 0n, 3000n, 2n, 0n], // circulating 0, no stake
      [50_000n * 10n ** 18n, c, 0n, 2n, 0n], // X = 0
      [c, c, 10_000n, 2n, 10_000n], // X = 10,000
      [1n, c, 10_000n, 1n, 0n],
      [c, c, 10_001n, 2n, 'throws'], // X above 100 %
      [1n, c, 3000n, 0n, 'throws'], // M = 0
      [1n, MAX, 10_000n, 2n ** 255n, 5000n], // large M: stake * M * 10^4 needs 512 bits
      [1n, MAX, 10_000n, MAX, 10_000n],
      [3n, MAX, 10_000n, MAX / 10_000n, 2n],
      [MAX, MAX, 10_000n, MAX, 10_000n],
      [MAX - 1n, MAX, 3000n, 1n, 3000n],
      [2n ** 200n, 2n ** 208n, 10_000n, 2n ** 10n, 10_000n],
      [2n ** 200n, 2n ** 212n, 10_000n, 2n ** 10n, 2500n],
    ]
    for (const [stake, circulating, x, m, expected] of vectors) {
      expect(inTypeScript(stake, circulating, x, m), `${stake}, ${circulating}, X ${x}, M ${m}`).toBe(expected)
      expect(await inSolidity(staking.read.discountBpsWith([stake, circulating, x, m])), `${stake}, ${circulating}, X ${x}, M ${m}`).toBe(expected)
    }
    // With the contract's own X = 3,000 and M = 2.
    await expectRevert(staking.read.discountBps([c + 1n, c]), 'MTStakingStakeAboveSupply')
    await expectRevert(staking.read.discountBps([1n, 0n]), 'MTStakingStakeAboveSupply')
    expect(await staking.read.discountBps([0n, 0n])).toBe(0n)
    expect(await staking.read.discountBps([c, c])).toBe(3000n)
    const word = fc.oneof(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.constantFrom(0n, 1n, MAX))
    await fc.assert(
      fc.asyncProperty(word, word, fc.bigInt({ min: 0n, max: 10_001n }), fc.oneof(fc.bigInt({ min: 0n, max: 1_000_000n }), fc.bigInt({ min: 0n, max: MAX })), async (a, b, x, m) => {
        const [stake, circulating] = a <= b || a % 2n === 0n ? [a, b] : [b, a]
        expect(await inSolidity(staking.read.discountBpsWith([stake, circulating, x, m]))).toBe(inTypeScript(stake, circulating, x, m))
      }),
      { numRuns: 150 },
    )
  })
})

describe('contract artifacts', () => {
  it('src/chain/contracts.generated.ts is what contracts/src compiles to (run `npm run contracts` after a change)', async () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(await renderArtifacts())
  })
})

describe('gas snapshot', () => {
  const path = fileURLToPath(new URL('../../contracts/gas-snapshot.json', import.meta.url))
  it('claims cost what contracts/gas-snapshot.json records (FOMO_UPDATE_GAS_SNAPSHOT=1 rewrites it)', async () => {
    const measured = await measureClaimGas([2, 100_000])
    const firstClaim = measured.map((r) => ({ leaves: r.leaves, fomo: Number(r.fomo), uniswap: Number(r.uniswap) }))
    const nextEpochClaim = measured.map((r) => ({ leaves: r.leaves, fomo: Number(r.fomoNext), uniswap: Number(r.uniswapNext) }))
    const text = `${JSON.stringify({ format: 'fomo-gas-snapshot-v2', firstClaim, nextEpochClaim }, null, 2)}\n`
    if (process.env.FOMO_UPDATE_GAS_SNAPSHOT) writeFileSync(path, text)
    expect(readFileSync(path, 'utf8')).toBe(text)
  })
})
