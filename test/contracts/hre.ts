/** Hardhat's runtime (in-process EDR EVM, viem clients) for the contract tests, with the project's config. */
import type {} from '@nomicfoundation/hardhat-viem'
import { fileURLToPath } from 'node:url'
import { getAddress, getContract, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem'

process.env.HARDHAT_CONFIG = fileURLToPath(new URL('../../contracts/hardhat.config.cjs', import.meta.url))

export async function hardhat() {
  const hre = (await import('hardhat')).default
  await hre.run('compile', { quiet: true })
  return hre
}

/** A compiled contract: what `deploy` takes. */
export type Artifact = { abi: Abi; bytecode: Hex }

/**
 * Deploying and calling on a node's accounts: `deploy` sends from the first account (the instance typed by the
 * artifact's ABI), `as` gives the same contract sending from another account.
 */
export function contractsOn(wallets: readonly WalletClient<Transport, Chain, Account>[], publicClient: PublicClient) {
  async function deploy<const A extends Artifact>(artifact: A, args: readonly unknown[]) {
    const hash = await wallets[0]!.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args, account: wallets[0]!.account!, chain: wallets[0]!.chain } as never)
    const { contractAddress } = await publicClient.waitForTransactionReceipt({ hash })
    return getContract({ abi: artifact.abi as A['abi'], address: contractAddress!, client: { public: publicClient, wallet: wallets[0]! } })
  }
  function as<C extends { address: Address; abi: Abi }>(contract: C, from: Address): C {
    const wallet = wallets.find((w) => getAddress(w.account!.address) === from)!
    return getContract({ abi: contract.abi, address: contract.address, client: { public: publicClient, wallet } }) as unknown as C
  }
  return { deploy, as }
}
