/**
 * The watcher on the in-process EVM: the demo deploys the distributor and the staking contracts, stakes, pins its
 * configuration and seals an epoch without proposing it; the chain is rewound to that point for each scenario, with
 * the guardian it needs. An honest proposal passes and finalizes; a proposal whose stakes the chain contradicts is
 * challenged by any watcher with a key (no role); a proposal whose reward root is not the directory's is revoked by a
 * guardian watcher and only reported by one without the role; a proposal with no directory is reported (and revoked
 * by a guardian). A watcher with no directory fetches the artifacts from the URL the proposal names (real HTTP), and
 * reorganisations (evm_snapshot / evm_revert) neither hide a proposal nor undo what the watcher sent.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { getAddress, getContract, keccak256, toHex, type Address, type Hex } from 'viem'
import { watchRegistry, type WatchOptions, type WatchRecord } from '../src/audit/watch.ts'
import { distributorAt, finalizeEpoch, proposeEpoch } from '../src/chain/contracts.ts'
import { readSpendTree } from '../src/chain/challenges.ts'
import { writeEpochDirectory } from '../src/epoch/directory.ts'
import { seal } from '../src/epoch/seal.ts'
import { spendFromLeaves, spendLeafOf } from '../src/epoch/spend.ts'
import { findLedgerChallenge, judgeOf } from '../src/chain/judge.ts'
import { EpochJudge } from '../src/chain/contracts.generated.ts'

/** EpochJudge's Fault enum, by name. */
const FAULT = { Stake: 8, Reward: 10 } as const
import { startDevnet, type Devnet } from '../src/chain/devnet.ts'
import { commitmentOf, readPublishedEpoch, type PublishedEpoch } from '../src/chain/publication.ts'
import { runDemo, type DemoResult } from '../src/cli/demo.ts'
import { main } from '../src/cli/main.ts'

const NOW = BigInt(Date.UTC(2025, 5, 2, 12)) * 1_000_000n
const TIMELOCK = 3600

let devnet: Devnet
let demo: DemoResult
let sealed: PublishedEpoch
let snapshot: string
let out: string

const rpc = <T>(method: string, params: unknown[] = []) => devnet.clients.public.request({ method, params } as never) as Promise<T>

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'fomo-watch-'))
  devnet = await startDevnet()
  demo = await runDemo({ out: join(out, 'demo'), seed: 'watch', now: () => NOW, perCallReceipts: 12, batchedReceipts: 8, users: 6, onChain: true, publish: false })
  snapshot = await rpc<string>('evm_snapshot')
  sealed = await readPublishedEpoch(demo.epochDir)
}, 120_000)

/** The chain as the demo left it (nothing proposed), the distributor's only guardian `guardian`. */
async function freshRegistry(guardian: Address): Promise<{ registry: Address; fromBlock: bigint }> {
  expect(await rpc<boolean>('evm_revert', [snapshot])).toBe(true)
  snapshot = await rpc<string>('evm_snapshot')
  const a0 = devnet.accounts[0]!
  const registry = demo.contracts!.distributor
  const d = distributorAt(devnet.clients, registry)
  const role = await d.read.GUARDIAN_ROLE()
  if (guardian !== a0) {
    await devnet.clients.public.waitForTransactionReceipt({ hash: await d.write.grantRole([role, guardian]) })
    await devnet.clients.public.waitForTransactionReceipt({ hash: await d.write.revokeRole([role, a0]) })
  }
  return { registry, fromBlock: (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) + 1n }
}

/**
 * The demo's epoch sealed again with one more stake than the chain gives: a 1 wei stake for a user who spent but
 * never staked, so that it shares the stakers' pool. Self-consistent (its manifest, trees and report agree): only
 * the chain shows it wrong.
 */
async function sealWithInventedStake(): Promise<{ epoch: PublishedEpoch; user: Address }> {
  const tree = await readSpendTree(demo.epochDir)
  const leaves = [...tree.entries()].map(([, v]) => v as string[])
  const inputs = new Map([...sealed.inputs.deployments].map(([id, d]) => [id, { ...d, stakes: new Map(d.stakes) }]))
  const { deploymentId, user } = leaves.map((v) => spendLeafOf(v)).find((l) => l.stake === 0n)!
  inputs.get(deploymentId)!.stakes.set(user, 1n)
  const spend = spendFromLeaves(leaves, sealed.config.platform, inputs)
  const { files } = seal({ epoch: sealed.epoch, config: sealed.config, spend, inputs, previous: [], previousManifestSha256: null })
  const dir = await writeEpochDirectory(await mkdtemp(join(out, 'invented-')), sealed.epoch, files)
  return { epoch: await readPublishedEpoch(dir), user }
}

/**
 * The demo's epoch sealed again as if an account had been owed one FLOCK unit before: its reward tree, reward list,
 * report and manifest agree with each other, but no final epoch owes it anything, so the judge shows the reward wrong.
 */
async function sealWithInventedReward(): Promise<{ epoch: PublishedEpoch; account: Address }> {
  const tree = await readSpendTree(demo.epochDir)
  const spend = spendFromLeaves([...tree.entries()].map(([, v]) => v as string[]), sealed.config.platform, sealed.inputs.deployments)
  const account = spend[0]!.user as Address
  const { files } = seal({ epoch: sealed.epoch, config: sealed.config, spend, inputs: sealed.inputs.deployments, previous: [{ account, token: sealed.config.tokens.flock, amount: 1n }], previousManifestSha256: null })
  const dir = await writeEpochDirectory(await mkdtemp(join(out, 'invented-reward-')), sealed.epoch, files)
  return { epoch: await readPublishedEpoch(dir), account }
}

/** Runs the watcher once as `account` (no wallet: undefined) and returns its records. */
async function watchOnce(registry: Address, fromBlock: bigint, account: Address | undefined, extra: Partial<WatchOptions> = {}): Promise<WatchRecord[]> {
  const records: WatchRecord[] = []
  await watchRegistry({
    client: devnet.clients.public,
    wallet: account ? devnet.clientsFor(account).wallet : undefined,
    registry,
    epochsDir: dirname(demo.epochDir),
    receiptsDir: dirname(demo.receiptsFile),
    fromBlock,
    now: () => NOW,
    log: (r) => records.push(JSON.parse(JSON.stringify(r))),
    once: true,
    ...extra,
  })
  return records
}

/** Runs the watcher's loop as `account`; `between(poll)` runs after each poll (a reorganisation) and says whether to go on. */
async function watchPolls(registry: Address, fromBlock: bigint, account: Address, between: (poll: number) => Promise<boolean>, extra: Partial<WatchOptions> = {}): Promise<WatchRecord[]> {
  const records: WatchRecord[] = []
  let polls = 0
  const controller = new AbortController()
  await watchRegistry({
    client: devnet.clients.public,
    wallet: devnet.clientsFor(account).wallet,
    registry,
    epochsDir: dirname(demo.epochDir),
    fromBlock,
    now: () => NOW,
    log: (r) => records.push(r),
    signal: controller.signal,
    sleep: async () => {
      if (!(await between(++polls))) controller.abort()
    },
    ...extra,
  })
  return records
}

/**
 * What the registry waits for before it finalizes `epoch` (committed with the demo's totals): its revenue paid into
 * the demo's settlement, and an epoch's emission in the funding contract's reserve.
 */
async function payAndFund(epoch: number): Promise<void> {
  const { TestToken } = await import('../src/chain/contracts.generated.ts')
  const { epochRevenue, payEpochRevenue } = await import('../src/chain/settlement.ts')
  const { epochEmission } = await import('../src/economics/emissions.ts')
  const tree = await readSpendTree(demo.epochDir)
  const revenue = epochRevenue(
    [...tree.entries()].map(([, v]) => spendLeafOf(v)),
    sealed.config.deployments.map((d) => ({ id: d.id as Hex, opex: sealed.inputs.deployments.get(d.id as Hex)?.opex ?? 0n })),
  )
  const mint = async (token: Address, to: Address, amount: bigint) =>
    devnet.clients.public.waitForTransactionReceipt({ hash: await getContract({ abi: TestToken.abi, address: token, client: { wallet: devnet.clients.wallet } }).write.mint([to, amount]) })
  await mint(sealed.config.tokens.usdc, devnet.accounts[0]!, revenue.reduce((n, r) => n + r.charged, 0n))
  await payEpochRevenue(devnet.clients, demo.contracts!.revenueSettlement, BigInt(epoch), revenue, demo.contracts!.providers)
  await mint(sealed.config.tokens.flock, demo.contracts!.epochFunding, epochEmission(sealed.config.platform.dailyEmission, BigInt(sealed.config.epochSeconds)))
}

const events = (records: WatchRecord[]) => records.filter((r) => r.event !== 'check').map((r) => r.event)

/** Proposes the sealed epoch with its reward root replaced: a commitment the directory does not give. */
async function proposeDishonest(registry: Address): Promise<void> {
  const chainId = await devnet.clients.public.getChainId()
  const hash = await distributorAt(devnet.clients, registry).write.propose([BigInt(sealed.epoch), { ...commitmentOf(sealed, chainId, registry), rewardRoot: keccak256(toHex('another reward tree')) }, ''])
  expect((await devnet.clients.public.waitForTransactionReceipt({ hash })).status).toBe('success')
}

/** The same bytes but one (same size: only the hash tells them apart). */
const changedByte = (content: Buffer) => {
  const copy = Buffer.from(content)
  copy[copy.length - 2] = copy[copy.length - 2]! ^ 1
  return copy
}

const hasPending = (registry: Address) => distributorAt(devnet.clients, registry).read.hasPending()

describe('fomo watch', () => {
  it('an honest proposal passes every check and is not revoked; it finalizes after the timelock', async () => {
    const watcher = devnet.accounts[1]!
    const { registry, fromBlock } = await freshRegistry(watcher)
    // The loop: started before the proposal, polling bounded ranges, stopped by the signal.
    const records: WatchRecord[] = []
    const controller = new AbortController()
    const running = watchRegistry({
      client: devnet.clients.public,
      wallet: devnet.clientsFor(watcher).wallet,
      registry,
      epochsDir: dirname(demo.epochDir),
      receiptsDir: dirname(demo.receiptsFile),
      fromBlock,
      blockRange: 2n,
      intervalMs: 20,
      now: () => NOW,
      log: (r) => {
        records.push(r)
        if (r.event === 'ok' || r.event === 'discrepancy' || r.event === 'error') controller.abort()
      },
      signal: controller.signal,
    })
    await proposeEpoch(devnet.clients, registry, sealed)
    const result = await running
    expect(result.proposals).toBe(1)
    expect(events(records)).toEqual(['proposed', 'ok'])
    expect(records[0]).toMatchObject({ epoch: sealed.epoch, event: 'proposed', time: new Date(Number(NOW / 1_000_000n)).toISOString(), details: { state: 'pending', rewardRoot: sealed.rewardRoot } })
    const checks = records.filter((r) => r.event === 'check').map((r) => r.details.check as string)
    expect(checks.some((c) => /^receipts: 20 signatures verified/.test(c))).toBe(true)
    expect(checks.some((c) => c.startsWith(`chain: the pending commitment of epoch ${sealed.epoch}`))).toBe(true)
    expect(records.at(-1)!.details).toMatchObject({ state: 'pending' })
    expect(await hasPending(registry)).toBe(true)

    await devnet.increaseTime(TIMELOCK)
    await payAndFund(sealed.epoch)
    await finalizeEpoch(devnet.clients, registry, sealed.epoch)
    expect(await distributorAt(devnet.clients, registry).read.lastFinalizedEpoch()).toBe(BigInt(sealed.epoch))
    // Seen again once final, it is audited against the final commitment.
    const again = await watchOnce(registry, fromBlock, watcher)
    expect(events(again)).toEqual(['proposed', 'ok'])
    expect(again[0]!.details.state).toBe('final')
    expect(again.some((r) => r.event === 'check' && String(r.details.check).startsWith(`chain: the final commitment of epoch ${sealed.epoch}`))).toBe(true)
  })

  it('logs every configuration scheduled after its start block, with what it pins', async () => {
    const { registry, fromBlock } = await freshRegistry(devnet.accounts[0]!)
    const next = keccak256(toHex('a later configuration'))
    const staking = demo.contracts!.staking[0]! as Address
    const deployment = sealed.config.deployments[0]!.id
    const send = await distributorAt(devnet.clients, registry).write.scheduleConfig([next, keccak256(toHex('reward parameters')), [deployment], [staking], [deployment], [7n], [devnet.accounts[4]!]])
    expect((await devnet.clients.public.waitForTransactionReceipt({ hash: send })).status).toBe('success')
    const records = await watchOnce(registry, fromBlock, undefined)
    expect(events(records)).toEqual(['config-scheduled'])
    expect(records[0]!.details).toMatchObject({ configHash: next, deployments: [{ id: deployment, staking: getAddress(staking) }], attestationKeys: [{ deploymentId: deployment, keyId: '7', provider: devnet.accounts[4]! }] })
  })

  it('a proposal whose reward root is not the directory\'s is revoked by a watcher holding the guardian role', async () => {
    const watcher = devnet.accounts[1]!
    const { registry, fromBlock } = await freshRegistry(watcher)
    await proposeDishonest(registry)
    const records = await watchOnce(registry, fromBlock, watcher)
    expect(events(records)).toEqual(['proposed', 'discrepancy', 'revoked'])
    const discrepancy = records.find((r) => r.event === 'discrepancy')!
    expect(discrepancy.details).toMatchObject({ kind: 'chain', state: 'pending', action: 'revoke', expected: sealed.rewardRoot })
    expect(discrepancy.details.subject).toContain('rewardRoot')
    expect(records.at(-1)!.details.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await hasPending(registry)).toBe(false)
    // A revoked proposal is not acted on again.
    expect(events(await watchOnce(registry, fromBlock, watcher))).toEqual(['proposed'])
  })

  it('a watcher without the guardian role (or without a key) reports the same proposal and leaves it pending', async () => {
    const { registry, fromBlock } = await freshRegistry(devnet.accounts[2]!)
    await proposeDishonest(registry)
    for (const account of [devnet.accounts[1]!, undefined]) {
      const records = await watchOnce(registry, fromBlock, account)
      expect(events(records)).toEqual(['proposed', 'discrepancy'])
      const { details } = records.find((r) => r.event === 'discrepancy')!
      expect(details).toMatchObject({ kind: 'chain', action: 'report' })
      expect(details.because).toMatch(account ? /no challenge proves this fault on chain .* does not hold GUARDIAN_ROLE/ : /no key/)
    }
    expect(await hasPending(registry)).toBe(true)
  })

  it('a proposal whose artifacts are missing is waited for during the grace period, then reported, and revoked only by a guardian', async () => {
    const guardian = devnet.accounts[1]!
    const { registry, fromBlock } = await freshRegistry(guardian)
    await proposeEpoch(devnet.clients, registry, sealed)
    const empty = await mkdtemp(join(out, 'empty-'))
    // Within half the timelock (the default grace) even a guardian waits: the directory may still be syncing.
    const early = await watchOnce(registry, fromBlock, guardian, { epochsDir: empty })
    expect(events(early)).toEqual(['proposed', 'missing-artifacts'])
    expect(early[1]!.details).toMatchObject({ action: 'wait' })
    expect(await hasPending(registry)).toBe(true)
    await devnet.increaseTime(TIMELOCK / 2)
    const reported = await watchOnce(registry, fromBlock, devnet.accounts[2]!, { epochsDir: empty })
    expect(events(reported)).toEqual(['proposed', 'missing-artifacts'])
    expect(reported[1]!.details).toMatchObject({ missing: expect.stringContaining(`no manifest.json in ${join(empty, `epoch-${sealed.epoch}`)}`), action: 'report' })
    expect(await hasPending(registry)).toBe(true)
    const revoked = await watchOnce(registry, fromBlock, guardian, { epochsDir: empty })
    expect(events(revoked)).toEqual(['proposed', 'missing-artifacts', 'revoked'])
    expect(await hasPending(registry)).toBe(false)
  })

  it('a directory that is not yet the proposal (an earlier proposal, a sync in progress) is waited for, never audited as the proposal', async () => {
    const guardian = devnet.accounts[1]!
    const { registry, fromBlock } = await freshRegistry(guardian)
    const chainId = await devnet.clients.public.getChainId()
    // The chain names another manifest than the directory holds: the directory is stale, not wrong.
    const hash = await distributorAt(devnet.clients, registry).write.propose([BigInt(sealed.epoch), { ...commitmentOf(sealed, chainId, registry), manifestHash: keccak256(toHex('a later manifest')) }, ''])
    expect((await devnet.clients.public.waitForTransactionReceipt({ hash })).status).toBe('success')
    const records = await watchOnce(registry, fromBlock, guardian)
    expect(events(records)).toEqual(['proposed', 'missing-artifacts'])
    expect(records[1]!.details).toMatchObject({ action: 'wait', missing: expect.stringContaining('is not the proposed manifest') })
    expect(await hasPending(registry)).toBe(true)
  })

  /**
   * A fresh registry where an earlier epoch is final and the demo's epoch, sealed as the first (no previous manifest),
   * is proposed: its rewards would start again from zero, ignoring what the final epoch already owes.
   */
  async function proposedAfterForeignFinal(guardian: Address) {
    const { registry, fromBlock } = await freshRegistry(guardian)
    const chainId = await devnet.clients.public.getChainId()
    const earlier = { ...commitmentOf(sealed, chainId, registry), manifestHash: keccak256(toHex('the final epoch before')), snapshotBlock: sealed.snapshotBlock! - 1n }
    const d = distributorAt(devnet.clients, registry)
    expect((await devnet.clients.public.waitForTransactionReceipt({ hash: await d.write.propose([BigInt(sealed.epoch - 1), earlier, '']) })).status).toBe('success')
    await devnet.increaseTime(TIMELOCK)
    await payAndFund(sealed.epoch - 1)
    await finalizeEpoch(devnet.clients, registry, sealed.epoch - 1)
    await proposeEpoch(devnet.clients, registry, sealed)
    return { registry, fromBlock, earlier }
  }

  it('a pending epoch whose manifest ignores the last final epoch (cumulative rewards reset) is revoked by a guardian', async () => {
    const guardian = devnet.accounts[1]!
    const { registry, fromBlock, earlier } = await proposedAfterForeignFinal(guardian)
    const records = await watchOnce(registry, fromBlock, guardian)
    const discrepancy = records.find((r) => r.event === 'discrepancy')!
    expect(discrepancy.details).toMatchObject({ kind: 'chain', expected: earlier.manifestHash, found: 'none', action: 'revoke' })
    expect(events(records).slice(-2)).toEqual(['discrepancy', 'revoked'])
    expect(await hasPending(registry)).toBe(false)
    // The revoked proposal cannot come back unchanged (the registry refuses it).
    await expect(proposeEpoch(devnet.clients, registry, sealed)).rejects.toThrow('EpochRegistryRevokedProposal')
  })

  it('had such an epoch finalized (no guardian acting in the timelock), an audit of the final epoch still names the break', async () => {
    const guardian = devnet.accounts[1]!
    const { registry, fromBlock, earlier } = await proposedAfterForeignFinal(guardian)
    await devnet.increaseTime(TIMELOCK)
    await payAndFund(sealed.epoch)
    await finalizeEpoch(devnet.clients, registry, sealed.epoch)
    // The audit finds the final epoch before it from the registry's EpochFinalized events; a final epoch is reported, not revoked.
    const final = (await watchOnce(registry, fromBlock, guardian)).filter((r) => r.event === 'discrepancy' && r.details.state === 'final')
    expect(final.at(-1)?.details).toMatchObject({ kind: 'chain', expected: earlier.manifestHash, found: 'none', action: 'report' })
    expect(String(final.at(-1)?.details.message)).toContain(`the final epoch before it in ${registry} is epoch ${sealed.epoch - 1}`)
  })

  it('a proposal giving a non-staker a 1-wei stake is challenged and revoked by a watcher without any role', async () => {
    const { epoch: invented, user } = await sealWithInventedStake()
    const { registry, fromBlock } = await freshRegistry(devnet.accounts[2]!)
    await proposeEpoch(devnet.clients, registry, invented)
    // A watcher with no key reports it; any watcher with a key (here one with no role at all) proves it on chain.
    const reported = await watchOnce(registry, fromBlock, undefined, { epochsDir: dirname(invented.dir) })
    expect(events(reported)).toEqual(['proposed', 'discrepancy'])
    expect(reported.find((r) => r.event === 'discrepancy')!.details).toMatchObject({ kind: 'stake', action: 'report' })
    const watcher = devnet.accounts[3]!
    const records = await watchOnce(registry, fromBlock, watcher, { epochsDir: dirname(invented.dir) })
    expect(events(records)).toEqual(['proposed', 'discrepancy', 'challenged'])
    expect(records.find((r) => r.event === 'discrepancy')!.details).toMatchObject({ kind: 'stake', action: 'challenge' })
    expect(records.at(-1)!.details).toMatchObject({ account: watcher, user: user.toLowerCase(), committed: '1', actual: '0' })
    expect(await hasPending(registry)).toBe(false)
    const judge = getContract({ abi: EpochJudge.abi, address: await judgeOf(devnet.clients.public, registry), client: { public: devnet.clients.public } })
    const [challenged] = await judge.getEvents.EpochFaultProven({}, { fromBlock })
    expect(challenged?.args).toMatchObject({ epoch: BigInt(sealed.epoch), challenger: watcher, fault: FAULT.Stake, committed: 1n, expected: 0n })
    // The honest directory of the same epoch is then proposed and passes.
    await proposeEpoch(devnet.clients, registry, sealed)
    expect(events(await watchOnce(registry, fromBlock, watcher)).slice(-2)).toEqual(['proposed', 'ok'])
  })

  it('a guardian watcher whose challenge cannot be sent (its node refuses the transaction) revokes with the role instead', async () => {
    const { epoch: invented } = await sealWithInventedStake()
    const guardian = devnet.accounts[2]!
    const { registry, fromBlock } = await freshRegistry(guardian)
    await proposeEpoch(devnet.clients, registry, invented)
    // A node refusing every transaction but `revoke`, as one refuses a transaction past its gas or size cap.
    const wallet = devnet.clientsFor(guardian).wallet
    const refusing = new Proxy(wallet, {
      get: (target, key, receiver) =>
        key === 'writeContract' ? (args: { functionName: string }) => (args.functionName === 'revoke' ? target.writeContract(args as never) : Promise.reject(new Error('transaction too large'))) : Reflect.get(target, key, receiver),
    })
    const records = await watchOnce(registry, fromBlock, guardian, { epochsDir: dirname(invented.dir), wallet: refusing })
    expect(events(records)).toEqual(['proposed', 'discrepancy', 'error', 'revoked'])
    expect(records.find((r) => r.event === 'error')!.details).toMatchObject({ step: 'challenge', fault: 'stake', fallback: 'revoke with the guardian role' })
    expect(await hasPending(registry)).toBe(false)
  })

  it('a proposal raising one reward by a unit, its trees and ledger consistent, is revoked through the judge by a watcher without any role', async () => {
    const { epoch: invented, account } = await sealWithInventedReward()
    const { registry, fromBlock } = await freshRegistry(devnet.accounts[2]!)
    await proposeEpoch(devnet.clients, registry, invented)
    const watcher = devnet.accounts[3]!
    const records = await watchOnce(registry, fromBlock, watcher, { epochsDir: dirname(invented.dir) })
    expect(events(records)).toEqual(['proposed', 'discrepancy', 'challenged'])
    expect(records.find((r) => r.event === 'discrepancy')!.details).toMatchObject({ action: 'challenge' })
    expect(records.at(-1)!.details).toMatchObject({ account: watcher, fault: 'ledger', call: 'challengeReward' })
    expect(String(records.at(-1)!.details.what)).toContain(account.toLowerCase())
    const judge = getContract({ abi: EpochJudge.abi, address: await judgeOf(devnet.clients.public, registry), client: { public: devnet.clients.public } })
    const [proven] = await judge.getEvents.EpochFaultProven({}, { fromBlock })
    expect(proven?.args.fault).toBe(FAULT.Reward)
    expect((proven?.args.committed ?? 0n) - (proven?.args.expected ?? 0n)).toBe(1n)
    expect(await hasPending(registry)).toBe(false)
    // The honest directory of the same epoch is then proposed, and the judge finds nothing in it.
    await proposeEpoch(devnet.clients, registry, sealed)
    expect(await findLedgerChallenge(devnet.clients.public, registry, sealed.dir, undefined)).toBeUndefined()
    expect(events(await watchOnce(registry, fromBlock, watcher)).slice(-2)).toEqual(['proposed', 'ok'])
  })

  it('a watcher without a directory fetches the artifacts from the URL the proposal names, and audits only the proposal\'s bytes', async () => {
    // A publisher's file server: the sealed directory as written, and a second copy with report.json changed.
    const files = new Map<string, Buffer>()
    for (const name of await readdir(demo.epochDir)) files.set(`/sealed/${name}`, await readFile(join(demo.epochDir, name)))
    for (const [path, content] of [...files]) files.set(path.replace('/sealed/', '/changed/'), path.endsWith('/report.json') ? changedByte(content) : content)
    const server = createServer((req, res) => {
      const body = files.get(req.url ?? '')
      if (body) res.writeHead(200, { 'content-length': body.length }).end(body)
      else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      const watcher = devnet.accounts[1]!
      const cacheDir = await mkdtemp(join(out, 'cache-'))
      let { registry, fromBlock } = await freshRegistry(watcher)
      await proposeEpoch(devnet.clients, registry, sealed, { artifacts: `${base}/sealed/` })
      const records = await watchOnce(registry, fromBlock, watcher, { epochsDir: undefined, cacheDir })
      expect(events(records)).toEqual(['proposed', 'ok'])
      expect(records[0]!.details.artifacts).toBe(`${base}/sealed/`)
      expect(String(records.at(-1)!.details.dir)).toContain(cacheDir)
      expect(records.some((r) => r.event === 'check' && /^receipts: 20 signatures verified/.test(String(r.details.check)))).toBe(true)

      // Served bytes that are not the manifest's are waited for like a directory still syncing, never audited.
      ;({ registry, fromBlock } = await freshRegistry(watcher))
      await proposeEpoch(devnet.clients, registry, sealed, { artifacts: `${base}/changed/` })
      const changed = await watchOnce(registry, fromBlock, watcher, { epochsDir: undefined, cacheDir: await mkdtemp(join(out, 'cache-')) })
      expect(events(changed)).toEqual(['proposed', 'missing-artifacts'])
      expect(changed[1]!.details).toMatchObject({ action: 'wait', missing: expect.stringContaining('report.json is not the file the proposed manifest lists') })
      // The local directory, when it is the proposal's, is preferred to the URL.
      expect(events(await watchOnce(registry, fromBlock, watcher))).toEqual(['proposed', 'ok'])
      // Past the grace period, a proposal whose artifacts are served nowhere is revoked by a guardian.
      await devnet.increaseTime(TIMELOCK / 2)
      const revoked = await watchOnce(registry, fromBlock, watcher, { epochsDir: undefined, cacheDir: await mkdtemp(join(out, 'cache-')) })
      expect(events(revoked)).toEqual(['proposed', 'missing-artifacts', 'revoked'])
      expect(await hasPending(registry)).toBe(false)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('a proposal mined in blocks a reorganisation replaced is still seen (the latest blocks are read again)', async () => {
    const watcher = devnet.accounts[1]!
    // Poll 1 passes the honest proposal; between polls the chain reorganises to a dishonest proposal at the same height.
    const run = async (reorgDepth: bigint) => {
      const { registry, fromBlock } = await freshRegistry(watcher)
      const beforeProposal = await rpc<string>('evm_snapshot')
      await proposeEpoch(devnet.clients, registry, sealed)
      const records = await watchPolls(
        registry,
        fromBlock,
        watcher,
        async (poll) => {
          if (poll > 1) return false
          expect(await rpc<boolean>('evm_revert', [beforeProposal])).toBe(true)
          await proposeDishonest(registry)
          return true
        },
        { reorgDepth },
      )
      return { records, pending: await hasPending(registry) }
    }
    // Reading only new blocks, the replacement (at a height already read) goes unseen and would finalize.
    const blind = await run(0n)
    expect(events(blind.records)).toEqual(['proposed', 'ok'])
    expect(blind.pending).toBe(true)
    const { records, pending } = await run(64n)
    expect(events(records)).toEqual(['proposed', 'ok', 'proposed', 'discrepancy', 'revoked'])
    expect(records.filter((r) => r.event === 'proposed').map((r) => r.details.block)).toEqual([records[0]!.details.block, records[0]!.details.block])
    expect(pending).toBe(false)
  })

  it('a revocation that a reorganisation drops is noticed at the next poll and sent again', async () => {
    const watcher = devnet.accounts[1]!
    const { registry, fromBlock } = await freshRegistry(watcher)
    await proposeDishonest(registry)
    const beforeRevocation = await rpc<string>('evm_snapshot')
    const records = await watchPolls(registry, fromBlock, watcher, async (poll) => {
      // The block holding the watcher's revocation is replaced: the proposal is pending again.
      if (poll === 1) expect(await rpc<boolean>('evm_revert', [beforeRevocation])).toBe(true)
      return poll < 3
    })
    expect(events(records)).toEqual(['proposed', 'discrepancy', 'revoked', 'reorged', 'discrepancy', 'revoked'])
    expect(records.find((r) => r.event === 'reorged')!.details).toMatchObject({ action: 'revoke', transaction: records.find((r) => r.event === 'revoked')!.details.transaction })
    expect(await hasPending(registry)).toBe(false)
  })

  it('a proposal of an epoch no sealed directory can hold (past 2^32) is refused by the registry, not lost', async () => {
    const guardian = devnet.accounts[1]!
    const { registry } = await freshRegistry(guardian)
    const chainId = await devnet.clients.public.getChainId()
    const far = 2n ** 53n + 1n
    // The registry itself refuses an epoch that has not ended (EpochRegistryEpochNotEnded): nothing to revoke.
    await expect(distributorAt(devnet.clients, registry).write.propose([far, commitmentOf(sealed, chainId, registry), ''])).rejects.toThrow('EpochRegistryEpochNotEnded')
    expect(await hasPending(registry)).toBe(false)
  })

  it('fomo watch --help', async () => {
    let text = ''
    const code = await main(['watch', '--help'], { stdout: (t) => (text += t), stderr: () => undefined, env: {}, cwd: out, interactive: false })
    expect(code).toBe(0)
    expect(text).toContain('--from-block')
    expect(text).toContain('GUARDIAN_ROLE')
  })
})
