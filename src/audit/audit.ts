import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { getContract, type Address, type PublicClient } from 'viem'
import { readConfig, readEpochInputs, type AggregatorConfig, type EpochInputs } from '../epoch/config.ts'
import { MANIFEST_FORMAT, seal, type SpendRow } from '../epoch/seal.ts'
import { ChainError } from '../chain/contracts.ts'
import { RewardDistributor } from '../chain/contracts.generated.ts'
import { commitmentOf, readSealedEpoch } from '../chain/epoch.ts'
import { readStakeSnapshot } from '../chain/stakes.ts'
import type { Allocation } from '../economics/epoch.ts'
import { stakingDiscountBps } from '../economics/revenue.ts'
import { BaseError } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import { Reader } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { planBatches, proofsHash, readEpochProofs, type EpochProofs, type EpochReceipt } from '../proofs/epoch.ts'
import { ProofError, verifyBatchProof } from '../proofs/groth16.ts'
import { batchStatement, digestLimbs, stakesCommitment } from '../proofs/statement.ts'
import { readReceiptsText, ReceiptFileError } from '../receipts/file.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import { ReceiptVerifier } from '../receipts/verify.ts'

/**
 * The auditor: re-derives a sealed epoch from what it is given and names the first number that differs. From the
 * receipts (when given) it checks every signature and rebuilds the spend leaves; from the configuration, the
 * epoch's inputs and the previous epoch's cumulative rewards it recomputes the spend tree, rewards, reward tree,
 * report and manifest with the aggregator's own pure seal function; it verifies every batch proof and what the
 * proofs bind; and it compares the on-chain commitment.
 */
export type DiscrepancyKind = 'file' | 'receipt' | 'spend-leaf' | 'reward-leaf' | 'report' | 'manifest' | 'proof' | 'stake' | 'chain'

export class AuditDiscrepancy extends BaseError {
  override name = 'AuditDiscrepancy'
  constructor(
    readonly kind: DiscrepancyKind,
    readonly subject: string,
    readonly expected?: string,
    readonly found?: string,
  ) {
    super(`AUDIT_${kind.toUpperCase().replace('-', '_')}`, expected === undefined ? subject : `${subject}: expected ${expected}, found ${found}`)
  }
}

export type AuditOptions = {
  /** The sealed epoch directory (epoch-<n>). */
  dir: string
  /** The epoch's receipts (fomo export-receipts NDJSON); without them spend leaves are taken as published. */
  receiptsText?: string | undefined
  /** The verification key proofs must have been made for (pinned by the auditor, not taken from the epoch). */
  verificationKeyPath?: string | undefined
  /** Compare with the commitment in this registry. */
  chain?: { client: PublicClient; registry: Address } | undefined
  /**
   * Compare inputs.json's stake snapshot (circulating supply and every stake) with each deployment's MTStaking
   * contract at the snapshot block: the stakes every discount and every proof's stakes commitment rest on.
   */
  stakes?: { client: PublicClient; block: bigint; contracts: ReadonlyArray<{ deploymentId: Hex; staking: Address }> } | undefined
  /** The previous epoch's directory; by default the sibling whose manifest hash the manifest names. */
  previousDir?: string | undefined
  /** Told each check as it passes. */
  onCheck?: ((line: string) => void) | undefined
}

type Checks = { push(line: string): void }

export type AuditResult = { epoch: number; checks: string[]; warnings: string[] }

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const key = (deploymentId: string, user: string) => `${deploymentId.toLowerCase()}/${user.toLowerCase()}`

type LeafValues = Array<{ value: string[]; treeIndex: number }>

export async function auditEpoch(options: AuditOptions): Promise<AuditResult> {
  const { dir } = options
  const passed: string[] = []
  const checks: Checks = {
    push: (line) => {
      passed.push(line)
      options.onCheck?.(line)
    },
  }
  const warnings: string[] = []
  const bytes = new Map<string, Buffer>()
  const read = async (name: string, required = true): Promise<Buffer | undefined> => {
    const b = await readFile(join(dir, name)).catch(() => undefined)
    if (!b && required) throw new AuditDiscrepancy('file', `${name} is missing from ${dir}`)
    if (b) bytes.set(name, b)
    return b
  }
  const json = async (name: string) => parseJsonDocument((await read(name))!.toString('utf8'), name) as Record<string, unknown>

  const manifest = await json('manifest.json')
  const m = new Reader(MANIFEST_FORMAT, manifest)
  m.field('format').literal([MANIFEST_FORMAT])
  const epoch = Number(m.field('epoch').integer(0, 0xffff_ffff))
  const config = readConfig(await json('config.json'))
  const inputs = readEpochInputs(await json('inputs.json'), config)
  if (inputs.epoch !== epoch) throw new AuditDiscrepancy('file', 'inputs.json is for another epoch', String(epoch), String(inputs.epoch))
  const previous = await previousRewards(dir, manifest.previousManifestSha256, options.previousDir)
  checks.push(previous.from ? `previous cumulative rewards from ${previous.from}` : 'first epoch: no previous rewards')

  const spendDoc = (await read('spend-tree.json', false)) ? await json('spend-tree.json') : undefined
  const spendLeaves = ((spendDoc?.values ?? []) as LeafValues).map((v) => v.value)
  const rewardDoc = (await read('reward-tree.json', false)) ? await json('reward-tree.json') : undefined

  // Spend: from the receipts when given, else as published.
  let spend: SpendRow[]
  let receipts: EpochReceipt[] | undefined
  if (options.receiptsText !== undefined) {
    receipts = verifiedReceipts(options.receiptsText, config, epoch, checks)
    spend = spendFromReceipts(receipts)
    compareSpendLeaves(spend, spendLeaves, epoch)
    checks.push(`spend leaves: ${spend.length} (deployment, user) totals equal the receipts'`)
  } else {
    spend = spendFromLeaves(spendLeaves, config, inputs.deployments)
    warnings.push('no receipts given (--receipts): spend leaves are taken as published, signatures and discounts are not checked')
  }

  const out = seal({ epoch, config, spend, inputs: inputs.deployments, previous: previous.rewards, previousManifestSha256: (manifest.previousManifestSha256 as string | null) ?? null })
  const recomputed = new Map(out.files.map((f) => [f.name, Buffer.from(f.content)]))
  const same = (name: string) => {
    const a = recomputed.get(name)
    const b = bytes.get(name)
    return a === undefined ? b === undefined : b !== undefined && a.equals(b)
  }
  if (!same('spend-tree.json')) throw new AuditDiscrepancy('file', 'spend-tree.json is not the tree its leaves build (nodes, order or root differ)')
  checks.push(`spend tree: root ${out.spendRoot ?? 'none (no receipts)'}`)
  compareRewardLeaves(rewardDoc ? ((rewardDoc.values ?? []) as LeafValues).map((v) => v.value) : [], recomputed.get('reward-tree.json'))
  if (!same('reward-tree.json')) throw new AuditDiscrepancy('file', 'reward-tree.json is not the tree its leaves build (nodes, order or root differ)')
  checks.push(`rewards: ${out.credits.length} credits this epoch; reward tree root ${out.rewardRoot ?? 'none'}`)
  const withoutReceipts = options.receiptsText === undefined
  compareJson('report', JSON.parse(recomputed.get('report.json')!.toString('utf8')), await json('report.json'), '$', withoutReceipts ? /^\$\.deployments\[\d+\]\.discountMismatches$/ : undefined)
  checks.push('report: every number recomputed')
  for (const name of ['config.json', 'inputs.json']) if (!same(name)) throw new AuditDiscrepancy('file', `${name} is not in the form the aggregator writes (reformatted or edited)`)
  compareJson('manifest', JSON.parse(recomputed.get('manifest.json')!.toString('utf8')), manifest, '$', withoutReceipts ? /^\$\.files\.report\.json\.sha256$/ : undefined)
  for (const [name, entry] of Object.entries(manifest.files as Record<string, { sha256: string }>)) {
    const b = bytes.get(name) ?? (await read(name))!
    if (sha256(b) !== entry.sha256) throw new AuditDiscrepancy('file', `${name} does not have the hash the manifest records`, entry.sha256, sha256(b))
  }
  checks.push(`manifest: recomputed, file hashes match (sha256 ${sha256(bytes.get('manifest.json')!)})`)

  const proofsBytes = await read('proofs.json', false)
  let proofs: EpochProofs | undefined
  if (proofsBytes) {
    proofs = readEpochProofs(parseJsonDocument(proofsBytes.toString('utf8'), 'proofs.json'))
    await checkProofs(proofs, { epoch, config, inputs: inputs.deployments, spend, receipts, verificationKeyPath: options.verificationKeyPath, checks, warnings })
  } else warnings.push('no proofs.json: the epoch was not proven (fomo prove)')

  if (options.stakes) await checkStakes(inputs, options.stakes, checks)
  if (options.chain) await checkChain(dir, epoch, options.chain, checks)
  return { epoch, checks: passed, warnings }
}

async function previousRewards(dir: string, previousSha: unknown, given: string | undefined): Promise<{ rewards: Allocation[]; from?: string }> {
  if (previousSha === null || previousSha === undefined) return { rewards: [] }
  const parent = dirname(dir)
  const candidates = given ? [given] : (await readdir(parent).catch(() => [] as string[])).filter((n) => /^epoch-\d+$/.test(n)).map((n) => join(parent, n))
  for (const candidate of candidates) {
    const manifest = await readFile(join(candidate, 'manifest.json')).catch(() => undefined)
    if (!manifest || sha256(manifest) !== previousSha) continue
    const tree = await readFile(join(candidate, 'reward-tree.json'), 'utf8').catch(() => undefined)
    const values = tree ? ((JSON.parse(tree) as { values: LeafValues }).values ?? []) : []
    return { rewards: values.map((v) => ({ account: v.value[0]!, token: v.value[1]!, amount: BigInt(v.value[2]!) })), from: candidate }
  }
  throw new AuditDiscrepancy('file', `the previous epoch's directory (manifest sha256 ${String(previousSha)}) is not beside ${dir}`, undefined, undefined)
}

function verifiedReceipts(text: string, config: AggregatorConfig, epoch: number, checks: Checks): EpochReceipt[] {
  const verifier = new ReceiptVerifier({ domain: config.domain, registry: ProviderRegistry.from(config.providers) })
  let read
  try {
    read = readReceiptsText(text, verifier)
  } catch (error) {
    if (error instanceof ReceiptFileError) throw new AuditDiscrepancy('receipt', error.shortMessage)
    throw error
  }
  for (const r of read.receipts)
    if (r.receipt.epoch !== epoch) throw new AuditDiscrepancy('receipt', `receipt on line ${r.line} (requestId ${r.receipt.requestId}) is for epoch ${r.receipt.epoch}`, String(epoch), String(r.receipt.epoch))
  checks.push(`receipts: ${read.receipts.length} signatures verified against the providers of config.json${read.duplicates ? ` (${read.duplicates} repeats counted once)` : ''}`)
  return read.receipts.map((r) => ({
    digest: r.digest,
    deploymentId: r.receipt.deploymentId.toLowerCase() as Hex,
    user: r.receipt.user.toLowerCase() as Hex,
    gross: r.receipt.grossAmount,
    discountBps: r.receipt.discountBps,
    charged: r.receipt.chargedAmount,
  }))
}

function spendFromReceipts(receipts: readonly EpochReceipt[]): SpendRow[] {
  const rows = new Map<string, SpendRow>()
  for (const r of receipts) {
    const k = key(r.deploymentId, r.user)
    const row = rows.get(k)
    if (!row) rows.set(k, { deploymentId: r.deploymentId, user: r.user, gross: r.gross, charged: r.charged, count: 1n, minDiscountBps: r.discountBps, maxDiscountBps: r.discountBps })
    else {
      row.gross += r.gross
      row.charged += r.charged
      row.count++
      row.minDiscountBps = Math.min(row.minDiscountBps, r.discountBps)
      row.maxDiscountBps = Math.max(row.maxDiscountBps, r.discountBps)
    }
  }
  return sortSpend([...rows.values()])
}

/** In the store's order (deployment, then user), which settlement follows. */
const sortSpend = (rows: SpendRow[]) => rows.sort((a, b) => (key(a.deploymentId, a.user) < key(b.deploymentId, b.user) ? -1 : 1))

/** Without receipts the discounts are unknown; they are taken as the snapshot gives them (the report's mismatch counts are not checked). */
function spendFromLeaves(leaves: string[][], config: AggregatorConfig, inputs: Map<Hex, { circulatingSupply: bigint | undefined; stakes: Map<Hex, bigint> }>): SpendRow[] {
  return sortSpend(leaves.map((v) => {
    const [, deploymentId, user, gross, charged, count] = v as [string, Hex, Hex, string, string, string]
    const d = inputs.get(deploymentId)
    const stake = d?.stakes.get(user) ?? 0n
    const circulating = d?.circulatingSupply
    const bps = circulating !== undefined && stake <= circulating ? Number(stakingDiscountBps(stake, circulating, { maxDiscountBps: config.platform.maxDiscountBps, multiplier: config.platform.discountMultiplier })) : 0
    return { deploymentId, user, gross: BigInt(gross), charged: BigInt(charged), count: BigInt(count), minDiscountBps: bps, maxDiscountBps: bps }
  }))
}

function compareSpendLeaves(spend: readonly SpendRow[], leaves: string[][], epoch: number): void {
  const published = new Map<string, { value: string[]; index: number }>()
  leaves.forEach((value, index) => published.set(key(value[1]!, value[2]!), { value, index }))
  const names = ['epoch', 'deploymentId', 'user', 'gross', 'charged', 'receipts'] as const
  for (const row of [...spend].sort((a, b) => (key(a.deploymentId, a.user) < key(b.deploymentId, b.user) ? -1 : 1))) {
    const k = key(row.deploymentId, row.user)
    const leaf = published.get(k)
    const subject = `spend leaf of user ${row.user} in deployment ${row.deploymentId}`
    const expected = [String(epoch), row.deploymentId, row.user, row.gross.toString(), row.charged.toString(), row.count.toString()]
    if (!leaf) throw new AuditDiscrepancy('spend-leaf', `${subject} is missing from spend-tree.json`, `gross ${expected[3]}, charged ${expected[4]}, receipts ${expected[5]}`, 'no leaf')
    for (let i = 0; i < names.length; i++)
      if (String(leaf.value[i]).toLowerCase() !== expected[i]) throw new AuditDiscrepancy('spend-leaf', `${subject} (leaf #${leaf.index}): ${names[i]}`, expected[i], String(leaf.value[i]))
    published.delete(k)
  }
  for (const { value, index } of published.values())
    throw new AuditDiscrepancy('spend-leaf', `spend leaf #${index} (user ${value[2]} in deployment ${value[1]}) has no receipts`, 'no leaf', `gross ${value[3]}`)
}

function compareRewardLeaves(found: string[][], recomputedTree: Buffer | undefined): void {
  const expected = recomputedTree ? ((JSON.parse(recomputedTree.toString('utf8')) as { values: LeafValues }).values ?? []).map((v) => v.value) : []
  const published = new Map<string, { value: string[]; index: number }>()
  found.forEach((value, index) => published.set(key(value[0]!, value[1]!), { value, index }))
  for (const [account, token, amount] of expected as Array<[string, string, string]>) {
    const leaf = published.get(key(account, token))
    const subject = `cumulative reward of ${account} in token ${token}`
    if (!leaf) throw new AuditDiscrepancy('reward-leaf', `${subject} is missing from reward-tree.json`, amount, 'no leaf')
    if (String(leaf.value[2]) !== amount) throw new AuditDiscrepancy('reward-leaf', `${subject} (leaf #${leaf.index})`, amount, String(leaf.value[2]))
    published.delete(key(account, token))
  }
  for (const { value, index } of published.values()) throw new AuditDiscrepancy('reward-leaf', `reward leaf #${index} (${value[0]} in token ${value[1]}) is owed nothing`, 'no leaf', String(value[2]))
}

/** Names the first path where two JSON values differ. */
function compareJson(kind: 'report' | 'manifest', expected: unknown, found: unknown, path: string, skip?: RegExp): void {
  if (skip?.test(path)) return
  const file = kind === 'report' ? 'report.json' : 'manifest.json'
  if (typeof expected !== 'object' || expected === null || typeof found !== 'object' || found === null) {
    if (expected !== found) throw new AuditDiscrepancy(kind, `${file} ${path}`, JSON.stringify(expected), JSON.stringify(found))
    return
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(found)])
  for (const k of keys) {
    const child = Array.isArray(expected) ? `${path}[${k}]` : `${path}.${k}`
    if (!(k in (expected as object))) throw new AuditDiscrepancy(kind, `${file} ${child} should not be there`, 'nothing', JSON.stringify((found as Record<string, unknown>)[k]))
    if (!(k in (found as object))) throw new AuditDiscrepancy(kind, `${file} ${child} is missing`, JSON.stringify((expected as Record<string, unknown>)[k]), 'nothing')
    compareJson(kind, (expected as Record<string, unknown>)[k], (found as Record<string, unknown>)[k], child, skip)
  }
}

async function checkProofs(
  proofs: EpochProofs,
  c: { epoch: number; config: AggregatorConfig; inputs: EpochInputs['deployments']; spend: readonly SpendRow[]; receipts: EpochReceipt[] | undefined; verificationKeyPath: string | undefined; checks: Checks; warnings: string[] },
): Promise<void> {
  const { TEST_CIRCUIT_KEYS, readCircuitKeys } = await import('../proofs/epoch.ts')
  const vkeyPath = c.verificationKeyPath ?? (await readCircuitKeys(TEST_CIRCUIT_KEYS)).verificationKey
  const vkeyBytes = await readFile(vkeyPath)
  if (sha256(vkeyBytes) !== proofs.circuit.verificationKeySha256)
    throw new AuditDiscrepancy('proof', `proofs.json was made for another verification key than ${vkeyPath}`, sha256(vkeyBytes), proofs.circuit.verificationKeySha256)
  if (proofs.circuit.testOnly) c.warnings.push(`proofs use the TEST-ONLY keys of ${proofs.circuit.name}: their ceremony used public entropy, so they prove nothing against a dishonest prover`)
  if (proofs.epoch !== c.epoch) throw new AuditDiscrepancy('proof', 'proofs.json proves another epoch', String(c.epoch), String(proofs.epoch))
  const hash = proofsHash(proofs.batches)
  if (hash !== proofs.proofsHash) throw new AuditDiscrepancy('proof', 'proofs.json proofsHash is not the hash of its batches\' public signals', hash, proofs.proofsHash)
  const vkey = JSON.parse(vkeyBytes.toString('utf8')) as unknown
  const k = proofs.circuit.rows
  const proven = new Map<string, { gross: bigint; charged: bigint; count: bigint }>()
  for (const [i, b] of proofs.batches.entries()) {
    const subject = `proof of batch #${i} (deployment ${b.deploymentId})`
    const s = b.proof.publicSignals
    if (!(await verifyBatchProof(vkey, b.proof).catch(() => false))) throw new AuditDiscrepancy('proof', `${subject} does not verify`)
    const snapshot = c.inputs.get(b.deploymentId)
    const [hi, lo] = digestLimbs(BigInt(b.deploymentId))
    const expect = (name: keyof typeof s, value: bigint | number | undefined, what: string) => {
      if (s[name] !== String(value)) throw new AuditDiscrepancy('proof', `${subject}: public signal ${name} (${what})`, String(value), s[name])
    }
    expect('epoch', c.epoch, 'the epoch')
    expect('deploymentIdHi', hi, 'the deployment')
    expect('deploymentIdLo', lo, 'the deployment')
    expect('maxDiscountBps', c.config.platform.maxDiscountBps, 'X of config.json')
    expect('multiplier', c.config.platform.discountMultiplier, 'M of config.json')
    expect('circulating', snapshot?.circulatingSupply, 'the circulating supply of inputs.json')
    if (b.rows.length > k) throw new AuditDiscrepancy('proof', `${subject} lists more stake rows than the circuit has`, String(k), String(b.rows.length))
    for (const row of b.rows) {
      const stake = snapshot?.stakes.get(row.user) ?? 0n
      if (row.stake !== stake) throw new AuditDiscrepancy('proof', `${subject}: stake of ${row.user}`, `${stake} (inputs.json)`, String(row.stake))
    }
    const rows = [...b.rows.map((r) => ({ user: BigInt(r.user), stake: r.stake })), ...Array.from({ length: k - b.rows.length }, () => ({ user: 0n, stake: 0n }))]
    expect('stakesCommitment', stakesCommitment(rows), 'the commitment of its stake rows')
    const t = proven.get(b.deploymentId) ?? { gross: 0n, charged: 0n, count: 0n }
    proven.set(b.deploymentId, { gross: t.gross + BigInt(s.totalGross), charged: t.charged + BigInt(s.totalCharged), count: t.count + BigInt(s.count) })
  }
  const published = new Map<string, { gross: bigint; charged: bigint; count: bigint }>()
  for (const r of c.spend) {
    const t = published.get(r.deploymentId) ?? { gross: 0n, charged: 0n, count: 0n }
    published.set(r.deploymentId, { gross: t.gross + r.gross, charged: t.charged + r.charged, count: t.count + r.count })
  }
  for (const id of new Set([...published.keys(), ...proven.keys()])) {
    const a = published.get(id) ?? { gross: 0n, charged: 0n, count: 0n }
    const b = proven.get(id) ?? { gross: 0n, charged: 0n, count: 0n }
    for (const f of ['gross', 'charged', 'count'] as const)
      if (a[f] !== b[f]) throw new AuditDiscrepancy('proof', `proven ${f} of deployment ${id} (sum over its batches) against the spend tree`, a[f].toString(), b[f].toString())
  }
  c.checks.push(`proofs: ${proofs.batches.length} batch proofs of ${proofs.circuit.name} verify; epoch, deployment, X, M, circulating supply and stakes match; proven totals equal the spend tree's per deployment`)
  if (c.receipts) {
    let plan
    try {
      plan = planBatches(c.epoch, c.config, c.inputs, c.receipts, proofs.circuit.receipts, k)
    } catch (error) {
      if (error instanceof ProofError) throw new AuditDiscrepancy('receipt', error.shortMessage)
      throw error
    }
    if (plan.length !== proofs.batches.length) throw new AuditDiscrepancy('proof', 'number of batches the receipts make', String(plan.length), String(proofs.batches.length))
    for (const [i, b] of plan.entries()) {
      const st = batchStatement(b.receipts, b.rows, b.params, proofs.circuit.receipts, k)
      const s = proofs.batches[i]!.proof.publicSignals
      if (s.root !== st.root.toString()) throw new AuditDiscrepancy('proof', `proof of batch #${i} (deployment ${b.deploymentId}): root of its receipts (first ${b.digests[0]})`, st.root.toString(), s.root)
      if (s.count !== st.count.toString()) throw new AuditDiscrepancy('proof', `proof of batch #${i}: receipt count`, st.count.toString(), s.count)
    }
    c.checks.push('proofs: each batch root is the Poseidon root of the receipts the batching rule puts in it')
  }
}

/** A node read whose failure (unreachable node, wrong address, no such block) names what was being read. */
async function readOnChain<T>(call: () => Promise<T>, what: string, hint: string): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const reason = (error as { shortMessage?: string }).shortMessage ?? (error as Error).message
    throw new ChainError(`cannot read ${what}: ${reason}`, hint, error)
  }
}

async function checkStakes(inputs: EpochInputs, source: NonNullable<AuditOptions['stakes']>, checks: Checks): Promise<void> {
  for (const { deploymentId, staking } of source.contracts) {
    const chain = await readOnChain(
      () => readStakeSnapshot({ public: source.client }, staking, source.block),
      `the stake snapshot of deployment ${deploymentId} from ${staking} at block ${source.block}`,
      'Check --rpc, --block (the snapshot block) and --staking (<deploymentId>=<MTStaking address>).',
    )
    const given = inputs.deployments.get(deploymentId)
    const where = `deployment ${deploymentId}, MTStaking ${staking} at block ${source.block}`
    if (given?.circulatingSupply !== chain.circulatingSupply)
      throw new AuditDiscrepancy('stake', `${where}: circulating supply`, `${chain.circulatingSupply} (on chain)`, `${given?.circulatingSupply ?? 'none'} (inputs.json)`)
    const accounts = [...new Set([...chain.stakes.keys(), ...(given?.stakes.keys() ?? [])])].sort()
    for (const account of accounts) {
      const onChain = chain.stakes.get(account) ?? 0n
      const listed = given?.stakes.get(account) ?? 0n
      if (onChain !== listed) throw new AuditDiscrepancy('stake', `${where}: stake of ${account}`, `${onChain} (on chain)`, `${listed} (inputs.json)`)
    }
    checks.push(`stakes: ${where}: circulating supply and the stakes of ${chain.stakes.size} accounts equal inputs.json's`)
  }
}

async function checkChain(dir: string, epoch: number, chain: { client: PublicClient; registry: Address }, checks: Checks): Promise<void> {
  const sealed = await readSealedEpoch(dir)
  const registry = getContract({ abi: RewardDistributor.abi, address: chain.registry, client: { public: chain.client } })
  const read = <T>(call: () => Promise<T>) =>
    readOnChain(call, `epoch ${epoch}'s commitment from registry ${chain.registry}`, 'Check --rpc (a JSON-RPC URL) and --registry (the distributor this epoch was published to).')
  let onChain = await read(() => registry.read.finalCommitment([BigInt(epoch)]))
  let state = 'final'
  if (/^0x0{64}$/.test(onChain.spendRoot)) {
    const [hasPending, pendingEpoch] = await read(() => Promise.all([registry.read.hasPending(), registry.read.pendingEpoch()]))
    if (!hasPending || pendingEpoch !== BigInt(epoch)) throw new AuditDiscrepancy('chain', `epoch ${epoch} is neither final nor pending in registry ${chain.registry}`)
    onChain = await read(() => registry.read.pendingCommitment())
    state = 'pending'
  }
  const expected = commitmentOf(sealed, await read(() => chain.client.getChainId()), chain.registry) as Record<string, unknown>
  for (const [field, value] of Object.entries(expected)) {
    const found = (onChain as Record<string, unknown>)[field]
    if (String(found).toLowerCase() !== String(value).toLowerCase()) throw new AuditDiscrepancy('chain', `on-chain commitment of epoch ${epoch} (${state}): ${field}`, String(value), String(found))
  }
  checks.push(`chain: the ${state} commitment of epoch ${epoch} in ${chain.registry} equals the directory's (roots, totals, manifest hash, domain, proofs hash)`)
}
