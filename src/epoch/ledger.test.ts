/**
 * The epoch ledger: positional trees prove positions; sealing writes lists that the fault finder (the TypeScript
 * model of EpochJudge) finds honest, over random epochs; and each kind of tampering is found, as the fault a judge
 * would revoke for.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeAbiParameters, getAddress, keccak256, toHex } from 'viem'
import { DEPLOYMENT_A, DEPLOYMENT_B, EPOCH, address, worldConfig } from '../../test/aggregator/world.ts'
import { ledgerFault, lookup, type LedgerInput } from './ledgerFaults.ts'
import { parseJsonDocument } from '../base/json.ts'
import { StandardTree } from '../merkle/tree.ts'
import { PositionalTree, positionalDepth } from '../merkle/positional.ts'
import type { DeploymentInputs } from './inputs.ts'
import { epochLists, ledgerHash, readLedger, rewardKey, rewardParameters, rewardParamsHash, spendListLeaf, type RewardListEntry } from './ledger.ts'
import { standardLeafHash } from '../merkle/tree.ts'
import { allocationsOfRewardTree, rewardLeafOf } from './rewards.ts'
import { seal } from './seal.ts'
import { SPEND_LEAF_ENCODING, spendLeafOf, type SpendRow } from './spend.ts'

const config = worldConfig()
const params = rewardParameters(config)

type World = { spend: SpendRow[]; inputs: Map<`0x${string}`, DeploymentInputs> }

function sealed(world: World, previous: RewardListEntry[] = [], epoch = EPOCH) {
  const out = seal({ epoch, config, spend: world.spend, inputs: world.inputs, previous: previous.map((e) => ({ account: e.account, token: e.token, amount: e.amount })), previousManifestSha256: null })
  // An epoch that credits nothing (every score rounded to zero, no staker) has no reward tree: nothing to publish.
  if (!out.files.some((f) => f.name === 'ledger.json')) return undefined
  const file = (name: string) => parseJsonDocument(Buffer.from(out.files.find((f) => f.name === name)!.content).toString('utf8'), name)
  const lists = readLedger(file('ledger.json'))
  const spendTree = StandardTree.load(file('spend-tree.json'))
  const rewardTree = StandardTree.load(file('reward-tree.json'))
  const input: LedgerInput = {
    epoch,
    params,
    ledger: lists.ledger,
    spend: lists.spend,
    reward: lists.reward,
    spendLeaves: [...spendTree.entries()].map(([, v]) => spendLeafOf(v)),
    rewardLeaves: [...rewardTree.entries()].map(([, v]) => rewardLeafOf(v)),
    previous,
  }
  return { out, lists, input, rewardTree }
}

const users = Array.from({ length: 6 }, (_, i) => address(`ledger user ${i}`))
const arbWorld = fc
  .array(fc.record({ d: fc.constantFrom(DEPLOYMENT_A, DEPLOYMENT_B), u: fc.integer({ min: 0, max: users.length - 1 }), gross: fc.bigInt({ min: 10n ** 6n, max: 10n ** 12n }), bps: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 12 })
  .chain((rows) => fc.record({ rows: fc.constant(rows), stakes: fc.array(fc.bigInt({ min: 0n, max: 10n ** 22n }), { minLength: users.length, maxLength: users.length }), opex: fc.bigInt({ min: 0n, max: 10n ** 11n }) }))
  .map(({ rows, stakes, opex }): World => {
    const spend = new Map<string, SpendRow>()
    for (const r of rows) {
      const user = users[r.u]!
      const k = `${r.d}/${user}`
      const charged = r.gross - (r.gross * BigInt(r.bps)) / 10_000n
      const row = spend.get(k)
      if (row) {
        row.gross += r.gross
        row.charged += charged
        row.count++
      } else spend.set(k, { deploymentId: r.d, user, gross: r.gross, charged, count: 1n, minDiscountBps: r.bps, maxDiscountBps: r.bps })
    }
    const stakesOf = new Map(users.map((u, i) => [u, stakes[i]!]))
    const inputs = new Map([DEPLOYMENT_A, DEPLOYMENT_B].map((d) => [d, { opex, circulatingSupply: 10n ** 24n, stakes: stakesOf }]))
    return { spend: [...spend.values()], inputs }
  })

describe('positional tree', () => {
  it('proves every position of trees of 1 to 9 leaves, and nothing else', () => {
    for (let n = 1; n <= 9; n++) {
      const leaves = Array.from({ length: n }, (_, i) => keccak256(toHex(i)))
      const tree = PositionalTree.of(leaves)
      expect(positionalDepth(n)).toBe(Math.ceil(Math.log2(n)))
      for (let i = 0; i < n; i++) {
        expect(PositionalTree.verify(tree.root, n, i, leaves[i]!, tree.proof(i))).toBe(true)
        // The same leaf at another position, or a neighbour's leaf here, does not verify.
        if (n > 1) expect(PositionalTree.verify(tree.root, n, (i + 1) % n, leaves[i]!, tree.proof(i))).toBe(false)
        expect(PositionalTree.verify(tree.root, n + 1, i, leaves[i]!, tree.proof(i))).toBe(n + 1 <= 2 ** positionalDepth(n))
      }
    }
  })

  it('finds a key or its neighbours', () => {
    expect(lookup([2n, 4n, 6n], 4n)).toEqual({ found: true, positions: [1] })
    expect(lookup([2n, 4n, 6n], 5n)).toEqual({ found: false, positions: [1, 2] })
    expect(lookup([2n, 4n, 6n], 1n)).toEqual({ found: false, positions: [0] })
    expect(lookup([2n, 4n, 6n], 7n)).toEqual({ found: false, positions: [2] })
    expect(lookup([], 7n)).toEqual({ found: false, positions: [] })
  })
})

describe('epoch ledger', () => {
  it('an honest epoch has no provable fault, over random epochs and a second epoch on the first', () => {
    fc.assert(
      fc.property(arbWorld, arbWorld, (first, second) => {
        const one = sealed(first)
        fc.pre(one !== undefined)
        expect(ledgerFault(one.input)).toBeUndefined()
        const two = sealed(second, one.lists.reward, EPOCH + 1)!
        expect(ledgerFault(two.input)).toBeUndefined()
        // The reward list holds exactly the reward tree's leaves; the ledger hash covers the lists' roots.
        expect(two.lists.reward.length).toBe(allocationsOfRewardTree(two.rewardTree).length)
        expect(ledgerHash(two.lists.ledger)).toMatch(/^0x[0-9a-f]{64}$/)
      }),
      { numRuns: 40 },
    )
  })

  it('names each kind of tampering as the fault a judge revokes for', () => {
    const world = fc.sample(arbWorld, { seed: 7, numRuns: 1 })[0]!
    world.spend.push({ deploymentId: DEPLOYMENT_A, user: users[0]!, gross: 5_000n, charged: 5_000n, count: 1n, minDiscountBps: 0, maxDiscountBps: 0 }, { deploymentId: DEPLOYMENT_B, user: users[1]!, gross: 7_000n, charged: 7_000n, count: 2n, minDiscountBps: 0, maxDiscountBps: 0 })
    world.spend = [...new Map(world.spend.map((r) => [`${r.deploymentId}/${r.user}`, r])).values()]
    world.inputs.get(DEPLOYMENT_A)!.stakes.set(users[0]!, 10n ** 21n)
    const { input } = sealed(world)!
    expect(ledgerFault(input)).toBeUndefined()
    const withReward = (f: (e: RewardListEntry[]) => RewardListEntry[]) => ({ ...input, reward: f(input.reward.map((e) => ({ ...e }))) })

    // A reward raised by one unit, in the list and the tree alike.
    const raised = withReward((r) => ((r[0]!.amount += 1n), r))
    expect(ledgerFault({ ...raised, rewardLeaves: raised.reward })).toMatchObject({ kind: 'reward', found: input.reward[0]!.amount + 1n, expected: input.reward[0]!.amount })
    // A reward left out of both.
    const dropped = withReward((r) => r.slice(1))
    expect(ledgerFault({ ...dropped, rewardLeaves: dropped.reward })).toMatchObject({ kind: 'reward', found: 0n, expected: input.reward[0]!.amount })
    // A reward for an account owed nothing.
    const stranger = getAddress(address('stranger')).toLowerCase() as `0x${string}`
    const extra = withReward((r) => [...r, { ...r[0]!, account: stranger }].sort((a, b) => (BigInt(keccak256(`0x${a.account.slice(2).padStart(64, '0')}${a.token.slice(2).padStart(64, '0')}`)) < BigInt(keccak256(`0x${b.account.slice(2).padStart(64, '0')}${b.token.slice(2).padStart(64, '0')}`)) ? -1 : 1)))
    expect(ledgerFault({ ...extra, rewardLeaves: extra.reward })).toMatchObject({ kind: 'reward', account: stranger, expected: 0n })
    // The previous epoch's rewards dropped.
    expect(ledgerFault({ ...input, previous: [{ ...input.reward[0]!, amount: 1n }] })).toMatchObject({ kind: 'reward', expected: input.reward[0]!.amount + 1n })
    // The OpenZeppelin tree holds a leaf the list does not.
    expect(ledgerFault({ ...input, rewardLeaves: [{ ...input.rewardLeaves[0]!, amount: input.rewardLeaves[0]!.amount + 1n }] })).toMatchObject({ kind: 'reward-tree' })
    expect(ledgerFault({ ...input, spendLeaves: [{ ...input.spendLeaves[0]!, gross: input.spendLeaves[0]!.gross + 1n }] })).toMatchObject({ kind: 'spend-tree' })
    // Reward list out of order.
    expect(ledgerFault({ ...input, reward: [...input.reward].reverse(), rewardLeaves: [] })).toMatchObject({ kind: 'reward-list', positions: [0, 1] })
    // A spend leaf added without its sums: the next entry's sums, or the totals, no longer follow.
    const spend = input.spend.map((e) => ({ ...e, leaf: { ...e.leaf } }))
    spend[0]!.leaf.gross += 1n
    expect(ledgerFault({ ...input, spend, spendLeaves: spend.map((e) => e.leaf) })).toMatchObject({ kind: 'spend-list' })
    // Totals raised (eligible), or a deployment's totals without a leaf.
    const totals = input.ledger.totals.map((t) => ({ ...t }))
    totals[0]!.eligible += 1n
    expect(ledgerFault({ ...input, ledger: { ...input.ledger, totals } })).toMatchObject({ kind: 'spend-list' })
    const onlyA = input.spend.filter((e) => e.leaf.deploymentId === DEPLOYMENT_A)
    const fakeB = { ...input, spend: onlyA, spendLeaves: onlyA.map((e) => e.leaf) }
    const faultB = ledgerFault(fakeB)
    expect(faultB?.kind === 'spend-totals' || faultB?.kind === 'reward').toBe(true)
    // Proven charged revenue that is not the ledger's.
    expect(ledgerFault({ ...input, provenCharged: input.ledger.totals.map((t, i) => t.charged + BigInt(i)) })).toMatchObject({ kind: 'ledger' })
    expect(ledgerFault({ ...input, provenCharged: input.ledger.totals.map((t) => t.charged) })).toBeUndefined()
    // Totals that do not sum to the commitment's.
    const sum = (f: 'gross' | 'charged') => input.ledger.totals.reduce((n, t) => n + t[f], 0n)
    expect(ledgerFault({ ...input, committed: { gross: sum('gross'), charged: sum('charged') } })).toBeUndefined()
    expect(ledgerFault({ ...input, committed: { gross: sum('gross') + 1n, charged: sum('charged') } })).toMatchObject({ kind: 'ledger' })
  })

  it('the reward parameters are the configuration\'s, deployments ascending by id', () => {
    expect(params.deployments.map((d) => d.id)).toEqual([DEPLOYMENT_A, DEPLOYMENT_B].sort())
    expect(rewardParamsHash(params)).toBe(rewardParamsHash(rewardParameters(worldConfig())))
    expect(rewardParamsHash(rewardParameters(worldConfig({ platform: { dailyEmission: '20001' } })))).not.toBe(rewardParamsHash(params))
    expect(() => epochLists(EPOCH, [{ deploymentId: keccak256('0x01'), user: users[0]!, gross: 1n, charged: 1n, receipts: 1n, stake: 0n }], [], [DEPLOYMENT_A], [0n])).toThrow('which the reward parameters do not have')
  })
})

describe('spendListLeaf', () => {
  it("is keccak256(abi.encode(OZ leaf hash, prefixGross, prefixEligible, prefixCharged)) as viem encodes it, and refuses a sum past uint256", () => {
    const word = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n })
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), word, word, word, (gross, stake, pg, pe, pc) => {
        const leaf = { deploymentId: DEPLOYMENT_A, user: address('leaf user'), gross, charged: gross / 2n, receipts: 3n, stake }
        const oz = standardLeafHash(SPEND_LEAF_ENCODING, [String(EPOCH), leaf.deploymentId, leaf.user, gross.toString(), leaf.charged.toString(), '3', stake.toString()])
        const reference = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }], [oz, pg, pe, pc]))
        expect(spendListLeaf(EPOCH, { leaf, prefixGross: pg, prefixEligible: pe, prefixCharged: pc })).toBe(reference)
      }),
      { numRuns: 200 },
    )
    const leaf = { deploymentId: DEPLOYMENT_A, user: address('leaf user'), gross: 1n, charged: 1n, receipts: 1n, stake: 0n }
    expect(() => spendListLeaf(EPOCH, { leaf, prefixGross: 1n << 256n, prefixEligible: 0n, prefixCharged: 0n })).toThrow()
    expect(() => spendListLeaf(EPOCH, { leaf, prefixGross: -1n, prefixEligible: 0n, prefixCharged: 0n })).toThrow()
  })
})

describe('rewardKey', () => {
  it('is keccak256(abi.encode(account, token)) as viem encodes it', () => {
    const addr = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => toHex(b))
    fc.assert(
      fc.property(addr, addr, (account, token) => {
        expect(rewardKey(account, token)).toBe(BigInt(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'address' }], [account, token]))))
      }),
      { numRuns: 300 },
    )
  })
})
