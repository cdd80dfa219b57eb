/**
 * The commands of the FOMO economy on chain: pay an epoch's revenue into the settlement (`settle`), run its buybacks
 * (`buyback`), and stake or unstake a deployment's Model Token (`stake`, `unstake`).
 */
import { InputError } from '../../base/errors.ts'
import { resolve } from 'node:path'
import type { Hex } from 'viem'
import { DECIMALS } from '../../base/units.ts'
import { readPublishedEpoch } from '../../chain/publication.ts'
import { buyBackAndBurnMt, buyBackFlock, epochRevenue, payEpochRevenue } from '../../chain/settlement.ts'
import { readSpendTree } from '../../chain/challenges.ts'
import { stakeMt, unstakeMt } from '../../chain/stakes.ts'
import { spendLeafOf } from '../../epoch/spend.ts'
import { parseTokens, requireString, requireTokens, UsageError, type Command } from '../command.ts'
import { address, chainOptions, clients, json } from './chain.ts'

export const settleCommand: Command = {
  name: 'settle',
  summary:
    "Pays a sealed epoch's charged revenue into the revenue settlement (payer role), per deployment: the sum of its spend leaves' charged amounts, with the OpEx inputs.json records going to --opex-to; the settlement splits it by the waterfall at once. What was already paid counts, so running it again pays only what is missing. The registry finalizes the epoch only once it is paid.",
  positionals: '<epoch-dir>',
  options: {
    ...chainOptions,
    settlement: { type: 'string', valueName: 'address', description: 'The RevenueSettlement contract' },
    'opex-to': { type: 'string', valueName: 'address', description: 'Where the OpEx goes (the compute providers); needed when inputs.json records OpEx' },
  },
  examples: ['fomo settle ./epochs/epoch-20415 --settlement 0x... --opex-to 0x... --rpc http://127.0.0.1:8545 --key-file payer.json'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('expected the sealed epoch directory', 'settle')
    const epoch = await readPublishedEpoch(resolve(io.cwd, positionals[0]!))
    const tree = await readSpendTree(epoch.dir)
    if (tree.root !== epoch.spendRoot) throw new InputError(`spend-tree.json of ${epoch.dir} does not have the manifest's spend root`, 'Seal the epoch again, or give the directory the aggregator published.')
    const revenue = epochRevenue(
      [...tree.entries()].map(([, v]) => spendLeafOf(v)),
      epoch.config.deployments.map((d) => ({ id: d.id as Hex, opex: epoch.inputs.deployments.get(d.id as Hex)?.opex ?? 0n })),
    )
    const c = await clients(values, io, 'settle')
    const settlement = address(values, 'settlement', 'settle')
    const opexTo = values['opex-to'] === undefined ? undefined : address(values, 'opex-to', 'settle')
    const payments = await payEpochRevenue(c, settlement, BigInt(epoch.epoch), revenue, opexTo)
    io.stdout(json({ epoch: epoch.epoch, due: revenue, payments: payments.map((p) => ({ deploymentId: p.deploymentId, charged: p.charged, opex: p.opex, split: p.split, transaction: p.hash })) }))
  },
}

export const buybackCommand: Command = {
  name: 'buyback',
  summary:
    "Runs the settlement's pending buybacks (keeper role): with --flock the FLOCK buyback (USDC -> FLOCK through the pool, to the treasury), with --deployment a deployment's MT buyback-and-burn (USDC -> FLOCK -> MT, burned). The minimum out is the router's quote less --slippage-bps; a swap that cannot happen reverts and its USDC stays pending.",
  options: {
    ...chainOptions,
    settlement: { type: 'string', valueName: 'address', description: 'The RevenueSettlement contract' },
    flock: { type: 'boolean', description: 'Run the FLOCK buyback' },
    deployment: { type: 'string', valueName: 'id', description: 'Run this deployment\'s MT buyback-and-burn (its 32-byte id)' },
    amount: { type: 'string', valueName: 'usdc', description: 'USDC to swap (default: all that is pending)' },
    'slippage-bps': { type: 'string', valueName: 'bps', description: 'Tolerance below the router\'s quote (default 100)' },
  },
  examples: ['fomo buyback --flock --settlement 0x... --rpc http://127.0.0.1:8545 --key-file keeper.json', 'fomo buyback --deployment 0x... --settlement 0x... --slippage-bps 50 --rpc ...'],
  async run({ values }, io) {
    if (Boolean(values.flock) === (values.deployment !== undefined)) throw new UsageError('give --flock or --deployment <id>, one of them', 'buyback')
    const slippage = typeof values['slippage-bps'] === 'string' ? values['slippage-bps'] : '100'
    if (!/^[0-9]+$/.test(slippage) || BigInt(slippage) > 10_000n) throw new UsageError('--slippage-bps must be a whole number of bps, at most 10000', 'buyback')
    const amountIn = values.amount === undefined ? undefined : parseTokens(values, 'amount', DECIMALS.USDC, 'buyback', { unit: 'USDC' })
    const deployment = values.deployment === undefined ? undefined : requireString(values, 'deployment', 'buyback')
    if (deployment !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(deployment)) throw new UsageError('--deployment must be a 32-byte id (0x and 64 hex digits)', 'buyback')
    const c = await clients(values, io, 'buyback')
    const settlement = address(values, 'settlement', 'buyback')
    const parameters = { amountIn, slippageBps: BigInt(slippage) }
    const done = deployment === undefined ? await buyBackFlock(c, settlement, parameters) : await buyBackAndBurnMt(c, settlement, deployment as Hex, parameters)
    io.stdout(json({ kind: deployment === undefined ? 'flock' : 'mt-burn', deploymentId: deployment ?? null, ...done, transaction: done.hash }))
  },
}

function stakeCommand(name: 'stake' | 'unstake'): Command {
  const verb = name === 'stake' ? 'Stakes' : 'Unstakes'
  return {
    name,
    summary: `${verb} a deployment's Model Token on its MTStaking contract from the key's account${name === 'stake' ? ' (approving it first). A stake counts for an epoch once held over the eligibility window before its snapshot block' : ''}.`,
    options: {
      ...chainOptions,
      staking: { type: 'string', valueName: 'address', description: 'The deployment\'s MTStaking contract' },
      amount: { type: 'string', valueName: 'mt', description: 'MT, in whole tokens (e.g. 2500 or 0.5)' },
    },
    examples: [`fomo ${name} --staking 0x... --amount 2500 --rpc http://127.0.0.1:8545 --key-file me.json`],
    async run({ values }, io) {
      const value = requireTokens(values, 'amount', DECIMALS.MT, name, { unit: 'MT' })
      const c = await clients(values, io, name)
      const staking = address(values, 'staking', name)
      const done = name === 'stake' ? await stakeMt(c, staking, value) : await unstakeMt(c, staking, value)
      io.stdout(json({ account: c.wallet.account.address, staking, [name === 'stake' ? 'staked' : 'unstaked']: value, stake: done.stake, transaction: done.hash }))
    },
  }
}

export const stakeMtCommand = stakeCommand('stake')
export const unstakeMtCommand = stakeCommand('unstake')
