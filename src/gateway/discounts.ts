/**
 * The staking discount a call's receipt carries: the user's eligible stake and the circulating supply of the call's
 * deployment at the epoch's stake snapshot, through `stakingDiscountBps` with the configuration's X and M (what
 * sealing checks receipts against). Snapshots are loaded once per epoch, from MTStaking over JSON-RPC at the epoch's
 * snapshot block, or from an epoch inputs file for offline use.
 */
import type { Hex } from '../base/bytes.ts'
import { stakingDiscountBps, type DiscountParameters } from '../economics/revenue.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import { readEpochInputs } from '../epoch/inputs.ts'
import type { Clients } from '../chain/contracts.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import { GatewayError } from './errors.ts'

/** One deployment's snapshot: circulating supply (none: no discount) and eligible stakes by lower-case account. */
export type DeploymentSnapshot = { circulatingSupply: bigint | undefined; stakes: ReadonlyMap<Hex, bigint> }

/** Loads the snapshots of an epoch, by deployment id; deployments absent give no discount. */
export type SnapshotSource = (epoch: number) => Promise<ReadonlyMap<Hex, DeploymentSnapshot>>

/** Discounts by epoch: each epoch's snapshots loaded once (concurrent callers share the load), the last `keep` epochs kept. */
export class Discounts {
  readonly #epochs = new Map<number, Promise<ReadonlyMap<Hex, DeploymentSnapshot>>>()
  /** The snapshots of the epochs in #epochs that have loaded: read without waiting on a promise. */
  readonly #loaded = new Map<number, ReadonlyMap<Hex, DeploymentSnapshot>>()

  constructor(
    readonly source: SnapshotSource,
    readonly parameters: DiscountParameters,
    readonly keep = 2,
  ) {}

  /** The discount in bps of `user` on `deploymentId` in `epoch`; a GatewayError (503) when the snapshot cannot be loaded. */
  async discountBps(epoch: number, deploymentId: Hex, user: Hex): Promise<number> {
    return this.#discount(await this.#snapshots(epoch), deploymentId, user)
  }

  /** The discount as `discountBps` gives it, when the epoch's snapshots are already loaded (else undefined). */
  loadedDiscountBps(epoch: number, deploymentId: Hex, user: Hex): number | undefined {
    const snapshots = this.#loaded.get(epoch)
    return snapshots === undefined ? undefined : this.#discount(snapshots, deploymentId, user)
  }

  #discount(snapshots: ReadonlyMap<Hex, DeploymentSnapshot>, deploymentId: Hex, user: Hex): number {
    const snapshot = snapshots.get(deploymentId)
    if (!snapshot || snapshot.circulatingSupply === undefined) return 0
    return Number(stakingDiscountBps(snapshot.stakes.get(user) ?? 0n, snapshot.circulatingSupply, this.parameters))
  }

  #snapshots(epoch: number): Promise<ReadonlyMap<Hex, DeploymentSnapshot>> {
    let loading = this.#epochs.get(epoch)
    if (!loading) {
      const mine: Promise<ReadonlyMap<Hex, DeploymentSnapshot>> = this.source(epoch).then(
        (snapshots) => {
          // Kept only while the epoch is (an evicted epoch loading late is not brought back).
          if (this.#epochs.get(epoch) === mine) this.#loaded.set(epoch, snapshots)
          return snapshots
        },
        (error: unknown) => {
          // Not cached: the next call tries again.
          if (this.#epochs.get(epoch) === mine) this.#epochs.delete(epoch)
          throw new GatewayError(503, 'server_error', 'discount_unavailable', `the stake snapshot of epoch ${epoch} could not be loaded: ${(error as Error).message.split('\n')[0]}`, null, 5)
        },
      )
      loading = mine
      this.#epochs.set(epoch, loading)
      for (const e of [...this.#epochs.keys()].sort((a, b) => a - b).slice(0, Math.max(0, this.#epochs.size - this.keep))) {
        this.#epochs.delete(e)
        this.#loaded.delete(e)
      }
    }
    return loading
  }
}

/** No stakes anywhere: every discount is zero. */
export const noStakes: SnapshotSource = async () => new Map()

/**
 * Snapshots from an epoch inputs document (fomo-epoch-inputs-v2, as `fomo inputs` takes it), read again at each new
 * epoch, so an operator offline replaces the file as epochs pass. The file's own `epoch` is not checked: it is the
 * snapshot in force.
 */
export function inputsFileStakes(load: () => Promise<unknown>, config: AggregatorConfig): SnapshotSource {
  return async () => {
    const inputs = readEpochInputs(await load(), config)
    return new Map([...inputs.deployments].map(([id, d]) => [id, { circulatingSupply: d.circulatingSupply, stakes: d.stakes }]))
  }
}

/**
 * Snapshots read from each deployment's MTStaking (the configuration's `staking`) at the epoch's snapshot block: the
 * last block at or before the epoch's start (`snapshotBlockAt`). The aggregator must read its epoch inputs at the
 * same block (`fomo inputs --rpc URL --block N`) for the receipts' discounts to match the sealed snapshot.
 */
export function chainStakes(client: Clients['public'], config: AggregatorConfig): SnapshotSource {
  return async (epoch) => {
    const block = await snapshotBlockAt(client, BigInt(epoch) * BigInt(config.epochSeconds))
    const out = new Map<Hex, DeploymentSnapshot>()
    for (const d of config.deployments) {
      if (!d.staking) continue
      const s = await readStakeSnapshot({ public: client }, d.staking, block)
      out.set(d.id, { circulatingSupply: s.circulatingSupply, stakes: s.stakes })
    }
    return out
  }
}

/**
 * The last block whose timestamp is at or before `timestamp` (unix seconds), by binary search over block numbers. A
 * later block must exist (MTStaking reads only strictly past blocks), else the snapshot is not readable yet.
 */
export async function snapshotBlockAt(client: Clients['public'], timestamp: bigint): Promise<bigint> {
  const latest = await client.getBlock({ blockTag: 'latest' })
  if (latest.timestamp <= timestamp) throw new Error(`no block after ${timestamp} yet (latest block ${latest.number} at ${latest.timestamp}): the snapshot block is not past`)
  const genesis = await client.getBlock({ blockNumber: 0n })
  if (genesis.timestamp > timestamp) throw new Error(`the chain starts after ${timestamp}: no block at or before the epoch's start`)
  // Invariant: block lo is at or before the timestamp, block hi after it.
  let lo = 0n
  let hi = latest.number
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n
    if ((await client.getBlock({ blockNumber: mid })).timestamp <= timestamp) lo = mid
    else hi = mid
  }
  return lo
}
