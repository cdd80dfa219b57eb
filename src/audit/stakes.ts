/**
 * The audit's stakes check: inputs.json's stake snapshot (circulating supply and every eligible stake) against each
 * deployment's MTStaking contract at the snapshot block, and the contract's discount parameters X and M there against
 * those config.json sealed the epoch with.
 */
import type { Address, PublicClient } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochInputs } from '../epoch/inputs.ts'
import { readOnChain } from './chain.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

/** A node, the snapshot block and each deployment's MTStaking contract. */
export type StakeSource = { client: PublicClient; block: bigint; contracts: ReadonlyArray<{ deploymentId: Hex; staking: Address }> }

/** `config` is the epoch's config.json: the X and M every discount of the epoch was computed with. */
export async function checkStakes(inputs: EpochInputs, config: Pick<AggregatorConfig, 'platform'>, source: StakeSource, checks: Checks): Promise<void> {
  for (const { deploymentId, staking } of source.contracts) {
    const chain = await readOnChain(
      () => readStakeSnapshot({ public: source.client }, staking, source.block),
      `the stake snapshot of deployment ${deploymentId} from ${staking} at block ${source.block}`,
      'Check --rpc, --block (the snapshot block, strictly before the latest block) and --staking (<deploymentId>=<MTStaking address>).',
    )
    const given = inputs.deployments.get(deploymentId)
    const where = `deployment ${deploymentId}, MTStaking ${staking} at block ${source.block}`
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
