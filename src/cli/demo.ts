/**
 * The demo, composed of the public modules: providers sign a day of receipts, an aggregator ingests them over
 * HTTP and seals the epoch, and the distributor on an in-process EVM publishes it and pays a claim.
 */
import { keccak256, toBytes, getAddress } from 'viem'
import { formatUnits } from '../base/units.ts'
import { discountParameters } from '../economics/parameters.ts'
import { stakingDiscountBps, chargedAmount } from '../economics/revenue.ts'
import type { Hex } from '../base/bytes.ts'
import { closeWorkers } from '../merkle/parallel.ts'
import { signBatch } from '../receipts/batchSign.ts'
import type { UsageReceipt } from '../receipts/receipt.ts'
import { addressOf } from '../receipts/sign.ts'
import { ChainError, claimAll, confirmed, deployStaking, finalizeEpoch, pinConfig, proposeEpoch } from '../chain/contracts.ts'
import { ModelToken, TestToken } from '../chain/contracts.generated.ts'
import { deploySystem, type SystemDeployment } from '../chain/system.ts'
import { addLiquidity, deployUniswapV2, reserves, type UniswapV2Deployment } from '../chain/uniswap.ts'
import { buyExactMt, buyWithFlock, claimSaleMt, deployLaunchFactory, graduateSale, graduatorOf, launchRmo, readSale, syncCirculatingSupply, type GraduateResult } from '../chain/launch.ts'
import { grantStreamRole } from '../chain/funding.ts'
import { buyBackAndBurnMt, buyBackFlock, epochRevenue, grantSettlementRole, payEpochRevenue, setDeployment } from '../chain/settlement.ts'
import { readSpendTree } from '../chain/challenges.ts'
import { stakeMt } from '../chain/stakes.ts'
import { spendLeafOf } from '../epoch/spend.ts'
import { DEFAULT_FEES } from '../economics/rmo.ts'
import { epochEmission } from '../economics/emissions.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import { startDevnet, type Devnet } from '../chain/devnet.ts'
import { claimsOf, readPublishedEpoch } from '../chain/publication.ts'
import { distributorDomain } from '../epoch/rewards.ts'
import { getContract, type Address } from 'viem'
import { domainSeparator, RECEIPT_DOMAIN_NAME, RECEIPT_DOMAIN_VERSION } from '../receipts/types.ts'
import { mkdir, writeFile } from 'node:fs/promises'
import { watchRegistry, type WatchRecord } from '../audit/watch.ts'
import { attestationJson, attestationKeyOf, attestationSecret, attestProvider } from '../proofs/attestation.ts'
import { readCircuitKeys, TEST_CIRCUIT_KEYS } from '../proofs/files.ts'
import { epochReceiptOf } from '../epoch/spend.ts'
import { readReceiptsText } from '../receipts/file.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'
import { writeEpochDirectory } from '../epoch/directory.ts'
import { receiptExportLines } from '../aggregator/export.ts'
import { sendBatch, sendReceipts } from '../aggregator/client.ts'
import { AGGREGATOR_CONFIG_FORMAT, readConfig, type AggregatorConfig } from '../epoch/config.ts'
import { type EpochInputs, type SnapshotSource } from '../epoch/inputs.ts'
import { AggregatorService } from '../aggregator/service.ts'
import { toHex } from '../base/bytes.ts'
import { receiptDigest } from '../receipts/receipt.ts'
import type { DeploymentSnapshot } from '../gateway/discounts.ts'
import { keyEntry, keyStoreJson, newApiKey } from '../gateway/identity.ts'
import { grossAmount, PRICE_TABLE_FORMAT, readPriceTable } from '../gateway/prices.ts'
import { GatewayService, KEYS_FILE, RECEIPT_HEADERS } from '../gateway/service.ts'
import { startStubUpstream } from '../gateway/stubUpstream.ts'
import { openStore } from '../aggregator/store.ts'

export type DemoOptions = {
  out: string
  seed: string
  /** Current time, nanoseconds since the Unix epoch. */
  now: () => bigint
  perCallReceipts?: number
  batchedReceipts?: number
  users?: number
  progress?: (step: string, done: number, total: number) => void
  log?: (line: string) => void
  /** Deploy on an in-process EVM, publish the epoch, wait out the timelock and claim (default true). */
  onChain?: boolean
  /** On chain, stop before proposing the epoch (the registry is deployed, stakes staked, configuration pinned). */
  publish?: boolean
}

export type DemoResult = {
  epoch: number
  dataDir: string
  epochDir: string
  /** The epoch's receipts as `fomo export-receipts` writes them, for `fomo prove` and `fomo audit`. */
  receiptsFile: string
  /** The providers' attestations of the epoch (as `fomo attest` writes them), for `fomo prove`. */
  attestationsFile: string
  config: AggregatorConfig
  sent: { perCall: number; batched: number; resent: number }
  stored: number
  accepted: number
  duplicates: number
  rejected: number
  spendRoot: string | null
  rewardRoot: string | null
  totals: { gross: bigint; charged: bigint }
  topRewards: Array<{ account: string; token: string; amount: bigint }>
  /** On chain: the epoch published, watched, paid, funded, claimed and its buybacks run. */
  chain?: Awaited<ReturnType<typeof publishSettleAndClaim>> | undefined
  /** On chain: each deployment's launch (token, sale, graduation into its pool). */
  launches?: Launch[] | undefined
  /** On chain: the distributor (the epoch registry) and each deployment's staking contract. */
  contracts?: { distributor: Address; staking: Address[]; revenueSettlement: Address; epochFunding: Address; providers: Address } | undefined
  seconds: number
}

/** A small random source from a seed (keccak counter mode): demo data is reproducible with --seed. */
function seeded(seed: string) {
  let counter = 0
  let pool: Uint8Array = new Uint8Array(0)
  let at = 0
  const next = () => {
    if (at + 4 > pool.length) {
      pool = toBytes(keccak256(toBytes(`${seed}/${counter++}`)))
      at = 0
    }
    const v = ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0
    at += 4
    return v / 2 ** 32
  }
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), key: (label: string) => keccak256(toBytes(`${seed}/key/${label}`)) }
}

const WHOLE = 10n ** 18n

/**
 * The main job end to end on the embedded store: providers, deployments,
 * users and stakes; a day of signed receipts (per call and in batches) sent
 * through the HTTP API; the epoch sealed and its artifacts written.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now()
  const rnd = seeded(options.seed)
  const log = options.log ?? (() => undefined)
  const addr = (label: string) => addressOf(rnd.key(label))
  const deploymentNames = ['qwenalice', 'llama-coder', 'mistral-med']
  const ages = [30, 90, 200]
  const userCount = options.users ?? 30
  const users = Array.from({ length: userCount }, (_, i) => addr(`user:${i}`))
  // About 40 % of users stake in each deployment, a few of them heavily.
  const stakes = deploymentNames.map(() =>
    new Map(users.filter(() => rnd.next() < 0.4).map((u) => [u, BigInt(rnd.int(100, rnd.next() < 0.1 ? 60_000 : 5_000)) * WHOLE] as const)),
  )
  const ids = deploymentNames.map((name) => keccak256(toBytes(`deployment:${name}`)))
  const issuers = deploymentNames.map((name) => getAddress(addr(`issuer:${name}`)))
  // On chain the economy runs first: each Model Token launched by RMO, bought (its stakers buy what they stake),
  // graduated into its Uniswap v2 pool and staked, the deployments' ages apart; then the day of inference happens on
  // the chain's clock, so the epoch is the chain's yesterday.
  const TIMELOCK = 3600
  const chain = options.onChain !== false ? await launchEconomy({ names: deploymentNames, ids, issuers, ages, stakes, raises: RAISES, log, label: addr }) : undefined
  const now = chain ? chainClock(chain.startedAt) : options.now
  const epoch = Math.floor(Number(now() / 1_000_000_000n) / 86_400) - 1
  const deployments = deploymentNames.map((name, i) => ({
    id: ids[i]!,
    name,
    issuer: issuers[i]!,
    mtToken: chain ? chain.launches[i]!.token : getAddress(addr(`mt:${name}`)),
    graduationEpoch: chain ? Number(chain.launches[i]!.graduation.startEpoch) : epoch - ages[i]!,
    raised: chain ? formatUnits(chain.launches[i]!.graduation.raised, 18) : formatUnits(RAISES[i]!, 18),
    incentiveReserve: '200000',
    ...(chain ? { staking: chain.launches[i]!.staking } : {}),
  }))
  const providerKeys = [rnd.key('provider:0'), rnd.key('provider:1'), rnd.key('provider:2'), rnd.key('provider:3')]
  const providerOf = [[0, 1], [2], [3]]
  const config = readConfig({
    format: AGGREGATOR_CONFIG_FORMAT,
    domain: { name: RECEIPT_DOMAIN_NAME, version: RECEIPT_DOMAIN_VERSION, chainId: 31337, verifyingContract: chain?.system.distributor ?? getAddress(addr('contract:registry')) },
    epochSeconds: 86400,
    clockSkewSeconds: 300,
    maxReceiptAgeSeconds: 2 * 86400,
    tokens: chain?.system.tokens ?? { flock: getAddress(addr('token:flock')), usdc: getAddress(addr('token:usdc')) },
    platform: { maxDiscountBps: 3000, discountMultiplier: 2, dailyEmission: DAILY_EMISSION, scoreBasis: 'net', rewardDenominator: 'eligible-stakers', issuerBonusBps: 1000 },
    deployments,
    providers: deployments.flatMap((d, i) => providerOf[i]!.map((p) => ({ deploymentId: d.id, provider: getAddress(addressOf(providerKeys[p]!)), attestationKey: attestationKeyOf(attestationSecret(providerKeys[p]!)).packed }))),
  })
  // The circulating supply each discount divides by: on chain the Model Token's own (paper 3.6), synced into MTStaking
  // and read back at the snapshot block with the stakes; off chain fixed values.
  const circulating = chain ? chain.circulating : [660_000n, 700_000n, 760_000n].map((c) => c * WHOLE)
  const snapshots = chain?.snapshots
  if (chain) {
    const pinned = await pinConfig(chain.devnet.clients, chain.system.distributor, config)
    log(`Pinned the configuration ${pinned.hash} on the registry (config.json's keccak256 and each deployment's staking contract)`)
  }
  const discount = (d: number, user: Hex) =>
    Number(stakingDiscountBps(stakes[d]!.get(user) ?? 0n, circulating[d]!, discountParameters(config.platform)))
  // Power users: spend weights follow a long tail.
  const weights = users.map(() => 1 / (0.05 + rnd.next()) ** 1.2)
  const totalWeight = weights.reduce((a, b) => a + b, 0)
  const cumulative = weights.map(((s) => (w: number) => (s += w / totalWeight))(0))
  const pickUser = () => {
    const x = rnd.next()
    let lo = 0
    let hi = users.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return users[lo]!
  }
  const dayStart = BigInt(epoch) * 86_400n
  let request = 0
  const receipt = (d: number, provider: number): UsageReceipt => {
    const user = pickUser()
    const inputTokens = rnd.int(50, 4000)
    const outputTokens = rnd.int(20, 1500)
    // The gateway's pricing rule on the demo's price table (whole base units: no rounding).
    const gross = grossAmount(demoPrice(d), { inputTokens, outputTokens })
    const discountBps = discount(d, user)
    return {
      deploymentId: deployments[d]!.id,
      provider: addressOf(providerKeys[provider]!),
      user,
      epoch,
      requestId: keccak256(toBytes(`${options.seed}/request/${request++}`)),
      timestamp: dayStart + BigInt(rnd.int(0, 86_399)),
      inputTokens,
      outputTokens,
      grossAmount: gross,
      discountBps,
      chargedAmount: chargedAmount(gross, BigInt(discountBps)),
    }
  }

  const separator = domainSeparator(config.domain)
  // Small by default so that `fomo prove` proves the whole epoch in about a minute; --receipts scales it up.
  const perCall = options.perCallReceipts ?? 90
  const batched = options.batchedReceipts ?? 60
  // The day's calls are planned first (the same draws in the same order as ever, so a seed gives the same epoch), then
  // made through the providers' gateways, which sign their receipts.
  const calls = Array.from({ length: perCall }, (_, i) => {
    const d = i % 3
    const p = providerOf[d]![i % providerOf[d]!.length]!
    return { d, p, receipt: receipt(d, p) }
  })
  log(`Sending ${perCall.toLocaleString('en-US')} calls through ${providerKeys.length} provider gateways (per-call receipts) and signing ${batched.toLocaleString('en-US')} receipts in ${providerKeys.length} provider batches for epoch ${epoch}`)
  const texts = await callThroughGateways({
    dir: `${options.out}/gateways`,
    config,
    models: deploymentNames,
    providerKeys,
    providerOf,
    users,
    snapshot: new Map(deployments.map((d, i) => [d.id, { circulatingSupply: circulating[i], stakes: stakes[i]! }] as const)),
    calls,
    now,
    log,
    progress: (done) => options.progress?.('sign', done, perCall),
  })
  const perBatch = Math.floor(batched / providerKeys.length)
  const batches = (perBatch === 0 ? [] : providerKeys).map((key, p) => {
    const d = providerOf.findIndex((ps) => ps.includes(p))
    const rs = Array.from({ length: perBatch }, () => receipt(d, p))
    return JSON.stringify(signBatch(rs, key, config.domain, separator))
  })

  const dataDir = `${options.out}/db`
  const store = await openStore({ dataDir })
  let service: AggregatorService | undefined
  try {
    await store.setConfig(config)
    const inputs: EpochInputs = {
      epoch,
      deployments: new Map(
        deployments.map((d, i) => [d.id, { opex: 0n, circulatingSupply: circulating[i], stakes: stakes[i]!, snapshot: snapshots?.[i] }] as const),
      ),
    }
    service = await AggregatorService.create({ store, config, now })
    const { port } = await service.listen(0)
    const url = `http://127.0.0.1:${port}`
    log(`Aggregator listening on ${url} (embedded PostgreSQL in ${dataDir})`)
    const sent = await sendReceipts(texts, { url, batchSize: 1000, onProgress: (done, total) => options.progress?.('send', done, total) })
    let accepted = sent.accepted
    let duplicates = sent.duplicates
    let rejected = sent.rejected
    for (const b of batches) {
      const answer = await sendBatch(url, b)
      accepted += answer.accepted
      duplicates += answer.duplicates
      rejected += answer.rejected
    }
    // Providers retry: resending receipts is safe, they come back as duplicates.
    const resendCount = Math.min(1000, texts.length)
    const resent = await sendReceipts(texts.slice(0, resendCount), { url, batchSize: 1000 })
    duplicates += resent.duplicates
    // OpEx: what providers cost this day, 55 % of the charged revenue of each deployment.
    for (const [deploymentId, charged] of await store.chargedByDeployment(epoch)) {
      const d = inputs.deployments.get(deploymentId)
      if (d) d.opex = (charged * 55n) / 100n
    }
    await store.setEpochInputs(inputs)
    options.progress?.('seal', 0, 1)
    const sealed = await store.seal(epoch, { now: now() })
    const epochDir = await writeEpochDirectory(`${options.out}/epochs`, epoch, sealed.files)
    options.progress?.('seal', 1, 1)
    const receiptsFile = `${options.out}/receipts-${epoch}.ndjson`
    const lines: string[] = []
    for await (const { line } of receiptExportLines(store, epoch)) lines.push(`${line}\n`)
    await writeFile(receiptsFile, lines.join(''), { mode: 0o600 })
    // Each provider attests its receipts of the closed epoch (as `fomo attest` does) for the bundled test circuit.
    const attestationsFile = `${options.out}/attestations-${epoch}.ndjson`
    const circuit = await readCircuitKeys(TEST_CIRCUIT_KEYS)
    const exported = readReceiptsText(lines.join(''), new ReceiptVerifier({ domain: config.domain, registry: ProviderRegistry.from(config.providers) })).receipts.map((r) => epochReceiptOf(r))
    const domain = distributorDomain(config.domain.chainId, config.domain.verifyingContract)
    const attestations = providerKeys.flatMap((key) =>
      attestProvider({ epoch, domain, provider: addressOf(key), receipts: exported, circuit: { receipts: circuit.receipts, rows: circuit.rows }, secret: attestationSecret(key) }),
    )
    await writeFile(attestationsFile, attestations.map((a) => `${JSON.stringify(attestationJson(a))}\n`).join(''))
    const report = JSON.parse(new TextDecoder().decode(sealed.files.find((f) => f.name === 'report.json')!.content))
    const credits = (report.credits as Array<{ account: string; token: string; amount: string }>).map((c) => ({ ...c, amount: BigInt(c.amount) }))
    const topRewards = credits.filter((c) => c.token === config.tokens.flock).sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0)).slice(0, 5)
    const onChain = chain && options.publish !== false ? await publishSettleAndClaim(chain, epochDir, `${url}/v1/epochs/${epoch}/files/`, topRewards[0]!.account as Address, TIMELOCK, now, options) : undefined
    return {
      epoch,
      dataDir,
      epochDir,
      receiptsFile,
      attestationsFile,
      config,
      sent: { perCall, batched: batches.length * perBatch, resent: resendCount },
      stored: await store.receiptCount(),
      accepted,
      duplicates,
      rejected,
      spendRoot: sealed.spendRoot,
      rewardRoot: sealed.rewardRoot,
      totals: { gross: BigInt(report.totals.gross), charged: BigInt(report.totals.charged) },
      topRewards,
      chain: onChain,
      contracts: chain ? { distributor: chain.system.distributor, staking: chain.launches.map((l) => l.staking), revenueSettlement: chain.system.revenueSettlement, epochFunding: chain.system.epochFunding, providers: chain.providers } : undefined,
      launches: chain?.launches,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await service?.close()
    await store.close()
    await closeWorkers()
  }
}

/** The demo's list prices per deployment, per million input and output tokens in USDC base units. */
const demoPrice = (d: number) => ({ inputPerMillion: BigInt(3 - d) * 10_000_000n, outputPerMillion: BigInt(9 - 2 * d) * 10_000_000n })

/**
 * The day's per-call receipts, made by the users' calls: each provider runs `fomo gateway` (its service, in this
 * process on an ephemeral port of 127.0.0.1, a data directory of its own) in front of a stub OpenAI-compatible
 * upstream, and each planned call is sent by its user, with the user's API key, through its provider's gateway as a
 * chat completion (with fetch: the `openai` client is a development dependency, absent where the demo runs from the
 * installed package). The upstream answers with the planned token counts (`max_tokens` = `min_tokens`), the gateway
 * prices them from its price table and the user's stake, signs the receipt and records it before answering, and the
 * user fetches it signed from GET /v1/receipts/:digest. The demo replays a day in seconds on a simulated clock: each
 * gateway's clock reads its current call's planned time and its request ids are the planned ones, so the receipts are
 * the plan's (each digest is checked) and a seed gives the same epoch. Calls to one gateway go one at a time (its clock
 * is the call's), the four gateways side by side; the texts come back in the plan's order.
 */
async function callThroughGateways(plan: {
  dir: string
  config: AggregatorConfig
  /** The model name of each deployment, by index. */
  models: string[]
  providerKeys: Hex[]
  providerOf: number[][]
  users: Hex[]
  snapshot: ReadonlyMap<Hex, DeploymentSnapshot>
  calls: Array<{ d: number; p: number; receipt: UsageReceipt }>
  now: () => bigint
  log: (line: string) => void
  progress: (done: number) => void
}): Promise<string[]> {
  const { config } = plan
  const separator = domainSeparator(config.domain)
  const created = Number(plan.now() / 1_000_000_000n)
  const apiKeys = new Map(plan.users.map((u) => [u, newApiKey(crypto.getRandomValues(new Uint8Array(32)))] as const))
  const keyStore = `${JSON.stringify(keyStoreJson(plan.users.map((u, i) => keyEntry(apiKeys.get(u)!, u, `demo user ${i}`, created))), null, 2)}\n`
  const upstream = await startStubUpstream({ record: false })
  const gateways: Array<{ service: GatewayService; url: string; current: UsageReceipt | undefined }> = []
  try {
    for (const [p, privateKey] of plan.providerKeys.entries()) {
      const dataDir = `${plan.dir}/provider-${p}`
      await mkdir(dataDir, { recursive: true })
      await writeFile(`${dataDir}/${KEYS_FILE}`, keyStore, { mode: 0o600 })
      const served = plan.providerOf.flatMap((ps, d) => (ps.includes(p) ? [d] : []))
      const prices = readPriceTable({
        format: PRICE_TABLE_FORMAT,
        models: Object.fromEntries(served.map((d) => [plan.models[d]!, { deploymentId: config.deployments[d]!.id, inputPerMillion: String(demoPrice(d).inputPerMillion), outputPerMillion: String(demoPrice(d).outputPerMillion) }])),
      })
      const gateway: (typeof gateways)[number] = { service: undefined as unknown as GatewayService, url: '', current: undefined }
      gateway.service = await GatewayService.create({
        config,
        prices,
        privateKey,
        upstream: { url: upstream.url, timeoutMs: 30_000 },
        dataDir,
        stakes: async () => plan.snapshot,
        signing: { kind: 'call' },
        now: () => (gateway.current ? gateway.current.timestamp * 1_000_000_000n : plan.now()),
        requestIds: () => gateway.current!.requestId,
      })
      gateways.push(gateway)
      gateway.url = `http://127.0.0.1:${(await gateway.service.listen(0)).port}`
    }
    plan.log(`Started ${gateways.length} provider gateways (fomo gateway, signing per call) on ${gateways.map((g) => g.url.slice('http://127.0.0.1:'.length)).join(', ')} of 127.0.0.1, in front of a stub OpenAI-compatible upstream at ${upstream.url}`)
    const texts: string[] = new Array(plan.calls.length)
    let done = 0
    await Promise.all(
      gateways.map(async (gateway, p) => {
        for (const [i, call] of plan.calls.entries()) {
          if (call.p !== p) continue
          const r = call.receipt
          const authorization = `Bearer ${apiKeys.get(r.user)}`
          gateway.current = r
          const answer = await fetch(`${gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify({ model: plan.models[call.d], messages: [{ role: 'user', content: 'word '.repeat(r.inputTokens).trimEnd() }], max_tokens: r.outputTokens, min_tokens: r.outputTokens }),
          })
          const answered = await answer.text()
          const digest = answer.headers.get(RECEIPT_HEADERS.digest)
          if (answer.status !== 200 || !digest) throw new Error(`the demo's gateway of provider ${p} answered call ${i} with ${answer.status} and no receipt: ${answered.slice(0, 500)}`)
          const expected = toHex(receiptDigest(r, separator))
          if (digest !== expected) throw new Error(`the demo's gateway of provider ${p} receipted call ${i} as ${digest}, not as planned (${expected})`)
          const fetched = await fetch(`${gateway.url}/v1/receipts/${digest}`, { headers: { authorization } })
          texts[i] = await fetched.text()
          if (fetched.status !== 200) throw new Error(`the demo's gateway of provider ${p} did not give back receipt ${digest} (${fetched.status}): ${texts[i]!.slice(0, 500)}`)
          gateway.current = undefined
          if (++done % 500 === 0) plan.progress(done)
        }
      }),
    )
    plan.progress(plan.calls.length)
    return texts
  } finally {
    for (const g of gateways) await g.service.close()
    await upstream.close()
  }
}

/** Blocks a stake must be held before the snapshot to count (MTStaking's eligibility window). */
const ELIGIBILITY_WINDOW = 5
/** Each deployment's raise G (FLOCK base units); the sale sells S = 400,000 MT from P0 = 0.05 FLOCK. */
const RAISES = [100_000n, 70_000n, 40_000n].map((g) => g * WHOLE)
const START_PRICE = WHOLE / 20n
/** FLOCK emitted per day, as config.json and EpochFunding state it. */
const DAILY_EMISSION = '20000'
/** The sale's anti-sniping surcharge: 10 % at launch, decaying to the base fee over an hour. */
const FEES = { ...DEFAULT_FEES, antiSnipingStartBps: 1000n, antiSnipingWindowSeconds: 3600n }
const DAY = 86_400

type Launch = { token: Address; sale: Address; staking: Address; graduation: GraduateResult; buyers: number; antiSnipingFees: bigint }
type Economy = {
  devnet: Devnet
  uni: UniswapV2Deployment
  system: SystemDeployment & { revenueSettlement: Address; epochFunding: Address }
  treasury: Address
  providers: Address
  launches: Launch[]
  circulating: bigint[]
  snapshots: SnapshotSource[]
  /** The chain's time once the economy is set up (seconds). */
  startedAt: bigint
}

/** Nanoseconds on the chain's clock: the chain's time when the economy was set up, plus the time since. */
function chainClock(startedAt: bigint): () => bigint {
  const origin = process.hrtime.bigint()
  return () => startedAt * 1_000_000_000n + (process.hrtime.bigint() - origin)
}

async function sent(devnet: Devnet, hash: Promise<Hex>): Promise<void> {
  await confirmed(devnet.clients, await hash, 'demo')
}

/**
 * The FOMO economy on an in-process EVM: Uniswap v2 from its published artifacts, the distributor with its revenue
 * settlement and epoch funding, a launch factory whose graduator may stream into the funding; then per deployment,
 * oldest first: its issuer launches the MT by RMO, its stakers buy exactly what they will stake (the first ones
 * inside the anti-sniping window), a backer buys the rest of the raise, anyone graduates the sale into its pool, the
 * buyers claim their MT and stake it; the clock then moves on to the next launch. At the end every staking contract
 * syncs the token's circulating supply and the stakes are read back at a snapshot block.
 */
async function launchEconomy(plan: { names: string[]; ids: Hex[]; issuers: Address[]; ages: number[]; stakes: Array<Map<Hex, bigint>>; raises: bigint[]; log: (line: string) => void; label: (name: string) => Hex }): Promise<Economy> {
  const { log } = plan
  const devnet = await startDevnet()
  const a0 = devnet.accounts[0]!
  const treasury = getAddress(plan.label('treasury'))
  const providers = getAddress(plan.label('compute providers'))
  const uni = await deployUniswapV2(devnet.clients, { feeToSetter: a0 })
  const system = (await deploySystem(devnet.clients, {
    admin: a0,
    publisher: a0,
    guardian: a0,
    timelockSeconds: 3600n,
    tokens: 'test',
    settlement: { router: uni.router, treasury, maxOpexBps: 6000n },
    funding: { epochSeconds: BigInt(DAY), dailyEmission: BigInt(DAILY_EMISSION) * WHOLE, treasury },
  })) as Economy['system']
  const { flock, usdc } = system.tokens
  const mint = (token: Address, to: Address, amount: bigint) => sent(devnet, getContract({ abi: TestToken.abi, address: token, client: { wallet: devnet.clients.wallet } }).write.mint([to, amount]))
  await grantSettlementRole(devnet.clients, system.revenueSettlement, 'payer', a0)
  await grantSettlementRole(devnet.clients, system.revenueSettlement, 'keeper', a0)
  const factory = await deployLaunchFactory(devnet.clients, { flock, treasury, launchFee: 100n * WHOLE, fees: FEES, uniswapFactory: uni.factory, epochFunding: system.epochFunding })
  await grantStreamRole(devnet.clients, system.epochFunding, await graduatorOf(devnet.clients.public, factory))
  log(`Deployed Uniswap v2, the distributor ${system.distributor} with its revenue settlement and epoch funding, and the launch factory on an in-process EVM`)

  const launches: Launch[] = []
  const order = plan.ages.map((age, i) => ({ age, i })).sort((x, y) => y.age - x.age)
  for (const [k, { age, i }] of order.entries()) {
    const issuer = await devnet.actAs(plan.issuers[i]!)
    await mint(flock, plan.issuers[i]!, 100n * WHOLE)
    const { token, sale } = await launchRmo(issuer, factory, { deploymentId: plan.ids[i]!, name: `${plan.names[i]} Model Token`, symbol: plan.names[i]!.toUpperCase().slice(0, 6), graduationTarget: plan.raises[i]!, startPrice: START_PRICE, minRaise: plan.raises[i]! / 2n, durationSeconds: 7n * BigInt(DAY) })
    let antiSnipingFees = 0n
    for (const [j, [user, amount]] of [...plan.stakes[i]!].entries()) {
      const buyer = await devnet.actAs(user)
      await mint(flock, user, 10n ** 6n * WHOLE)
      antiSnipingFees += (await buyExactMt(buyer, sale, amount, { slippageBps: 100n })).antiSnipingFee
      if (j < 6) await devnet.increaseTime(600)
    }
    // A backer buys the rest of the raise: the sale reaches G.
    const backer = getAddress(plan.label(`backer:${plan.names[i]}`))
    const backed = await devnet.actAs(backer)
    await mint(flock, backer, 10n ** 6n * WHOLE)
    const info = await readSale(devnet.clients.public, sale)
    await buyWithFlock(backed, sale, plan.raises[i]! - info.raised, { slippageBps: 100n })
    const graduation = await graduateSale(devnet.clients, sale)
    for (const user of [...plan.stakes[i]!.keys(), backer]) await claimSaleMt(devnet.clients, sale, user)
    const staking = await deployStaking(devnet.clients, token, a0, 3000n, 2n, BigInt(ELIGIBILITY_WINDOW))
    for (const [user, amount] of plan.stakes[i]!) await stakeMt(await devnet.actAs(user), staking, amount)
    await setDeployment(devnet.clients, system.revenueSettlement, plan.ids[i]!, token)
    launches[i] = { token, sale, staking, graduation, buyers: plan.stakes[i]!.size + 1, antiSnipingFees }
    log(`Launched ${plan.names[i]}: ${plan.stakes[i]!.size + 1} buyers raised ${formatUnits(graduation.raised, 18)} FLOCK; graduated into its Uniswap v2 pool ${graduation.pair}; its stakers staked`)
    const next = order[k + 1]
    await devnet.increaseTime((next ? age - next.age : age + 1) * DAY)
  }

  // A USDC/FLOCK pool for the FLOCK buyback, and the emission reserve, both from the treasury's side.
  await mint(usdc, a0, 1_000_000n * 10n ** 6n)
  await mint(flock, a0, 2_000_000n * WHOLE)
  for (const token of [usdc, flock]) await sent(devnet, getContract({ abi: TestToken.abi, address: token, client: { wallet: devnet.clients.wallet } }).write.approve([uni.router, 2n ** 255n]))
  const deadline = (await devnet.clients.public.getBlock()).timestamp + 600n
  await addLiquidity(devnet.clients, uni.router, { tokenA: usdc, tokenB: flock, amountADesired: 1_000_000n * 10n ** 6n, amountBDesired: 2_000_000n * WHOLE, amountAMin: 0n, amountBMin: 0n, to: treasury, deadline })
  await mint(flock, system.epochFunding, epochEmission(BigInt(DAILY_EMISSION) * WHOLE, BigInt(DAY)))

  // The discount's denominator is the token's own circulating supply (sale + liquidity + vested - burned), synced into
  // each staking contract before the snapshot; the stakes and the supply are read back there.
  for (const l of launches) await syncCirculatingSupply(devnet.clients, l.staking)
  await devnet.mine(ELIGIBILITY_WINDOW + 1)
  const block = (await devnet.clients.public.getBlockNumber({ cacheTime: 0 })) - 1n
  const circulating: bigint[] = []
  const snapshots: SnapshotSource[] = []
  for (const [i, l] of launches.entries()) {
    const snapshot = await readStakeSnapshot(devnet.clients, l.staking, block)
    const same = snapshot.stakes.size === plan.stakes[i]!.size && [...plan.stakes[i]!].every(([u, v]) => snapshot.stakes.get(u.toLowerCase() as Hex) === v)
    if (!same) throw new ChainError(`the staking contract ${l.staking} does not give back the demo's stakes at block ${block}`)
    circulating.push(snapshot.circulatingSupply)
    snapshots.push({ staking: l.staking.toLowerCase() as Hex, block })
  }
  log(`Staked ${plan.stakes.reduce((n, m) => n + m.size, 0)} positions from the users' own accounts; stakes and circulating supplies snapshot at block ${block}`)
  const startedAt = (await devnet.clients.public.getBlock()).timestamp
  return { devnet, uni, system, treasury, providers, launches, circulating, snapshots, startedAt }
}

/**
 * Publishes the sealed epoch (a watcher with no role audits it during the timelock), pays its revenue into the
 * settlement, finalizes it (which moves its emission and vesting releases into the distributor: nothing is minted
 * for it), claims for one account, and runs the buybacks; returns what moved.
 */
async function publishSettleAndClaim(chain: Economy, epochDir: string, artifacts: string, account: Address, timelock: number, now: () => bigint, options: DemoOptions) {
  const { devnet, system } = chain
  const log = options.log ?? (() => undefined)
  const sealed = await readPublishedEpoch(epochDir)
  const fromBlock = await devnet.clients.public.getBlockNumber()
  await proposeEpoch(devnet.clients, system.distributor, sealed, { artifacts })
  // A watcher with a key of its own and no role audits the proposal during the timelock, as `fomo watch --once`
  // does: it fetches the sealed directory from the URL the proposal names (the aggregator serves it) and would
  // challenge a wrong stake itself. The demo's epoch is honest, so it must pass.
  const records: WatchRecord[] = []
  const watcherAccount = getAddress(addressOf(keccak256(toBytes('fomo demo watcher'))))
  const watched = await watchRegistry({
    client: devnet.clients.public,
    wallet: (await devnet.actAs(watcherAccount)).wallet,
    registry: system.distributor,
    cacheDir: `${options.out}/watch-cache`,
    receiptsDir: options.out,
    fromBlock,
    once: true,
    now,
    log: (r) => records.push(r),
  })
  const failed = records.find((r) => !['config-scheduled', 'proposed', 'check', 'ok'].includes(r.event))
  if (failed || watched.counts.ok !== 1) throw new ChainError(`the demo's watcher did not pass epoch ${sealed.epoch}: ${JSON.stringify(failed?.details ?? watched.counts)}`)
  const watcher = { account: watcherAccount, checks: watched.counts.check, artifacts }
  log(`A watcher (${watcherAccount}, no role) fetched the proposal's artifacts from ${artifacts} and audited them: ${watcher.checks} checks passed`)
  log(`Proposed epoch ${sealed.epoch}; waiting out the ${timelock} s timelock on the in-process EVM`)
  await devnet.increaseTime(timelock)

  const { flock, usdc } = system.tokens
  const watchedAccounts = { treasury: chain.treasury, providers: chain.providers, distributor: system.distributor }
  const balances = async () => {
    const out: Record<string, { usdc: bigint; flock: bigint }> = {}
    for (const [name, who] of Object.entries(watchedAccounts)) out[name] = { usdc: await balanceOf(devnet, usdc, who), flock: await balanceOf(devnet, flock, who) }
    return out
  }
  const before = await balances()
  // The epoch's charged revenue is paid into the settlement (the aggregator collected it from the users): it is split
  // by the waterfall at once, the OpEx to the providers; the registry would not finalize the epoch before.
  const tree = await readSpendTree(epochDir)
  const revenue = epochRevenue(
    [...tree.entries()].map(([, v]) => spendLeafOf(v)),
    sealed.config.deployments.map((d) => ({ id: d.id as Hex, opex: sealed.inputs.deployments.get(d.id as Hex)?.opex ?? 0n })),
  )
  // What the users paid for their calls (USDC the aggregator collected): minted to the payer, test tokens being all
  // the demo's chain has.
  await sent(devnet, getContract({ abi: TestToken.abi, address: usdc, client: { wallet: devnet.clients.wallet } }).write.mint([devnet.accounts[0]!, revenue.reduce((n, r) => n + r.charged, 0n)]))
  const payments = await payEpochRevenue(devnet.clients, system.revenueSettlement!, BigInt(sealed.epoch), revenue, chain.providers)
  await finalizeEpoch(devnet.clients, system.distributor, sealed.epoch)
  const funded = await balances()
  const claim = await claimAll(devnet.clients, system.distributor, sealed, account)
  const claims = await Promise.all(
    claimsOf(sealed.rewardTree, account).map(async (c) => ({ token: c.token, amount: c.cumulative, balance: await balanceOf(devnet, c.token, account) })),
  )
  // The keeper's buybacks: FLOCK for the treasury, and each deployment's MT bought through its pool and burned.
  const flockBought = (await buyBackFlock(devnet.clients, system.revenueSettlement!, { slippageBps: 100n })).amountOut
  const burned = []
  for (const [i, d] of sealed.config.deployments.entries()) {
    const supplyBefore = await devnet.clients.public.readContract({ address: chain.launches[i]!.token, abi: ModelToken.abi, functionName: 'totalSupply' })
    const { amountOut } = await buyBackAndBurnMt(devnet.clients, system.revenueSettlement!, d.id as Hex, { slippageBps: 100n })
    const pool = await reserves(devnet.clients, chain.launches[i]!.graduation.pair, chain.launches[i]!.token)
    burned.push({ name: d.name, burned: amountOut, supplyBefore, pool: { mt: pool.reserveA, flock: pool.reserveB } })
  }
  const after = await balances()
  const change = (name: keyof typeof watchedAccounts) => ({ usdc: after[name]!.usdc - before[name]!.usdc, flock: after[name]!.flock - before[name]!.flock })
  return {
    distributor: system.distributor,
    timelockSeconds: timelock,
    watcher,
    claimedFor: account,
    claims,
    gasUsed: claim?.gasUsed ?? 0n,
    paid: payments.reduce((n, p) => n + p.charged, 0n),
    opex: payments.reduce((n, p) => n + p.opex, 0n),
    funding: { usdc: funded.distributor!.usdc - before.distributor!.usdc, flock: funded.distributor!.flock - before.distributor!.flock },
    flockBought,
    burned,
    treasury: change('treasury'),
    providers: change('providers'),
  }
}

function symbolOf(config: AggregatorConfig, token: string): string {
  const t = token.toLowerCase()
  if (t === config.tokens.flock) return 'FLOCK'
  if (t === config.tokens.usdc) return 'USDC'
  const d = config.deployments.find((x) => x.mtToken === t)
  return d ? `MT ${d.name}` : token
}

export function demoSummary(r: DemoResult): string {
  const usd = (v: bigint) => `$${Number(formatUnits(v, 6)).toLocaleString('en-US', { maximumFractionDigits: 2 })}`
  const flock = (v: bigint) => `${Number(formatUnits(v, 18)).toLocaleString('en-US', { maximumFractionDigits: 2 })} FLOCK`
  const mt = (v: bigint) => `${Number(formatUnits(v, 18)).toLocaleString('en-US', { maximumFractionDigits: 2 })} MT`
  return [
    '',
    `Epoch ${r.epoch} sealed and published (${r.seconds.toFixed(1)} s in all)`,
    `  receipts sent      ${r.sent.perCall.toLocaleString('en-US')} per call + ${r.sent.batched.toLocaleString('en-US')} batch-signed (+ ${r.sent.resent} resent)`,
    `  accepted / dup / rejected  ${r.accepted.toLocaleString('en-US')} / ${r.duplicates.toLocaleString('en-US')} / ${r.rejected}`,
    `  stored             ${r.stored.toLocaleString('en-US')}`,
    `  gross / charged    ${usd(r.totals.gross)} / ${usd(r.totals.charged)}`,
    `  spend root         ${r.spendRoot}`,
    `  reward root        ${r.rewardRoot}`,
    `  artifacts          ${r.epochDir}`,
    `  receipts           ${r.receiptsFile}`,
    '  top FLOCK rewards',
    ...r.topRewards.map((t) => `    ${t.account}  ${flock(t.amount)}`),
    ...(r.chain
      ? [
          `  on chain           distributor ${r.chain.distributor}: epoch proposed, final after the ${r.chain.timelockSeconds} s timelock`,
          `  watched by         ${r.chain.watcher.account} (fomo watch, no role): ${r.chain.watcher.checks} checks passed during the timelock`,
          `                     on the artifacts it fetched from ${r.chain.watcher.artifacts}`,
          `  revenue paid       ${usd(r.chain.paid)} into the settlement (OpEx ${usd(r.chain.opex)} to the providers, the rest by the waterfall); only then final`,
          `  funded at final    ${flock(r.chain.funding.flock)} (emission and staking-fund releases) and ${usd(r.chain.funding.usdc)} issuer yield in the distributor`,
          `  claimed for        ${r.chain.claimedFor} in one transaction (${r.chain.gasUsed.toLocaleString('en-US')} gas)`,
          ...r.chain.claims.map((c) => `    ${symbolOf(r.config, c.token).padEnd(16)} paid ${formatUnits(c.amount, c.token === r.config.tokens.usdc ? 6 : 18)}, on-chain balance ${formatUnits(c.balance, c.token === r.config.tokens.usdc ? 6 : 18)}`),
          `  buybacks           ${flock(r.chain.flockBought)} bought for the treasury; MT bought through each pool and burned:`,
          ...r.chain.burned.map((b) => `    ${b.name.padEnd(16)} ${mt(b.burned)} burned (supply ${mt(b.supplyBefore)} -> ${mt(b.supplyBefore - b.burned)}), pool now ${mt(b.pool.mt)} / ${flock(b.pool.flock)}`),
          `  balance changes    treasury ${usd(r.chain.treasury.usdc)} and ${flock(r.chain.treasury.flock)}; providers (OpEx) ${usd(r.chain.providers.usdc)}`,
        ]
      : []),
    ...(r.launches
      ? [
          '  launches (RMO, graduated into Uniswap v2)',
          ...r.launches.map((l, i) => `    ${r.config.deployments[i]!.name.padEnd(16)} raised ${flock(l.graduation.raised)} from ${l.buyers} buyers (anti-sniping fees ${flock(l.antiSnipingFees)}), graduated in epoch ${l.graduation.startEpoch}, LP locked in ${l.graduation.lpLock}`),
        ]
      : []),
    '',
    'Next: prove the epoch, then audit it',
    `  npx fomo prove ${r.epochDir} --receipts ${r.receiptsFile} --attestations ${r.attestationsFile}`,
    `  npx fomo audit ${r.epochDir} --receipts ${r.receiptsFile}`,
    '',
  ].join('\n')
}

async function balanceOf(devnet: Devnet, token: Address, account: Address): Promise<bigint> {
  return getContract({ abi: TestToken.abi, address: token, client: { public: devnet.clients.public } }).read.balanceOf([account])
}
