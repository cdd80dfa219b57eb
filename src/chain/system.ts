/**
 * The whole on-chain system in one call: the distributor (also the epoch registry) with, optionally, the revenue
 * settlement its epochs must be paid to and the epoch funding that moves each epoch's emission and vesting releases
 * into it. The settlement is built before the distributor (it names the distributor's address to come) and the
 * funding contract is bound to it after.
 */
import type { Address } from 'viem'
import { ChainError, checkRegistryOptions, deployContracts, deployPoseidon, deployTestToken, type Clients, type Deployment } from './contracts.ts'
import { bindDistributor, deployEpochFunding } from './funding.ts'
import { deploySettlement, nextContractAddress } from './settlement.ts'

export type SystemOptions = {
  admin: Address
  publisher: Address
  guardian: Address
  timelockSeconds: bigint
  verifier?: Address | undefined
  snapshotMaxAgeBlocks?: bigint | undefined
  /** FLOCK and USDC: existing tokens, or mintable test tokens deployed first. */
  tokens: { flock: Address; usdc: Address } | 'test'
  /** The revenue settlement to deploy with it (its buybacks swap through `router`). */
  settlement?: { router: Address; treasury: Address; maxOpexBps?: bigint | undefined } | undefined
  /** The epoch funding to deploy with it. */
  funding?: { epochSeconds: bigint; dailyEmission: bigint; treasury: Address } | undefined
}

export type SystemDeployment = Deployment & { tokens: { flock: Address; usdc: Address }; revenueSettlement?: Address | undefined; epochFunding?: Address | undefined }

/** Deploys the distributor with its settlement and funding contracts, wired to each other. */
export async function deploySystem(clients: Clients, options: SystemOptions): Promise<SystemDeployment> {
  // Refused before any contract of the system is deployed.
  await checkRegistryOptions(clients, options)
  const tokens =
    options.tokens === 'test'
      ? { flock: await deployTestToken(clients, 'FLOCK (test)', 'FLOCK', 18), usdc: await deployTestToken(clients, 'USD Coin (test)', 'USDC', 6) }
      : options.tokens
  const poseidon = await deployPoseidon(clients)
  const epochFunding = options.funding
    ? await deployEpochFunding(clients, { admin: options.admin, flock: tokens.flock, epochSeconds: options.funding.epochSeconds, dailyEmission: options.funding.dailyEmission, treasury: options.funding.treasury })
    : undefined
  // The distributor is the sender's next contract after the settlement: the settlement names that address.
  const predicted = options.settlement ? await nextContractAddress(clients, 1n) : undefined
  const revenueSettlement = options.settlement
    ? await deploySettlement(clients, { usdc: tokens.usdc, flock: tokens.flock, router: options.settlement.router, treasury: options.settlement.treasury, distributor: predicted!, admin: options.admin, maxOpexBps: options.settlement.maxOpexBps })
    : undefined
  const deployment = await deployContracts(clients, { ...options, poseidon, revenueSettlement, epochFunding })
  if (predicted !== undefined && predicted.toLowerCase() !== deployment.distributor.toLowerCase())
    throw new ChainError(`the distributor was deployed at ${deployment.distributor}, not at ${predicted} where the settlement expects it`, 'Deploy from an account no other process sends transactions from at the same time.')
  if (epochFunding) await bindDistributor(clients, epochFunding, deployment.distributor)
  return { ...deployment, tokens, ...(revenueSettlement ? { revenueSettlement } : {}), ...(epochFunding ? { epochFunding } : {}) }
}
