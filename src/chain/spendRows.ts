/**
 * Spend moved between users, proven on chain (docs/trust-model.md, property 2): each batch proof commits every
 * user's gross and charged in the batch (its stake rows), the rows of all batches sum to the proven totals and the
 * spend leaves to the same committed totals, so a leaf that is not its user's rows summed leaves some leaf below
 * them. `spendRowsFault` finds the cheapest such leaf from the spend list and proofs.json (pure); the judge's
 * `challengeSpendRows` then opens the user's batches, over several transactions when they are many, and the call
 * whose sums pass the leaf revokes the proposal.
 */
import { zeroHash, type Abi, type Address, type Hex, type PublicClient } from 'viem'
import { parseJsonDocument } from '../base/json.ts'
import { readEpochFile } from '../epoch/directory.ts'
import { readConfig } from '../epoch/config.ts'
import { ledgerHash, rewardParameters, spendKey, type RewardParams, type SpendListEntry } from '../epoch/ledger.ts'
import { lookup } from '../epoch/ledgerFaults.ts'
import { readProofsFile, type EpochProofs } from '../proofs/files.ts'
import { proofsHash, signalsOf } from '../proofs/prove.ts'
import { paddedTable, stakeRowCell } from '../proofs/statement.ts'
import { EpochJudge, RewardDistributor } from './contracts.generated.ts'
import { ChainError, type Clients } from './contracts.ts'
import { judgeOf, readOpenedLedger, spendEntry, type OpenedLedger } from './judge.ts'
import { decodeRevert, simulateAndSend } from './transactions.ts'

/**
 * Batches a `challengeSpendRows` transaction opens. Each is a Poseidon chain over the circuit's stake rows: 82,854 gas
 * a batch measured at the test circuit's 2 rows (docs/benchmarks.md), and a PoseidonT4 hash alone costs about 34,000,
 * so a 32-row batch costs about 1.2 million; 16 of them stay under a 30,000,000-gas block.
 */
export const SPEND_ROWS_BATCHES_PER_TRANSACTION = 16

/** A spend leaf below its user's proven rows: what the judge's `challengeSpendRows` shows. */
export type SpendRowsFault = {
  deploymentId: Hex
  user: Hex
  /** The spend list's values for the user (zero when it has no entry) and the user's rows summed over the proofs. */
  leaf: { gross: bigint; charged: bigint }
  proven: { gross: bigint; charged: bigint }
  /** The batches (indices in proofs.json, the registry's order) holding the user's rows. */
  batches: number[]
  /** The spend list positions the lookup of (deployment, user) opens: its entry, or the neighbours around it. */
  positions: number[]
}

const lc = (h: string) => h.toLowerCase() as Hex

/**
 * The spend leaf the proofs show too small with the fewest batches to open, or undefined when every leaf holds at
 * least its rows (then, the totals being bound, every leaf is its rows). Pure.
 */
export function spendRowsFault(spend: readonly SpendListEntry[], params: RewardParams, proofs: EpochProofs): SpendRowsFault | undefined {
  type Rows = { deploymentId: Hex; user: Hex; gross: bigint; charged: bigint; batches: number[] }
  const rows = new Map<string, Rows>()
  for (const [i, b] of proofs.batches.entries())
    for (const r of b.rows) {
      const key = `${lc(b.deploymentId)}/${lc(r.user)}`
      const sum = rows.get(key)
      if (sum) {
        sum.gross += r.gross
        sum.charged += r.charged
        if (sum.batches[sum.batches.length - 1] !== i) sum.batches.push(i)
      } else rows.set(key, { deploymentId: lc(b.deploymentId), user: lc(r.user), gross: r.gross, charged: r.charged, batches: [i] })
    }
  const leaves = new Map(spend.map((e) => [`${lc(e.leaf.deploymentId)}/${lc(e.leaf.user)}`, e.leaf]))
  let best: Rows | undefined
  let bestLeaf = { gross: 0n, charged: 0n }
  for (const [key, r] of rows) {
    const leaf = leaves.get(key) ?? { gross: 0n, charged: 0n }
    if ((r.gross > leaf.gross || r.charged > leaf.charged) && (!best || r.batches.length < best.batches.length)) {
      best = r
      bestLeaf = { gross: leaf.gross, charged: leaf.charged }
    }
  }
  if (!best) return undefined
  const index = params.deployments.findIndex((d) => lc(d.id) === best.deploymentId)
  if (index === -1) return undefined
  const keys = spend.map((e) => spendKey(params.deployments.findIndex((d) => lc(d.id) === lc(e.leaf.deploymentId)), e.leaf.user))
  return { deploymentId: best.deploymentId, user: best.user, leaf: bestLeaf, proven: { gross: best.gross, charged: best.charged }, batches: best.batches, positions: lookup(keys, spendKey(index, best.user)).positions }
}

/** One batch with its whole stake table, as `challengeSpendRows` opens it (IEpochJudge.BatchRows). */
export type OpenedBatch = { batch: bigint; signals: bigint[]; users: bigint[]; cells: bigint[] }

/**
 * A spend-rows fault with what the judge's calls take: the arguments before the batches (epoch, ledger, parameters,
 * deployment, user, lookup) and the batches, which are sent in transactions of at most `perTransaction`.
 */
export type SpendRowsChallenge = { epoch: number; fault: SpendRowsFault; head: readonly unknown[]; batches: OpenedBatch[]; perTransaction: number }

/** The judge's calls for `fault`: the user's batches, each with its whole stake table. */
export function spendRowsChallenge(fault: SpendRowsFault, current: OpenedLedger, params: RewardParams, proofs: EpochProofs, perTransaction = SPEND_ROWS_BATCHES_PER_TRANSACTION): SpendRowsChallenge {
  const batches = fault.batches.map((i): OpenedBatch => {
    const b = proofs.batches[i]!
    const table = paddedTable(b.rows.map((r) => ({ ...r, user: BigInt(r.user) })), proofs.circuit.rows)
    return { batch: BigInt(i), signals: signalsOf(b.proof), users: table.map((t) => t.user), cells: table.map(stakeRowCell) }
  })
  const head = [BigInt(current.epoch), current.ledger, params, fault.deploymentId, fault.user, fault.positions.map((p) => spendEntry(current, p))] as const
  return { epoch: current.epoch, fault, head, batches, perTransaction }
}

/**
 * The spend-rows challenge of the registry's pending epoch from its sealed directory `dir` (ledger.json, config.json
 * and proofs.json), or undefined when its proofs show no leaf too small. Refuses a directory whose ledger or proofs
 * are not the pending proposal's.
 */
export async function findSpendRowsChallenge(client: PublicClient, registry: Address, dir: string): Promise<SpendRowsChallenge | undefined> {
  const r = { address: registry, abi: RewardDistributor.abi } as const
  const [hasPending, pendingEpoch] = await Promise.all([client.readContract({ ...r, functionName: 'hasPending' }), client.readContract({ ...r, functionName: 'pendingEpoch' })])
  if (!hasPending) return undefined
  const c = await client.readContract({ ...r, functionName: 'pendingCommitment' })
  if (c.proofsHash === zeroHash) return undefined
  const current = await readOpenedLedger(dir)
  if (current.epoch !== Number(pendingEpoch) || ledgerHash(current.ledger) !== c.ledgerHash) throw new ChainError(`ledger.json of ${dir} is not the pending epoch's committed ledger`, "Give the pending epoch's directory.")
  const proofs = await readProofsFile(dir)
  if (!proofs || proofsHash(proofs.batches).toLowerCase() !== c.proofsHash.toLowerCase()) throw new ChainError(`proofs.json of ${dir} is not the pending epoch's proofs`, "Give the pending epoch's directory with the proofs it was proposed with.")
  const params = rewardParameters(readConfig(parseJsonDocument((await readEpochFile(dir, 'config.json')).toString('utf8'), 'config.json')))
  const fault = spendRowsFault(current.spend, params, proofs)
  return fault && spendRowsChallenge(fault, current, params, proofs)
}

/**
 * Sends a spend-rows challenge (any account): the batches the account has not yet counted for this proposal, in
 * transactions of `SPEND_ROWS_BATCHES_PER_TRANSACTION`, so a watcher restarted midway goes on where it stopped.
 * Returns the transactions; the last revokes the pending epoch.
 */
export async function submitSpendRowsChallenge(clients: Clients, registry: Address, challenge: SpendRowsChallenge): Promise<Hex[]> {
  const judge = await judgeOf(clients.public, registry)
  const { fault } = challenge
  const counted = await clients.public.readContract({ address: judge, abi: EpochJudge.abi, functionName: 'countedSpendRows', args: [clients.wallet.account.address, BigInt(challenge.epoch), fault.deploymentId, fault.user] })
  // Batches already counted are left out; when all were, one call with none revokes on the sums counted.
  const left = challenge.batches.filter((b) => b.batch >= counted.next)
  const calls: Array<readonly unknown[]> = []
  for (let i = 0; i < left.length; i += challenge.perTransaction) calls.push([...challenge.head, left.slice(i, i + challenge.perTransaction)])
  if (calls.length === 0) calls.push([...challenge.head, []])
  const sent: Hex[] = []
  for (const [i, args] of calls.entries()) {
    const receipt = await simulateAndSend(
      clients,
      `challengeSpendRows of user ${fault.user} on deployment ${fault.deploymentId} (${i + 1} of ${calls.length})`,
      { address: judge, abi: EpochJudge.abi as Abi, functionName: 'challengeSpendRows', args },
      {
        refused: (what, error) => new ChainError(`the judge refused ${what}: ${decodeRevert(error, [...EpochJudge.abi, ...RewardDistributor.abi] as Abi)?.errorName ?? (error as Error).message}`),
        reverted: (message) => new ChainError(message),
      },
    )
    sent.push(receipt.transactionHash)
  }
  return sent
}
