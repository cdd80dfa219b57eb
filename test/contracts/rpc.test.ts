/** fomo deploy, publish and claim against a real JSON-RPC node (Hardhat's node on loopback) through the CLI. */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPublicClient, getAddress, getContract, http, type Address } from 'viem'
import { RewardDistributor, TestToken } from '../../src/chain/contracts.generated.ts'
import { movedSpendFiles } from '../movedSpend.ts'
import { openStore } from '../../src/aggregator/store.ts'
import { writeEpochDirectory } from '../../src/epoch/directory.ts'
import { ReceiptColumns } from '../../src/receipts/columns.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { rpcClients } from '../../src/chain/rpc.ts'
import { fomo, startHardhatNode } from '../helpers.ts'
import { configJson, type AggregatorConfig } from '../../src/epoch/config.ts'
import { freshLocation } from '../aggregator/stores.ts'
import { EPOCH, PROVIDER_KEYS, receipt, signed, worldConfig } from '../aggregator/world.ts'

// Hardhat's first development account: a public test key.
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
let node: ChildProcess
let rpc: string

beforeAll(async () => {
  const port = 30000 + (process.pid % 20000)
  ;({ node, rpc } = await startHardhatNode(port))
}, 60_000)

afterAll(() => {
  node?.kill('SIGKILL')
})

/**
 * What a registry needs before an epoch of `config` can be published: each deployment's MT and MTStaking (no stakes,
 * the circulating supply set), its inputs read from those contracts at a past block, and the configuration naming
 * them written to a file and pinned with `fomo pin`.
 */
async function onChainInputs(config: AggregatorConfig, distributor: Address, env: Record<string, string>) {
  const c = await rpcClients(rpc, KEY)
  const { deployStaking, deployTestToken } = await import('../../src/chain/contracts.ts')
  const { MTStaking } = await import('../../src/chain/contracts.generated.ts')
  const { readStakeSnapshot } = await import('../../src/chain/stakes.ts')
  const deployments = []
  for (const d of config.deployments) {
    const mt = await deployTestToken(c, `MT ${d.name}`, 'MT', 18)
    const staking = await deployStaking(c, mt, c.wallet.account.address, 3000n, 2n, 1n)
    const hash = await getContract({ abi: MTStaking.abi, address: staking, client: { wallet: c.wallet } }).write.setCirculatingSupply([600_000n * 10n ** 18n])
    await c.public.waitForTransactionReceipt({ hash })
    deployments.push({ ...d, mtToken: mt.toLowerCase() as Address, staking: staking.toLowerCase() as Address })
  }
  const pinned = { ...config, deployments }
  await c.public.request({ method: 'hardhat_mine', params: ['0x2'] } as never)
  const block = (await c.public.getBlockNumber({ cacheTime: 0 })) - 1n
  const inputs = new Map()
  for (const d of deployments) {
    const snapshot = await readStakeSnapshot(c, d.staking, block)
    inputs.set(d.id, { opex: 0n, circulatingSupply: snapshot.circulatingSupply, stakes: snapshot.stakes, snapshot: { staking: d.staking, block } })
  }
  const file = join(await mkdtemp(join(tmpdir(), 'fomo-config-')), 'aggregator.json')
  await writeFile(file, JSON.stringify(configJson(pinned)))
  const pin = await fomo(['pin', '--config', file, '--rpc', rpc, '--distributor', distributor], { env })
  expect(pin.code, pin.stderr).toBe(0)
  expect(JSON.parse(pin.stdout)).toMatchObject({ pinned: true, readyAt: null })
  return { config: pinned, inputs: { epoch: EPOCH, deployments: inputs } }
}

/** The epoch `docs` make under `config` and `inputs`, sealed on an embedded store and written to a directory. */
async function sealEpoch(config: AggregatorConfig, inputs: Parameters<Awaited<ReturnType<typeof openStore>>['setEpochInputs']>[0], docs: ReadonlyArray<ReturnType<typeof signed>>) {
  const store = await openStore(await freshLocation('pglite'))
  await store.setConfig(config)
  await store.setEpochInputs(inputs)
  const columns = new ReceiptColumns(docs.length)
  const verifier = new ReceiptVerifier({ domain: config.domain })
  docs.forEach((d, i) => verifier.verifyInto(d, columns, i))
  await store.insertReceipts(columns, docs.map((_, index) => ({ index })))
  const sealed = await store.seal(EPOCH)
  await store.close()
  return { sealed, dir: await writeEpochDirectory(await mkdtemp(join(tmpdir(), 'fomo-rpc-')), EPOCH, sealed.files) }
}

describe('fomo deploy, publish, claim over JSON-RPC', () => {
  it('deploys, publishes a sealed epoch, finalizes it after the timelock and claims', async () => {
    const env = { FOMO_PRIVATE_KEY: KEY }
    const deployed = await fomo(['deploy', '--rpc', rpc, '--timelock', '1', '--test-tokens'], { env })
    expect(deployed.code, deployed.stderr).toBe(0)
    const deployment = JSON.parse(deployed.stdout) as { distributor: Address; chainId: number; tokens: { flock: Address; usdc: Address } }

    // An epoch sealed by the aggregator for this chain and these tokens.
    const base = worldConfig()
    const { config, inputs } = await onChainInputs({ ...base, domain: { ...base.domain, chainId: deployment.chainId, verifyingContract: deployment.distributor.toLowerCase() as Address }, tokens: { flock: deployment.tokens.flock.toLowerCase() as Address, usdc: deployment.tokens.usdc.toLowerCase() as Address } }, deployment.distributor, env)
    const { sealed, dir } = await sealEpoch(config, inputs, Array.from({ length: 8 }, (_, i) => signed(receipt(i), config)))

    const args = ['--rpc', rpc, '--distributor', deployment.distributor]
    const proposed = await fomo(['publish', dir, ...args], { env })
    expect(proposed.code, proposed.stderr).toBe(0)
    expect(JSON.parse(proposed.stdout)).toMatchObject({ epoch: EPOCH, proposed: true, rewardRoot: sealed.rewardRoot })
    const finalized = await fomo(['publish', dir, '--finalize', ...args], { env })
    expect(finalized.code, finalized.stderr).toBe(0)
    expect(JSON.parse(finalized.stdout)).toMatchObject({ finalized: true, rewardRoot: sealed.rewardRoot })

    // Fund the distributor, then claim the issuer's USDC yield and FLOCK bonus on its behalf.
    const c = await rpcClients(rpc, KEY)
    for (const token of [deployment.tokens.flock, deployment.tokens.usdc]) {
      const hash = await getContract({ abi: TestToken.abi, address: token, client: { wallet: c.wallet } }).write.mint([deployment.distributor, 10n ** 30n])
      await c.public.waitForTransactionReceipt({ hash })
    }
    const issuer = config.deployments[0]!.issuer
    const dry = await fomo(['claim', '--account', issuer, '--epoch-dir', dir, '--dry-run', ...args], { env })
    const owed = JSON.parse(dry.stdout).tokens as Array<{ token: string; claimable: string }>
    expect(owed.length).toBeGreaterThan(0)
    const claimed = await fomo(['claim', '--account', issuer, '--epoch-dir', dir, ...args], { env })
    expect(claimed.code, claimed.stderr).toBe(0)
    const publicClient = createPublicClient({ transport: http(rpc) })
    for (const o of owed) expect(await getContract({ abi: TestToken.abi, address: o.token as Address, client: { public: publicClient } }).read.balanceOf([issuer])).toBe(BigInt(o.claimable))
    // A second claim has nothing left to pay and sends no transaction.
    expect(JSON.parse((await fomo(['claim', '--account', issuer, '--epoch-dir', dir, ...args], { env })).stdout).transaction).toBeNull()
  }, 120_000)

  it('a registry that requires proofs: fomo prove, publish with the proofs, audit against the chain', async () => {
    const env = { FOMO_PRIVATE_KEY: KEY }
    const deployed = await fomo(['deploy', '--rpc', rpc, '--timelock', '1', '--test-tokens', '--test-verifier'], { env })
    expect(deployed.code, deployed.stderr).toBe(0)
    const deployment = JSON.parse(deployed.stdout) as { distributor: Address; verifier: Address; chainId: number; tokens: { flock: Address; usdc: Address } }
    expect(deployment.verifier).toMatch(/^0x[0-9a-fA-F]{40}$/)
    const base = worldConfig()
    const { config, inputs } = await onChainInputs({ ...base, domain: { ...base.domain, chainId: deployment.chainId, verifyingContract: deployment.distributor.toLowerCase() as Address }, tokens: { flock: deployment.tokens.flock.toLowerCase() as Address, usdc: deployment.tokens.usdc.toLowerCase() as Address } }, deployment.distributor, env)
    const location = await freshLocation('pglite')
    const store = await openStore(location)
    await store.setConfig(config)
    const docs = Array.from({ length: 6 }, (_, i) => signed(receipt(i, { deployment: (i % 2) as 0 | 1, user: i % 3 }), config))
    const columns = new ReceiptColumns(docs.length)
    const verifier = new ReceiptVerifier({ domain: config.domain })
    docs.forEach((d, i) => verifier.verifyInto(d, columns, i))
    await store.insertReceipts(columns, docs.map((_, index) => ({ index })))
    await store.setEpochInputs(inputs)
    const sealed = await store.seal(EPOCH)
    await store.close()
    const root = await mkdtemp(join(tmpdir(), 'fomo-proven-'))
    const dir = await writeEpochDirectory(join(root, 'epochs'), EPOCH, sealed.files)
    const exported = await fomo(['export-receipts', '--epoch', String(EPOCH), '--out', join(root, 'receipts.ndjson'), '--data-dir', location.dataDir!])
    expect(exported.code, exported.stderr).toBe(0)

    const args = ['--rpc', rpc, '--distributor', deployment.distributor]
    const unproven = await fomo(['publish', dir, ...args], { env })
    expect(unproven.code).toBe(1)
    expect(unproven.stderr).toContain('requires batch proofs')
    // Proving needs every provider's attestation: each signs its receipts of the epoch (fomo attest).
    const unattested = await fomo(['prove', dir, '--receipts', join(root, 'receipts.ndjson')])
    expect(unattested.code).toBe(1)
    expect(unattested.stderr).toMatch(/no attestations of provider 0x[0-9a-f]{40} of deployment/)
    // Each provider also records its attestations on the registry from its own account (given gas money here), so that
    // no proposal can leave its receipts out; recording again is a no-op.
    const attestations: string[] = []
    const funder = await rpcClients(rpc, KEY)
    for (const [i, key] of PROVIDER_KEYS.slice(0, 2).entries()) {
      const account = (await rpcClients(rpc, key)).wallet.account.address
      await funder.public.waitForTransactionReceipt({ hash: await funder.wallet.sendTransaction({ to: account, value: 10n ** 18n }) })
      const out = join(root, `attest-${i}.ndjson`)
      const attest = ['attest', '--receipts', join(root, 'receipts.ndjson'), '--epoch', String(EPOCH), '--config', join(dir, 'config.json'), '--out', out, '--rpc', rpc]
      const attested = await fomo(attest, { env: { FOMO_PRIVATE_KEY: key } })
      expect(attested.code, attested.stderr).toBe(0)
      const recorded = JSON.parse(attested.stdout).attestations as Array<{ recorded: string }>
      expect(recorded.length).toBeGreaterThan(0)
      for (const r of recorded) expect(r.recorded).toMatch(/^0x[0-9a-f]{64}$/)
      // The file is kept unless --force; the chain records nothing twice.
      const again = await fomo([...attest, '--force'], { env: { FOMO_PRIVATE_KEY: key } })
      expect(JSON.parse(again.stdout).attestations.map((r: { recorded: string }) => r.recorded)).toEqual(recorded.map(() => 'already'))
      attestations.push('--attestations', out)
    }
    const proved = await fomo(['prove', dir, '--receipts', join(root, 'receipts.ndjson'), ...attestations])
    expect(proved.code, proved.stderr).toBe(0)

    // First, the same proofs proposed beside spend moved from one user to another (one unit of gross and charged,
    // every total kept, so the registry takes them): a watcher with any key and no role revokes it on chain, from the
    // published proofs alone (EpochJudge.challengeSpendRows).
    const { files, from } = await movedSpendFiles(dir)
    const movedEpochs = join(root, 'moved', 'epochs')
    const movedDir = await writeEpochDirectory(movedEpochs, EPOCH, files)
    await cp(join(dir, 'proofs.json'), join(movedDir, 'proofs.json'))
    const chain = createPublicClient({ transport: http(rpc) })
    const fromBlock = await chain.getBlockNumber({ cacheTime: 0 })
    const proposedMoved = await fomo(['publish', movedDir, ...args], { env })
    expect(proposedMoved.code, proposedMoved.stderr).toBe(0)
    // Hardhat's second development account (a public test key): no role on the registry.
    const watcher = { FOMO_PRIVATE_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' }
    const watched = await fomo(['watch', '--rpc', rpc, '--registry', deployment.distributor, '--epochs', movedEpochs, '--from-block', String(fromBlock), '--once', '--vkey', join(fileURLToPath(new URL('../../fixtures/zk', import.meta.url)), 'receipt_batch_4.verification_key.json')], { env: watcher })
    expect(watched.stdout, watched.stderr).toMatch(/"challenged"/)
    const records = watched.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; details: Record<string, unknown> })
    expect(records.find((r) => r.event === 'discrepancy')?.details).toMatchObject({ kind: 'spend-leaf', action: 'challenge' })
    expect(records.find((r) => r.event === 'challenged')?.details, watched.stdout + watched.stderr).toMatchObject({ fault: 'spend-rows', deploymentId: from.deploymentId, user: from.user, committed: (from.gross - 1n).toString(), provenGross: from.gross.toString() })
    const registryRead = getContract({ abi: RewardDistributor.abi, address: deployment.distributor, client: { public: chain } })
    expect(await registryRead.read.hasPending()).toBe(false)

    const published = await fomo(['publish', dir, ...args], { env })
    expect(published.code, published.stderr).toBe(0)
    expect(JSON.parse(published.stdout)).toMatchObject({ proposed: true, proofsHash: JSON.parse(proved.stdout).proofsHash, proofs: JSON.parse(proved.stdout).batches })

    const audited = await fomo(['audit', dir, '--receipts', join(root, 'receipts.ndjson'), '--rpc', rpc, '--registry', deployment.distributor])
    expect(audited.code, audited.stdout + audited.stderr).toBe(0)
    expect(audited.stdout).toMatch(/ok {7}chain: the pending commitment of epoch 20000 in 0x[0-9a-fA-F]{40} equals the directory's/)
    expect(audited.stdout).toContain('chain: every attestation recorded on chain for epoch 20000 is proven whole by its proofs')
    expect((await fomo(['publish', dir, '--finalize', ...args], { env })).code).toBe(0)
    expect((await fomo(['audit', dir, '--rpc', rpc, '--registry', deployment.distributor])).stdout).toContain('chain: the final commitment')
    // A registry where this epoch was never published.
    const other = JSON.parse((await fomo(['deploy', '--rpc', rpc, '--timelock', '1'], { env })).stdout) as { distributor: Address }
    const missing = await fomo(['audit', dir, '--rpc', rpc, '--registry', other.distributor])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toMatch(/DISCREPANCY \(chain\) epoch 20000 is neither final nor pending in registry/)
  }, 180_000)

  it('reads an epoch\'s stake snapshot from an MTStaking contract at a block', async () => {
    const c = await rpcClients(rpc, KEY)
    const { deployStaking, deployTestToken } = await import('../../src/chain/contracts.ts')
    const { MTStaking } = await import('../../src/chain/contracts.generated.ts')
    const me = c.wallet.account.address
    const mt = await deployTestToken(c, 'MT', 'MT', 18)
    // A small eligibility window: a stake counts at a snapshot block once held for the WINDOW blocks before it.
    const WINDOW = 3n
    const staking = await deployStaking(c, mt, me, 3000n, 2n, WINDOW)
    const mine = (blocks: bigint) => c.public.request({ method: 'hardhat_mine', params: [`0x${blocks.toString(16)}`] } as never)
    const send = async (hash: Promise<`0x${string}`>) => c.public.waitForTransactionReceipt({ hash: await hash })
    const token = getContract({ abi: TestToken.abi, address: mt, client: { wallet: c.wallet } })
    const stakingContract = getContract({ abi: MTStaking.abi, address: staking, client: { wallet: c.wallet, public: c.public } })
    await send(token.write.mint([me, 10n ** 24n]))
    await send(token.write.approve([staking, 10n ** 24n]))
    await send(stakingContract.write.setCirculatingSupply([600_000n * 10n ** 18n]))
    // Block numbers from receipts, not getBlockNumber: viem caches the block number for a few seconds.
    const staked = (await send(stakingContract.write.stake([50_000n * 10n ** 18n]))).blockNumber
    // The snapshot block: the stake was held over its whole window [block - WINDOW, block].
    await mine(WINDOW)
    const block = staked + WINDOW
    const afterUnstake = (await send(stakingContract.write.unstake([10_000n * 10n ** 18n]))).blockNumber
    expect(afterUnstake).toBe(block + 1n)
    // X changed after the snapshot: the snapshot keeps its X (checkpointed), a later block has the new one.
    const reparametrized = (await send(stakingContract.write.setDiscountParameters([2500n, 2n]))).blockNumber
    // A staking contract of another token: an aggregator could record it and answer made-up stakes through it.
    const otherStaking = await deployStaking(c, await deployTestToken(c, 'Not the MT', 'NOPE', 18), me, 3000n, 2n, WINDOW)
    // Snapshot reads need a strictly past block.
    await mine(1n)

    const base = worldConfig()
    // The deployment's MT is the token the staking contract stakes.
    const config = { ...base, deployments: base.deployments.map((d, i) => (i === 0 ? { ...d, mtToken: mt.toLowerCase() as Address } : d)) }
    const location = await freshLocation('pglite')
    const store = await openStore(location)
    await store.setConfig(config)
    await store.close()
    const dir = await mkdtemp(join(tmpdir(), 'fomo-inputs-'))
    const deploymentId = config.deployments[0]!.id
    await writeFile(join(dir, 'opex.json'), JSON.stringify({ format: 'fomo-epoch-inputs-v1', epoch: EPOCH, deployments: { [deploymentId]: { opex: '12.5' } } }))
    const r = await fomo(['inputs', '--in', join(dir, 'opex.json'), '--rpc', rpc, '--block', String(block), '--staking', `${deploymentId}=${staking}`, '--data-dir', location.dataDir!])
    expect(r.code, r.stderr).toBe(0)
    const check = await openStore(location)
    const stored = await check.epochInputs(EPOCH)
    await check.close()
    expect(stored.deployments).toEqual(
      new Map([[deploymentId, { opex: 12_500_000n, circulatingSupply: 600_000n * 10n ** 18n, stakes: new Map([[me.toLowerCase(), 50_000n * 10n ** 18n]]), snapshot: { staking: staking.toLowerCase(), block } }]]),
    )

    // The auditor checks the sealed epoch's inputs.json against the same contract: equal at the snapshot block, and
    // a stake named with both values at a later block (after the unstake).
    const sealing = await openStore(location)
    const sealed = await sealing.seal(EPOCH)
    await sealing.close()
    const epochDir = await writeEpochDirectory(dir, EPOCH, sealed.files)
    const audit = (at: bigint) => fomo(['audit', epochDir, '--rpc', rpc, '--block', String(at), '--staking', `${deploymentId}=${staking}`])
    const same = await audit(block)
    expect(same.code, same.stdout + same.stderr).toBe(0)
    expect(same.stdout).toContain(`ok       stakes: deployment ${deploymentId}, MTStaking ${getAddress(staking)} at block ${block}: X, M, circulating supply and the eligible stakes of 1 accounts equal config.json's and inputs.json's`)
    // inputs.json records where the snapshot was read: --rpc alone checks it there, with no block or contract to give.
    expect(JSON.parse(await readFile(join(epochDir, 'inputs.json'), 'utf8')).deployments[deploymentId].snapshot).toEqual({ staking: staking.toLowerCase(), block: String(block) })
    const recorded = await fomo(['audit', epochDir, '--rpc', rpc])
    expect(recorded.code, recorded.stdout + recorded.stderr).toBe(0)
    expect(recorded.stdout).toContain(`ok       stakes: deployment ${deploymentId}, MTStaking ${staking.toLowerCase()} at block ${block}: X, M, circulating supply and the eligible stakes of 1 accounts equal`)
    const later = await audit(afterUnstake)
    expect(later.code, later.stdout).toBe(1)
    expect(later.stdout).toContain(`DISCREPANCY (stake) deployment ${deploymentId}, MTStaking ${getAddress(staking)} at block ${afterUnstake}: eligible stake of ${me.toLowerCase()}: expected ${40_000n * 10n ** 18n} (on chain), found ${50_000n * 10n ** 18n} (inputs.json)`)
    const reparametrizedAudit = await audit(reparametrized)
    expect(reparametrizedAudit.code, reparametrizedAudit.stdout).toBe(1)
    expect(reparametrizedAudit.stdout).toContain(`DISCREPANCY (stake) deployment ${deploymentId}, MTStaking ${getAddress(staking)} at block ${reparametrized}: discount parameters: expected X = 2500 bps, M = 2 (on chain), found X = 3000 bps, M = 2 (config.json)`)
    // A snapshot one block before the stake had been held for the whole window: no eligible stake.
    const early = await audit(block - 1n)
    expect(early.code, early.stdout).toBe(1)
    expect(early.stdout).toContain(`eligible stake of ${me.toLowerCase()}: expected 0 (on chain), found ${50_000n * 10n ** 18n} (inputs.json)`)
    const impostor = await fomo(['audit', epochDir, '--rpc', rpc, '--block', String(block), '--staking', `${deploymentId}=${otherStaking}`])
    expect(impostor.code, impostor.stdout).toBe(1)
    expect(impostor.stdout).toContain(`DISCREPANCY (stake) deployment ${deploymentId}, MTStaking ${getAddress(otherStaking)} at block ${block}: staked token: expected ${mt.toLowerCase()} (the deployment's MT in config.json)`)
    const unpaired = await fomo(['audit', epochDir, '--rpc', rpc, '--staking', `${deploymentId}=${staking}`])
    expect(unpaired.code).toBe(2)
    expect(unpaired.stderr).toContain('--staking and --block go together')
  })

  it('fomo settle pays a sealed epoch\'s revenue once (again pays nothing), fomo buyback runs the buybacks, fomo stake and unstake', async () => {
    const env = { FOMO_PRIVATE_KEY: KEY }
    const c = await rpcClients(rpc, KEY)
    const me = c.wallet.account.address
    const { deploy, deployTestToken } = await import('../../src/chain/contracts.ts')
    const { BurnableTestToken } = await import('../../src/chain/contracts.generated.ts')
    const { deployUniswapV2, addLiquidity } = await import('../../src/chain/uniswap.ts')
    const { deploySettlement, grantSettlementRole, readPaid, readSettlementDeployment, setDeployment } = await import('../../src/chain/settlement.ts')
    const { spendLeafOf } = await import('../../src/epoch/spend.ts')
    const { StandardTree } = await import('../../src/merkle/tree.ts')
    const mintTo = async (token: Address, amount: bigint) => c.public.waitForTransactionReceipt({ hash: await getContract({ abi: TestToken.abi, address: token, client: { wallet: c.wallet } }).write.mint([me, amount]) })
    const balance = (token: Address, owner: Address) => getContract({ abi: TestToken.abi, address: token, client: { public: c.public } }).read.balanceOf([owner])
    const usdc = await deployTestToken(c, 'USDC', 'USDC', 6)
    const flock = await deployTestToken(c, 'FLOCK', 'FLOCK', 18)
    const uni = await deployUniswapV2(c, { feeToSetter: me })
    const treasury = getAddress('0x000000000000000000000000000000000000dEaD')
    const providers = getAddress('0x00000000000000000000000000000000000Cafe0')
    const settlement = await deploySettlement(c, { usdc, flock, router: uni.router, treasury, distributor: me, admin: me, maxOpexBps: 6000n })
    await grantSettlementRole(c, settlement, 'payer', me)
    await grantSettlementRole(c, settlement, 'keeper', me)

    // An epoch sealed with OpEx recorded per deployment (half of each one's charged revenue).
    const deployed = JSON.parse((await fomo(['deploy', '--rpc', rpc, '--timelock', '1'], { env })).stdout) as { distributor: Address; chainId: number }
    const base = worldConfig()
    const { config, inputs } = await onChainInputs({ ...base, domain: { ...base.domain, chainId: deployed.chainId, verifyingContract: deployed.distributor.toLowerCase() as Address } }, deployed.distributor, env)
    const receipts = Array.from({ length: 8 }, (_, i) => receipt(i, { deployment: (i % 2) as 0 | 1 }))
    const docs = receipts.map((r) => signed(r, config))
    const charged = new Map<string, bigint>()
    for (const r of receipts) charged.set(r.deploymentId, (charged.get(r.deploymentId) ?? 0n) + r.chargedAmount)
    for (const [id, d] of inputs.deployments) d.opex = (charged.get(id) ?? 0n) / 2n
    const { dir } = await sealEpoch(config, inputs, docs)
    const leaves = [...StandardTree.load(JSON.parse(await readFile(join(dir, 'spend-tree.json'), 'utf8'))).entries()].map(([, v]) => spendLeafOf(v))
    const due = new Map<string, bigint>()
    for (const l of leaves) due.set(l.deploymentId, (due.get(l.deploymentId) ?? 0n) + l.charged)
    expect(due.size).toBe(2)

    // Each deployment's Model Token (burnable) and pools: USDC/FLOCK and MT/FLOCK.
    const mts = new Map<string, Address>()
    for (const id of due.keys()) {
      const mt = await deploy(c, BurnableTestToken, ['MT', 'MT', 18])
      mts.set(id, mt)
      await setDeployment(c, settlement, id as `0x${string}`, mt)
      await mintTo(mt, 10n ** 24n)
    }
    await mintTo(usdc, 10n ** 15n)
    await mintTo(flock, 10n ** 26n)
    const deadline = (await c.public.getBlock()).timestamp + 600n
    for (const approve of [usdc, flock, ...mts.values()]) await c.public.waitForTransactionReceipt({ hash: await getContract({ abi: TestToken.abi, address: approve, client: { wallet: c.wallet } }).write.approve([uni.router, 2n ** 255n]) })
    await addLiquidity(c, uni.router, { tokenA: usdc, tokenB: flock, amountADesired: 10n ** 12n, amountBDesired: 2n * 10n ** 24n, amountAMin: 0n, amountBMin: 0n, to: me, deadline })
    for (const mt of mts.values()) await addLiquidity(c, uni.router, { tokenA: mt, tokenB: flock, amountADesired: 2n * 10n ** 23n, amountBDesired: 25n * 10n ** 21n, amountAMin: 0n, amountBMin: 0n, to: me, deadline })

    const args = ['--rpc', rpc, '--settlement', settlement]
    const missingOpexTo = await fomo(['settle', dir, ...args], { env })
    expect(missingOpexTo.code).toBe(1)
    expect(missingOpexTo.stderr).toContain('--opex-to')
    const settled = await fomo(['settle', dir, '--opex-to', providers, ...args], { env })
    expect(settled.code, settled.stderr).toBe(0)
    const out = JSON.parse(settled.stdout) as { payments: Array<{ deploymentId: string; charged: string; opex: string }> }
    expect(new Map(out.payments.map((p) => [p.deploymentId, [BigInt(p.charged), BigInt(p.opex)]]))).toEqual(new Map([...due].map(([id, v]) => [id, [v, v / 2n]])))
    const paid = await readPaid(c.public, settlement, BigInt(EPOCH), [...due.keys()] as `0x${string}`[])
    expect(paid.total).toBe([...due.values()].reduce((a, b) => a + b, 0n))
    expect(await balance(usdc, providers)).toBe([...due.values()].reduce((a, b) => a + b / 2n, 0n))
    // Paid: running it again pays nothing.
    expect(JSON.parse((await fomo(['settle', dir, '--opex-to', providers, ...args], { env })).stdout).payments).toEqual([])

    // The keeper's buybacks: FLOCK to the treasury, each deployment's MT burned.
    const flockBuyback = await fomo(['buyback', '--flock', ...args], { env })
    expect(flockBuyback.code, flockBuyback.stderr).toBe(0)
    expect(await balance(flock, treasury)).toBe(BigInt(JSON.parse(flockBuyback.stdout).amountOut))
    for (const [id, mt] of mts) {
      const supply = await getContract({ abi: TestToken.abi, address: mt, client: { public: c.public } }).read.totalSupply()
      const burn = await fomo(['buyback', '--deployment', id, '--slippage-bps', '50', ...args], { env })
      expect(burn.code, burn.stderr).toBe(0)
      const burned = BigInt(JSON.parse(burn.stdout).amountOut)
      expect(burned).toBeGreaterThan(0n)
      expect(await getContract({ abi: TestToken.abi, address: mt, client: { public: c.public } }).read.totalSupply()).toBe(supply - burned)
      expect((await readSettlementDeployment(c.public, settlement, id as `0x${string}`)).burnedMt).toBe(burned)
    }
    expect((await fomo(['buyback', '--flock', '--deployment', [...mts.keys()][0]!, ...args], { env })).code).toBe(2)

    // Staking from the key's own account.
    const staking = config.deployments[0]!.staking as Address
    const mt = config.deployments[0]!.mtToken as Address
    await mintTo(mt, 10n * 10n ** 18n)
    const staked = await fomo(['stake', '--staking', staking, '--amount', '10', '--rpc', rpc], { env })
    expect(staked.code, staked.stderr).toBe(0)
    expect(JSON.parse(staked.stdout)).toMatchObject({ stake: String(10n * 10n ** 18n) })
    const unstaked = await fomo(['unstake', '--staking', staking, '--amount', '4.5', '--rpc', rpc], { env })
    expect(JSON.parse(unstaked.stdout)).toMatchObject({ stake: String(55n * 10n ** 17n) })
    const tooMuch = await fomo(['unstake', '--staking', staking, '--amount', '6', '--rpc', rpc], { env })
    expect(tooMuch.code).toBe(1)
    expect(tooMuch.stderr).toContain('cannot unstake')
    expect((await fomo(['stake', '--staking', staking, '--amount', '-1', '--rpc', rpc], { env })).code).toBe(2)
  }, 180_000)

  it('fomo deploy with --router and --daily-emission: a registry wired to its revenue settlement and epoch funding', async () => {
    const env = { FOMO_PRIVATE_KEY: KEY }
    const c = await rpcClients(rpc, KEY)
    const { deployUniswapV2 } = await import('../../src/chain/uniswap.ts')
    const { RewardDistributor, RevenueSettlement, EpochFunding } = await import('../../src/chain/contracts.generated.ts')
    const { epochEmission } = await import('../../src/economics/emissions.ts')
    const uni = await deployUniswapV2(c, { feeToSetter: c.wallet.account.address })
    const treasury = getAddress('0x000000000000000000000000000000000000bEEF')
    const args = ['deploy', '--rpc', rpc, '--timelock', '1', '--test-tokens', '--router', uni.router, '--treasury', treasury, '--max-opex-bps', '6000', '--daily-emission', '20000']
    const deployed = await fomo(args, { env })
    expect(deployed.code, deployed.stderr).toBe(0)
    const d = JSON.parse(deployed.stdout) as { distributor: Address; revenueSettlement: Address; epochFunding: Address; tokens: { flock: Address; usdc: Address } }
    const read = <A extends readonly unknown[]>(abi: A, address: Address) => getContract({ abi: abi as never, address, client: { public: c.public } }) as unknown as { read: Record<string, (args?: unknown[]) => Promise<unknown>> }
    const registry = read(RewardDistributor.abi, d.distributor)
    expect(getAddress((await registry.read.revenueSettlement!()) as string)).toBe(getAddress(d.revenueSettlement))
    expect(getAddress((await registry.read.epochFunding!()) as string)).toBe(getAddress(d.epochFunding))
    const settlement = read(RevenueSettlement.abi, d.revenueSettlement)
    expect(getAddress((await settlement.read.distributor!()) as string)).toBe(getAddress(d.distributor))
    expect(await settlement.read.maxOpexBps!()).toBe(6000n)
    expect(getAddress((await settlement.read.treasury!()) as string)).toBe(treasury)
    const funding = read(EpochFunding.abi, d.epochFunding)
    expect(getAddress((await funding.read.distributor!()) as string)).toBe(getAddress(d.distributor))
    expect(await funding.read.emissionPerEpoch!()).toBe(epochEmission(20_000n * 10n ** 18n, 86_400n))
    // The pieces that need each other are asked for together.
    const noRouter = await fomo(['deploy', '--rpc', rpc, '--max-opex-bps', '10'], { env })
    expect(noRouter.code).toBe(2)
    expect(noRouter.stderr).toContain('--max-opex-bps needs --router')
    const noTokens = await fomo(['deploy', '--rpc', rpc, '--router', uni.router], { env })
    expect(noTokens.code).toBe(2)
    expect(noTokens.stderr).toContain('--flock and --usdc')
  }, 120_000)

  it('refuses a key on the command line and names a wrong RPC', async () => {
    const withKey = await fomo(['deploy', '--rpc', rpc, '--key', KEY])
    expect(withKey.code).toBe(2)
    expect(withKey.stderr).toContain("Unknown option '--key'")
    const unreachable = await fomo(['deploy', '--rpc', 'http://127.0.0.1:9'], { env: { FOMO_PRIVATE_KEY: KEY } })
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain('cannot reach the node at http://127.0.0.1:9')
  })
})
