/**
 * A deployment's stake snapshot read from its MTStaking contract at a block:
 * every account that ever staked (from the Staked events up to the block),
 * its eligible stake at the block (what it held when the contract's
 * eligibility window ending there began, less what it withdrew within it), the circulating supply there, and the
 * discount parameters X and M in force there. The block must be strictly past
 * (the contract refuses a read at the current block).
 */
import { getContract, parseAbiItem, type Address } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { MTStaking } from './contracts.generated.ts'
import type { Clients } from './contracts.ts'

export type StakeSnapshot = {
  circulatingSupply: bigint
  /** Eligible stakes by lower-case account; accounts with none are omitted. */
  stakes: Map<Hex, bigint>
  /** X, in bps, at the snapshot block. */
  maxDiscountBps: bigint
  /** M at the snapshot block. */
  multiplier: bigint
}

export async function readStakeSnapshot(clients: Pick<Clients, 'public'>, staking: Address, blockNumber: bigint): Promise<StakeSnapshot> {
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
    const stake = await contract.read.eligibleStakeAt([account, blockNumber])
    if (stake > 0n) stakes.set(account, stake)
  }
  return {
    circulatingSupply: await contract.read.circulatingSupplyAt([blockNumber]),
    stakes,
    maxDiscountBps: await contract.read.maxDiscountBpsAt([blockNumber]),
    multiplier: await contract.read.multiplierAt([blockNumber]),
  }
}
