/**
 * Transactions of the drivers that name a contract's refusal: each call simulated first (so a refusal is decoded
 * before anything is sent), sent and awaited; an allowance approved only when short; and the custom error a failed
 * call or transaction reverted with: the one viem decoded, or the revert data found down the error's causes (Hardhat's
 * in-process provider throws its own error carrying the data, which viem may wrap undecoded).
 */
import { BaseError as ViemBaseError, ContractFunctionRevertedError, decodeErrorResult, erc20Abi, type Abi, type Address, type Hex, type TransactionReceipt } from 'viem'
import type { Clients } from './contracts.ts'

export type ContractCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }

/** How a driver words its failures: a refusal (`refused(what, error)`) and a mined transaction that reverted. */
export type Refusals = { refused: (what: string, error: unknown) => Error; reverted: (message: string) => Error }

/** Simulates `call`, sends it and waits for its receipt; a refusal or a reverted transaction throws as `refusals` word it. */
export async function simulateAndSend(clients: Clients, what: string, call: ContractCall, refusals: Refusals): Promise<TransactionReceipt> {
  let hash: Hex
  try {
    const { request } = await clients.public.simulateContract({ ...call, account: clients.wallet.account } as never)
    hash = await clients.wallet.writeContract(request as never)
  } catch (error) {
    throw refusals.refused(what, error)
  }
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw refusals.reverted(`${what} transaction ${hash} reverted`)
  return receipt
}

/** Approves `spender` for `amount` of `token` unless the sender's allowance already covers it. */
export async function ensureAllowance(clients: Clients, token: Address, spender: Address, amount: bigint, refusals: Refusals): Promise<void> {
  if (amount === 0n) return
  const owner = clients.wallet.account.address
  const allowance = await clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [owner, spender] })
  if (allowance >= amount) return
  await simulateAndSend(clients, `approve ${spender} for ${amount} of ${token}`, { address: token, abi: erc20Abi, functionName: 'approve', args: [spender, amount] }, refusals)
}

export function decodeRevert(error: unknown, errors: Abi): { errorName: string; args: readonly unknown[] } | undefined {
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] }
  }
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    const data = (e as { data?: unknown }).data
    const hex = typeof data === 'string' ? data : typeof (data as { data?: unknown } | undefined)?.data === 'string' ? (data as { data: string }).data : undefined
    if (hex?.startsWith('0x') && hex.length >= 10)
      try {
        const decoded = decodeErrorResult({ abi: errors, data: hex as Hex })
        return { errorName: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[] }
      } catch {
        // Not one of these errors (a router's Error(string) is read elsewhere): keep looking down the chain.
      }
  }
  return undefined
}
