/**
 * Gas of claims: fomo-kit's RewardDistributor against Uniswap's MerkleDistributor
 * (deployed from its npm build), on trees of 2 and 100,000 leaves, on the
 * in-process EVM: an account's first claim, and its claim of the next epoch
 * (ours: a new cumulative root on the same contract; Uniswap: a new distributor,
 * one per drop). Used by the gas snapshot test and `npm run bench`.
 */
import { createRequire } from 'node:module'
import { zeroAddress, zeroHash, encodePacked, getAddress, getContract, keccak256, type Abi, type Account, type Address, type Chain, type GetContractReturnType, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem'
import { RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { toHex } from '../../src/base/bytes.ts'
import { getProof, placeLeaves, sortLeafOrder } from '../../src/merkle/core.ts'
import { keccakWasm } from '../../src/base/keccak.ts'
import { hashNodesRange } from '../../src/base/keccakWasm.mjs'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { distributorDomain, REWARD_LEAF_ENCODING } from '../../src/epoch/rewards.ts'
import { StandardTree } from '../../src/merkle/tree.ts'
import { stakeRowCell, type StakeTableRow } from '../../src/proofs/statement.ts'
import { hardhat } from '../contracts/hre.ts'

const require = createRequire(import.meta.url)
/** The configuration the claim benchmark's registry pins (claims do not read it). */
const CLAIM_CONFIG = keccak256('0xc0')
/** The hash of its reward parameters (any: only the judge reads them). */
const CLAIM_REWARD_PARAMS = keccak256('0x5e')
const uniswap = require('@uniswap/merkle-distributor/build/MerkleDistributor.json') as { abi: Abi; bytecode: string }

export type GasRow = { leaves: number; fomo: bigint; uniswap: bigint; fomoNext: bigint; uniswapNext: bigint }

/**
 * A fresh in-process chain (contract addresses, and so calldata costs, do not depend on what ran before), its
 * wallets and a deployer sending from the first one.
 */
async function freshChain() {
  const hre = await hardhat()
  await hre.network.provider.send('hardhat_reset', [])
  const wallets = (await hre.viem.getWalletClients()) as unknown as WalletClient<Transport, Chain, Account>[]
  const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient
  const admin = wallets[0]!
  const deploy = async (abi: Abi, bytecode: string, args: readonly unknown[]) => {
    const hash = await admin.deployContract({ abi, bytecode: (bytecode.startsWith('0x') ? bytecode : `0x${bytecode}`) as Hex, args } as never)
    return (await publicClient.waitForTransactionReceipt({ hash })).contractAddress!
  }
  // Distributors call the PoseidonT4 library (stake-row challenges): deployed once per chain, linked into each.
  const { distributorBytecode } = await import('../../src/chain/contracts.ts')
  const { PoseidonT4 } = await import('../../src/chain/contracts.generated.ts')
  const distributorCode = distributorBytecode(await deploy(PoseidonT4.abi, PoseidonT4.bytecode, []))
  return { hre, wallets, publicClient, admin, me: getAddress(admin.account.address), deploy, distributorCode }
}

export async function measureClaimGas(sizes: readonly number[] = [2, 100_000]): Promise<GasRow[]> {
  const { wallets, publicClient, admin, deploy, distributorCode } = await freshChain()
  const gasOf = async (hash: Hex) => (await publicClient.waitForTransactionReceipt({ hash })).gasUsed
  const rows: GasRow[] = []
  for (const n of sizes) {
    const accounts: Address[] = Array.from({ length: n }, (_, i) => getAddress(toHex(keccak_256(new Uint8Array([i & 255, (i >> 8) & 255, i >> 16, 7]))).slice(0, 42)))
    const claimer = wallets[1]!
    accounts[0] = getAddress(claimer.account.address)
    const amount = (i: number) => 1_000n + BigInt(i)

    // fomo-kit: registry + distributor, a standard tree of (distributor domain, account, token, cumulative amount).
    const distributor = await deploy(RewardDistributor.abi, distributorCode, [admin.account.address, admin.account.address, admin.account.address, 1n, zeroAddress, 1000n, zeroAddress, zeroAddress])
    const token = await deploy(TestToken.abi, TestToken.bytecode, ['FLOCK', 'FLOCK', 18])
    const reg = getContract({ abi: RewardDistributor.abi, address: distributor, client: { public: publicClient, wallet: admin } })
    const domain = distributorDomain(await publicClient.getChainId(), distributor)
    // Any pinned configuration: claims do not read it.
    await reg.write.scheduleConfig([CLAIM_CONFIG, CLAIM_REWARD_PARAMS, [CLAIM_CONFIG], [token], [], [], []])
    await getContract({ abi: TestToken.abi, address: token, client: { wallet: admin } }).write.mint([distributor, 10n ** 30n])
    const ours = getContract({ abi: RewardDistributor.abi, address: distributor, client: { public: publicClient, wallet: claimer } })
    const claimOurs = async (epoch: bigint, cumulative: (i: number) => bigint) => {
      const tree = await StandardTree.build(accounts.map((a, i) => [domain, a, token, cumulative(i).toString()]), REWARD_LEAF_ENCODING)
      const root = tree.root as Hex
      const snapshotBlock = (await publicClient.getBlockNumber()) - 1n
      await reg.write.propose([epoch, { spendRoot: root, rewardRoot: root, totalGross: 0n, totalCharged: 0n, receiptCount: 0n, manifestHash: root, domain, proofsHash: zeroHash, configHash: CLAIM_CONFIG, snapshotBlock, ledgerHash: root }, ''])
      await reg.write.finalize([epoch])
      return gasOf(await ours.write.claim([accounts[0]!, token, cumulative(0), tree.getProof(0) as Hex[]]))
    }
    const fomo = await claimOurs(1n, amount)
    const fomoNext = await claimOurs(2n, (i) => amount(i) + 500n)

    // Uniswap: leaves keccak256(abi.encodePacked(index, account, amount)), sorted-pair tree, one distributor per
    // drop. The same token contract code for both, so only the distributors differ.
    const uniToken = await deploy(TestToken.abi, TestToken.bytecode, ['FLOCK', 'FLOCK', 18])
    const claimUniswap = async (drop: (i: number) => bigint) => {
      const leaves = new Uint8Array(32 * n)
      accounts.forEach((a, i) => leaves.set(Buffer.from(keccak256(encodePacked(['uint256', 'address', 'uint256'], [BigInt(i), a, drop(i)])).slice(2), 'hex'), 32 * i))
      const order = sortLeafOrder(leaves, n)
      const nodes = placeLeaves(leaves, order)
      hashNodesRange(keccakWasm, keccak_256, nodes, 0, n - 1)
      const position = new Uint32Array(n)
      for (let k = 0; k < n; k++) position[order[k]!] = 2 * n - 2 - k
      const uni = await deploy(uniswap.abi, uniswap.bytecode, [uniToken, toHex(nodes, 0, 32)])
      await getContract({ abi: TestToken.abi, address: uniToken, client: { wallet: admin } }).write.mint([uni, 10n ** 30n])
      const theirs = getContract({ abi: uniswap.abi, address: uni, client: { public: publicClient, wallet: claimer } })
      const proof = getProof(nodes, position[0]!).map((p) => toHex(p))
      return gasOf(await (theirs.write as Record<string, (args: unknown[]) => Promise<Hex>>).claim!([0n, accounts[0], drop(0), proof]))
    }
    const uniswapGas = await claimUniswap(amount)
    const uniswapNext = await claimUniswap(() => 500n)
    rows.push({ leaves: n, fomo, uniswap: uniswapGas, fomoNext, uniswapNext })
  }
  return rows
}

/**
 * Gas of each challenge that revokes a pending epoch (the stake challenge, and EpochJudge's ledger, spend list, spend
 * totals, spend tree, reward, reward list and reward tree challenges) and of a claim from the reward list, on an epoch
 * of `leaves` spend leaves (and about as many reward leaves).
 */
export type ChallengeGasRow = {
  leaves: number
  /** `challengeStake` (EpochJudge): a spend list entry giving a non-staker a 1-wei stake. */
  challenge: bigint
  ledger: bigint
  spendList: bigint
  spendTotals: bigint
  spendTree: bigint
  reward: bigint
  rewardList: bigint
  rewardTree: bigint
  /** `challengeListGap`: a zero leaf in place of the reward list's first entry. */
  listGap: bigint
  /** `challengeForeignReward`: the first reward entry hashed under another distributor's domain. */
  foreignReward: bigint
  /** `challengeForeignSpend`: the spend list hashed under the epoch before. */
  foreignSpend: bigint
  claimFromList: bigint
}

/**
 * Gas of the challenges of EpochJudge revoking a pending epoch of `n` spend leaves: two deployments, the first with
 * `n` users (the first of them staking on an MTStaking, the others not staking), the second live without spend; about
 * `n` reward leaves (every user carries a cumulative amount); the epoch before is final, so a reward challenge also opens the previous
 * reward list. Each challenge revokes its own wrong proposal of the same epoch (one wrong fact each): a stake, the
 * totals' sum, a prefix, the totals of the deployment without spend, an OZ spend leaf the list lacks, a reward raised
 * by one unit, two reward entries out of order, an OZ reward amount the list contradicts. Then a claim from the final
 * reward list.
 */
export async function measureChallengeGas(sizes: readonly number[] = [2, 100_000]): Promise<ChallengeGasRow[]> {
  const { EpochJudge, MTStaking } = await import('../../src/chain/contracts.generated.ts')
  const { rewardListLeaf, rewardParamsHash, spendKey, spendListLeaf } = await import('../../src/epoch/ledger.ts')
  const { PositionalTree } = await import('../../src/merkle/positional.ts')
  const w = await import('../contracts/ledgerWorld.ts')
  const { hre, wallets, publicClient, admin, me, deploy, distributorCode } = await freshChain()
  const challenger = wallets[1]!
  const send = async (hash: Promise<Hex>) => publicClient.waitForTransactionReceipt({ hash: await hash })
  const lower = (a: string) => a.toLowerCase() as Hex
  const rows: ChallengeGasRow[] = []
  for (const n of sizes) {
    const distributor = await deploy(RewardDistributor.abi, distributorCode, [me, me, me, 1n, zeroAddress, 1000n, zeroAddress, zeroAddress])
    const reg = getContract({ abi: RewardDistributor.abi, address: distributor, client: { public: publicClient, wallet: admin } })
    const judge = getContract({ abi: EpochJudge.abi, address: await reg.read.judge(), client: { public: publicClient, wallet: challenger } })
    const flock = await deploy(TestToken.abi, TestToken.bytecode, ['FLOCK', 'FLOCK', 18])
    const mt = await deploy(TestToken.abi, TestToken.bytecode, ['MT', 'MT', 18])
    const staking = await deploy(MTStaking.abi, MTStaking.bytecode, [mt, me, 3000n, 2n, 1n])
    const token = getContract({ abi: TestToken.abi, address: mt, client: { wallet: admin } })
    await send(token.write.mint([me, 10n ** 24n]))
    await send(token.write.approve([staking, 10n ** 24n]))
    await send(getContract({ abi: MTStaking.abi, address: staking, client: { wallet: admin } }).write.stake([10n ** 21n]))
    await send(getContract({ abi: TestToken.abi, address: flock, client: { wallet: admin } }).write.mint([distributor, 10n ** 30n]))
    await hre.network.provider.send('hardhat_mine', ['0x2'])
    const ids = [keccak256('0x0d'), keccak256('0x0e')].sort() as [Hex, Hex]
    const params = {
      dailyEmission: 10n ** 24n,
      epochSeconds: 86_400n,
      issuerBonusBps: 1000,
      scoreBasis: 0,
      denominator: 0,
      flock: lower(flock),
      usdc: lower(keccak256('0x05').slice(0, 42)),
      deployments: ids.map((id, i) => ({ id, issuer: lower(keccak256(id).slice(0, 42)), mtToken: lower(mt), graduationEpoch: 0n, stakingFund: 25_000n * 10n ** 18n, incentiveReserve: i === 0 ? 200_000n * 10n ** 18n : 0n })),
    }
    const second = await deploy(MTStaking.abi, MTStaking.bytecode, [mt, me, 3000n, 2n, 1n])
    await send(reg.write.scheduleConfig([CLAIM_CONFIG, rewardParamsHash(params), ids, [staking, second], [], [], []]))
    // User 0 stakes on the chain; the others spent without staking. Every user was credited FLOCK before epoch 1 (the
    // cumulative rewards it carries), so both reward lists hold about `n` leaves.
    const users = Array.from({ length: n }, (_, i) => lower(i === 0 ? me : `0x${(i + 1).toString(16).padStart(40, '0')}`))
    const spendOf = (k: bigint) => users.map((user, i) => ({ deploymentId: ids[0], user, gross: 1000n * k + BigInt(i), charged: 900n * k, receipts: 3n, stake: i === 0 ? 10n ** 21n : 0n }))
    const snapshot = async () => (await publicClient.getBlockNumber({ cacheTime: 0 })) - 1n
    const domain = distributorDomain(await publicClient.getChainId(), distributor)
    const propose = async (a: Awaited<ReturnType<typeof w.assemble>>) => {
      const r = await send(reg.write.propose([BigInt(a.epoch), w.commitmentOf(a, CLAIM_CONFIG, await snapshot()), '']))
      if (r.status !== 'success') throw new Error('the benchmark proposal reverted')
    }
    const before = users.map((account, i) => ({ account, token: params.flock, amount: 1_000n + BigInt(i) }))
    const previous = w.assemble(w.honestParts(1, domain, params, spendOf(1n), [0n, 0n], before))
    await propose(previous)
    await send(reg.write.finalize([1n]))
    const honest = w.assemble(w.honestParts(2, domain, params, spendOf(2n), [0n, 0n], previous.cumulative))
    const revoking = async (what: string, a: typeof honest, functionName: string, args: readonly unknown[]) => {
      await propose(a)
      const receipt = await send((judge.write as unknown as Record<string, (args: readonly unknown[]) => Promise<Hex>>)[functionName]!(args))
      if (receipt.status !== 'success' || (await reg.read.hasPending())) throw new Error(`the benchmark ${what} challenge did not revoke the proposal`)
      return receipt.gasUsed
    }
    const e = 2n
    const last = n - 1
    // A stake: the last user given 1 wei (list and tree).
    const wrongStake = honest.spendEntries.map((x, i) => (i === last ? { ...x, leaf: { ...x.leaf, stake: 1n } } : x))
    const stakeEpoch = w.reassemble(honest, { spendEntries: wrongStake, spendLeaves: wrongStake.map((x) => x.leaf) })
    const challenge = await revoking('stake', stakeEpoch, 'challengeStake', [e, stakeEpoch.ledger, w.spendEntry(stakeEpoch, last)])
    // The totals of the first deployment raised: their sum is not the committed total.
    const sums = w.reassemble(honest, { totals: honest.totals.map((t, i) => (i === 0 ? { ...t, gross: t.gross + 1n } : t)) })
    const ledger = await revoking('ledger', sums, 'challengeLedger', [e, sums.ledger, params])
    // A prefix one unit off, shown by its entry and the one before.
    const p = Math.max(1, last)
    const prefix = n > 1 ? w.reassemble(honest, { spendEntries: honest.spendEntries.map((x, i) => (i === p ? { ...x, prefixCharged: x.prefixCharged + 1n } : x)) }) : honest
    const spendList = n > 1 ? await revoking('spend list', prefix, 'challengeSpendList', [e, prefix.ledger, params, [w.spendEntry(prefix, p - 1), w.spendEntry(prefix, p)]]) : 0n
    // The deployment without spend given totals: the list's last entry shows it has none.
    const empty = w.reassemble(honest, { totals: honest.totals.map((t, i) => (i === 1 ? { ...t, charged: 1n } : t)) })
    const spendTotals = await revoking('spend totals', empty, 'challengeSpendTotals', [e, empty.ledger, params, 1n, w.spendLookup(empty, ...w.deploymentRange(1))])
    // An OZ spend leaf the list leaves out (its key bracketed by its neighbours).
    const gone = honest.spendEntries[last]!.leaf
    const lacking = w.reassemble(honest, { spendEntries: honest.spendEntries.filter((_, i) => i !== last) })
    const goneIndex = lacking.spendTree.indexOf([String(2), gone.deploymentId, gone.user, gone.gross.toString(), gone.charged.toString(), gone.receipts.toString(), gone.stake.toString()])
    const spendTree = await revoking('spend tree', lacking, 'challengeSpendTree', [e, lacking.ledger, params, gone, lacking.spendTree.getProof(goneIndex), w.spendLookup(lacking, spendKey(0, gone.user))])
    // The staker's FLOCK raised by one unit (list and tree): recomputed from the spend, totals and previous list.
    const raisedAt = honest.rewardEntries.findIndex((r) => r.account === users[0] && r.token === params.flock)
    const raise = (l: typeof honest.rewardEntries) => l.map((r) => (r.account === users[0] && r.token === params.flock ? { ...r, amount: r.amount + 1n } : r))
    const raised = w.reassemble(honest, { rewardEntries: raise(honest.rewardEntries), rewardLeaves: raise(honest.rewardLeaves) })
    if (raisedAt < 0) throw new Error('the benchmark staker has no FLOCK reward')
    const reward = await revoking('reward', raised, 'challengeReward', w.rewardChallengeArgs(raised, previous, users[0]!, params.flock))
    // Two reward entries swapped.
    const swapped = w.reassemble(honest, { rewardEntries: [honest.rewardEntries[1]!, honest.rewardEntries[0]!, ...honest.rewardEntries.slice(2)] })
    const rewardList = await revoking('reward list', swapped, 'challengeRewardList', [e, swapped.ledger, [w.rewardEntry(swapped, 0), w.rewardEntry(swapped, 1)]])
    // An OZ reward leaf whose amount the list contradicts.
    const r0 = honest.rewardLeaves[0]!
    const treeOnly = w.reassemble(honest, { rewardLeaves: honest.rewardLeaves.map((r, i) => (i === 0 ? { ...r, amount: r.amount + 1n } : r)) })
    const k = treeOnly.rewardTree.indexOf([r0.domain, r0.account, r0.token, (r0.amount + 1n).toString()])
    const rewardTree = await revoking('reward tree', treeOnly, 'challengeRewardTree', [e, treeOnly.ledger, r0.account, r0.token, r0.amount + 1n, treeOnly.rewardTree.getProof(k), w.rewardLookup(treeOnly, r0.account, r0.token)])
    // A zero leaf in place of the first reward entry, below the list's count.
    const gapList = PositionalTree.of(honest.rewardEntries.map((r, i) => (i === 0 ? zeroHash : rewardListLeaf(r))))
    const gap = { ...honest, rewardList: gapList, ledger: { ...honest.ledger, rewardList: gapList.root } }
    const listGap = await revoking('list gap', gap, 'challengeListGap', [e, gap.ledger, true, 0n, gapList.proof(0)])
    // The first reward entry under another distributor's domain.
    const foreign = keccak256('0xf0')
    const move = <T extends { domain: Hex }>(l: readonly T[]) => l.map((r, i) => (i === 0 ? { ...r, domain: foreign } : r))
    const moved = w.reassemble(honest, { rewardLeaves: move(honest.rewardLeaves), rewardEntries: move(honest.rewardEntries) })
    const foreignReward = await revoking('foreign reward', moved, 'challengeForeignReward', [e, moved.ledger, foreign, w.rewardEntry(moved, 0)])
    // The spend list hashed under epoch 1.
    const staleList = PositionalTree.of(honest.spendEntries.map((x) => spendListLeaf(1, x)))
    const stale = { ...honest, spendList: staleList, ledger: { ...honest.ledger, spendList: staleList.root } }
    const foreignSpend = await revoking('foreign spend', stale, 'challengeForeignSpend', [e, stale.ledger, 1n, w.spendEntry(stale, 0)])
    // A claim from the final list (the staker's FLOCK), the epoch's honest proposal final.
    await propose(honest)
    await send(reg.write.finalize([e]))
    const claimed = await send(judge.write.claimFromList([users[0]!, flock, honest.rewardEntries[raisedAt]!.amount, BigInt(raisedAt), honest.rewardList.proof(raisedAt), honest.ledger]))
    if (claimed.status !== 'success') throw new Error('the benchmark claim from the list reverted')
    rows.push({ leaves: n, challenge, ledger, spendList, spendTotals, spendTree, reward, rewardList, rewardTree, listGap, foreignReward, foreignSpend, claimFromList: claimed.gasUsed })
  }
  return rows
}

export type PublicationGasRow = {
  propose: bigint
  proposeChecked: bigint
  perProof: bigint
  proofsPerTransaction: number
  record: bigint
  challengeOmission: bigint
  challengeSkip: bigint
  challengeStakeRow: bigint
  stakeRows: number
  /** challengeSpendRows counting one batch (no fault yet), and opening every batch of the user and revoking. */
  spendRowsCount: bigint
  spendRowsRevoke: bigint
  spendRowsBatches: number
}

/**
 * Gas of publishing an epoch: `propose` alone (a registry without a verifier: constant, whatever the number of users,
 * since only roots are stored), and with a verifier: each batch proof verified in `submitProofs` (20 per transaction,
 * the bundled 4-receipt test verifier: a Groth16 check costs the same for any batch size with the same public
 * signals), then `propose` checking the proven totals and the provider's attestation, recorded on chain before
 * (`recordAttestation`); then `challengeStakeRow` revoking that proposal by opening a batch's stake table (the
 * sample's staker holds no stake on this chain), `challengeOmission` revoking the next one for a second key's
 * attestation recorded while it is pending, and `challengeSkip` the one after for that key's attestation of the
 * epoch before. Last, on a registry pinning reward parameters of the proofs' deployment, `challengeSpendRows` against
 * a proposal whose spend list gives the batches' one user a unit of gross and charged less than its rows (moved to
 * another user, totals kept): one account counts one batch (no fault yet), another opens every batch and revokes.
 */
export async function measurePublicationGas(
  proveFor: (domain: Hex, batches: number) => Promise<Array<{ a: readonly [bigint, bigint]; b: readonly [readonly [bigint, bigint], readonly [bigint, bigint]]; c: readonly [bigint, bigint]; signals: readonly bigint[] }>>,
  epoch: bigint,
  snapshot: { maxDiscountBps: bigint; multiplier: bigint; circulating: bigint },
  stakeTable: readonly StakeTableRow[],
): Promise<PublicationGasRow> {
  const { MTStaking, ReceiptBatch4Verifier } = await import('../../src/chain/contracts.generated.ts')
  const { PROOFS_PER_TRANSACTION } = await import('../../src/chain/contracts.ts')
  const { publicClient, wallets, admin, me, deploy, distributorCode } = await freshChain()
  const gasOf = async (hash: Promise<Hex>) => {
    const r = await publicClient.waitForTransactionReceipt({ hash: await hash })
    if (r.status !== 'success') throw new Error('a benchmark publication transaction reverted')
    return r.gasUsed
  }
  const verifier = await deploy(ReceiptBatch4Verifier.abi, ReceiptBatch4Verifier.bytecode, [])
  // The deployment's staking contract, with the X, M and circulating supply the proofs discount with.
  const staking = await deploy(MTStaking.abi, MTStaking.bytecode, [await deploy(TestToken.abi, TestToken.bytecode, ['MT', 'MT', 18]), me, snapshot.maxDiscountBps, snapshot.multiplier, 1n])
  await gasOf(getContract({ abi: MTStaking.abi, address: staking, client: { wallet: admin } }).write.setCirculatingSupply([snapshot.circulating]))
  const commitment = async (registry: Address, totals: { gross: bigint; charged: bigint; count: bigint }, proofsHash: Hex, root: Hex = keccak256('0x01')) => {
    const snapshotBlock = (await publicClient.getBlockNumber({ cacheTime: 0 })) - 1n
    return { spendRoot: root, rewardRoot: root, totalGross: totals.gross, totalCharged: totals.charged, receiptCount: totals.count, manifestHash: root, domain: distributorDomain(await publicClient.getChainId(), registry), proofsHash, configHash: CLAIM_CONFIG, snapshotBlock, ledgerHash: root }
  }
  const registryOf = async (withVerifier: boolean) => {
    const address = await deploy(RewardDistributor.abi, distributorCode, [me, me, me, 3600n, withVerifier ? verifier : zeroAddress, 1000n, zeroAddress, zeroAddress])
    return getContract({ abi: RewardDistributor.abi, address, client: { public: publicClient, wallet: admin } })
  }
  // The configuration pins the deployment (signals 9 and 10) and the provider key (signal 4) the proofs carry.
  const pin = (reg: Awaited<ReturnType<typeof registryOf>>, deployment: Hex, keys: bigint[]) => gasOf(reg.write.scheduleConfig([CLAIM_CONFIG, CLAIM_REWARD_PARAMS, [deployment], [staking], keys.map(() => deployment), keys, keys.map(() => me)]))
  const plain = await registryOf(false)
  await pin(plain, keccak256('0x0d'), [])
  const propose = await gasOf(plain.write.propose([epoch, await commitment(plain.address, { gross: 1n, charged: 1n, count: 1n }, zeroHash), '']))
  const checked = await registryOf(true)
  // One provider's attested batches, in order, made for this registry: it refuses the same proof twice.
  const proofs = await proveFor(distributorDomain(await publicClient.getChainId(), checked.address), PROOFS_PER_TRANSACTION)
  const s = proofs[0]!.signals
  const deployment = `0x${((s[9]! << 128n) | s[10]!).toString(16).padStart(64, '0')}` as Hex
  const otherKey = 12_345n
  await pin(checked, deployment, [s[4]!, otherKey])
  const record = await gasOf(checked.write.recordAttestation([epoch, deployment, s[4]!, s[5]!]))
  const submit = await gasOf(checked.write.submitProofs([epoch, proofs as never]))
  const [gross, charged, count, , chain] = await checked.read.provenOf([epoch])
  const proposeChecked = await gasOf(checked.write.propose([epoch, await commitment(checked.address, { gross, charged, count }, chain), '']))
  const challengeStakeRow = await gasOf(checked.write.challengeStakeRow([epoch, 0n, s as never, stakeTable.map((r) => r.user), stakeTable.map(stakeRowCell)]))
  if (await checked.read.hasPending()) throw new Error('the benchmark stake-row challenge did not revoke the proposal')
  await gasOf(checked.write.submitProofs([epoch, proofs as never]))
  await gasOf(checked.write.propose([epoch, await commitment(checked.address, { gross, charged, count }, chain, keccak256('0x02')), '']))
  await gasOf(checked.write.recordAttestation([epoch, deployment, otherKey, 1n]))
  const challengeOmission = await gasOf(checked.write.challengeOmission([epoch, deployment, otherKey]))
  if (await checked.read.hasPending()) throw new Error('the benchmark omission challenge did not revoke the proposal')
  // On another registry, a second key that served the epoch before records it once the proposal skipping it is
  // pending (on this one its omission above would refuse the proposal first).
  const skipping = await registryOf(true)
  const [one] = await proveFor(distributorDomain(await publicClient.getChainId(), skipping.address), 1)
  await pin(skipping, deployment, [s[4]!, otherKey])
  await gasOf(skipping.write.submitProofs([epoch, [one] as never]))
  const [g1, c1, n1, , chain1] = await skipping.read.provenOf([epoch])
  await gasOf(skipping.write.propose([epoch, await commitment(skipping.address, { gross: g1, charged: c1, count: n1 }, chain1, keccak256('0x03')), '']))
  await gasOf(skipping.write.recordAttestation([epoch - 1n, deployment, otherKey, 1n]))
  const challengeSkip = await gasOf(skipping.write.challengeSkip([epoch, epoch - 1n, deployment, otherKey]))
  if (await skipping.read.hasPending()) throw new Error('the benchmark skip challenge did not revoke the proposal')
  const spendRows = await measureSpendRowsGas({ publicClient, wallets, me, registryOf, gasOf, proveFor, epoch, deployment, key: s[4]!, staking, stakeTable })
  return { propose, proposeChecked, perProof: submit / BigInt(PROOFS_PER_TRANSACTION), proofsPerTransaction: PROOFS_PER_TRANSACTION, record, challengeOmission, challengeSkip, challengeStakeRow, stakeRows: stakeTable.length, ...spendRows }
}

/** `challengeSpendRows` on a fresh registry (see measurePublicationGas). */
async function measureSpendRowsGas(c: {
  publicClient: PublicClient
  wallets: WalletClient<Transport, Chain, Account>[]
  me: Address
  registryOf: (withVerifier: boolean) => Promise<GetContractReturnType<typeof RewardDistributor.abi, { public: PublicClient; wallet: WalletClient<Transport, Chain, Account> }>>
  gasOf: (hash: Promise<Hex>) => Promise<bigint>
  proveFor: Parameters<typeof measurePublicationGas>[0]
  epoch: bigint
  deployment: Hex
  key: bigint
  staking: Address
  stakeTable: readonly StakeTableRow[]
}): Promise<Pick<PublicationGasRow, 'spendRowsCount' | 'spendRowsRevoke' | 'spendRowsBatches'>> {
  const { EpochJudge } = await import('../../src/chain/contracts.generated.ts')
  const { PROOFS_PER_TRANSACTION } = await import('../../src/chain/contracts.ts')
  const { rewardParamsHash, spendKey } = await import('../../src/epoch/ledger.ts')
  const w = await import('../contracts/ledgerWorld.ts')
  const lower = (a: string) => a.toLowerCase() as Hex
  const registry = await c.registryOf(true)
  const domain = distributorDomain(await c.publicClient.getChainId(), registry.address)
  const proofs = await c.proveFor(domain, PROOFS_PER_TRANSACTION)
  const me = lower(c.me)
  const params = { dailyEmission: 10n ** 24n, epochSeconds: 86_400n, issuerBonusBps: 1000, scoreBasis: 0, denominator: 0, flock: me, usdc: me, deployments: [{ id: c.deployment, issuer: me, mtToken: me, graduationEpoch: 0n, stakingFund: 0n, incentiveReserve: 0n }] }
  await c.gasOf(registry.write.scheduleConfig([CLAIM_CONFIG, rewardParamsHash(params), [c.deployment], [c.staking], [c.deployment], [c.key], [c.me]]))
  await c.gasOf(registry.write.submitProofs([c.epoch, proofs as never]))
  const [gross, charged, count, , chain] = await registry.read.provenOf([c.epoch])
  const row = c.stakeTable[0]!
  const user = lower(`0x${row.user.toString(16).padStart(40, '0')}`)
  const leaves = [
    { deploymentId: c.deployment, user, gross: gross - 1n, charged: charged - 1n, receipts: count - 1n, stake: row.stake },
    { deploymentId: c.deployment, user: lower(`0x${'ab'.repeat(20)}`), gross: 1n, charged: 1n, receipts: 1n, stake: 0n },
  ].sort((a, b) => (BigInt(a.user) < BigInt(b.user) ? -1 : 1))
  const a = w.assemble(w.honestParts(Number(c.epoch), domain, params, leaves, [0n], []))
  const snapshotBlock = (await c.publicClient.getBlockNumber({ cacheTime: 0 })) - 1n
  await c.gasOf(registry.write.propose([c.epoch, { ...w.commitmentOf(a, CLAIM_CONFIG, snapshotBlock), proofsHash: chain }, '']))
  const batches = proofs.map((p, i) => ({ batch: BigInt(i), signals: p.signals, users: c.stakeTable.map((r) => r.user), cells: c.stakeTable.map(stakeRowCell) }))
  const args = (opened: typeof batches) => [c.epoch, a.ledger, params, c.deployment, user, w.spendLookup(a, spendKey(0, user)), opened] as never
  const judge = await registry.read.judge()
  const as = (wallet: WalletClient<Transport, Chain, Account>) => getContract({ abi: EpochJudge.abi, address: judge, client: { public: c.publicClient, wallet } })
  const spendRowsCount = await c.gasOf(as(c.wallets[2]!).write.challengeSpendRows(args(batches.slice(0, 1))))
  if (!(await registry.read.hasPending())) throw new Error('the benchmark spend-rows count revoked the proposal')
  const spendRowsRevoke = await c.gasOf(as(c.wallets[1]!).write.challengeSpendRows(args(batches)))
  if (await registry.read.hasPending()) throw new Error('the benchmark spend-rows challenge did not revoke the proposal')
  return { spendRowsCount, spendRowsRevoke, spendRowsBatches: batches.length }
}
