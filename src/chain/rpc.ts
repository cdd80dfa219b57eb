/**
 * Clients for a JSON-RPC node and a signing key, for the chain commands.
 */
import { createPublicClient, createWalletClient, defineChain, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ChainError, type Clients } from './contracts.ts'

/** Clients for a JSON-RPC node; the chain id is read from the node. */
export async function rpcClients(url: string, privateKey: Hex): Promise<Clients> {
  const transport = http(url, { retryCount: 2 })
  let chainId: number
  try {
    chainId = await createPublicClient({ transport }).getChainId()
  } catch (error) {
    throw new ChainError(`cannot reach the node at ${url}`, 'Check --rpc: a JSON-RPC URL such as http://127.0.0.1:8545.', error)
  }
  const chain = defineChain({ id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [url] } } })
  return {
    public: createPublicClient({ chain, transport }) as never,
    wallet: createWalletClient({ chain, transport, account: privateKeyToAccount(privateKey) }),
  }
}
