/**
 * The audit's stakes check: inputs.json's stake snapshot (circulating supply and every eligible stake) against each
 * deployment's MTStaking contract at the snapshot block, and the contract's discount parameters X and M there against
 * those config.json sealed the epoch with.
 */
import { getContract, type Address, type PublicClient } from 'viem'
import { MTStaking } from '../chain/contracts.generated.ts'
import type { Hex } from '../base/bytes.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochInputs } from '../epoch/inputs.ts'
import { readOnChain } from './chain.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

/**
 * A node and, per deployment, its MTStaking contract and the snapshot block. Without `contracts`, those inputs.json
 * records (`fomo inputs --rpc` writes where it read each snapshot) are checked.
 */
export type StakeSource = { client: PublicClient; contracts?: ReadonlyArray<{ deploymentId: Hex; staking: Address; block: bigint }> | undefined }

/** The snapshot sources inputs.json records, one per deployment whose stakes were read from the chain. */
export function recordedSources(inputs: EpochInputs): Array<{ deploymentId: Hex; staking: Address; block: bigint }> {
  return [...inputs.deployments].flatMap(([deploymentId, d]) => (d.snapshot ? [{ deploymentId, staking: d.snapshot.staking, block: d.snapshot.block }] : []))
}

/**
 * `config` is the epoch's config.json: the X and M every discount of the epoch was computed with, and each
 * deployment's MT, which its staking contract must stake (a contract of the aggregator's choosing that answers
 * made-up stakes would otherwise pass; until the configuration is pinned on chain, which contract is the deployment's
 * is still the configuration's word).
 */
export async function checkStakes(inputs: EpochInputs, config: Pick<AggregatorConfig, 'platform' | 'deployments'>, source: StakeSource, checks: Checks, warnings: string[]): Promise<void> {
  const contracts = source.contracts ?? recordedSources(inputs)
  if (!source.contracts)
    for (const [id, d] of inputs.deployments)
      if (!d.snapshot && (d.stakes.size > 0 || d.circulatingSupply !== undefined))
        warnings.push(`deployment ${id}: inputs.json records no stake snapshot source (stakes given from a file): give --staking and --block to check them against the chain`)
  for (const { deploymentId, staking, block } of contracts) {
    const recorded = inputs.deployments.get(deploymentId)?.snapshot
    if (recorded && (recorded.block !== block || recorded.staking !== staking.toLowerCase()))
      warnings.push(`deployment ${deploymentId}: inputs.json records the snapshot at block ${recorded.block} of ${recorded.staking}; checking block ${block} of ${staking} as asked`)
    const chain = await readOnChain(
      () => readStakeSnapshot({ public: source.client }, staking, block),
      `the stake snapshot of deployment ${deploymentId} from ${staking} at block ${block}`,
      'Check --rpc, --block (the snapshot block, strictly before the latest block) and --staking (<deploymentId>=<MTStaking address>).',
    )
    const given = inputs.deployments.get(deploymentId)
    const where = `deployment ${deploymentId}, MTStaking ${staking} at block ${block}`
    const mt = config.deployments.find((d) => d.id === deploymentId)?.mtToken
    const staked = await readOnChain(
      () => getContract({ abi: MTStaking.abi, address: staking, client: { public: source.client } }).read.token(),
      `the token staked in ${staking}`,
      'Check --rpc and the staking contract recorded in inputs.json (or given with --staking).',
    )
    if (mt === undefined || staked.toLowerCase() !== mt)
      throw new AuditDiscrepancy('stake', `${where}: staked token`, `${mt ?? 'a deployment of config.json'} (the deployment's MT in config.json)`, `${staked.toLowerCase()} (on chain)`)
    const { maxDiscountBps, discountMultiplier } = config.platform
    if (chain.maxDiscountBps !== maxDiscountBps || chain.multiplier !== discountMultiplier)
      throw new AuditDiscrepancy(
        'stake',
        `${where}: discount parameters`,
        `X = ${chain.maxDiscountBps} bps, M = ${chain.multiplier} (on chain)`,
        `X = ${maxDiscountBps} bps, M = ${discountMultiplier} (config.json)`,
      )
    if (given?.circulatingSupply !== chain.circulatingSupply)
      throw new AuditDiscrepancy('stake', `${where}: circulating supply`, `${chain.circulatingSupply} (on chain)`, `${given?.circulatingSupply ?? 'none'} (inputs.json)`)
    const accounts = [...new Set([...chain.stakes.keys(), ...(given?.stakes.keys() ?? [])])].sort()
    for (const account of accounts) {
      const onChain = chain.stakes.get(account) ?? 0n
      const listed = given?.stakes.get(account) ?? 0n
      if (onChain !== listed) throw new AuditDiscrepancy('stake', `${where}: eligible stake of ${account}`, `${onChain} (on chain)`, `${listed} (inputs.json)`)
    }
    checks.push(`stakes: ${where}: X, M, circulating supply and the eligible stakes of ${chain.stakes.size} accounts equal config.json's and inputs.json's`)
  }
}
