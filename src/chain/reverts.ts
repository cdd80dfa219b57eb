/**
 * The custom error a failed call or transaction reverted with, for the drivers that name a contract's refusal: the one
 * viem decoded, or the revert data found down the error's causes (Hardhat's in-process provider throws its own error
 * carrying the data, which viem may wrap undecoded).
 */
import { BaseError as ViemBaseError, ContractFunctionRevertedError, decodeErrorResult, type Abi, type Hex } from 'viem'

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
