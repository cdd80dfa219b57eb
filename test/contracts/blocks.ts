/**
 * Helpers of the launch and economy contract tests: a revert named by its custom error, several calls mined into one
 * block in the order sent, and the address a factory's next sale is created at.
 */
import { expect } from 'vitest'
import { getContractAddress, type Address, type Hex, type PublicClient, type TransactionReceipt } from 'viem'
import { revertedWith } from '../../src/chain/launch.ts'
import { settlementRevert } from '../../src/chain/settlement.ts'

const GWEI = 10n ** 9n

/** Expects a call or transaction to revert with the named custom error (and arguments, when given). */
export async function expectRevert(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, `expected a revert with ${errorName}`).toBeDefined()
  const reverted = revertedWith(error) ?? settlementRevert(error)
  expect(reverted?.errorName, String(error)).toBe(errorName)
  if (args) expect(reverted?.args).toEqual(args)
}

export type GasOptions = { gas: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }

/**
 * Sends `calls` into one block mined at `timestamp` and returns their receipts, in order: automine off, each call
 * with a fixed gas limit (no estimate against a state that is not there yet) and a tip one wei below the previous
 * one, so the block orders them as sent.
 */
export async function inOneBlock(client: PublicClient, timestamp: bigint, calls: Array<(gas: GasOptions) => Promise<Hex>>): Promise<TransactionReceipt[]> {
  const rpc = (method: string, params: unknown[] = []) => client.request({ method, params } as never) as Promise<unknown>
  await rpc('evm_setAutomine', [false])
  const hashes: Hex[] = []
  try {
    for (const [i, call] of calls.entries()) hashes.push(await call({ gas: 6_000_000n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: GWEI + BigInt(calls.length - i) }))
    await rpc('evm_mine', [Number(timestamp)])
  } finally {
    await rpc('evm_setAutomine', [true])
  }
  const receipts = await Promise.all(hashes.map((hash) => client.getTransactionReceipt({ hash })))
  for (const [i, r] of receipts.entries()) {
    expect(r.status, `call ${i} of the block at ${timestamp}`).toBe('success')
    expect([r.blockNumber, r.transactionIndex]).toEqual([receipts[0]!.blockNumber, i])
  }
  return receipts
}

/** The address the factory's next launch deploys its sale at (its CREATE nonce), so buyers can approve it first. */
export async function nextSale(client: PublicClient, factory: Address): Promise<Address> {
  return getContractAddress({ from: factory, nonce: BigInt(await client.getTransactionCount({ address: factory })) })
}
