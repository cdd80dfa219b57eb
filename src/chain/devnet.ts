/**
 * An in-process EVM (Hardhat's EDR) for the demo and tests: no node to run,
 * funded unlocked accounts, and time travel to wait out timelocks.
 */
import { fileURLToPath } from 'node:url'
import { createPublicClient, createWalletClient, custom, getAddress, type Address } from 'viem'
import { hardhat as hardhatChain } from 'viem/chains'
import { ChainError, type Clients } from './contracts.ts'

export type Devnet = {
  clients: Clients
  accounts: Address[]
  increaseTime(seconds: number): Promise<void>
  mine(blocks: number): Promise<void>
  clientsFor(account: Address): Clients
  /** Clients sending as any address (impersonated and given gas money): users of a demo or a test. */
  actAs(account: Address): Promise<Clients>
}

export async function startDevnet(): Promise<Devnet> {
  process.env.HARDHAT_CONFIG ??= fileURLToPath(new URL('../../contracts/hardhat.config.cjs', import.meta.url))
  let hre
  try {
    hre = (await import('hardhat')).default
  } catch (error) {
    throw new ChainError('the in-process EVM (Hardhat) is not installed', 'Install the development dependencies (npm ci) or use --rpc with a node.', error)
  }
  const provider = hre.network.provider
  // No retries: a revert is final, and retrying it only slows every refused call.
  const transport = custom({ request: (args: { method: string; params?: unknown }) => provider.request(args as never) }, { retryCount: 0 })
  const accounts = ((await provider.request({ method: 'eth_accounts' })) as string[]).map((a) => getAddress(a))
  const publicClient = createPublicClient({ chain: hardhatChain, transport })
  const clientsFor = (account: Address): Clients => ({ public: publicClient as never, wallet: createWalletClient({ chain: hardhatChain, transport, account }) as never })
  return {
    clients: clientsFor(accounts[0]!),
    accounts,
    clientsFor,
    async mine(blocks) {
      await provider.request({ method: 'hardhat_mine', params: [`0x${blocks.toString(16)}`] })
    },
    async actAs(account) {
      await provider.request({ method: 'hardhat_impersonateAccount', params: [account] })
      await provider.request({ method: 'hardhat_setBalance', params: [account, '0x56bc75e2d63100000'] })
      return clientsFor(getAddress(account))
    },
    async increaseTime(seconds) {
      await provider.request({ method: 'evm_increaseTime', params: [seconds] })
      await provider.request({ method: 'evm_mine', params: [] })
    },
  }
}
