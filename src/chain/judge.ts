/**
 * Challenges of an epoch's ledger on EpochJudge (docs/trust-model.md, property 4): from a pending epoch's sealed
 * directory and the last final one's, the first fault `ledgerFault` finds, as the judge's call, with the list
 * openings it needs; sent by any account. And a claim from the last final reward list, for a reward the
 * OpenZeppelin tree left out.
 */
import { getContract, zeroAddress, type Abi, type Address, type Hex, type PublicClient } from 'viem'
import { ledgerFault, type LedgerFault } from '../epoch/ledgerFaults.ts'
import { parseJsonDocument } from '../base/json.ts'
import { parseJsonBytes } from '../base/jsonBytes.ts'
import { readEpochFile } from '../epoch/directory.ts'
import { ledgerHash, readLedger, rewardParameters, type Ledger, type OpenedLedger, type RewardParams } from '../epoch/ledger.ts'
import { readSpendTree } from './challenges.ts'
import { readConfig, type AggregatorConfig } from '../epoch/config.ts'
import { distributorDomain, rewardLeafOf } from '../epoch/rewards.ts'
import { spendLeafOf } from '../epoch/spend.ts'
import { StandardTree } from '../merkle/tree.ts'
import { EpochJudge, RewardDistributor } from './contracts.generated.ts'
import { ChainError, type Clients } from './contracts.ts'
import { decodeRevert, simulateAndSend } from './transactions.ts'

export type { OpenedLedger }

/** Reads ledger.json of a sealed directory (its lists checked against their roots) with both positional trees. */
export async function readOpenedLedger(dir: string): Promise<OpenedLedger> {
  return readLedger(parseJsonBytes(await readEpochFile(dir, 'ledger.json'), 'ledger.json'))
}

/** config.json of a sealed directory: the configuration the judge's reward parameters come from. */
export async function readEpochConfig(dir: string): Promise<AggregatorConfig> {
  return readConfig(parseJsonDocument((await readEpochFile(dir, 'config.json')).toString('utf8'), 'config.json'))
}

/** The spend list's entry at position `p` with its proof, as the judge opens it. */
export const spendEntry = (l: OpenedLedger, p: number) => {
  const e = l.spend[p]!
  return { leaf: e.leaf, prefixGross: e.prefixGross, prefixEligible: e.prefixEligible, prefixCharged: e.prefixCharged, index: BigInt(p), proof: l.spendTree.proof(p) }
}
/** The reward list's entry at position `p` with its proof, as the judge opens it. */
export const rewardEntry = (l: OpenedLedger, p: number) => {
  const e = l.reward[p]!
  return { account: e.account, token: e.token, cumulative: e.amount, index: BigInt(p), proof: l.rewardTree.proof(p) }
}

/** A ledger fault as the judge's call. */
export type LedgerChallenge = { fault: LedgerFault; functionName: string; args: readonly unknown[] }

export function ledgerChallenge(fault: LedgerFault, current: OpenedLedger, params: RewardParams, previous: OpenedLedger | undefined, trees: { spend: StandardTree; reward: StandardTree }): LedgerChallenge {
  const epoch = BigInt(current.epoch)
  const { ledger } = current
  switch (fault.kind) {
    case 'ledger':
      return { fault, functionName: 'challengeLedger', args: [epoch, ledger, params] }
    case 'spend-list':
      return { fault, functionName: 'challengeSpendList', args: [epoch, ledger, params, fault.positions.map((p) => spendEntry(current, p))] }
    case 'spend-totals':
      return { fault, functionName: 'challengeSpendTotals', args: [epoch, ledger, params, BigInt(fault.deployment), fault.positions.map((p) => spendEntry(current, p))] }
    case 'spend-tree': {
      const values = [String(current.epoch), fault.leaf.deploymentId, fault.leaf.user, fault.leaf.gross.toString(), fault.leaf.charged.toString(), fault.leaf.receipts.toString(), fault.leaf.stake.toString()]
      return { fault, functionName: 'challengeSpendTree', args: [epoch, ledger, params, fault.leaf, trees.spend.getProof(values), fault.positions.map((p) => spendEntry(current, p))] }
    }
    case 'reward-list':
      return { fault, functionName: 'challengeRewardList', args: [epoch, ledger, fault.positions.map((p) => rewardEntry(current, p))] }
    case 'reward-tree': {
      const l = fault.leaf
      return { fault, functionName: 'challengeRewardTree', args: [epoch, ledger, l.account, l.token, l.amount, trees.reward.getProof([l.domain, l.account, l.token, l.amount.toString()]), fault.positions.map((p) => rewardEntry(current, p))] }
    }
    case 'foreign-spend':
      return { fault, functionName: 'challengeForeignSpend', args: [epoch, ledger, BigInt(fault.leafEpoch), spendEntry(current, fault.position)] }
    case 'foreign-reward':
      return { fault, functionName: 'challengeForeignReward', args: [epoch, ledger, fault.domain, rewardEntry(current, fault.position)] }
    case 'reward':
      return {
        fault,
        functionName: 'challengeReward',
        args: [
          epoch,
          ledger,
          params,
          previous?.ledger ?? emptyLedger(),
          fault.account,
          fault.token,
          fault.current.map((p) => rewardEntry(current, p)),
          previous ? fault.previous.map((p) => rewardEntry(previous, p)) : [],
          fault.spends.map((positions) => positions.map((p) => spendEntry(current, p))),
        ],
      }
  }
}

const emptyLedger = (): Ledger => ({ totals: [], spendList: `0x${'0'.repeat(64)}`, spendCount: 0n, rewardList: `0x${'0'.repeat(64)}`, rewardCount: 0n })

/** The judge of a registry (created with it). */
export async function judgeOf(client: PublicClient, registry: Address): Promise<Address> {
  return getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client } }).read.judge()
}

/**
 * The first ledger fault of the registry's pending epoch, from its sealed directory `dir` and, when an epoch is final,
 * the final one's directory `previousDir`; undefined when the judge would find none. Refuses a directory that is not
 * the pending proposal's.
 */
export async function findLedgerChallenge(client: PublicClient, registry: Address, dir: string, previousDir: string | undefined): Promise<LedgerChallenge | undefined> {
  const r = getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client } })
  const [hasPending, pendingEpoch, c, hasFinalized, verifier] = await Promise.all([r.read.hasPending(), r.read.pendingEpoch(), r.read.pendingCommitment(), r.read.hasFinalized(), r.read.verifier()])
  if (!hasPending) return undefined
  // The trees say whether this is the pending proposal's directory; its ledger's lists are then what the judge opens.
  const spend = await readSpendTree(dir)
  const reward = StandardTree.loadBytes(await readEpochFile(dir, 'reward-tree.json'), 'reward-tree.json')
  if (spend.root !== c.spendRoot || reward.root !== c.rewardRoot) throw new ChainError(`the trees of ${dir} are not the pending epoch's`, "Give the pending epoch's directory.")
  const current = await readOpenedLedger(dir)
  if (ledgerHash(current.ledger) !== c.ledgerHash) throw new ChainError(`ledger.json of ${dir} is not the pending epoch's committed ledger`, 'The lists the judge opens are withheld: a guardian revokes such a proposal.')
  const config = await readEpochConfig(dir)
  const params = rewardParameters(config)
  // Entries hashed under another epoch or distributor open under no other challenge: the judge revokes them as such.
  const foreignOf = (fault: LedgerFault) => ledgerChallenge(fault, { ...current, epoch: Number(pendingEpoch) }, params, undefined, { spend, reward })
  if (BigInt(current.epoch) !== pendingEpoch)
    return foreignOf({ kind: 'foreign-spend', what: `the spend list is hashed under epoch ${current.epoch}, the pending epoch is ${pendingEpoch}`, leafEpoch: current.epoch, position: 0 })
  const domain = distributorDomain(config.domain.chainId, config.domain.verifyingContract)
  const foreign = current.reward.findIndex((e) => e.domain.toLowerCase() !== domain)
  if (foreign !== -1)
    return foreignOf({ kind: 'foreign-reward', what: `reward list entry ${foreign} is under another distributor's domain (${current.reward[foreign]!.domain}, this one's is ${domain})`, domain: current.reward[foreign]!.domain, position: foreign })
  const previous = hasFinalized && previousDir !== undefined ? await readOpenedLedger(previousDir) : undefined
  if (hasFinalized && previous === undefined) throw new ChainError('an epoch is final, but no directory of it was given', "Give the last final epoch's directory: a reward is checked against its cumulative rewards.")
  const provenCharged = verifier === zeroAddress ? undefined : await Promise.all(params.deployments.map((d) => r.read.provenCharged([pendingEpoch, d.id])))
  const fault = ledgerFault({
    epoch: current.epoch,
    params,
    ledger: current.ledger,
    spend: current.spend,
    reward: current.reward,
    spendLeaves: [...spend.entries()].map(([, v]) => spendLeafOf(v)),
    rewardLeaves: [...reward.entries()].map(([, v]) => rewardLeafOf(v)),
    previous: previous?.reward ?? [],
    provenCharged,
    committed: { gross: c.totalGross, charged: c.totalCharged },
  })
  return fault && ledgerChallenge(fault, current, params, previous, { spend, reward })
}

/** Sends a ledger challenge to the registry's judge (any account): the pending epoch is revoked if the judge finds the fault. */
export async function submitLedgerChallenge(clients: Clients, registry: Address, challenge: LedgerChallenge): Promise<Hex> {
  const judge = await judgeOf(clients.public, registry)
  const receipt = await simulateAndSend(
    clients,
    `${challenge.functionName} (${challenge.fault.what})`,
    { address: judge, abi: EpochJudge.abi as Abi, functionName: challenge.functionName, args: challenge.args },
    {
      refused: (what, error) => new ChainError(`the judge refused ${what}: ${decodeRevert(error, EpochJudge.abi as Abi)?.errorName ?? (error as Error).message}`),
      reverted: (message) => new ChainError(message),
    },
  )
  return receipt.transactionHash
}

/**
 * Claims an account's rewards from the last final epoch's reward list (`claimFromList`), for each token the list
 * holds: the path for a reward the OpenZeppelin tree left out. `dir` must be that epoch's directory. Pays what the
 * list owes beyond what was claimed, by either path.
 */
export async function claimFromList(clients: Clients, registry: Address, dir: string, account: Address): Promise<Array<{ token: Hex; cumulative: bigint; transaction: Hex }>> {
  const l = await readOpenedLedger(dir)
  const judge = await judgeOf(clients.public, registry)
  const paid: Array<{ token: Hex; cumulative: bigint; transaction: Hex }> = []
  for (const [p, e] of l.reward.entries()) {
    if (e.account.toLowerCase() !== account.toLowerCase()) continue
    const receipt = await simulateAndSend(
      clients,
      `claimFromList of ${account} in ${e.token}`,
      { address: judge, abi: EpochJudge.abi as Abi, functionName: 'claimFromList', args: [e.account, e.token, e.amount, BigInt(p), l.rewardTree.proof(p), l.ledger] },
      {
        refused: (what, error) => new ChainError(`the judge refused ${what}: ${decodeRevert(error, [...EpochJudge.abi, ...RewardDistributor.abi] as Abi)?.errorName ?? (error as Error).message}`, 'The directory must be the last final epoch\'s.'),
        reverted: (message) => new ChainError(message),
      },
    )
    paid.push({ token: e.token, cumulative: e.amount, transaction: receipt.transactionHash })
  }
  return paid
}
