/**
 * The contracts driven through viem: deploy the distributor (also the epoch registry) and staking, propose and
 * finalize epochs with their proofs, and claim cumulative rewards.
 */
import { getContract, zeroAddress, type Account, type Address, type Chain, type GetContractReturnType, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem'
import { BaseError } from '../base/errors.ts'
import { MTStaking, PoseidonT4, ReceiptBatch4Verifier, RewardDistributor, TestToken } from './contracts.generated.ts'
import { pinnedConfig, type AggregatorConfig } from '../epoch/config.ts'
import { checkArtifactsUrl } from '../epoch/artifacts.ts'
import { checkRewardDomain, claimsOf, commitmentOf, proofCalldata, type PublishedEpoch } from './publication.ts'

export type Clients = { public: PublicClient; wallet: WalletClient<Transport, Chain, Account> }

export class ChainError extends BaseError {
  override name = 'ChainError'
  constructor(message: string, hint?: string, cause?: unknown) {
    super('CHAIN', message, { metaMessages: hint ? [hint] : undefined, cause })
  }
}

/** Waits for a sent transaction; a ChainError naming `what` when it reverted. */
export async function confirmed(clients: Pick<Clients, 'public'>, hash: Hex, what: string): Promise<Hex> {
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`${what} transaction ${hash} reverted`)
  return hash
}

/** Deploys a contract from an artifact's ABI and creation bytecode; the address, or a ChainError when it fails. */
export async function deploy(clients: Clients, artifact: { abi: readonly unknown[]; bytecode: Hex }, args: readonly unknown[]): Promise<Address> {
  const hash = await clients.wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args } as never)
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new ChainError(`deployment transaction ${hash} failed`)
  return receipt.contractAddress
}

/**
 * The distributor's bytecode linked to a deployed PoseidonT4 library (poseidon-solidity, the hash stake-row
 * challenges open batch commitments with): its address is written where the compiler left each link reference.
 */
export function distributorBytecode(poseidon: Address): Hex {
  let code = RewardDistributor.bytecode as string
  const address = poseidon.slice(2).toLowerCase()
  for (const refs of Object.values(RewardDistributor.linkReferences))
    for (const list of Object.values(refs)) for (const { start, length } of list) code = `${code.slice(0, 2 + start * 2)}${address}${code.slice(2 + (start + length) * 2)}`
  if (code.includes('__$')) throw new ChainError('the distributor bytecode names a library this build does not link', 'Run `npm run contracts` and link every library in src/chain/contracts.ts.')
  return code as Hex
}

/** Deploys the PoseidonT4 library the distributor calls (once per chain; any existing deployment can be reused). */
export async function deployPoseidon(clients: Clients): Promise<Address> {
  return deploy(clients, PoseidonT4, [])
}

export const DEPLOYMENT_FORMAT = 'fomo-deployment-v1'

/**
 * How many blocks before a proposal its snapshot block may be, by default: two days of 12-second blocks, time to
 * seal, prove and publish an epoch whose snapshot is taken at its end, and no more.
 */
export const SNAPSHOT_MAX_AGE_BLOCKS = 14_400n

export type Deployment = {
  format: typeof DEPLOYMENT_FORMAT
  chainId: number
  distributor: Address
  /** The batch proof verifier the registry requires proofs from, if any. */
  verifier?: Address | undefined
  tokens?: { flock: Address; usdc: Address } | undefined
}

/** The longest timelock the registry takes (its MAX_TIMELOCK, 30 days): also the delay of its admin transfer. */
export const MAX_TIMELOCK_SECONDS = 30n * 86_400n

/**
 * The registry's constructor rules, checked before anything is deployed: non-zero admin, publisher and guardian, a
 * timelock of 1 s to 30 days, and a verifier (when given) that is a contract.
 */
export async function checkRegistryOptions(clients: Clients, options: { admin: Address; publisher: Address; guardian: Address; timelockSeconds: bigint; verifier?: Address | undefined }): Promise<void> {
  for (const role of ['admin', 'publisher', 'guardian'] as const)
    if (options[role] === zeroAddress) throw new ChainError(`the registry's ${role} is the zero address`, `Give the ${role} as a non-zero address.`)
  if (options.timelockSeconds < 1n || options.timelockSeconds > MAX_TIMELOCK_SECONDS)
    throw new ChainError(`a timelock of ${options.timelockSeconds} s is outside the registry's bounds (1 s to ${MAX_TIMELOCK_SECONDS} s, 30 days)`, 'Give --timelock between 1 and 2592000 seconds.')
  if (options.verifier && !(await clients.public.getCode({ address: options.verifier })))
    throw new ChainError(`the verifier ${options.verifier} has no code on this chain`, 'Deploy the batch verifier first (or use --test-verifier), or deploy without one.')
}

/**
 * Deploys the distributor (which is also the epoch registry), linked to a PoseidonT4 library (deployed first unless
 * given), and, for tests and demos, FLOCK and USDC test tokens.
 */
export async function deployContracts(
  clients: Clients,
  options: { admin: Address; publisher: Address; guardian: Address; timelockSeconds: bigint; testTokens?: boolean; verifier?: Address | undefined; snapshotMaxAgeBlocks?: bigint | undefined; poseidon?: Address | undefined; revenueSettlement?: Address | undefined; epochFunding?: Address | undefined },
): Promise<Deployment> {
  await checkRegistryOptions(clients, options)
  const poseidon = options.poseidon ?? (await deployPoseidon(clients))
  const distributor = await deploy(clients, { abi: RewardDistributor.abi, bytecode: distributorBytecode(poseidon) }, [options.admin, options.publisher, options.guardian, options.timelockSeconds, options.verifier ?? zeroAddress, options.snapshotMaxAgeBlocks ?? SNAPSHOT_MAX_AGE_BLOCKS, options.revenueSettlement ?? zeroAddress, options.epochFunding ?? zeroAddress])
  const tokens = options.testTokens
    ? { flock: await deploy(clients, TestToken, ['FLOCK (test)', 'FLOCK', 18]), usdc: await deploy(clients, TestToken, ['USD Coin (test)', 'USDC', 6]) }
    : undefined
  return { format: DEPLOYMENT_FORMAT, chainId: await clients.public.getChainId(), distributor, ...(options.verifier ? { verifier: options.verifier } : {}), tokens }
}

/** The generated verifier of the bundled TEST-ONLY circuit keys (fixtures/zk): for tests and demos only. */
export async function deployTestVerifier(clients: Clients): Promise<Address> {
  return deploy(clients, ReceiptBatch4Verifier, [])
}

export async function deployTestToken(clients: Clients, name: string, symbol: string, decimals: number): Promise<Address> {
  return deploy(clients, TestToken, [name, symbol, decimals])
}

/**
 * Deploys MTStaking for a Model Token with X, M and the eligibility window W in blocks (non-zero; one epoch of
 * blocks is intended): a stake counts at a snapshot block S as what was held at S - W less what was withdrawn since.
 */
export async function deployStaking(clients: Clients, mt: Address, admin: Address, maxDiscountBps: bigint, multiplier: bigint, eligibilityWindow: bigint): Promise<Address> {
  return deploy(clients, MTStaking, [mt, admin, maxDiscountBps, multiplier, eligibilityWindow])
}

/**
 * Schedules a configuration on the registry (admin role): pinned at once when it is the first, else after the
 * registry's timelock (`activateConfig`). Every deployment must name its staking contract.
 */
export async function pinConfig(clients: Clients, address: Address, config: AggregatorConfig): Promise<{ hash: Hex; readyAt: bigint }> {
  const pinned = pinnedConfig(config)
  const d = distributorAt(clients, address)
  const tx = await d.write.scheduleConfig([pinned.hash, pinned.rewardParams, pinned.deploymentIds, pinned.stakings, pinned.keyDeploymentIds, pinned.keyIds, pinned.keyAccounts])
  const receipt = await clients.public.waitForTransactionReceipt({ hash: tx })
  if (receipt.status !== 'success') throw new ChainError(`scheduleConfig transaction ${tx} reverted`)
  const current = await d.read.configHash()
  return { hash: pinned.hash, readyAt: current === pinned.hash ? 0n : await d.read.scheduledConfigReadyAt() }
}

// Typed explicitly: the inferred type is too long for a declaration file (TS7056).
export function distributorAt(clients: Clients, address: Address): GetContractReturnType<typeof RewardDistributor.abi, Clients> {
  return getContract({ abi: RewardDistributor.abi, address, client: { public: clients.public, wallet: clients.wallet } })
}

/**
 * Proposes a sealed epoch's commitment; it becomes final after the timelock. A registry made with a batch verifier
 * takes the epoch's proofs (proofs.json) with the proposal and checks them. `artifacts` is the URL the sealed
 * directory is served at, logged with the proposal for watchers (src/epoch/artifacts.ts).
 */
export async function proposeEpoch(clients: Clients, address: Address, epoch: PublishedEpoch, options: { artifacts?: string | undefined } = {}): Promise<{ hash: Hex; readyAt: bigint }> {
  const artifacts = checkArtifactsUrl(options.artifacts ?? '')
  const d = distributorAt(clients, address)
  const chainId = await clients.public.getChainId()
  checkRewardDomain(epoch, chainId, address)
  const commitment = commitmentOf(epoch, chainId, address)
  const pinned = await d.read.configHash()
  if (pinned !== epoch.configHash)
    throw new ChainError(
      /^0x0{64}$/.test(pinned)
        ? `the registry ${address} has no pinned configuration`
        : `epoch ${epoch.epoch} was sealed with configuration ${epoch.configHash}; the registry ${address} pins ${pinned}`,
      'The registry admin pins config.json with `fomo pin --config` (a change waits for the timelock); seal the epoch with the pinned configuration.',
    )
  if (epoch.snapshotBlock === null)
    throw new ChainError(`epoch ${epoch.epoch}'s inputs.json records no stake snapshot block`, 'Read the stakes from the chain with `fomo inputs --rpc <url> --block <n>` before sealing: the registry checks stakes there.')
  const requiresProofs = (await d.read.verifier()) !== zeroAddress
  if (requiresProofs && !epoch.proofs)
    throw new ChainError(`the registry ${address} requires batch proofs and epoch ${epoch.epoch} has none`, 'Run `fomo prove <epoch-dir>` first.')
  if (requiresProofs) await submitProofs(clients, address, epoch)
  const hash = await d.write.propose([BigInt(epoch.epoch), commitment, artifacts])
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`propose transaction ${hash} reverted`)
  return { hash, readyAt: await d.read.pendingReadyAt() }
}

/** Proofs per submission transaction: about 250,000 gas each to verify, so a chunk stays far below a block. */
export const PROOFS_PER_TRANSACTION = 20

/** Submits an epoch's batch proofs in chunks, after forgetting any partial earlier submission. */
async function submitProofs(clients: Clients, address: Address, epoch: PublishedEpoch): Promise<void> {
  const d = distributorAt(clients, address)
  const wait = (hash: Hex, what: string) => confirmed(clients, hash, what)
  const [, , , batches] = await d.read.provenOf([BigInt(epoch.epoch)])
  if (batches !== 0n) await wait(await d.write.resetProofs([BigInt(epoch.epoch)]), 'resetProofs')
  const calldata = epoch.proofs!.batches.map((b) => proofCalldata(b.proof))
  for (let i = 0; i < calldata.length; i += PROOFS_PER_TRANSACTION) await wait(await d.write.submitProofs([BigInt(epoch.epoch), calldata.slice(i, i + PROOFS_PER_TRANSACTION)]), 'submitProofs')
}

export async function finalizeEpoch(clients: Clients, address: Address, epoch: number): Promise<Hex> {
  const hash = await distributorAt(clients, address).write.finalize([BigInt(epoch)])
  await clients.public.waitForTransactionReceipt({ hash })
  return hash
}

/** What an account can claim now, per token. */
export async function claimable(clients: Clients, address: Address, epoch: PublishedEpoch, account: Address) {
  const d = distributorAt(clients, address)
  return Promise.all(claimsOf(epoch.rewardTree, account).map(async (c) => ({ token: c.token, cumulative: c.cumulative, claimable: await d.read.claimable([c.account, c.token, c.cumulative, c.proof]) })))
}

/** Claims every token of an account in one transaction (tokens with nothing new are skipped). */
export async function claimAll(clients: Clients, address: Address, epoch: PublishedEpoch, account: Address): Promise<{ hash: Hex; gasUsed: bigint } | undefined> {
  const claims = claimsOf(epoch.rewardTree, account)
  if (claims.length === 0) return undefined
  const hash = await distributorAt(clients, address).write.claimMany([claims])
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new ChainError(`claim transaction ${hash} reverted`)
  return { hash, gasUsed: receipt.gasUsed }
}
