/**
 * Spend moved between users, proven on chain (docs/trust-model.md, property 2): each batch proof commits every
 * user's gross and charged in the batch (its stake rows), the rows of all batches sum to the proven totals and the
 * spend leaves to the same committed totals, so a leaf that is not its user's rows summed leaves some leaf below
 * them. `spendRowsFault` finds the cheapest such leaf from the spend list and proofs.json (pure); the judge's
 * `challengeSpendRows` then opens the user's batches, over several transactions when they are many, and the call
 * whose sums pass the leaf revokes the proposal.
 */
import { zeroHash, type Abi, type Address, type Hex, type PublicClient } from 'viem'
import { ledgerHash, rewardParameters, spendKey, type RewardParams, type SpendListEntry } from '../epoch/ledger.ts'
import { lookup } from '../epoch/ledgerFaults.ts'
import { readProofsFile, type EpochProofs } from '../proofs/files.ts'
import { proofsHash, signalsOf } from '../proofs/prove.ts'
import { paddedTable, stakeRowCell } from '../proofs/statement.ts'
import { EpochJudge, RewardDistributor } from './contracts.generated.ts'
import { ChainError, type Clients } from './contracts.ts'
import { judgeOf, readEpochConfig, readOpenedLedger, spendEntry, type OpenedLedger } from './judge.ts'
import { decodeRevert, simulateAndSend } from './transactions.ts'

/**
 * Batches a `challengeSpendRows` transaction opens, for a circuit of `rows` stake rows. Opening a batch hashes every
 * row with Poseidon: 83,170 gas a batch measured at the test circuit's 2 rows (docs/benchmarks.md), and a PoseidonT4
 * hash alone costs about 34,000, so a 32-row batch costs about 1.2 million. A transaction is kept near 12 million gas,
 * under a 30,000,000-gas block and the 2^24 per-transaction cap some chains set.
 */
export function spendRowsPerTransaction(rows: number): number {
  return Math.min(64, Math.max(1, Math.floor(12_000_000 / (40_000 * rows + 60_000))))
}

/** A spend leaf below its user's proven rows: what the judge's `challengeSpendRows` shows. */
export type SpendRowsFault = {
  deploymentId: Hex
  user: Hex
  /** The spend list's values for the user (zero when it has no entry) and the user's rows summed over the proofs. */
  leaf: { gross: bigint; charged: bigint }
  proven: { gross: bigint; charged: bigint }
  /**
   * The batches to open (indices in proofs.json, the registry's order, increasing): the fewest of the user's whose
   * rows pass the leaf, so a leaf shaved on a heavy user costs as few openings as the chain needs.
   */
  batches: number[]
  /** The spend list positions the lookup of (deployment, user) opens: its entry, or the neighbours around it. */
  positions: number[]
}

const lc = (h: string) => h.toLowerCase() as Hex

/**
 * The spend leaf the proofs show too small that takes the fewest batches to show, or undefined when every leaf holds
 * at least its rows (then, the totals being bound, every leaf is its rows). Batches of deployments the reward
 * parameters lack are left aside (the judge opens none). Pure.
 */
export function spendRowsFault(spend: readonly SpendListEntry[], params: RewardParams, proofs: EpochProofs): SpendRowsFault | undefined {
  const index = new Map(params.deployments.map((d, i) => [lc(d.id), i]))
  type Share = { batch: number; gross: bigint; charged: bigint }
  type Rows = { deploymentId: Hex; user: Hex; gross: bigint; charged: bigint; shares: Share[] }
  const rows = new Map<string, Rows>()
  for (const [i, b] of proofs.batches.entries()) {
    if (!index.has(lc(b.deploymentId))) continue
    for (const r of b.rows) {
      const key = `${lc(b.deploymentId)}/${lc(r.user)}`
      const sum = rows.get(key) ?? { deploymentId: lc(b.deploymentId), user: lc(r.user), gross: 0n, charged: 0n, shares: [] }
      rows.set(key, sum)
      sum.gross += r.gross
      sum.charged += r.charged
      const last = sum.shares[sum.shares.length - 1]
      if (last?.batch === i) {
        last.gross += r.gross
        last.charged += r.charged
      } else sum.shares.push({ batch: i, gross: r.gross, charged: r.charged })
    }
  }
  const leaves = new Map(spend.map((e) => [`${lc(e.leaf.deploymentId)}/${lc(e.leaf.user)}`, e.leaf]))
  // The fewest of a user's batches whose `field` passes the leaf's: its largest shares first.
  const fewest = (r: Rows, field: 'gross' | 'charged', bound: bigint): number[] | undefined => {
    if (r[field] <= bound) return undefined
    const picked: number[] = []
    let sum = 0n
    for (const share of [...r.shares].sort((a, b) => (a[field] === b[field] ? a.batch - b.batch : a[field] > b[field] ? -1 : 1))) {
      picked.push(share.batch)
      sum += share[field]
      if (sum > bound) break
    }
    return picked.sort((a, b) => a - b)
  }
  let best: { rows: Rows; leaf: { gross: bigint; charged: bigint }; batches: number[] } | undefined
  for (const [key, r] of rows) {
    const found = leaves.get(key)
    const leaf = { gross: found?.gross ?? 0n, charged: found?.charged ?? 0n }
    for (const batches of [fewest(r, 'gross', leaf.gross), fewest(r, 'charged', leaf.charged)])
      if (batches && (!best || batches.length < best.batches.length)) best = { rows: r, leaf, batches }
  }
  if (!best) return undefined
  const keys = spend.map((e) => spendKey(index.get(lc(e.leaf.deploymentId)) ?? -1, e.leaf.user))
  const { deploymentId, user, gross, charged } = best.rows
  return { deploymentId, user, leaf: best.leaf, proven: { gross, charged }, batches: best.batches, positions: lookup(keys, spendKey(index.get(deploymentId)!, user)).positions }
}

/** One batch with its whole stake table, as `challengeSpendRows` opens it (IEpochJudge.BatchRows). */
export type OpenedBatch = { batch: bigint; signals: bigint[]; users: bigint[]; cells: bigint[] }

/**
 * A spend-rows fault with what the judge's calls take: the arguments before the batches (epoch, ledger, parameters,
 * deployment, user, lookup) and the batches, which are sent in transactions of at most `perTransaction`.
 */
export type SpendRowsChallenge = { epoch: number; fault: SpendRowsFault; head: readonly unknown[]; batches: OpenedBatch[]; perTransaction: number }

/** The judge's calls for `fault`: the user's batches, each with its whole stake table. */
export function spendRowsChallenge(fault: SpendRowsFault, current: OpenedLedger, params: RewardParams, proofs: EpochProofs, perTransaction = spendRowsPerTransaction(proofs.circuit.rows)): SpendRowsChallenge {
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
  const params = rewardParameters(await readEpochConfig(dir))
  const fault = spendRowsFault(current.spend, params, proofs)
  return fault && spendRowsChallenge(fault, current, params, proofs)
}

/**
 * Sends a spend-rows challenge (any account): the batches the account has not yet counted for this proposal, in
 * transactions of `spendRowsPerTransaction` batches, so a watcher restarted midway goes on where it stopped.
 * Returns the transactions; the last revokes the pending epoch.
 */
export async function submitSpendRowsChallenge(clients: Clients, registry: Address, challenge: SpendRowsChallenge): Promise<Hex[]> {
  const judge = await judgeOf(clients.public, registry)
  const { fault } = challenge
  const counted = await clients.public.readContract({ address: judge, abi: EpochJudge.abi, functionName: 'countedSpendRows', args: [clients.wallet.account.address, BigInt(challenge.epoch), fault.deploymentId, fault.user] })
  // Batches already counted are left out. All of them counted without a revocation means the sums never passed the
  // leaf: the chain's tables are not proofs.json's.
  const left = challenge.batches.filter((b) => b.batch >= counted.next)
  if (left.length === 0)
    throw new ChainError(`every batch of user ${fault.user} on deployment ${fault.deploymentId} is already counted by ${clients.wallet.account.address} and the judge found no fault`, "proofs.json is not the proofs the registry holds: give the pending epoch's directory.")
  const calls: Array<readonly unknown[]> = []
  for (let i = 0; i < left.length; i += challenge.perTransaction) calls.push([...challenge.head, left.slice(i, i + challenge.perTransaction)])
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
