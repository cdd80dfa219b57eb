/**
 * End to end on an in-process EVM: a user stakes MT; the gateway reads the user's discount from MTStaking at the
 * epoch's snapshot block; calls through the OpenAI client are receipted with it and forwarded to the aggregator, which
 * seals the epoch with the same snapshot (no receipt's discount differs from it); the epoch is published, finalized,
 * and the user claims its rewards.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress, getContract, type Address } from 'viem'
import { afterAll, expect, it } from 'vitest'
import type { Hex } from '../../src/base/bytes.ts'
import { claimAll, deployContracts, deployStaking, deployTestToken, finalizeEpoch, pinConfig, proposeEpoch } from '../../src/chain/contracts.ts'
import { MTStaking, TestToken } from '../../src/chain/contracts.generated.ts'
import { startDevnet } from '../../src/chain/devnet.ts'
import { claimsOf, readPublishedEpoch } from '../../src/chain/publication.ts'
import { readStakeSnapshot, stakeMt } from '../../src/chain/stakes.ts'
import type { DeploymentInputs } from '../../src/epoch/inputs.ts'
import { writeEpochDirectory } from '../../src/epoch/directory.ts'
import { chainStakes, snapshotBlockAt } from '../../src/gateway/discounts.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'
import { worldConfig } from '../aggregator/world.ts'
import { startStubUpstream } from '../../src/gateway/stubUpstream.ts'
import { CHAT_MODEL, DISCOUNT_BPS, startAggregator, startGateway, until, USER } from './world.ts'

const cleanup: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanup.reverse()) await c()
})

it('stake, call through the gateway, ingest, seal, publish and claim', async () => {
  const devnet = await startDevnet()
  const chain = devnet.clients
  const me = chain.wallet.account.address
  const send = async (hash: Promise<Hex>) => chain.public.waitForTransactionReceipt({ hash: await hash })
  const deployment = await deployContracts(chain, { admin: me, publisher: me, guardian: me, timelockSeconds: 60n, testTokens: true })
  const base = worldConfig()
  // Each deployment's MT and MTStaking (X = 3000, M = 2, a one-block window), 600,000 MT circulating.
  const deployments = []
  for (const d of base.deployments) {
    const mt = await deployTestToken(chain, `MT ${d.name}`, 'MT', 18)
    const staking = await deployStaking(chain, mt, me, 3000n, 2n, 1n)
    await send(getContract({ abi: MTStaking.abi, address: staking, client: { wallet: chain.wallet } }).write.setCirculatingSupply([600_000n * 10n ** 18n]))
    deployments.push({ ...d, mtToken: mt.toLowerCase() as Hex, staking: staking.toLowerCase() as Hex })
  }
  const config = {
    ...base,
    domain: { ...base.domain, chainId: deployment.chainId, verifyingContract: deployment.distributor.toLowerCase() as Hex },
    tokens: { flock: deployment.tokens!.flock.toLowerCase() as Hex, usdc: deployment.tokens!.usdc.toLowerCase() as Hex },
    deployments,
  }
  await pinConfig(chain, deployment.distributor, config)
  // The user stakes 50,000 of deployment A's MT: the paper's 1,666 bps.
  const a = deployments[0]!
  await send(getContract({ abi: TestToken.abi, address: a.mtToken, client: { wallet: chain.wallet } }).write.mint([USER, 50_000n * 10n ** 18n]))
  await stakeMt(await devnet.actAs(getAddress(USER)), a.staking, 50_000n * 10n ** 18n)
  await devnet.mine(2)
  // The next epoch starts on chain: its snapshot block is the last block before it.
  const latest = await chain.public.getBlock({ blockTag: 'latest' })
  const epoch = Number(latest.timestamp / 86_400n) + 1
  await devnet.increaseTime(Number(BigInt(epoch) * 86_400n + 10n - latest.timestamp))
  await devnet.mine(1)
  const snapshotBlock = await snapshotBlockAt(chain.public, BigInt(epoch) * 86_400n)
  expect(snapshotBlock).toBe(latest.number)

  // The gateway and the aggregator live an hour into that epoch.
  let clock = (BigInt(epoch) * 86_400n + 3_600n) * 1_000_000_000n
  const now = () => (clock += 1_000_000n)
  const aggregator = await startAggregator({ config, now })
  cleanup.push(aggregator.close)
  const upstream = await startStubUpstream({ record: false })
  cleanup.push(upstream.close)
  const gw = await startGateway(upstream, { config, now, stakes: chainStakes(chain.public, config), aggregator: { url: aggregator.url, retryMs: 20 } })
  cleanup.push(gw.close)

  const verifier = new ReceiptVerifier({ domain: config.domain })
  const client = gw.client()
  for (let i = 0; i < 6; i++) {
    const { response } = await client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: 'user', content: `question ${i}` }] }).withResponse()
    const { receipt } = verifier.verify(await client.get(`/receipts/${response.headers.get('fomo-receipt-digest')}`))
    expect(receipt).toMatchObject({ epoch, user: USER, discountBps: DISCOUNT_BPS })
  }
  await until(() => gw.service.forwarder!.drained, 20_000, 'the receipts to reach the aggregator')
  expect(await aggregator.store.epochStatus(epoch)).toMatchObject({ receipts: 6 })

  // The aggregator reads the same snapshot, seals, and finds every receipt's discount right.
  const inputs = new Map<Hex, DeploymentInputs>()
  for (const d of deployments) {
    const s = await readStakeSnapshot(chain, d.staking, snapshotBlock)
    inputs.set(d.id, { opex: 0n, circulatingSupply: s.circulatingSupply, stakes: s.stakes, snapshot: { staking: d.staking, block: snapshotBlock } })
  }
  await aggregator.store.setEpochInputs({ epoch, deployments: inputs })
  // Sealed once the epoch is over, on the same clock.
  const sealed = await aggregator.store.seal(epoch, { now: (BigInt(epoch + 1) * 86_400n + 60n) * 1_000_000_000n })
  const report = JSON.parse(new TextDecoder().decode(sealed.files.find((f) => f.name === 'report.json')!.content)) as { deployments: Array<{ discountMismatches: number }> }
  expect(report.deployments.map((d) => d.discountMismatches)).toEqual([0, 0])
  const dir = await writeEpochDirectory(await mkdtemp(join(tmpdir(), 'fomo-gateway-e2e-')), epoch, sealed.files)
  const published = await readPublishedEpoch(dir)

  await proposeEpoch(chain, deployment.distributor, published)
  await devnet.increaseTime(61)
  await finalizeEpoch(chain, deployment.distributor, epoch)
  const owed = claimsOf(published.rewardTree, getAddress(USER))
  expect(owed.length).toBeGreaterThan(0)
  for (const c of owed) await send(getContract({ abi: TestToken.abi, address: c.token as Address, client: { wallet: chain.wallet } }).write.mint([deployment.distributor, c.cumulative]))
  await claimAll(chain, deployment.distributor, published, getAddress(USER))
  for (const c of owed) expect(await chain.public.readContract({ address: c.token as Address, abi: TestToken.abi, functionName: 'balanceOf', args: [getAddress(USER)] })).toBe(c.cumulative)
}, 120_000)
