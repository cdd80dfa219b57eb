/**
 * Fraud proofs anyone can submit against a pending epoch: a spend list entry whose stake is not what the pinned
 * staking contract of its deployment gives at the committed snapshot block (or an entry of a deployment the pinned
 * configuration does not have), and a batch proof whose stake table (the rows its discounts were computed from)
 * holds such a stake. Finding them reads the chain; submitting one needs no role.
 */
import { getContract, zeroAddress, type Address, type Hex, type PublicClient } from 'viem'
import { readEpochFile } from '../epoch/directory.ts'
import { StandardTree } from '../merkle/tree.ts'
import { EpochJudge, MTStaking, RewardDistributor } from './contracts.generated.ts'
import { ChainError, distributorAt, type Clients } from './contracts.ts'
import { judgeOf, spendEntry, type OpenedLedger } from './judge.ts'
import { ledgerHash, type Ledger } from '../epoch/ledger.ts'
import type { SpendLeaf } from '../epoch/spend.ts'
import type { EpochProofs } from '../proofs/files.ts'
import { signalsOf } from '../proofs/prove.ts'
import { paddedTable, stakeRowCell } from '../proofs/statement.ts'

/** A spend list entry the chain shows wrong, with what it takes to prove it there (EpochJudge.challengeStake). */
export type StakeChallenge = {
  epoch: number
  /** The entry's position in the spend list. */
  index: number
  leaf: SpendLeaf
  /** The ledger and the opened entry, as the judge takes them. */
  ledger: Ledger
  entry: ReturnType<typeof spendEntry>
  /** The pinned staking contract of the leaf's deployment; zero when the configuration does not have it. */
  staking: Address
  /** What that contract gives at the snapshot block (zero for an unknown deployment). */
  actual: bigint
}

/** Reads an epoch directory's spend tree (spend-tree.json); the caller checks it is the committed one. */
export async function readSpendTree(dir: string): Promise<StandardTree> {
  return StandardTree.loadBytes(await readEpochFile(dir, 'spend-tree.json'), 'spend-tree.json')
}

/** Entries whose stake is read from the chain at once. */
const READS_AT_ONCE = 32

/** What a stake check reads of a commitment: the configuration whose staking contracts count, and the block. */
export type StakeSnapshotRef = { configHash: Hex; snapshotBlock: bigint }

/**
 * Each deployment's pinned staking contract under `commitment`'s configuration, read once per deployment, with a
 * reader of eligible stakes at its snapshot block (zero address: a deployment the configuration does not have).
 */
function pinnedStakes(client: PublicClient, registry: Address, commitment: StakeSnapshotRef) {
  const r = getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client } })
  const byDeployment = new Map<Hex, Promise<{ address: Address; read: (user: Hex) => Promise<bigint> }>>()
  return (deploymentId: Hex) => {
    let s = byDeployment.get(deploymentId)
    if (!s)
      byDeployment.set(
        deploymentId,
        (s = r.read.stakingOf([commitment.configHash, deploymentId]).then((address) => {
          const contract = getContract({ abi: MTStaking.abi, address, client: { public: client } })
          return { address, read: (user: Hex) => contract.read.eligibleStakeAt([user, commitment.snapshotBlock]) }
        })),
      )
    return s
  }
}

/**
 * The entries of an epoch's spend list whose stake the chain contradicts under `commitment`: read at its snapshot
 * block from the staking contracts its configuration pins. Empty for an honest epoch. (The spend tree's leaves are the
 * list's, or the judge revokes the epoch for that.)
 */
export async function stakeFaults(client: PublicClient, registry: Address, ledger: OpenedLedger, commitment: StakeSnapshotRef): Promise<StakeChallenge[]> {
  const staking = pinnedStakes(client, registry, commitment)
  const found: StakeChallenge[] = []
  for (let i = 0; i < ledger.spend.length; i += READS_AT_ONCE) {
    const indices = Array.from({ length: Math.min(READS_AT_ONCE, ledger.spend.length - i) }, (_, k) => i + k)
    const checked = await Promise.all(
      indices.map(async (index) => {
        const { leaf } = ledger.spend[index]!
        const contract = await staking(leaf.deploymentId)
        const actual = contract.address === zeroAddress ? 0n : await contract.read(leaf.user)
        if (contract.address !== zeroAddress && actual === leaf.stake) return undefined
        return { epoch: ledger.epoch, index, leaf, ledger: ledger.ledger, entry: spendEntry(ledger, index), staking: contract.address, actual }
      }),
    )
    for (const x of checked) if (x) found.push(x)
  }
  return found
}

/** The provable stake faults of the registry's pending epoch, given its ledger (which must be the pending one's). */
export async function findStakeChallenges(client: PublicClient, registry: Address, ledger: OpenedLedger): Promise<StakeChallenge[]> {
  const r = getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client } })
  const [hasPending, epoch, c] = await Promise.all([r.read.hasPending(), r.read.pendingEpoch(), r.read.pendingCommitment()])
  if (!hasPending) return []
  if (ledgerHash(ledger.ledger) !== c.ledgerHash) throw new ChainError(`the ledger given has hash ${ledgerHash(ledger.ledger)}, the pending epoch ${epoch} commits ${c.ledgerHash}`, "Give the pending epoch's directory.")
  return stakeFaults(client, registry, ledger, c)
}

/** Submits one challenge to the registry's judge: the pending epoch is revoked if the chain shows the stake wrong (any account may send it). */
export async function submitStakeChallenge(clients: Clients, registry: Address, challenge: StakeChallenge): Promise<Hex> {
  const judge = getContract({ abi: EpochJudge.abi, address: await judgeOf(clients.public, registry), client: { public: clients.public, wallet: clients.wallet } })
  const hash = await judge.write.challengeStake([BigInt(challenge.epoch), challenge.ledger, challenge.entry])
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`challengeStake transaction ${hash} reverted`)
  return hash
}

/** A batch proof's stake table with a row the chain shows wrong, as `challengeStakeRow` takes it. */
export type StakeRowChallenge = {
  epoch: number
  /** The batch's index in the epoch's proofs (the registry's order). */
  batch: number
  signals: bigint[]
  /** The whole table, padded to the circuit's rows with (0, 0): what opens the batch's stakes commitment (stakeRowCell). */
  users: bigint[]
  cells: bigint[]
  /** The first row found wrong. */
  user: Hex
  committed: bigint
  actual: bigint
  staking: Address
}

/**
 * The batches of `proofs` (an epoch's proofs.json) whose stake table holds a stake the pinned staking contract of the
 * batch's deployment does not give at `commitment`'s snapshot block: one challenge per such batch. Empty for an
 * honest epoch.
 */
export async function stakeRowFaults(client: PublicClient, registry: Address, proofs: EpochProofs, commitment: StakeSnapshotRef): Promise<StakeRowChallenge[]> {
  const stakingOf = pinnedStakes(client, registry, commitment)
  const found: StakeRowChallenge[] = []
  for (const [batch, b] of proofs.batches.entries()) {
    const staking = await stakingOf(b.deploymentId)
    const table = paddedTable(b.rows.map((r) => ({ ...r, user: BigInt(r.user) })), proofs.circuit.rows)
    for (const row of b.rows) {
      const actual = await staking.read(row.user)
      if (actual === row.stake) continue
      found.push({ epoch: proofs.epoch, batch, signals: signalsOf(b.proof), users: table.map((t) => t.user), cells: table.map(stakeRowCell), user: row.user, committed: row.stake, actual, staking: staking.address })
      break
    }
  }
  return found
}

/** Submits one stake-row challenge: the pending epoch is revoked if the chain shows the row wrong (any account). */
export async function submitStakeRowChallenge(clients: Clients, registry: Address, c: StakeRowChallenge): Promise<Hex> {
  const hash = await distributorAt(clients, registry).write.challengeStakeRow([BigInt(c.epoch), BigInt(c.batch), c.signals as never, c.users, c.cells])
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`challengeStakeRow transaction ${hash} reverted`)
  return hash
}
