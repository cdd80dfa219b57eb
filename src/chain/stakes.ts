/**
 * Staking a deployment's Model Token (`stakeMt`, `unstakeMt`), and its stake snapshot read from its MTStaking contract
 * at a block:
 * every account that ever staked (from the Staked events up to the block),
 * its eligible stake at the block (what it held when the contract's
 * eligibility window ending there began, less what it withdrew within it), the circulating supply there, and the
 * discount parameters X and M in force there. The block must be strictly past
 * (the contract refuses a read at the current block).
 */
import { erc20Abi, getContract, parseAbiItem, type Address } from 'viem'
import type { Hex } from '../base/bytes.ts'
import { MTStaking } from './contracts.generated.ts'
import { ChainError, confirmed, type Clients } from './contracts.ts'

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


/** Stakes `amount` MT from the sender (approving the staking contract first); returns its stake afterwards. */
export async function stakeMt(clients: Clients, staking: Address, amount: bigint): Promise<{ hash: Hex; stake: bigint }> {
  if (amount <= 0n) throw new ChainError(`a stake must be a positive amount of MT, got ${amount}`)
  const s = getContract({ abi: MTStaking.abi, address: staking, client: { public: clients.public, wallet: clients.wallet } })
  const token = await s.read.token()
  const me = clients.wallet.account.address
  const balance = await clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [me] })
  if (balance < amount) throw new ChainError(`${me} holds ${balance} of MT ${token}, less than the ${amount} to stake`, 'Buy or claim the MT first (fomo buy; after graduation, the sale pays out what was bought).')
  await confirmed(clients, await clients.wallet.writeContract({ address: token, abi: erc20Abi, functionName: 'approve', args: [staking, amount] }), 'approve')
  const hash = await confirmed(clients, await s.write.stake([amount]), 'stake')
  return { hash, stake: await s.read.stakeOf([me]) }
}

/** Unstakes `amount` MT to the sender; returns its stake afterwards. */
export async function unstakeMt(clients: Clients, staking: Address, amount: bigint): Promise<{ hash: Hex; stake: bigint }> {
  const s = getContract({ abi: MTStaking.abi, address: staking, client: { public: clients.public, wallet: clients.wallet } })
  const me = clients.wallet.account.address
  const staked = await s.read.stakeOf([me])
  if (amount <= 0n || amount > staked) throw new ChainError(`${me} has ${staked} MT staked on ${staking}: cannot unstake ${amount}`, 'Unstake a positive amount, at most the stake.')
  const hash = await confirmed(clients, await s.write.unstake([amount]), 'unstake')
  return { hash, stake: await s.read.stakeOf([me]) }
}
