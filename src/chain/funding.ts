/**
 * Epoch funding (EpochFunding.sol): the FLOCK emission reserve and each graduated deployment's vesting streams (its
 * staking fund in FLOCK, its incentive reserve in MT), released into the distributor as it finalizes each epoch,
 * exactly as sealing computes them (src/economics: `epochEmission`, `epochRelease`).
 */
import { erc20Abi, getContract, type Address, type GetContractReturnType, type Hex } from 'viem'
import { epochEmission } from '../economics/emissions.ts'
import { epochRelease } from '../economics/supply.ts'
import { EpochFunding } from './contracts.generated.ts'
import { ChainError, confirmed, deploy, type Clients } from './contracts.ts'

/** What a stream releases: 0 the staking fund (FLOCK), 1 the incentive reserve (the deployment's MT). */
export const STREAM_KIND = { stakingFund: 0, incentiveReserve: 1 } as const
export type StreamKind = keyof typeof STREAM_KIND

/** Deploys the funding contract; `admin` also holds STREAM_ROLE. The distributor is bound after it is deployed. */
export async function deployEpochFunding(clients: Clients, options: { admin: Address; flock: Address; epochSeconds: bigint; dailyEmission: bigint; treasury: Address }): Promise<Address> {
  return deploy(clients, EpochFunding, [options.admin, options.flock, options.epochSeconds, options.dailyEmission, options.treasury])
}

// Typed explicitly: inferred, its declaration spells out the whole client type (1.5 MB of dist/chain/funding.d.ts).
export function epochFundingAt(clients: Clients, address: Address): GetContractReturnType<typeof EpochFunding.abi, Clients> {
  return getContract({ abi: EpochFunding.abi, address, client: { public: clients.public, wallet: clients.wallet } })
}


/** Sends the stream releases of an epoch that can never be finalized (a later one is final) to the treasury. */
export async function sweepSkipped(clients: Clients, funding: Address, epoch: bigint): Promise<Hex> {
  return confirmed(clients, await epochFundingAt(clients, funding).write.sweepSkipped([epoch]), 'sweepSkipped')
}

/** Binds the distributor the releases go to (once, admin; a distributor built with this funding contract). */
export async function bindDistributor(clients: Clients, funding: Address, distributor: Address): Promise<Hex> {
  const f = epochFundingAt(clients, funding)
  const bound = await f.read.distributor()
  if (bound.toLowerCase() === distributor.toLowerCase()) throw new ChainError(`the funding contract ${funding} is already bound to ${distributor}`)
  if (!/^0x0{40}$/.test(bound)) throw new ChainError(`the funding contract ${funding} is bound to another distributor, ${bound}`, 'A funding contract serves one distributor: deploy another one.')
  return confirmed(clients, await f.write.bindDistributor([distributor]), 'bindDistributor')
}

/**
 * Grants STREAM_ROLE to `account` (the funding's admin sends it): the launch factory's graduator needs it to add each
 * graduating sale's streams (`graduatorOf` in src/chain/launch.ts). Nothing is sent when the account holds it already.
 *
 * @example
 * await grantStreamRole(adminClients, funding, await graduatorOf(clients.public, factory))
 */
export async function grantStreamRole(clients: Clients, funding: Address, account: Address): Promise<Hex | undefined> {
  const f = epochFundingAt(clients, funding)
  const role = await f.read.STREAM_ROLE()
  if (await f.read.hasRole([role, account])) return undefined
  const admin = clients.wallet.account.address
  if (!(await f.read.hasRole([await f.read.DEFAULT_ADMIN_ROLE(), admin])))
    throw new ChainError(`${admin} is not an admin of the funding contract ${funding}`, 'Send the grant from the account that deployed it (its admin).')
  return confirmed(clients, await f.write.grantRole([role, account]), 'grantRole(STREAM_ROLE)')
}

/** Adds a deployment's vesting stream, approving and paying in its whole amount from the sender (STREAM_ROLE). */
export async function addStream(clients: Clients, funding: Address, stream: { deploymentId: Hex; kind: StreamKind; token: Address; total: bigint; startEpoch: bigint }): Promise<Hex> {
  const token = getContract({ abi: erc20Abi, address: stream.token, client: { public: clients.public, wallet: clients.wallet } })
  const owner = clients.wallet.account.address
  const balance = await token.read.balanceOf([owner])
  if (balance < stream.total) throw new ChainError(`${owner} holds ${balance} of ${stream.token}, less than the stream's ${stream.total}`)
  await confirmed(clients, await token.write.approve([funding, stream.total]), 'approve')
  const f = epochFundingAt(clients, funding)
  return confirmed(clients, await f.write.addStream([stream.deploymentId, STREAM_KIND[stream.kind], stream.token, stream.total, stream.startEpoch]), 'addStream')
}

/** One epoch's funding as sealing computes it: the emission, and each stream's release, in stream order. */
export function expectedFunding(
  epoch: bigint,
  epochSeconds: bigint,
  dailyEmission: bigint,
  streams: ReadonlyArray<{ total: bigint; startEpoch: bigint }>,
): { emission: bigint; streamed: bigint[] } {
  return { emission: epochEmission(dailyEmission, epochSeconds), streamed: streams.map((s) => epochRelease(s.total, s.startEpoch, epoch, epochSeconds)) }
}
