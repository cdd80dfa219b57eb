/**
 * A deployment's stake snapshot read from its MTStaking contract at a block:
 * every account that ever staked (from the Staked events up to the block),
 * its checkpointed stake at the block, and the circulating supply there.
 */
import { getContract, parseAbiItem, type Address } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { MTStaking } from './contracts.generated.ts'
import type { Clients } from './contracts.ts'

export async function readStakeSnapshot(clients: Pick<Clients, 'public'>, staking: Address, blockNumber: bigint): Promise<{ circulatingSupply: bigint; stakes: Map<Hex, bigint> }> {
  const contract = getContract({ abi: MTStaking.abi, address: staking, client: { public: clients.public } })
  const logs = await clients.public.getLogs({
    address: staking,
    event: parseAbiItem('event Staked(address indexed account, uint256 amount, uint256 stake)'),
    fromBlock: 0n,
    toBlock: blockNumber,
  })
  const accounts = [...new Set(logs.map((l) => (l.args.account as Address).toLowerCase() as Hex))].sort()
  const stakes = new Map<Hex, bigint>()
  for (const account of accounts) {
    const stake = await contract.read.stakeAt([account, blockNumber])
    if (stake > 0n) stakes.set(account, stake)
  }
  return { circulatingSupply: await contract.read.circulatingSupplyAt([blockNumber]), stakes }
}
