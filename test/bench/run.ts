/**
 * `npm run bench`: every figure is measured in this run, fomo-kit side by side
 * with the named anchors, and the table is written to docs/benchmarks.md.
 * `--quick` skips OpenZeppelin's 1,000,000-leaf build (about 2.5 minutes).
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { keccakBackend } from '../../src/base/keccak.ts'
import { secp256k1 } from '../../src/receipts/secp256k1.ts'
import { benchReceipts } from './receipts.bench.ts'
import { measureChallengeGas, measureClaimGas, measurePublicationGas } from './gas.ts'
import { measureEconomyGas } from './economy-gas.ts'
import { benchZk, constraintModel } from './zk.bench.ts'
import { ingestSection } from './ingest.bench.ts'
import { postgresAvailable, startPostgres } from '../setup/pgserver.ts'
import { benchGateway, gatewayBenchSection } from './gateway.bench.ts'
import { benchCliStart, type StartTiming } from './cli-start.bench.ts'
import { benchTreeFile, treeFileBenchSection } from './tree-file.bench.ts'
import { benchTreeLoad, treeLoadBenchSection } from './tree-load.bench.ts'
import { benchPgInsert, pgInsertBenchSection } from './pg-insert.bench.ts'
import { benchSeal, sealBenchSection } from './seal.bench.ts'
import { benchSoak, soakSection } from './soak.bench.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')
const quick = process.argv.includes('--quick')
const log = (line: string) => process.stderr.write(`${line}\n`)

type TreeRun = { impl: string; n: number; ms: number; root: string; peakRssMB: number; baselineRssMB: number }

async function tree(impl: 'fomo' | 'oz', n: number): Promise<TreeRun> {
  log(`tree: ${impl} ${n.toLocaleString('en-US')} leaves`)
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'tree-child.ts'), impl, String(n)], { cwd: root, maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').pop() as string)
}

const f = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? ['tree', 'tree-file', 'tree-load', 'receipts', 'ingest', 'pg-insert', 'gas', 'zk', 'gateway', 'cli', 'seal']
const sections = new Map<string, string[]>()
/** The load average when the run started (1, 5, 15 minutes): the machine is shared, so each section states it. */
const loadAtStart = loadavg()

if (only.includes('tree')) {
  const trees: Record<string, TreeRun> = {}
  for (const n of [100_000, 1_000_000]) {
    trees[`fomo-${n}`] = await tree('fomo', n)
    if (n === 100_000 || !quick) trees[`oz-${n}`] = await tree('oz', n)
    const oz = trees[`oz-${n}`]
    if (oz && oz.root !== trees[`fomo-${n}`]!.root) throw new Error(`roots differ at ${n} leaves`)
  }
  const lines: string[] = []
  lines.push('## Merkle tree build, (address, uint256) leaves', '')
  lines.push('Each build runs in a fresh process from the same in-memory values (what `StandardMerkleTree.of` takes). Time covers the build call; peak RSS is the whole process; build memory is peak RSS minus the RSS just before the build (runtime and input values excluded).', '')
  lines.push('| leaves | implementation | time | peak RSS | build memory | time vs OpenZeppelin | build memory vs OpenZeppelin |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: |')
  for (const n of [100_000, 1_000_000]) {
    const ours = trees[`fomo-${n}`]!
    const oz = trees[`oz-${n}`]
    const build = (r: TreeRun) => r.peakRssMB - r.baselineRssMB
    lines.push(`| ${f(n)} | fomo-kit StandardTree.build | ${f(ours.ms / 1000, 2)} s | ${f(ours.peakRssMB)} MB | ${f(build(ours))} MB | ${oz ? `${f(oz.ms / ours.ms, 1)}x faster` : 'not run (--quick)'} | ${oz ? `${f((build(ours) / build(oz)) * 100)} %` : 'not run'} |`)
    if (oz) lines.push(`| ${f(n)} | @openzeppelin/merkle-tree StandardMerkleTree.of | ${f(oz.ms / 1000, 2)} s | ${f(oz.peakRssMB)} MB | ${f(build(oz))} MB | 1x | 100 % |`)
  }
  lines.push('', 'Targets: at 100,000 leaves at least 30x faster than OpenZeppelin with at most 1/4 of its peak memory; 1,000,000 leaves in at most 3 s.')
  sections.set('tree', lines)
}

if (only.includes('tree-file')) sections.set('tree-file', treeFileBenchSection(await benchTreeFile(log, { quick })))
if (only.includes('pg-insert')) {
  if (postgresAvailable()) sections.set('pg-insert', pgInsertBenchSection(await benchPgInsert(log, () => startPostgres({ fsync: true }))))
  else log('pg-insert: skipped, no PostgreSQL server installed')
}
if (only.includes('tree-load')) sections.set('tree-load', treeLoadBenchSection(await benchTreeLoad(log)))

if (only.includes('seal')) {
  // `--seal-max=10000000` adds the 10^7-receipt epoch (long: both stores are filled with 10^7 receipts first).
  const max = Number(process.argv.find((a) => a.startsWith('--seal-max='))?.slice(11) ?? 1_000_000)
  const sizes = [100_000, 1_000_000, 10_000_000].filter((n) => n <= max)
  sections.set('seal', sealBenchSection(await benchSeal(log, { sizes, postgres: postgresAvailable() ? () => startPostgres({ fsync: true }) : undefined })))
}

if (only.includes('receipts')) {
  const receipts = await benchReceipts(log)
  const lines: string[] = []
  lines.push('## Receipt verification', '')
  lines.push('| what | receipts | time | receipts/s | vs viem (one core) |', '| --- | ---: | ---: | ---: | ---: |')
  const rows: Array<[string, keyof typeof receipts]> = [
    ['viem `recoverTypedDataAddress`, one core', 'viem'],
    ['fomo-kit `ReceiptVerifier.verify`, one core, parsed documents', 'oneCore'],
    ['fomo-kit `ReceiptVerifier.verify`, one core, from JSON text', 'oneCoreText'],
    ['fomo-kit `VerifierPool`, all cores, from JSON text', 'pool'],
    ['fomo-kit `verifyBatch` (batches of 12,500), one core, parsed', 'batchOneCore'],
    ['fomo-kit `verifyBatch`, one core, from JSON text', 'batchOneCoreText'],
    ['fomo-kit `VerifierPool.verifyBatch`, all cores, from JSON text', 'batchPool'],
  ]
  for (const [label, key] of rows) {
    const r = receipts[key]!
    lines.push(`| ${label} | ${f(r.receipts)} | ${f(r.seconds, 2)} s | ${f(r.perSecond)} | ${f(r.perSecond / receipts.viem!.perSecond, 1)}x |`)
  }
  lines.push('', 'Targets: per-call signed receipts at least 25,000/s using both cores; batch-signed receipts at least 300,000/s.')
  sections.set('receipts', lines)
}

if (only.includes('ingest')) sections.set('ingest', await ingestSection(log, f))

if (only.includes('gas')) {
  log('gas: claims on trees of 2 and 100,000 leaves')
  const rows = await measureClaimGas([2, 100_000])
  const lines: string[] = []
  const diff = (ours: bigint, theirs: bigint) => `${ours <= theirs ? '' : '+'}${f(Number(ours - theirs))} (${f((Number(ours) / Number(theirs) - 1) * 100, 1)} %)`
  lines.push('## Gas of claims', '')
  lines.push("Both distributors deployed on Hardhat's in-process EVM in the same run, paying the same ERC-20 code (OpenZeppelin 5): fomo-kit's `RewardDistributor.claim` (cumulative, multi-token, updatable root, leaves bound to the distributor's domain, also the epoch registry) against Uniswap's `MerkleDistributor.claim` (deployed from `@uniswap/merkle-distributor`'s build: one token, one fixed root, so one distributor per drop). The committed snapshot is contracts/gas-snapshot.json.", '')
  lines.push('| leaves | claim | fomo-kit | Uniswap MerkleDistributor | difference |', '| ---: | --- | ---: | ---: | ---: |')
  for (const r of rows) {
    lines.push(`| ${f(r.leaves)} | first | ${f(Number(r.fomo))} | ${f(Number(r.uniswap))} | ${diff(r.fomo, r.uniswap)} |`)
    lines.push(`| ${f(r.leaves)} | next epoch | ${f(Number(r.fomoNext))} | ${f(Number(r.uniswapNext))} | ${diff(r.fomoNext, r.uniswapNext)} |`)
  }
  lines.push('', "First claim: an account's first payment of a token (its `claimed` slot goes from zero). Next epoch: the same account claims the next epoch's rewards; ours is a new cumulative root on the same contract, Uniswap's a new distributor holding the drop. Target: fomo-kit at most Uniswap; docs/contracts.md explains the first claim's premium (the cold read of an updatable root).")

  log('gas: stake challenges and publication')
  const challenges = await measureChallengeGas([2, 100_000])
  lines.push('', '### Challenges', '')
  lines.push("EpochJudge's challenges, each revoking a pending epoch whose spend list has the given number of entries (two deployments, one staker, the other users not staking): the judge checks the ledger and the pinned reward parameters against their hashes, verifies the positional proofs of the entries it opens, and recomputes what it judges. `challengeStake`: an entry giving a non-staker a 1-wei stake (it also reads the pinned MTStaking at the snapshot block). `challengeReward`: a reward raised by one unit (the whole reward recomputed: the emission routed by score, bonus, pool, releases, the account's entries on both deployments and its previous reward). Side by side with the same run's Uniswap claim on a tree of the same size (a Merkle proof of the same depth and one token transfer).", '')
  const calls: Array<[keyof (typeof challenges)[number], string]> = [
    ['challenge', 'challengeStake'],
    ['ledger', 'challengeLedger'],
    ['spendList', 'challengeSpendList'],
    ['spendTotals', 'challengeSpendTotals'],
    ['spendTree', 'challengeSpendTree'],
    ['reward', 'challengeReward'],
    ['rewardList', 'challengeRewardList'],
    ['rewardTree', 'challengeRewardTree'],
    ['listGap', 'challengeListGap'],
    ['foreignReward', 'challengeForeignReward'],
    ['foreignSpend', 'challengeForeignSpend'],
    ['claimFromList', 'claimFromList (a claim from the reward list)'],
  ]
  lines.push(`| call | ${challenges.map((c) => `${f(c.leaves)} entries`).join(' | ')} | ${challenges.map((c) => `ratio to Uniswap claim, ${f(c.leaves)}`).join(' | ')} |`)
  lines.push(`| --- | ${challenges.map(() => '---:').join(' | ')} | ${challenges.map(() => '---:').join(' | ')} |`)
  for (const [key, name] of calls) {
    const ratio = (c: (typeof challenges)[number]) => Number(c[key] as bigint) / Number(rows.find((r) => r.leaves === c.leaves)!.uniswap)
    lines.push(`| ${name} | ${challenges.map((c) => f(Number(c[key] as bigint))).join(' | ')} | ${challenges.map((c) => f(ratio(c), 2)).join(' | ')} |`)
  }
  lines.push('', 'A challenge of a right fact reverts (`EpochJudgeNoFault`) and changes nothing.')

  const { compileCached } = await import('../../src/proofs/circom.ts')
  const { proveBatch, BATCH_PUBLIC_SIGNALS } = await import('../../src/proofs/groth16.ts')
  const { batchInput } = await import('../../src/proofs/statement.ts')
  const { proofCalldata } = await import('../../src/chain/publication.ts')
  const { attestBatches, params: sample, receipts, rows: stakeRows } = await import('../zk-sample.ts')
  const circuit = await compileCached('circuits/test/receipt_batch_4.circom', root)
  // Batch j: one receipt of the sample's first user; the batches attested together by one provider, proven in order.
  const proveFor = async (domain: string, batches: number) => {
    const ours = { ...sample, domain: BigInt(domain) }
    const parts = Array.from({ length: batches }, (_, j) => [{ ...receipts[0]!, digest: BigInt(j + 1) << 200n }])
    const attested = attestBatches(parts, ours)
    const out = []
    for (const [j, part] of parts.entries()) out.push(proofCalldata(await proveBatch(circuit, join(root, 'fixtures', 'zk', 'receipt_batch_4.test-only.zkey'), batchInput(part, stakeRows, ours, 4, 2, attested[j]!))))
    return out
  }
  const { paddedTable, stakeTable } = await import('../../src/proofs/statement.ts')
  // Every batch's table: the first user's row holds its one receipt's spend.
  const pub = await measurePublicationGas(proveFor, sample.epoch, sample, paddedTable(stakeTable([receipts[0]!], stakeRows), 2))
  const usersPerEpoch = 10_000
  const receiptsPerUser = 100
  const batches = Math.ceil((usersPerEpoch * receiptsPerUser) / 256)
  const total = Number(pub.perProof) * batches + Number(pub.proposeChecked)
  lines.push('', '### Publishing an epoch', '')
  lines.push(`Measured: \`propose\` on a registry without a verifier (only roots and totals are stored, so the same for any number of users); on a registry with the bundled test verifier, \`submitProofs\` of 20 batch proofs in one transaction (per proof below) and \`propose\` checking the proven totals, each deployment's X, M and circulating supply against its staking contract at the snapshot block, and the recorded attestations. A Groth16 verification costs the same for any batch size with the same ${BATCH_PUBLIC_SIGNALS.length} public signals, so a 256-receipt batch's proof costs what the 4-receipt test proof costs.`, '')
  lines.push('| step | gas |', '| --- | ---: |')
  lines.push(
    `| propose, no verifier | ${f(Number(pub.propose))} |`,
    `| recordAttestation, by a provider (once per epoch and deployment) | ${f(Number(pub.record))} |`,
    `| submitProofs, per proof (${pub.proofsPerTransaction} per transaction) | ${f(Number(pub.perProof))} |`,
    `| propose, proven totals, X, M and circulating supply, and one recorded attestation checked | ${f(Number(pub.proposeChecked))} |`,
    `| challengeOmission, revoking a proposal that leaves out a recorded attestation | ${f(Number(pub.challengeOmission))} |`,
    `| challengeSkip, revoking a proposal that skips an earlier epoch with a recorded attestation | ${f(Number(pub.challengeSkip))} |`,
    `| challengeStakeRow, revoking a proposal by opening a batch's stake table (${pub.stakeRows} rows, the test circuit's K; one Poseidon hash and at most one stake read per row) | ${f(Number(pub.challengeStakeRow))} |`,
    `| challengeSpendRows, counting one batch of a user's rows (no fault yet; the sums are kept for the next call) | ${f(Number(pub.spendRowsCount))} |`,
    `| challengeSpendRows, opening ${pub.spendRowsBatches} batches of a user's rows and revoking a proposal whose spend leaf is one unit below them | ${f(Number(pub.spendRowsRevoke))} |`,
  )
  lines.push('', `A spend-rows challenge costs about ${f((Number(pub.spendRowsRevoke) - Number(pub.spendRowsCount)) / (pub.spendRowsBatches - 1))} gas per further batch at ${pub.stakeRows} rows (the opening is a Poseidon hash per row, so it grows with the circuit's K); a user in more batches than a block holds is counted over several transactions.`)
  lines.push('', `Computed from these: an epoch of ${f(usersPerEpoch)} users with ${receiptsPerUser} receipts each (${f(usersPerEpoch * receiptsPerUser)} receipts, ${f(batches)} batches of 256) costs ${f(total)} gas to publish with proofs (${f(Math.ceil(batches / pub.proofsPerTransaction))} submission transactions), and ${f(Number(pub.propose))} without; docs/trust-model.md puts it against a day of blocks.`)
  log('gas: the economy (launch, buys against a router swap, graduation, settlement, funding)')
  const eco = await measureEconomyGas()
  const ratio = (a: bigint, b: bigint) => (Number(a) / Number(b)).toFixed(2)
  lines.push('', '### The economy', '')
  lines.push(`Measured on one fresh in-process chain with Uniswap v2 deployed from its published artifacts: a curve buy of ${f(Number(eco.size / 10n ** 18n))} FLOCK on an RMO sale (the paper's G = 50,000, P0 = 0.1, protocol fees, no anti-sniping surcharge) against the anchor, a router swap of the same ${f(Number(eco.size / 10n ** 18n))} FLOCK for MT on the deployment's graduated pair (the same constant-product step). A buy also pays three fee transfers and records the buyer's escrowed position, which a swap does not.`, '')
  lines.push('| step | gas | vs the swap |', '| --- | ---: | ---: |')
  lines.push(
    `| router swap, FLOCK -> MT on the graduated pair (anchor) | ${f(Number(eco.swap))} | 1.00 |`,
    `| curve buy, a buyer's first (its position from zero) | ${f(Number(eco.buyFirst))} | ${ratio(eco.buyFirst, eco.swap)} |`,
    `| curve buy, the same buyer's next | ${f(Number(eco.buyNext))} | ${ratio(eco.buyNext, eco.swap)} |`,
    `| launch (token, sale and the launch fee) | ${f(Number(eco.launch))} | |`,
    `| graduate (split, pool seeded, LP locked, vesting wallets, two streams) | ${f(Number(eco.graduate))} | |`,
    `| pay an epoch's revenue (one deployment, split by the waterfall) | ${f(Number(eco.pay))} | |`,
    `| finalize, pulling the emission and the deployment's two stream releases | ${f(Number(eco.finalize))} | |`,
    `| FLOCK buyback (keeper, USDC -> FLOCK) | ${f(Number(eco.buybackFlock))} | |`,
    `| MT buyback-and-burn (keeper, USDC -> FLOCK -> MT, burned) | ${f(Number(eco.buybackMt))} | |`,
  )
  lines.push('', `Target: a curve buy costs no more than the swap. Measured: a next buy ${ratio(eco.buyNext, eco.swap)} times the swap${eco.buyNext <= eco.swap ? ' (met)' : ' (not met: the fee transfers and the escrow record are what a swap does not do)'}.`)
  sections.set('gas', lines)
}

if (only.includes('zk')) {
  const { runs, rowConstraints } = await benchZk(log)
  const lines: string[] = []
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  lines.push('## Batch proofs (Groth16, circuits/lib/batch.circom)', '')
  lines.push('One full batch per size (every slot a receipt, stake tables of N/8 users), proved with snarkjs through `BatchProver` in a fresh process; proving time excludes loading the witness generator and proving key (reported apart), peak RSS is the whole process. Keys: a 2^18 powers of tau (one contribution) and phase 2 (a contribution and a beacon) made locally with public entropy (benchmark only), cached outside the repository; setup is the phase 2 time when the zkey was made in this run.', '')
  lines.push('| receipts | stake rows | constraints | per receipt | proving (2 runs) | load | peak RSS | verify | zkey | setup |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of runs)
    lines.push(`| ${f(r.n)} | ${f(r.k)} | ${f(r.constraints)} | ${f(r.constraints / r.n)} | ${r.proveSeconds.map((x) => `${f(x, 1)} s`).join(', ')} | ${f(r.loadSeconds, 1)} s | ${f(r.peakRssMB)} MB | ${f(r.verifyMs)} ms | ${f(r.zkeyMB)} MB | ${r.setupSeconds === null ? 'cached' : `${f(r.setupSeconds)} s`} |`)
  const large = runs[runs.length - 1]!
  const model = constraintModel(runs, rowConstraints)
  const power = (c: number) => Math.ceil(Math.log2(c + 12))
  const t256 = median(large.proveSeconds)
  lines.push('')
  lines.push(`Target: at most 1,200 constraints per receipt with the provider's signature check, and ${f(large.n)} receipts proved in at most 60 s: measured ${f(large.constraints / large.n)} per receipt and a median of ${f(t256, 1)} s.`)
  lines.push('')
  lines.push(`What a batch of 1,024 would need (an estimate from the runs above, not a measurement). Constraints follow a*N + b*K + e*N*K + d, fitted on the three sizes with b = ${f(rowConstraints)} (one stake row's discount); the N*K term is each receipt's one-hot choice of its stake row. With K = N/8 = 128 rows: ${f(model(1024, 128))} constraints, ${f(model(1024, 128) / 1024)} per receipt, over the budget. With K = 32 rows (batches of at most 32 distinct users; the batching rule then cuts more batches): ${f(model(1024, 32))} constraints, ${f(model(1024, 32) / 1024)} per receipt, a 2^${power(model(1024, 32))} powers of tau (a public ceremony's file: such a file cannot be made here in reasonable time). Proving time grows about with constraints times log domain size: about ${f(t256 * (model(1024, 32) / large.constraints) * (power(model(1024, 32)) / power(large.constraints)))} s on this machine, and memory with the proving key: about ${f(large.zkeyMB * (model(1024, 32) / large.constraints))} MB of zkey and ${f(large.peakRssMB * (model(1024, 32) / large.constraints))} MB peak RSS. Four batches of 256 prove the same receipts in about ${f(4 * t256)} s with a quarter of the memory.`)
  sections.set('zk', lines)
}

if (only.includes('gateway')) {
  sections.set('gateway', gatewayBenchSection(await benchGateway(log)))
}

// Not in the default list: it runs for --soak-seconds (600 by default).
if (only.includes('soak')) sections.set('soak', soakSection(await benchSoak(log)))

if (only.includes('cli')) {
  log('cli: `fomo --help` and `fomo receipt verify`, before and after the built package')
  const b = await benchCliStart()
  const t = (x: StartTiming) => `${f(x.medianMs)} ms | ${f(x.meanMs)} ms | ${f(x.minMs)} – ${f(x.maxMs)} ms`
  const lines: string[] = []
  lines.push('## `fomo` start time', '')
  lines.push(`Wall time of the whole process, ${b.runs} runs each after one warm-up run. Before: the TypeScript sources through tsx with every command module loaded before dispatch (what bin.mjs and the eager command list did). Sources, lazy: the same sources through tsx with the lazy command list. After: \`dist/cli/bin.js\`, the built package with the lazy list (what \`npm ci\` builds and \`npx fomo\` runs). \`receipt verify\` verifies one signed receipt (fixtures/receipts/vectors.json).`, '')
  lines.push('| command | start | median | mean | min – max | median vs before |', '| --- | --- | ---: | ---: | ---: | ---: |')
  for (const [name, c] of [['`fomo --help`', b.help], ['`fomo receipt verify`', b.receiptVerify]] as const)
    for (const [label, x] of [['before (tsx, eager)', c.before], ['sources, lazy (tsx)', c.sourcesLazy], ['after (dist, lazy)', c.after]] as const)
      lines.push(`| ${name} | ${label} | ${t(x)} | ${x === c.before ? '1x' : `${f(c.before.medianMs / x.medianMs, 1)}x faster`} |`)
  lines.push('', `Target: \`fomo --help\` under 300 ms. Measured: ${f(b.help.after.medianMs)} ms (median)${b.help.after.medianMs < 300 ? ' (met)' : ' (not met)'}.`)
  sections.set('cli', lines)
}

const path = join(root, 'docs', 'benchmarks.md')
let doc = await readFile(path, 'utf8').catch(() => '')
const header = [
  '# Benchmarks',
  '',
  'Measured by `npm run bench` (sections rerun with `--only=tree,tree-file,tree-load,receipts,ingest,pg-insert,gas,zk,gateway,cli,seal`; the 10-minute soak only with `--only=soak`). Each section names the run that measured it; every figure in a section comes from that one run, side by side with its anchor. Ratios are what count on a shared machine.',
]
// Sections can be rerun alone, so each carries its own machine line rather than one header for the whole page.
const machine = `_Run ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${f(totalmem() / 2 ** 30)} GiB, Node ${process.version}; keccak ${keccakBackend}, secp256k1 ${secp256k1.name}; load average ${loadAtStart.map((x) => f(x, 2)).join(' / ')} at the run's start._`
const replace = (text: string, name: string, body: string[]) => {
  const open = `<!-- section:${name} -->`
  const close = `<!-- /section:${name} -->`
  const block = `${open}\n${body.join('\n')}\n${close}`
  return text.includes(open) ? text.slice(0, text.indexOf(open)) + block + text.slice(text.indexOf(close) + close.length) : `${text.trimEnd()}\n\n${block}\n`
}
doc = replace(doc, 'header', header)
for (const [name, body] of sections) doc = replace(doc, name, [body[0]!, '', machine, ...body.slice(1)])
await writeFile(path, doc)
for (const body of sections.values()) log(body.join('\n'))
// snarkjs leaves its worker threads alive after proving; the run is over.
process.exit(0)
