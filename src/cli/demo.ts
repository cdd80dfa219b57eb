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
import { addressOf, signReceipt } from '../receipts/sign.ts'
import { ChainError, claimAll, deployContracts, deployStaking, deployTestToken, finalizeEpoch, pinConfig, proposeEpoch, type Deployment } from '../chain/contracts.ts'
import { MTStaking, TestToken } from '../chain/contracts.generated.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import { startDevnet, type Devnet } from '../chain/devnet.ts'
import { claimsOf, readPublishedEpoch } from '../chain/publication.ts'
import { distributorDomain, rewardLeafOf } from '../epoch/rewards.ts'
import { getContract, type Address } from 'viem'
import { domainSeparator, RECEIPT_DOMAIN_NAME, RECEIPT_DOMAIN_VERSION } from '../receipts/types.ts'
import { writeFile } from 'node:fs/promises'
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
  chain?: { distributor: string; timelockSeconds: number; watcher: { account: string; checks: number; artifacts: string }; claimedFor: string; claims: Array<{ token: string; amount: bigint; balance: bigint }>; gasUsed: bigint } | undefined
  /** On chain: the distributor (the epoch registry) and each deployment's staking contract. */
  contracts?: { distributor: Address; staking: Address[] } | undefined
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
  const nowSeconds = Number(options.now() / 1_000_000_000n)
  const epoch = Math.floor(nowSeconds / 86_400) - 1
  const addr = (label: string) => addressOf(rnd.key(label))

  const deploymentNames = ['qwenalice', 'llama-coder', 'mistral-med']
  const ages = [30, 90, 200]
  // On chain: the distributor (also the epoch registry) and test tokens on an in-process EVM, first, since the
  // receipts' domain and the reward tokens are their addresses.
  const TIMELOCK = 3600
  let chain: { devnet: Devnet; deployment: Deployment; mt: Address[]; staking: Address[] } | undefined
  if (options.onChain !== false) {
    const devnet = await startDevnet()
    const a0 = devnet.accounts[0]!
    const deployment = await deployContracts(devnet.clients, { admin: a0, publisher: a0, guardian: a0, timelockSeconds: BigInt(TIMELOCK), testTokens: true })
    const mt: Address[] = []
    const staking: Address[] = []
    for (const name of deploymentNames) {
      mt.push(await deployTestToken(devnet.clients, `${name} Model Token (test)`, name.toUpperCase().slice(0, 6), 18))
      staking.push(await deployStaking(devnet.clients, mt.at(-1)!, a0, 3000n, 2n, BigInt(ELIGIBILITY_WINDOW)))
    }
    chain = { devnet, deployment, mt, staking }
    log(`Deployed the reward distributor at ${deployment.distributor} and a staking contract per deployment on an in-process EVM (chain ${deployment.chainId})`)
  }
  const deployments = deploymentNames.map((name, i) => ({
    id: keccak256(toBytes(`deployment:${name}`)),
    name,
    issuer: getAddress(addr(`issuer:${name}`)),
    mtToken: chain ? chain.mt[i]! : getAddress(addr(`mt:${name}`)),
    graduationEpoch: epoch - ages[i]!,
    raised: String(100_000 - 30_000 * i),
    incentiveReserve: '200000',
    ...(chain ? { staking: chain.staking[i]! } : {}),
  }))
  const providerKeys = [rnd.key('provider:0'), rnd.key('provider:1'), rnd.key('provider:2'), rnd.key('provider:3')]
  const providerOf = [[0, 1], [2], [3]]
  const config = readConfig({
    format: AGGREGATOR_CONFIG_FORMAT,
    domain: { name: RECEIPT_DOMAIN_NAME, version: RECEIPT_DOMAIN_VERSION, chainId: 31337, verifyingContract: chain?.deployment.distributor ?? getAddress(addr('contract:registry')) },
    epochSeconds: 86400,
    clockSkewSeconds: 300,
    maxReceiptAgeSeconds: 2 * 86400,
    tokens: chain?.deployment.tokens ?? { flock: getAddress(addr('token:flock')), usdc: getAddress(addr('token:usdc')) },
    platform: { maxDiscountBps: 3000, discountMultiplier: 2, dailyEmission: '20000', scoreBasis: 'net', rewardDenominator: 'eligible-stakers', issuerBonusBps: 1000 },
    deployments,
    providers: deployments.flatMap((d, i) => providerOf[i]!.map((p) => ({ deploymentId: d.id, provider: getAddress(addressOf(providerKeys[p]!)), attestationKey: attestationKeyOf(attestationSecret(providerKeys[p]!)).packed }))),
  })

  const userCount = options.users ?? 30
  const users = Array.from({ length: userCount }, (_, i) => addr(`user:${i}`))
  const circulating = [660_000n, 700_000n, 760_000n].map((c) => c * WHOLE)
  // About 40 % of users stake in each deployment, a few of them heavily.
  const stakes = deployments.map(() =>
    new Map(users.filter(() => rnd.next() < 0.4).map((u) => [u, BigInt(rnd.int(100, rnd.next() < 0.1 ? 60_000 : 5_000)) * WHOLE] as const)),
  )
  // On chain the stakes are staked by the users themselves and read back at a snapshot block once the eligibility
  // window has passed: the epoch's inputs come from the chain, and the registry pins the configuration.
  const snapshots = chain ? await stakeOnChain(chain, stakes, circulating, log) : undefined
  if (chain) {
    const pinned = await pinConfig(chain.devnet.clients, chain.deployment.distributor, config)
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
    const gross = BigInt(inputTokens * (3 - d) + outputTokens * (9 - 2 * d)) * 10n
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
  log(`Signing ${perCall.toLocaleString('en-US')} per-call receipts and ${batched.toLocaleString('en-US')} in ${providerKeys.length} provider batches for epoch ${epoch}`)
  const texts: string[] = []
  for (let i = 0; i < perCall; i++) {
    const d = i % 3
    const p = providerOf[d]![i % providerOf[d]!.length]!
    texts.push(JSON.stringify(signReceipt(receipt(d, p), providerKeys[p]!, config.domain, separator)))
    if (i % 500 === 0) options.progress?.('sign', i, perCall)
  }
  options.progress?.('sign', perCall, perCall)
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
    service = await AggregatorService.create({ store, config, now: options.now })
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
    const sealed = await store.seal(epoch)
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
    const onChain = chain && options.publish !== false ? await publishAndClaim(chain, epochDir, `${url}/v1/epochs/${epoch}/files/`, topRewards[0]!.account as Address, TIMELOCK, options) : undefined
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
      contracts: chain ? { distributor: chain.deployment.distributor, staking: chain.staking } : undefined,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await service?.close()
    await store.close()
    await closeWorkers()
  }
}

/** Blocks a stake must be held before the snapshot to count (MTStaking's eligibility window). */
const ELIGIBILITY_WINDOW = 5

/**
 * Each staker mints its MT and stakes it, the circulating supply is set, the window passes; returns where each
 * deployment's snapshot is read, after checking the chain gives back exactly the stakes staked.
 */
async function stakeOnChain(chain: { devnet: Devnet; mt: Address[]; staking: Address[] }, stakes: Array<Map<Hex, bigint>>, circulating: bigint[], log: (line: string) => void): Promise<SnapshotSource[]> {
  const { devnet } = chain
  const send = async (hash: Promise<Hex>) => {
    const receipt = await devnet.clients.public.waitForTransactionReceipt({ hash: await hash })
    if (receipt.status !== 'success') throw new ChainError(`demo staking transaction ${receipt.transactionHash} reverted`)
  }
  for (let d = 0; d < chain.staking.length; d++) {
    const staking = chain.staking[d]!
    await send(getContract({ abi: MTStaking.abi, address: staking, client: { wallet: devnet.clients.wallet } }).write.setCirculatingSupply([circulating[d]!]))
    for (const [user, amount] of stakes[d]!) {
      const clients = await devnet.actAs(user)
      await send(getContract({ abi: TestToken.abi, address: chain.mt[d]!, client: { wallet: clients.wallet } }).write.mint([user, amount]))
      await send(getContract({ abi: TestToken.abi, address: chain.mt[d]!, client: { wallet: clients.wallet } }).write.approve([staking, amount]))
      await send(getContract({ abi: MTStaking.abi, address: staking, client: { wallet: clients.wallet } }).write.stake([amount]))
    }
  }
  await devnet.mine(ELIGIBILITY_WINDOW + 1)
  const block = (await devnet.clients.public.getBlockNumber()) - 1n
  const sources: SnapshotSource[] = []
  for (let d = 0; d < chain.staking.length; d++) {
    const snapshot = await readStakeSnapshot(devnet.clients, chain.staking[d]!, block)
    const same = snapshot.stakes.size === stakes[d]!.size && [...stakes[d]!].every(([u, v]) => snapshot.stakes.get(u.toLowerCase() as Hex) === v)
    if (!same || snapshot.circulatingSupply !== circulating[d]) throw new ChainError(`the staking contract ${chain.staking[d]} does not give back the demo's stakes at block ${block}`)
    sources.push({ staking: chain.staking[d]!.toLowerCase() as Hex, block })
  }
  log(`Staked ${stakes.reduce((n, m) => n + m.size, 0)} positions from the users' own accounts; stakes snapshot at block ${block}`)
  return sources
}

/** Publishes the sealed epoch, waits out the timelock, funds the distributor and claims for one account. */
async function publishAndClaim(chain: { devnet: Devnet; deployment: Deployment }, epochDir: string, artifacts: string, account: Address, timelock: number, options: DemoOptions) {
  const { devnet, deployment } = chain
  const log = options.log ?? (() => undefined)
  const sealed = await readPublishedEpoch(epochDir)
  const fromBlock = await devnet.clients.public.getBlockNumber()
  await proposeEpoch(devnet.clients, deployment.distributor, sealed, { artifacts })
  // A watcher with a key of its own and no role audits the proposal during the timelock, as `fomo watch --once`
  // does: it fetches the sealed directory from the URL the proposal names (the aggregator serves it) and would
  // challenge a wrong stake itself. The demo's epoch is honest, so it must pass.
  const records: WatchRecord[] = []
  const watcherAccount = getAddress(addressOf(keccak256(toBytes('fomo demo watcher'))))
  const watched = await watchRegistry({
    client: devnet.clients.public,
    wallet: (await devnet.actAs(watcherAccount)).wallet,
    registry: deployment.distributor,
    cacheDir: `${options.out}/watch-cache`,
    receiptsDir: options.out,
    fromBlock,
    once: true,
    now: () => BigInt(Date.now()) * 1_000_000n,
    log: (r) => records.push(r),
  })
  const failed = records.find((r) => !['config-scheduled', 'proposed', 'check', 'ok'].includes(r.event))
  if (failed || watched.counts.ok !== 1) throw new ChainError(`the demo's watcher did not pass epoch ${sealed.epoch}: ${JSON.stringify(failed?.details ?? watched.counts)}`)
  const watcher = { account: watcherAccount, checks: watched.counts.check, artifacts }
  log(`A watcher (${watcherAccount}, no role) fetched the proposal's artifacts from ${artifacts} and audited them: ${watcher.checks} checks passed`)
  log(`Proposed epoch ${sealed.epoch}; waiting out the ${timelock} s timelock on the in-process EVM`)
  await devnet.increaseTime(timelock)
  await finalizeEpoch(devnet.clients, deployment.distributor, sealed.epoch)
  // Fund the distributor with what the cumulative tree owes, token by token.
  const owed = new Map<Address, bigint>()
  for (const [, v] of sealed.rewardTree.entries()) {
    const { token, amount } = rewardLeafOf(v)
    owed.set(token, (owed.get(token) ?? 0n) + amount)
  }
  for (const [token, amount] of owed) await mintTo(devnet, token, deployment.distributor, amount)
  const claim = await claimAll(devnet.clients, deployment.distributor, sealed, account)
  const claims = await Promise.all(
    claimsOf(sealed.rewardTree, account).map(async (c) => ({ token: c.token, amount: c.cumulative, balance: await balanceOf(devnet, c.token, account) })),
  )
  return { distributor: deployment.distributor, timelockSeconds: timelock, watcher, claimedFor: account, claims, gasUsed: claim?.gasUsed ?? 0n }
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
          `  claimed for        ${r.chain.claimedFor} in one transaction (${r.chain.gasUsed.toLocaleString('en-US')} gas)`,
          ...r.chain.claims.map((c) => `    ${symbolOf(r.config, c.token).padEnd(16)} paid ${formatUnits(c.amount, c.token === r.config.tokens.usdc ? 6 : 18)}, on-chain balance ${formatUnits(c.balance, c.token === r.config.tokens.usdc ? 6 : 18)}`),
        ]
      : []),
    '',
    'Next: prove the epoch, then audit it',
    `  npx fomo prove ${r.epochDir} --receipts ${r.receiptsFile} --attestations ${r.attestationsFile}`,
    `  npx fomo audit ${r.epochDir} --receipts ${r.receiptsFile}`,
    '',
  ].join('\n')
}

async function mintTo(devnet: Devnet, token: Address, to: Address, amount: bigint): Promise<void> {
  const hash = await getContract({ abi: TestToken.abi, address: token, client: { wallet: devnet.clients.wallet } }).write.mint([to, amount])
  await devnet.clients.public.waitForTransactionReceipt({ hash })
}

async function balanceOf(devnet: Devnet, token: Address, account: Address): Promise<bigint> {
  return getContract({ abi: TestToken.abi, address: token, client: { public: devnet.clients.public } }).read.balanceOf([account])
}
