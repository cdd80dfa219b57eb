/**
 * The chain commands: deploy the distributor, publish a sealed epoch, claim rewards.
 */
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { getAddress, isAddress, type Address } from 'viem'
import { ChainError, claimable, claimAll, deployContracts, deployTestVerifier, distributorAt, finalizeEpoch, pinConfig, proposeEpoch } from '../../chain/contracts.ts'
import { readConfig } from '../../epoch/config.ts'
import { checkNewOutput, readJsonFile, writeOutput } from '../files.ts'
import { readPublishedEpoch } from '../../chain/publication.ts'
import { rpcClients } from '../../chain/rpc.ts'
import { deploySystem } from '../../chain/system.ts'
import { claimFromList } from '../../chain/judge.ts'
import { DECIMALS } from '../../base/units.ts'
import { InputError } from '../../base/errors.ts'
import { parseTokens, requireString, UsageError, type Command, type Io, type OptionSpec } from '../command.ts'
import { loadPrivateKey } from '../keys.ts'

// Chain commands take keys from a file or FOMO_PRIVATE_KEY only: a key in an argument ends up in shell history and process lists.
export const chainOptions: Record<string, OptionSpec> = {
  rpc: { type: 'string', valueName: 'url', description: 'JSON-RPC URL of the node, e.g. http://127.0.0.1:8545' },
  'key-file': { type: 'string', valueName: 'file', description: 'Key file (fomo-key-v1 or hex); default: the FOMO_PRIVATE_KEY environment variable' },
}

export async function clients(values: Record<string, unknown>, io: Io, command: string) {
  const key = await loadPrivateKey({ 'key-file': values['key-file'] }, io, command, { keyOption: false })
  return rpcClients(requireString(values, 'rpc', command), key)
}

export function address(values: Record<string, unknown>, name: string, command: string): Address {
  const v = requireString(values, name, command)
  if (!isAddress(v)) throw new UsageError(`--${name} must be an address (0x and 40 hex digits)`, command)
  return getAddress(v)
}

export const json = (value: unknown) => `${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`

export const deployCommand: Command = {
  name: 'deploy',
  summary:
    'Deploys the reward distributor (which is also the epoch registry) to a node; with --test-tokens also FLOCK and USDC test tokens; with --verifier or --test-verifier a registry that takes epochs only with valid batch proofs; with --router a revenue settlement every epoch must be paid to before it is final; with --daily-emission an epoch funding contract that moves each epoch\'s emission and vesting releases into the distributor as it is finalized. Prints the deployment (format fomo-deployment-v1).',
  options: {
    ...chainOptions,
    timelock: { type: 'string', valueName: 'seconds', description: 'How long a proposed epoch stays revocable (default 86400)' },
    'snapshot-max-age': { type: 'string', valueName: 'blocks', description: 'How many blocks before a proposal its stake snapshot block may be (default 14400)' },
    publisher: { type: 'string', valueName: 'address', description: 'The aggregator account allowed to propose epochs (default: the deployer)' },
    guardian: { type: 'string', valueName: 'address', description: 'The account allowed to revoke a pending epoch (default: the deployer)' },
    'test-tokens': { type: 'boolean', description: 'Also deploy mintable FLOCK and USDC test tokens' },
    flock: { type: 'string', valueName: 'address', description: 'The FLOCK token (with --router or --daily-emission, unless --test-tokens)' },
    usdc: { type: 'string', valueName: 'address', description: 'The USDC token (with --router or --daily-emission, unless --test-tokens)' },
    verifier: { type: 'string', valueName: 'address', description: 'A batch proof verifier: every epoch must then be published with its proofs (fomo prove)' },
    'test-verifier': { type: 'boolean', description: 'Deploy the verifier of the bundled TEST-ONLY 4-receipt circuit keys and require proofs (tests and demos only)' },
    router: { type: 'string', valueName: 'address', description: 'A Uniswap v2 router: also deploy the revenue settlement, whose buybacks swap through it' },
    treasury: { type: 'string', valueName: 'address', description: 'The protocol treasury (settlement and funding; default: the deployer)' },
    'max-opex-bps': { type: 'string', valueName: 'bps', description: 'The settlement\'s OpEx cap, in bps of the charged revenue (default 0)' },
    'daily-emission': { type: 'string', valueName: 'flock', description: 'FLOCK emitted per day: also deploy the epoch funding contract' },
    'epoch-seconds': { type: 'string', valueName: 'seconds', description: 'Seconds per epoch, as config.json (default 86400)' },
    out: { type: 'string', valueName: 'deployment.json', description: 'Also write the deployment to this file; an existing file is kept unless --force' },
    force: { type: 'boolean', description: 'Replace an existing --out file' },
  },
  examples: [
    'FOMO_PRIVATE_KEY=0x... fomo deploy --rpc http://127.0.0.1:8545 --timelock 3600 --out deployment.json',
    'fomo deploy --rpc ... --flock 0x... --usdc 0x... --router 0x... --treasury 0x... --max-opex-bps 6000 --daily-emission 20000',
  ],
  async run({ values }, io) {
    // An existing --out is refused before anything is deployed.
    const output = typeof values.out === 'string' ? { path: resolve(io.cwd, values.out), command: 'deploy', what: 'the deployment file', force: Boolean(values.force) } : undefined
    if (output) await checkNewOutput(output.path, output)
    const whole = (name: string, pattern: RegExp, what: string) => {
      const v = values[name]
      if (v === undefined) return undefined
      if (typeof v !== 'string' || !pattern.test(v)) throw new UsageError(`--${name} must be ${what}`, 'deploy')
      return v
    }
    const timelock = whole('timelock', /^[0-9]+$/, 'a number of seconds') ?? '86400'
    const maxAge = whole('snapshot-max-age', /^[1-9][0-9]*$/, 'a positive number of blocks')
    const maxOpex = whole('max-opex-bps', /^[0-9]+$/, 'a whole number of bps')
    if (maxOpex !== undefined && BigInt(maxOpex) > 10_000n) throw new UsageError('--max-opex-bps must be at most 10000', 'deploy')
    const emission = parseTokens(values, 'daily-emission', DECIMALS.FLOCK, 'deploy', { unit: 'FLOCK', positive: false })
    const epochSeconds = whole('epoch-seconds', /^[1-9][0-9]*$/, 'a positive number of seconds') ?? '86400'
    if (values.verifier && values['test-verifier']) throw new UsageError('give --verifier or --test-verifier, not both', 'deploy')
    if (maxOpex !== undefined && values.router === undefined) throw new UsageError('--max-opex-bps needs --router (the settlement)', 'deploy')
    const needsTokens = values.router !== undefined || emission !== undefined
    if (needsTokens && !values['test-tokens'] && (values.flock === undefined || values.usdc === undefined))
      throw new UsageError('the settlement and the funding need the tokens: --flock and --usdc (or --test-tokens)', 'deploy')
    const c = await clients(values, io, 'deploy')
    const me = c.wallet.account.address
    const treasury = values.treasury ? address(values, 'treasury', 'deploy') : me
    const verifier = values['test-verifier'] ? await deployTestVerifier(c) : values.verifier ? address(values, 'verifier', 'deploy') : undefined
    const common = {
      verifier,
      admin: me,
      publisher: values.publisher ? address(values, 'publisher', 'deploy') : me,
      guardian: values.guardian ? address(values, 'guardian', 'deploy') : me,
      timelockSeconds: BigInt(timelock),
      snapshotMaxAgeBlocks: maxAge === undefined ? undefined : BigInt(maxAge),
    }
    const deployment = needsTokens
      ? await deploySystem(c, {
          ...common,
          tokens: values['test-tokens'] ? 'test' : { flock: address(values, 'flock', 'deploy'), usdc: address(values, 'usdc', 'deploy') },
          settlement: values.router ? { router: address(values, 'router', 'deploy'), treasury, maxOpexBps: maxOpex === undefined ? undefined : BigInt(maxOpex) } : undefined,
          funding: emission !== undefined ? { epochSeconds: BigInt(epochSeconds), dailyEmission: emission, treasury } : undefined,
        })
      : await deployContracts(c, { ...common, testTokens: Boolean(values['test-tokens']) })
    if (output) await writeOutput(output.path, output, (tmp) => writeFile(tmp, json(deployment)))
    io.stdout(json(deployment))
  },
}

export const pinCommand: Command = {
  name: 'pin',
  summary:
    'Pins an aggregator configuration on the distributor (admin role): its config.json hash, each deployment\'s staking contract\n' +
    'and its providers\' attestation keys (batch proofs are taken only under them).\n' +
    'The first is pinned at once; a change is scheduled and takes effect only after the registry\'s timelock, with --activate\n' +
    '(anyone may send it). Every proposal must carry the pinned hash, so an epoch cannot bring its own configuration.',
  options: {
    ...chainOptions,
    distributor: { type: 'string', valueName: 'address', description: 'The distributor (epoch registry)' },
    config: { type: 'string', valueName: 'aggregator.json', description: 'The configuration to pin (each deployment naming its "staking" contract)' },
    activate: { type: 'boolean', description: 'Pin the scheduled configuration once its timelock has passed' },
  },
  examples: ['fomo pin --config aggregator.json --rpc http://127.0.0.1:8545 --distributor 0x...', 'fomo pin --activate --rpc ... --distributor 0x...'],
  async run({ values }, io) {
    const c = await clients(values, io, 'pin')
    const distributor = address(values, 'distributor', 'pin')
    const d = distributorAt(c, distributor)
    if (values.activate) {
      if (values.config !== undefined) throw new UsageError('give --config (to schedule) or --activate, not both', 'pin')
      const hash = await d.write.activateConfig()
      const receipt = await c.public.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new ChainError(`activateConfig transaction ${hash} reverted`)
      io.stdout(json({ configHash: await d.read.configHash(), pinned: true, transaction: hash }))
      return
    }
    const config = readConfig(await readJsonFile(requireString(values, 'config', 'pin'), io.cwd, 'config', 'pin'))
    const { hash, readyAt } = await pinConfig(c, distributor, config)
    io.stdout(json({ configHash: hash, pinned: readyAt === 0n, readyAt: readyAt === 0n ? null : readyAt }))
  },
}

export const publishCommand: Command = {
  name: 'publish',
  summary: 'Proposes a sealed epoch\'s commitment (roots, totals, manifest hash, proofs hash, configuration hash and snapshot block, bound to this chain and contract) to the distributor, with the batch proofs when the registry requires them; with --finalize, makes the pending proposal final once its timelock has passed.',
  positionals: '<epoch-dir>',
  options: {
    ...chainOptions,
    distributor: { type: 'string', valueName: 'address', description: 'The distributor (epoch registry)' },
    artifacts: { type: 'string', valueName: 'url', description: 'Where the sealed directory is served (http(s), ending in /), logged with the proposal so that any watcher can fetch it; fomo serve serves it at /v1/epochs/<n>/files/' },
    finalize: { type: 'boolean', description: 'Finalize the pending proposal of this epoch instead' },
  },
  examples: [
    'fomo publish ./epochs/epoch-20415 --rpc http://127.0.0.1:8545 --distributor 0x... --artifacts https://aggregator.example/v1/epochs/20415/files/',
    'fomo publish ./epochs/epoch-20415 --finalize --rpc ... --distributor 0x...',
  ],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('expected the sealed epoch directory', 'publish')
    const epoch = await readPublishedEpoch(resolve(io.cwd, positionals[0]!))
    const c = await clients(values, io, 'publish')
    const distributor = address(values, 'distributor', 'publish')
    if (values.finalize) {
      const hash = await finalizeEpoch(c, distributor, epoch.epoch)
      io.stdout(json({ epoch: epoch.epoch, finalized: true, transaction: hash, rewardRoot: await distributorAt(c, distributor).read.currentRewardRoot() }))
      return
    }
    const { hash, readyAt } = await proposeEpoch(c, distributor, epoch, { artifacts: typeof values.artifacts === 'string' ? values.artifacts : undefined })
    io.stdout(json({ epoch: epoch.epoch, proposed: true, transaction: hash, readyAt, artifacts: typeof values.artifacts === 'string' ? values.artifacts : null, spendRoot: epoch.spendRoot, rewardRoot: epoch.rewardRoot, proofsHash: epoch.proofs?.proofsHash ?? null, proofs: epoch.proofs?.batches.length ?? 0 }))
  },
}

export const claimCommand: Command = {
  name: 'claim',
  summary: 'Claims every token an account is owed under the current reward root, in one transaction. Anyone may send it; the funds go to the account or the recipient it chose. An account the reward tree leaves out is paid from the epoch\'s reward list.',
  options: {
    ...chainOptions,
    account: { type: 'string', valueName: 'address', description: 'The account to claim for' },
    'epoch-dir': { type: 'string', valueName: 'dir', description: 'The sealed epoch whose reward tree is the current root' },
    distributor: { type: 'string', valueName: 'address', description: 'The distributor' },
    'dry-run': { type: 'boolean', description: 'Only show what is claimable' },
  },
  examples: ['fomo claim --account 0x... --epoch-dir ./epochs/epoch-20415 --rpc http://127.0.0.1:8545 --distributor 0x...'],
  async run({ values }, io) {
    const epoch = await readPublishedEpoch(resolve(io.cwd, requireString(values, 'epoch-dir', 'claim')))
    const account = address(values, 'account', 'claim')
    const c = await clients(values, io, 'claim')
    const distributor = address(values, 'distributor', 'claim')
    const owed = await claimable(c, distributor, epoch, account)
    if (owed.length === 0 && !values['dry-run']) {
      // The reward tree left the account out: the reward list is what the judge holds the epoch to, and pays too.
      const listed = await claimFromList(c, distributor, epoch.dir, account)
      if (listed.length === 0) throw new InputError(`${account} has no leaf in the reward tree or the reward list of epoch ${epoch.epoch}`, 'Check --account and the epoch directory: the account earned nothing up to this epoch.')
      io.stdout(json({ account, epoch: epoch.epoch, fromList: true, tokens: listed }))
      return
    }
    if (owed.length === 0) throw new InputError(`${account} has no leaf in the reward tree of epoch ${epoch.epoch}`, 'Check --account and the epoch directory: the account earned nothing up to this epoch.')
    const result = values['dry-run'] || owed.every((o) => o.claimable === 0n) ? undefined : await claimAll(c, distributor, epoch, account)
    io.stdout(json({ account, epoch: epoch.epoch, transaction: result?.hash ?? null, gasUsed: result?.gasUsed ?? null, tokens: owed.map((o) => ({ token: o.token, cumulative: o.cumulative, paidNow: result ? o.claimable : 0n, claimable: result ? 0n : o.claimable })) }))
  },
}

