/**
 * The audit's stakes check: inputs.json's stake snapshot (circulating supply and every stake) against each
 * deployment's MTStaking contract at the snapshot block.
 */
import type { Address, PublicClient } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import type { EpochInputs } from '../epoch/inputs.ts'
import { readOnChain } from './chain.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

/** A node, the snapshot block and each deployment's MTStaking contract. */
export type StakeSource = { client: PublicClient; block: bigint; contracts: ReadonlyArray<{ deploymentId: Hex; staking: Address }> }

export async function checkStakes(inputs: EpochInputs, source: StakeSource, checks: Checks): Promise<void> {
  for (const { deploymentId, staking } of source.contracts) {
    const chain = await readOnChain(
      () => readStakeSnapshot({ public: source.client }, staking, source.block),
      `the stake snapshot of deployment ${deploymentId} from ${staking} at block ${source.block}`,
      'Check --rpc, --block (the snapshot block) and --staking (<deploymentId>=<MTStaking address>).',
    )
    const given = inputs.deployments.get(deploymentId)
    const where = `deployment ${deploymentId}, MTStaking ${staking} at block ${source.block}`
    if (given?.circulatingSupply !== chain.circulatingSupply)
      throw new AuditDiscrepancy('stake', `${where}: circulating supply`, `${chain.circulatingSupply} (on chain)`, `${given?.circulatingSupply ?? 'none'} (inputs.json)`)
    const accounts = [...new Set([...chain.stakes.keys(), ...(given?.stakes.keys() ?? [])])].sort()
    for (const account of accounts) {
      const onChain = chain.stakes.get(account) ?? 0n
      const listed = given?.stakes.get(account) ?? 0n
      if (onChain !== listed) throw new AuditDiscrepancy('stake', `${where}: stake of ${account}`, `${onChain} (on chain)`, `${listed} (inputs.json)`)
    }
    checks.push(`stakes: ${where}: circulating supply and the stakes of ${chain.stakes.size} accounts equal inputs.json's`)
  }
}
