/**
 * The contracts against a newcomer's mistakes and an admin or publisher gone bad (issue 14's contract findings and
 * the checklist items on access control and fee-on-transfer tokens): constructor arguments that would brick
 * publication, an epoch whose finality would refuse every later one, two-step admin transfer, a publisher granted
 * behind the watchers' backs, a revoked proposal brought back unchanged, finalized proofs, staking with a token that
 * takes a fee, and the recovery of tokens sent by mistake that never reaches what is owed.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeAbiParameters, getAddress, getContract, keccak256, maxUint256, zeroAddress, zeroHash, type Address, type Hex } from 'viem'
import { startDevnet, type Devnet } from '../../src/chain/devnet.ts'
import { deploy, deployContracts, deployPoseidon, deployStaking, deployTestToken, distributorAt, distributorBytecode, MAX_TIMELOCK_SECONDS, type Clients } from '../../src/chain/contracts.ts'
import { addStream, deployEpochFunding, epochFundingAt } from '../../src/chain/funding.ts'
import { EpochFunding, FeeOnTransferToken, MTStaking, RevenueSettlement, RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { distributorDomain } from '../../src/epoch/rewards.ts'
import { expectRevert } from './blocks.ts'
import { hardhat } from './hre.ts'

const CONFIG = keccak256('0xc0')
const REWARD_PARAMS = keccak256('0x5e')
const DEPLOYMENT = keccak256('0x0d')
const TIMELOCK = 3600n
const DAY = 86_400n

let devnet: Devnet
let admin: Address, guardian: Address, stranger: Address, other: Address
let poseidon: Address
let acceptingVerifier: Address

beforeAll(async () => {
  devnet = await startDevnet()
  ;[admin, guardian, stranger, other] = [devnet.accounts[0]!, devnet.accounts[1]!, devnet.accounts[2]!, devnet.accounts[3]!]
  poseidon = await deployPoseidon(devnet.clients)
  // TESTS ONLY: a verifier that accepts any proof, so a registry with a verifier takes chosen signals.
  const hre = await hardhat()
  const artifact = await hre.artifacts.readArtifact('AcceptingVerifier')
  acceptingVerifier = getAddress(await deploy(devnet.clients, { abi: artifact.abi, bytecode: artifact.bytecode as Hex }, []))
}, 120_000)

/** A revert named by its custom error (the registry's errors are matched in viem's message). */
const reverts = (call: Promise<unknown>, error: string) => expect(call).rejects.toThrow(new RegExp(`\\b${error}\\b`))
const send = async (hash: Promise<Hex>) => expect((await devnet.clients.public.waitForTransactionReceipt({ hash: await hash })).status).toBe('success')
const as = (account: Address): Clients => devnet.clientsFor(account)
const now = async () => (await devnet.clients.public.getBlock({ blockTag: 'latest' })).timestamp

/** The registry's constructor called directly (the TypeScript deploy checks the same rules before it gets there). */
const deployRegistry = (args: { admin?: Address; publisher?: Address; guardian?: Address; timelock?: bigint; verifier?: Address }) =>
  deploy(devnet.clients, { abi: RewardDistributor.abi, bytecode: distributorBytecode(poseidon) }, [args.admin ?? admin, args.publisher ?? admin, args.guardian ?? guardian, args.timelock ?? TIMELOCK, args.verifier ?? zeroAddress, 50n, zeroAddress, zeroAddress])

/** A distributor (the registry) with a pinned configuration whose one deployment stakes on a test token. */
async function registry(options: { verifier?: Address; keys?: bigint[] } = {}) {
  const { distributor } = await deployContracts(devnet.clients, { admin, publisher: admin, guardian, timelockSeconds: TIMELOCK, poseidon, verifier: options.verifier })
  const staking = await deployStaking(devnet.clients, await deployTestToken(devnet.clients, 'MT', 'MT', 18), admin, 3000n, 2n, 1n)
  const r = distributorAt(devnet.clients, distributor)
  const keys = options.keys ?? []
  await send(r.write.scheduleConfig([CONFIG, REWARD_PARAMS, [DEPLOYMENT], [staking], keys.map(() => DEPLOYMENT), keys, keys.map(() => admin)]))
  return { r, address: distributor, domain: distributorDomain(await devnet.clients.public.getChainId(), distributor) }
}
type Registry = Awaited<ReturnType<typeof registry>>

/** A commitment under the pinned configuration, its snapshot the last mined block. */
async function commitment(s: Registry, root: Hex, extra: { totalGross?: bigint; totalCharged?: bigint; receiptCount?: bigint; proofsHash?: Hex } = {}) {
  await devnet.mine(1)
  const snapshotBlock = (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n
  return { spendRoot: root, rewardRoot: root, totalGross: 1n, totalCharged: 1n, receiptCount: 1n, manifestHash: root, domain: s.domain, proofsHash: zeroHash, configHash: CONFIG, snapshotBlock, ledgerHash: root, ...extra }
}

const registryAs = (s: Registry, account: Address) => distributorAt(as(account), s.address)

describe('EpochRegistry constructor: nothing that bricks publication is accepted', () => {
  it('refuses a zero admin, publisher or guardian, a zero or unbounded timelock and a verifier without code', async () => {
    await reverts(deployRegistry({ admin: zeroAddress }), 'AccessControlInvalidDefaultAdmin')
    await reverts(deployRegistry({ publisher: zeroAddress }), 'EpochRegistryInvalidConfig')
    await reverts(deployRegistry({ guardian: zeroAddress }), 'EpochRegistryInvalidConfig')
    // 2^256 - 1 made every `propose` overflow; zero left no time to revoke anything.
    for (const timelock of [0n, MAX_TIMELOCK_SECONDS + 1n, maxUint256]) await reverts(deployRegistry({ timelock }), 'EpochRegistryInvalidConfig')
    // An account without code: every proof submission would revert.
    await reverts(deployRegistry({ verifier: stranger }), 'EpochRegistryInvalidConfig')
    // The bounds themselves are taken; a zero verifier still means proofs are optional.
    const longest = distributorAt(devnet.clients, await deployRegistry({ timelock: MAX_TIMELOCK_SECONDS }))
    expect(await longest.read.timelock()).toBe(MAX_TIMELOCK_SECONDS)
    expect(await longest.read.MAX_TIMELOCK()).toBe(MAX_TIMELOCK_SECONDS)
    expect(await distributorAt(devnet.clients, await deployRegistry({ timelock: 1n, verifier: acceptingVerifier })).read.verifier()).toBe(acceptingVerifier)
  })

  it('the TypeScript deploy says what is wrong in one line before deploying anything', async () => {
    const base = { admin, publisher: admin, guardian, timelockSeconds: TIMELOCK, poseidon }
    await expect(deployContracts(devnet.clients, { ...base, timelockSeconds: 0n })).rejects.toThrow(/timelock of 0 s is outside the registry's bounds/)
    await expect(deployContracts(devnet.clients, { ...base, timelockSeconds: 31n * DAY })).rejects.toThrow(/outside the registry's bounds \(1 s to 2592000 s/)
    await expect(deployContracts(devnet.clients, { ...base, guardian: zeroAddress })).rejects.toThrow(/guardian is the zero address/)
    await expect(deployContracts(devnet.clients, { ...base, verifier: stranger })).rejects.toThrow(/has no code on this chain/)
  })

  it('refuses an epoch that has not ended, so 2^64 - 1 can never be finalized and refuse every later epoch', async () => {
    const s = await registry()
    const publisher = registryAs(s, admin)
    await reverts(publisher.write.propose([2n ** 64n - 1n, await commitment(s, keccak256('0x01')), '']), 'EpochRegistryEpochNotEnded')
    // The epoch now running at the shortest epoch length has not ended either.
    const running = (await now()) / 60n + 1n
    await reverts(publisher.write.propose([running, await commitment(s, keccak256('0x01')), '']), 'EpochRegistryEpochNotEnded')
    // A day-numbered epoch that has ended is taken, and finalized; the next one still can be proposed.
    const today = (await now()) / DAY
    await send(publisher.write.propose([today - 2n, await commitment(s, keccak256('0x01')), '']))
    await devnet.increaseTime(Number(TIMELOCK))
    await send(s.r.write.finalize([today - 2n]))
    await send(publisher.write.propose([today - 1n, await commitment(s, keccak256('0x02')), '']))
  })
})

describe('Admin: two steps with a delay, and no publisher behind the watchers\' backs (checklist 28)', () => {
  it('transfers DEFAULT_ADMIN_ROLE only in two steps, after the registry\'s timelock', async () => {
    const s = await registry()
    const role = await s.r.read.DEFAULT_ADMIN_ROLE()
    expect(await s.r.read.defaultAdmin()).toBe(admin)
    expect(await s.r.read.defaultAdminDelay()).toBe(Number(TIMELOCK))
    // One-step grants and revocations of the admin role are gone.
    await reverts(s.r.write.grantRole([role, other]), 'AccessControlEnforcedDefaultAdminRules')
    await reverts(s.r.write.revokeRole([role, admin]), 'AccessControlEnforcedDefaultAdminRules')
    await send(s.r.write.beginDefaultAdminTransfer([other]))
    await reverts(registryAs(s, other).write.acceptDefaultAdminTransfer(), 'AccessControlEnforcedDefaultAdminDelay')
    await reverts(registryAs(s, stranger).write.acceptDefaultAdminTransfer(), 'AccessControlInvalidDefaultAdmin')
    await devnet.increaseTime(Number(TIMELOCK) + 1)
    await send(registryAs(s, other).write.acceptDefaultAdminTransfer())
    expect(await s.r.read.defaultAdmin()).toBe(other)
    expect(await s.r.read.hasRole([role, admin])).toBe(false)
  })

  it('an admin that revokes the guardian and makes itself publisher cannot propose until the timelock has passed', async () => {
    const s = await registry()
    const [publisherRole, guardianRole] = await Promise.all([s.r.read.PUBLISHER_ROLE(), s.r.read.GUARDIAN_ROLE()])
    await send(s.r.write.revokeRole([publisherRole, admin]))
    await send(s.r.write.revokeRole([guardianRole, guardian]))
    await send(s.r.write.grantRole([publisherRole, other]))
    const from = await s.r.read.publisherFrom([other])
    expect(from).toBe((await now()) + TIMELOCK)
    const epoch = (await now()) / DAY - 1n
    await reverts(registryAs(s, other).write.propose([epoch, await commitment(s, keccak256('0x01')), '']), 'EpochRegistryPublisherNotYet')
    await reverts(registryAs(s, other).write.submitProofs([epoch, []]), 'EpochRegistryPublisherNotYet')
    // Watchers saw the grant a whole timelock before its first proposal, which waits a timelock again.
    await devnet.increaseTime(Number(TIMELOCK))
    await send(registryAs(s, other).write.propose([epoch, await commitment(s, keccak256('0x01')), '']))
    expect(await s.r.read.pendingReadyAt()).toBe((await now()) + TIMELOCK)
  })

  it('the staking, funding and settlement contracts also transfer their admin in two steps, after two days', async () => {
    const flock = await deployTestToken(devnet.clients, 'FLOCK', 'FLOCK', 18)
    const usdc = await deployTestToken(devnet.clients, 'USDC', 'USDC', 6)
    const staking = await deployStaking(devnet.clients, flock, admin, 3000n, 2n, 1n)
    const funding = await deployEpochFunding(devnet.clients, { admin, flock, epochSeconds: DAY, dailyEmission: 1n, treasury: admin })
    // The settlement's router only needs code here (no swap is made).
    const settlement = await deploy(devnet.clients, RevenueSettlement, [usdc, flock, flock, admin, other, admin, 0n])
    for (const [address, abi] of [[staking, MTStaking.abi], [funding, EpochFunding.abi], [settlement, RevenueSettlement.abi]] as const) {
      const c = getContract({ abi: abi as typeof MTStaking.abi, address, client: { public: devnet.clients.public, wallet: devnet.clients.wallet } })
      expect(await c.read.defaultAdminDelay()).toBe(2 * 86_400)
      await reverts(c.write.grantRole([zeroHash, other]), 'AccessControlEnforcedDefaultAdminRules')
      await send(c.write.beginDefaultAdminTransfer([other]))
      await reverts(getContract({ abi: c.abi, address, client: { public: devnet.clients.public, wallet: as(other).wallet } }).write.acceptDefaultAdminTransfer(), 'AccessControlEnforcedDefaultAdminDelay')
    }
    await reverts(deploy(devnet.clients, MTStaking, [flock, zeroAddress, 3000n, 2n, 1n]), 'AccessControlInvalidDefaultAdmin')
  })
})

describe('Proposals: a revoked one never comes back unchanged, and a final epoch\'s proofs are kept', () => {
  it('refuses a proposal identical to one the guardian revoked, and takes one changed', async () => {
    const s = await registry()
    const epoch = (await now()) / DAY - 1n
    const c = await commitment(s, keccak256('0x01'))
    await send(s.r.write.propose([epoch, c, '']))
    await send(registryAs(s, guardian).write.revoke([epoch]))
    await reverts(s.r.write.propose([epoch, c, '']), 'EpochRegistryRevokedProposal')
    // The same commitment for another epoch, or a new snapshot of this one, is another proposal.
    await send(s.r.write.propose([epoch, await commitment(s, keccak256('0x01')), '']))
  })

  it('keeps what a finalized epoch proved: its proofs cannot be reset or added to', async () => {
    const key = 11n
    const s = await registry({ verifier: acceptingVerifier, keys: [key] })
    const epoch = (await now()) / DAY - 1n
    const id = BigInt(DEPLOYMENT)
    const d = BigInt(s.domain)
    const low = (1n << 128n) - 1n
    // One attested batch: gross 10, charged 9, 3 receipts, under key 11, at the staking contract's X, M and supply.
    const signals = [0n, 0n, 10n, 9n, key, 77n, 0n, 1n, epoch, id >> 128n, id & low, d >> 128n, d & low, 3000n, 2n, 0n, 3n]
    const proof = { a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n], signals } as never
    const proofsHash = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256[17]' }], [zeroHash, signals as never]))
    await send(s.r.write.proposeWithProofs([epoch, await commitment(s, keccak256('0x01'), { totalGross: 10n, totalCharged: 9n, receiptCount: 3n, proofsHash }), [proof], '']))
    await devnet.increaseTime(Number(TIMELOCK))
    await send(s.r.write.finalize([epoch]))
    const proven = await s.r.read.provenOf([epoch])
    await reverts(s.r.write.resetProofs([epoch]), 'EpochRegistryEpochNotAfter')
    await reverts(s.r.write.submitProofs([epoch, [proof]]), 'EpochRegistryEpochNotAfter')
    expect(await s.r.read.provenOf([epoch])).toEqual(proven)
    expect(await s.r.read.provenAttestation([epoch, DEPLOYMENT, key])).toBe(77n)
    expect(await s.r.read.provenCharged([epoch, DEPLOYMENT])).toBe(9n)
  })
})

describe('MTStaking: fee-on-transfer tokens and recovery (checklist 30)', () => {
  const token = (address: Address, from: Address = admin) => getContract({ abi: TestToken.abi, address, client: { public: devnet.clients.public, wallet: as(from).wallet } })
  const staking = (address: Address, from: Address = admin) => getContract({ abi: MTStaking.abi, address, client: { public: devnet.clients.public, wallet: as(from).wallet } })

  it('credits what it received from a token that takes a fee, so every stake can be withdrawn to zero', async () => {
    // 1 % burned on every transfer.
    const mt = await deploy(devnet.clients, FeeOnTransferToken, ['Fee MT', 'FMT', 18, 100n])
    const address = await deployStaking(devnet.clients, mt, admin, 3000n, 2n, 1n)
    for (const [who, amount] of [[stranger, 10_000n], [other, 777n]] as const) {
      await send(token(mt).write.mint([who, amount]))
      await send(token(mt, who).write.approve([address, amount]))
      await send(staking(address, who).write.stake([amount]))
      expect(await staking(address).read.stakeOf([who])).toBe(amount - (amount * 100n) / 10_000n)
    }
    expect(await staking(address).read.totalStaked()).toBe(await token(mt).read.balanceOf([address]))
    // Both leave in full: the last unstake no longer reverts for want of the fee.
    for (const who of [stranger, other]) await send(staking(address, who).write.unstake([await staking(address).read.stakeOf([who])]))
    expect(await staking(address).read.totalStaked()).toBe(0n)
    expect(await token(mt).read.balanceOf([address])).toBe(0n)
    // A transfer that delivers nothing credits nothing.
    const all = await deploy(devnet.clients, FeeOnTransferToken, ['All fee', 'AF', 18, 10_000n])
    const whole = await deployStaking(devnet.clients, all, admin, 3000n, 2n, 1n)
    await send(token(all).write.mint([admin, 5n]))
    await send(token(all).write.approve([whole, 5n]))
    await reverts(staking(whole).write.stake([5n]), 'MTStakingZeroAmount')
  })

  it('returns a token sent by mistake, and of the staked token only what is above the stakes, admin only', async () => {
    const mt = await deployTestToken(devnet.clients, 'MT', 'MT', 18)
    const stray = await deployTestToken(devnet.clients, 'Stray', 'STRAY', 18)
    const address = await deployStaking(devnet.clients, mt, admin, 3000n, 2n, 1n)
    await send(token(mt).write.mint([stranger, 1_000n]))
    await send(token(mt, stranger).write.approve([address, 1_000n]))
    await send(staking(address, stranger).write.stake([1_000n]))
    // 40 MT and 5 STRAY sent straight to the contract by mistake.
    await send(token(mt).write.mint([address, 40n]))
    await send(token(stray).write.mint([address, 5n]))
    await reverts(staking(address, stranger).write.recoverERC20([stray, stranger, 5n]), 'AccessControlUnauthorizedAccount')
    await expectRevert(staking(address).write.recoverERC20([mt, other, 41n]), 'MTStakingNotRecoverable', [getAddress(mt), 40n])
    await reverts(staking(address).write.recoverERC20([stray, zeroAddress, 5n]), 'MTStakingNotRecoverable')
    await send(staking(address).write.recoverERC20([mt, other, 40n]))
    await send(staking(address).write.recoverERC20([stray, other, 5n]))
    const events = await staking(address).getEvents.ERC20Recovered({}, { fromBlock: 0n })
    expect(events.map((e) => e.args)).toEqual([{ token: getAddress(mt), to: other, amount: 40n }, { token: getAddress(stray), to: other, amount: 5n }])
    expect(await token(mt).read.balanceOf([other])).toBe(40n)
    // What is staked is never recoverable, and stays withdrawable.
    await expectRevert(staking(address).write.recoverERC20([mt, other, 1n]), 'MTStakingNotRecoverable', [getAddress(mt), 0n])
    await send(staking(address, stranger).write.unstake([1_000n]))
  })
})

describe('EpochFunding: recovery never takes the emission reserve or what streams owe', () => {
  it('refuses FLOCK and a stream token\'s owed amount, returns the rest', async () => {
    const flock = await deployTestToken(devnet.clients, 'FLOCK', 'FLOCK', 18)
    const mt = await deployTestToken(devnet.clients, 'MT', 'MT', 18)
    const stray = await deployTestToken(devnet.clients, 'Stray', 'STRAY', 18)
    const address = await deployEpochFunding(devnet.clients, { admin, flock, epochSeconds: DAY, dailyEmission: 10n ** 18n, treasury: admin })
    const f = epochFundingAt(devnet.clients, address)
    const mint = (t: Address, to: Address, n: bigint) => send(getContract({ abi: TestToken.abi, address: t, client: { public: devnet.clients.public, wallet: devnet.clients.wallet } }).write.mint([to, n]))
    await mint(mt, admin, 1_000n)
    await addStream(devnet.clients, address, { deploymentId: DEPLOYMENT, kind: 'incentiveReserve', token: mt, total: 1_000n, startEpoch: 0n })
    await mint(flock, address, 500n)
    await mint(mt, address, 30n)
    await mint(stray, address, 7n)
    await expectRevert(f.write.recoverERC20([flock, other, 1n]), 'EpochFundingNotRecoverable', [getAddress(flock), 0n])
    await expectRevert(f.write.recoverERC20([mt, other, 31n]), 'EpochFundingNotRecoverable', [getAddress(mt), 30n])
    await reverts(epochFundingAt(as(stranger), address).write.recoverERC20([stray, stranger, 7n]), 'AccessControlUnauthorizedAccount')
    await send(f.write.recoverERC20([mt, other, 30n]))
    await send(f.write.recoverERC20([stray, other, 7n]))
    const events = await f.getEvents.ERC20Recovered({}, { fromBlock: 0n })
    expect(events.map((e) => e.args)).toEqual([{ token: getAddress(mt), to: other, amount: 30n }, { token: getAddress(stray), to: other, amount: 7n }])
    expect((await f.read.streams())[0]!.total).toBe(1_000n)
  })
})
