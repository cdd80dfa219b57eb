/**
 * The epoch ledger: what lets anyone prove on chain that a reward leaf is wrong or missing (EpochJudge,
 * docs/trust-model.md property 4).
 *
 * An OpenZeppelin tree cannot show a leaf absent (pairs are hashed sorted, so a proof does not fix a position). So
 * beside each of them the epoch commits a positional tree over the same leaves in key order (src/merkle/positional.ts):
 * the spend list, by (deployment, user), each entry with its deployment's sums before it (gross, eligible gross,
 * charged), and the reward list, by keccak256(account, token). Two neighbours show a key absent, and neighbours in the
 * spend list show each deployment's totals. The ledger (ledger.json, format fomo-epoch-ledger-v1) holds the totals and
 * OpEx per deployment, both lists' roots and entries; the commitment carries keccak256 of its ABI encoding (the
 * entries aside: the roots and counts stand for them).
 *
 * The reward parameters the judge recomputes rewards with are config.json's, as ABI (`rewardParameters`), pinned on
 * the registry with the configuration.
 */
import { encodeAbiParameters, keccak256 } from 'viem'
import { toHex, type Hex } from '../base/bytes.ts'
import { doubleKeccakInto, keccak256 as keccakBytes } from '../base/keccak.ts'
import { leafEncoding } from '../merkle/encoding.ts'
import { BaseError } from '../base/errors.ts'
import { Reader } from '../base/reader.ts'
import { splitProceeds } from '../economics/supply.ts'
import { PositionalTree } from '../merkle/positional.ts'
import { standardLeafHash } from '../merkle/tree.ts'
import { readAddress, readBytes32, readUint } from '../receipts/receipt.ts'
import type { AggregatorConfig } from './config.ts'
import { REWARD_LEAF_ENCODING, UINT256_MAX, type RewardLeaf } from './rewards.ts'
import { SPEND_LEAF_ENCODING, type SpendLeaf } from './spend.ts'

export const LEDGER_FORMAT = 'fomo-epoch-ledger-v1'

const USER_BITS = 160n

/** A spend leaf's key: (deployment position + 1) << 160 | user; keys strictly increase along the spend list. */
export function spendKey(deploymentIndex: number, user: Hex): bigint {
  return (BigInt(deploymentIndex + 1) << USER_BITS) | BigInt(user)
}

const REWARD_KEY = leafEncoding(['address', 'address'])

/** A reward leaf's key: keccak256(abi.encode(account, token)); keys strictly increase along the reward list. */
export function rewardKey(account: Hex, token: Hex): bigint {
  // The leaf encoder and the wasm keccak: a million users' reward list sorts by millions of these.
  return BigInt(toHex(keccakBytes(REWARD_KEY.encode([account, token]))))
}

/** What the judge recomputes rewards from: config.json's reward parameters as ABI, deployments ascending by id. */
export type RewardParams = {
  dailyEmission: bigint
  epochSeconds: bigint
  issuerBonusBps: number
  scoreBasis: number
  denominator: number
  flock: Hex
  usdc: Hex
  deployments: Array<{ id: Hex; issuer: Hex; mtToken: Hex; graduationEpoch: bigint; stakingFund: bigint; incentiveReserve: bigint }>
}

const SCORE_BASES = ['net', 'charged', 'gross'] as const
const DENOMINATORS = ['eligible-stakers', 'all-users'] as const

export const REWARD_PARAMS_ABI = {
  type: 'tuple',
  components: [
    { name: 'dailyEmission', type: 'uint256' },
    { name: 'epochSeconds', type: 'uint64' },
    { name: 'issuerBonusBps', type: 'uint16' },
    { name: 'scoreBasis', type: 'uint8' },
    { name: 'denominator', type: 'uint8' },
    { name: 'flock', type: 'address' },
    { name: 'usdc', type: 'address' },
    {
      name: 'deployments',
      type: 'tuple[]',
      components: [
        { name: 'id', type: 'bytes32' },
        { name: 'issuer', type: 'address' },
        { name: 'mtToken', type: 'address' },
        { name: 'graduationEpoch', type: 'uint64' },
        { name: 'stakingFund', type: 'uint256' },
        { name: 'incentiveReserve', type: 'uint256' },
      ],
    },
  ],
} as const

/** The configuration's reward parameters, as the registry pins them. */
export function rewardParameters(config: AggregatorConfig): RewardParams {
  const p = config.platform
  return {
    dailyEmission: p.dailyEmission,
    epochSeconds: BigInt(config.epochSeconds),
    issuerBonusBps: Number(p.issuerBonusBps),
    scoreBasis: SCORE_BASES.indexOf(p.scoreBasis),
    denominator: DENOMINATORS.indexOf(p.rewardDenominator),
    flock: config.tokens.flock,
    usdc: config.tokens.usdc,
    deployments: deploymentOrder(config).map((d) => ({
      id: d.id,
      issuer: d.issuer,
      mtToken: d.mtToken,
      graduationEpoch: BigInt(d.graduationEpoch),
      stakingFund: splitProceeds(d.raised).stakingIncentives,
      incentiveReserve: d.incentiveReserve,
    })),
  }
}

/** keccak256 of the reward parameters' ABI encoding: `rewardParamsOf(configHash)` on the registry. */
export function rewardParamsHash(params: RewardParams): Hex {
  return keccak256(encodeAbiParameters([REWARD_PARAMS_ABI], [params]))
}

/** The configuration's deployments in key order (ascending id): a deployment's position in it is its spend key's. */
export function deploymentOrder<D extends { id: Hex }>(config: { deployments: readonly D[] }): D[] {
  return [...config.deployments].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** One deployment's sums over its spend leaves, and its OpEx: what its emission share and rewards follow from. */
export type DeploymentTotals = { gross: bigint; eligible: bigint; charged: bigint; opex: bigint }

/** What the commitment's `ledgerHash` covers: the totals, and each list's root and length. */
export type Ledger = { totals: DeploymentTotals[]; spendList: Hex; spendCount: bigint; rewardList: Hex; rewardCount: bigint }

export const LEDGER_ABI = {
  type: 'tuple',
  components: [
    {
      name: 'totals',
      type: 'tuple[]',
      components: [
        { name: 'gross', type: 'uint256' },
        { name: 'eligible', type: 'uint256' },
        { name: 'charged', type: 'uint256' },
        { name: 'opex', type: 'uint256' },
      ],
    },
    { name: 'spendList', type: 'bytes32' },
    { name: 'spendCount', type: 'uint256' },
    { name: 'rewardList', type: 'bytes32' },
    { name: 'rewardCount', type: 'uint256' },
  ],
} as const

/** keccak256 of the ledger's ABI encoding: the commitment's `ledgerHash`. */
export function ledgerHash(ledger: Ledger): Hex {
  return keccak256(encodeAbiParameters([LEDGER_ABI], [ledger]))
}

/** A spend list entry: a spend leaf (as the OZ tree holds it) and its deployment's sums before it. */
export type SpendListEntry = { leaf: SpendLeaf; prefixGross: bigint; prefixEligible: bigint; prefixCharged: bigint }

/** A reward list entry: a reward leaf as the OZ tree holds it. */
export type RewardListEntry = RewardLeaf

const PREFIX_SUMS = leafEncoding(['uint256', 'uint256', 'uint256'])

/**
 * The spend list's leaf at a position: keccak256(abi.encode(OZ leaf hash, prefixGross, prefixEligible, prefixCharged)).
 * `ozLeafHash`, when given, is the entry's leaf hash as the spend tree already holds it (sealing a million users
 * would otherwise hash two million leaves twice); the leaf encoder and the wasm keccak do the rest.
 */
export function spendListLeaf(epoch: number, e: SpendListEntry, ozLeafHash?: Uint8Array): Hex {
  const words = new Uint8Array(128)
  if (ozLeafHash) words.set(ozLeafHash, 0)
  else doubleKeccakInto(leafEncoding(SPEND_LEAF_ENCODING).encode(spendLeafValuesOf(epoch, e.leaf)), words, 0)
  PREFIX_SUMS.encodeInto([e.prefixGross, e.prefixEligible, e.prefixCharged], words, 32)
  return toHex(keccakBytes(words))
}

/** The reward list's leaf: the OZ reward leaf hash itself. */
export function rewardListLeaf(e: RewardListEntry): Hex {
  return ozLeafHashOf(REWARD_LEAF_ENCODING, [e.domain, e.account, e.token, e.amount.toString()])
}

/** An OpenZeppelin standard leaf hash: keccak256(bytes.concat(keccak256(abi.encode(values)))). */
function ozLeafHashOf(types: readonly string[], values: readonly string[]): Hex {
  return standardLeafHash(types, values)
}

function spendLeafValuesOf(epoch: number, l: SpendLeaf): string[] {
  return [String(epoch), l.deploymentId, l.user, l.gross.toString(), l.charged.toString(), l.receipts.toString(), l.stake.toString()]
}

/**
 * The spend list: the spend leaves in key order with their deployment's prefix sums, and each deployment's totals
 * in `order` (the reward parameters' deployments). A leaf of a deployment `order` lacks is refused.
 */
export function spendList(leaves: readonly SpendLeaf[], order: readonly Hex[]): { entries: SpendListEntry[]; totals: Omit<DeploymentTotals, 'opex'>[]; from: number[] } {
  const index = new Map(order.map((id, i) => [id.toLowerCase(), i]))
  const keyed = leaves.map((leaf, at) => {
    const i = index.get(leaf.deploymentId.toLowerCase())
    if (i === undefined) throw new LedgerError(`a spend leaf of deployment ${leaf.deploymentId}, which the reward parameters do not have`)
    return { leaf, i, key: spendKey(i, leaf.user), at }
  })
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const totals = order.map(() => ({ gross: 0n, eligible: 0n, charged: 0n }))
  const entries = keyed.map(({ leaf, i }) => {
    const t = totals[i]!
    const entry = { leaf, prefixGross: t.gross, prefixEligible: t.eligible, prefixCharged: t.charged }
    t.gross += leaf.gross
    if (leaf.stake > 0n) t.eligible += leaf.gross
    t.charged += leaf.charged
    return entry
  })
  // Each entry's position among the leaves given.
  return { entries, totals, from: keyed.map((k) => k.at) }
}

/** The reward list: the reward leaves in key order. */
export function rewardList(leaves: readonly RewardLeaf[]): RewardListEntry[] {
  return leaves
    .map((leaf) => ({ leaf, key: rewardKey(leaf.account, leaf.token) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ leaf }) => leaf)
}

/** An epoch's lists as positional trees, and the ledger over them. */
export type EpochLists = { ledger: Ledger; spend: SpendListEntry[]; spendTree: PositionalTree; reward: RewardListEntry[]; rewardTree: PositionalTree }

/**
 * The lists and ledger of an epoch's spend and reward leaves; `opex` per deployment in `order`. `spendLeafHash`, when
 * given, is the OZ leaf hash of `spendLeaves[i]` (the spend tree's), so no leaf is hashed twice.
 */
export function epochLists(
  epoch: number,
  spendLeaves: readonly SpendLeaf[],
  rewardLeaves: readonly RewardLeaf[],
  order: readonly Hex[],
  opex: readonly bigint[],
  spendLeafHash?: (i: number) => Uint8Array,
): EpochLists {
  const spend = spendList(spendLeaves, order)
  const reward = rewardList(rewardLeaves)
  const spendTree = PositionalTree.of(spend.entries.map((e, k) => spendListLeaf(epoch, e, spendLeafHash?.(spend.from[k] as number))))
  const rewardTree = PositionalTree.of(reward.map(rewardListLeaf))
  return {
    ledger: {
      totals: spend.totals.map((t, i) => ({ ...t, opex: opex[i] ?? 0n })),
      spendList: spendTree.root,
      spendCount: BigInt(spend.entries.length),
      rewardList: rewardTree.root,
      rewardCount: BigInt(reward.length),
    },
    spend: spend.entries,
    spendTree,
    reward,
    rewardTree,
  }
}

export class LedgerError extends BaseError {
  override name = 'LedgerError'
  constructor(message: string, hint?: string) {
    super('LEDGER', message, hint ? { metaMessages: [hint] } : {})
  }
}

/** An epoch's ledger with both lists as positional trees (the openings' proofs). */
export type OpenedLedger = { epoch: number; ledger: Ledger; spend: SpendListEntry[]; reward: RewardListEntry[]; spendTree: PositionalTree; rewardTree: PositionalTree }

/** ledger.json's document: the ledger, and both lists' entries in order (what challenges open). */
export function ledgerJson(epoch: number, lists: Pick<EpochLists, 'ledger' | 'spend' | 'reward'>): Record<string, unknown> {
  const { ledger } = lists
  return {
    format: LEDGER_FORMAT,
    epoch,
    totals: ledger.totals.map((t) => ({ gross: t.gross.toString(), eligible: t.eligible.toString(), charged: t.charged.toString(), opex: t.opex.toString() })),
    spendList: ledger.spendList,
    rewardList: ledger.rewardList,
    spend: lists.spend.map((e) => [e.leaf.deploymentId, e.leaf.user, e.leaf.gross.toString(), e.leaf.charged.toString(), e.leaf.receipts.toString(), e.leaf.stake.toString(), e.prefixGross.toString(), e.prefixEligible.toString(), e.prefixCharged.toString()]),
    reward: lists.reward.map((e) => [e.domain, e.account, e.token, e.amount.toString()]),
  }
}

/** Reads ledger.json: the ledger with both lists, each list checked against its root (the lists are what is opened). */
export function readLedger(document: unknown): OpenedLedger {
  const r = new Reader(LEDGER_FORMAT, document)
  r.object(['format', 'epoch', 'totals', 'spendList', 'rewardList', 'spend', 'reward'])
  r.field('format').literal([LEDGER_FORMAT])
  const amount = (x: Reader) => readUint(x, 0n, UINT256_MAX, 'a whole number of base units')
  const epoch = Number(r.field('epoch').integer(0, 0xffff_ffff))
  const totals = r
    .field('totals')
    .array({ max: 10_000 })
    .map((t) => {
      t.object(['gross', 'eligible', 'charged', 'opex'])
      return { gross: amount(t.field('gross')), eligible: amount(t.field('eligible')), charged: amount(t.field('charged')), opex: amount(t.field('opex')) }
    })
  const spend = r
    .field('spend')
    .array({ min: 1 })
    .map((e): SpendListEntry => {
      const v = e.array({ min: 9, max: 9 })
      const [deploymentId, user, gross, charged, receipts, stake, prefixGross, prefixEligible, prefixCharged] = v as [Reader, Reader, Reader, Reader, Reader, Reader, Reader, Reader, Reader]
      return {
        leaf: { deploymentId: readBytes32(deploymentId), user: readAddress(user), gross: amount(gross), charged: amount(charged), receipts: amount(receipts), stake: amount(stake) },
        prefixGross: amount(prefixGross),
        prefixEligible: amount(prefixEligible),
        prefixCharged: amount(prefixCharged),
      }
    })
  const reward = r
    .field('reward')
    .array({ min: 1 })
    .map((e): RewardListEntry => {
      const [domain, account, token, cumulative] = e.array({ min: 4, max: 4 }) as [Reader, Reader, Reader, Reader]
      return { domain: readBytes32(domain), account: readAddress(account), token: readAddress(token), amount: amount(cumulative) }
    })
  const ledger = { totals, spendList: readBytes32(r.field('spendList')), spendCount: BigInt(spend.length), rewardList: readBytes32(r.field('rewardList')), rewardCount: BigInt(reward.length) }
  const spendTree = PositionalTree.of(spend.map((e) => spendListLeaf(epoch, e)))
  if (spendTree.root !== ledger.spendList) r.field('spend').fail(`the entries of the spend list whose root is ${ledger.spendList}`)
  const rewardTree = PositionalTree.of(reward.map(rewardListLeaf))
  if (rewardTree.root !== ledger.rewardList) r.field('reward').fail(`the entries of the reward list whose root is ${ledger.rewardList}`)
  return { epoch, ledger, spend, reward, spendTree, rewardTree }
}
