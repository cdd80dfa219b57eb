/**
 * The watcher (`fomo watch`): follows a registry (the RewardDistributor) from a block, audits each proposed epoch
 * as it appears against its sealed directory (and its receipts when given), the pending commitment on chain and the
 * recorded stake snapshots. A proposal that fails while still pending is challenged by any watcher with a key when
 * the fault is one the chain can prove (a spend leaf's or a batch's stake, a recorded attestation left out, a ledger
 * fault, a spend leaf below its user's proven rows: no role needed), else revoked when
 * the watcher's wallet holds the guardian role, else reported (docs/trust-model.md, properties 4 and 5).
 *
 * Proposals are found with `eth_getLogs` over bounded block ranges (no node-side filters: not every node keeps them
 * reliably), and the last `reorgDepth` blocks are read again at every poll, so a proposal mined in a block that a
 * reorganisation replaced is still seen; a challenge or revocation the watcher sent is checked again at the next poll
 * and sent again if a reorganisation dropped it. Artifacts come from a directory (`epoch-<n>` as `fomo seal --out`
 * writes it) or, failing that, from the URL the proposal names, checked byte for byte against its manifest hash
 * (src/audit/fetch.ts); receipts only from a directory of the watcher's own (`receipts-<n>.ndjson`). Time, the
 * clients, the log and the stop signal are passed in.
 */
import { access, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getContract, zeroHash, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem'
import { SchemaError, type BaseError } from '../base/errors.ts'
import { JsonError, parseJsonDocument } from '../base/json.ts'
import { EpochDirectoryError } from '../epoch/directory.ts'
import { ArtifactsError } from '../epoch/artifacts.ts'
import { fetchEpochArtifacts, sealedDirectoryMismatch } from './fetch.ts'
import { TreeError } from '../merkle/tree.ts'
import { RewardDistributor } from '../chain/contracts.generated.ts'
import { readManifest } from '../epoch/manifest.ts'
import { findLedgerChallenge, readEpochConfig, readOpenedLedger, submitLedgerChallenge, type LedgerChallenge, type OpenedLedger } from '../chain/judge.ts'
import { LedgerError, ledgerHash, rewardParameters } from '../epoch/ledger.ts'
import { PositionalTreeError } from '../merkle/positional.ts'
import { findStakeChallenges, stakeRowFaults, submitStakeChallenge, submitStakeRowChallenge, type StakeChallenge, type StakeRowChallenge } from '../chain/challenges.ts'
import { readProofsFile, type EpochProofs } from '../proofs/files.ts'
import { proofsHash } from '../proofs/prove.ts'
import { omissionFaults, submitOmissionChallenge, type OmissionFault } from '../chain/attestations.ts'
import { spendRowsChallenge, spendRowsFault, submitSpendRowsChallenge, type SpendRowsChallenge } from '../chain/spendRows.ts'
import { auditEpoch } from './audit.ts'
import { omissionDiscrepancy, readOnChain } from './chain.ts'
import { AuditDiscrepancy } from './discrepancy.ts'
import { previousDirectory } from './rewards.ts'
import { ChainError } from '../chain/contracts.ts'

export type WatchEvent = 'config-scheduled' | 'proposed' | 'check' | 'ok' | 'discrepancy' | 'missing-artifacts' | 'challenged' | 'revoked' | 'reorged' | 'error'

/** One line of the watcher's log. `epoch` is null for what concerns no one epoch (a failed scan of the logs). */
export type WatchRecord = { time: string; epoch: number | null; event: WatchEvent; details: Record<string, unknown> }

export type WatchOptions = {
  /** A node of the registry's chain. */
  client: PublicClient
  /**
   * The watcher's account: any account challenges a provable fault; only one with GUARDIAN_ROLE revokes the rest.
   * Without one the watcher only reports.
   */
  wallet?: WalletClient<Transport, Chain, Account> | undefined
  /** The registry (the distributor) to follow. */
  registry: Address
  /**
   * Where the sealed epoch directories are (`epoch-<n>`, as `fomo seal --out` writes them). A proposal whose directory
   * is not there (or not yet its own) is fetched from the artifacts URL it names, when it names one.
   */
  epochsDir?: string | undefined
  /** Where directories fetched from artifacts URLs are kept (default: fomo-watch in the system's temporary directory). */
  cacheDir?: string | undefined
  /** The HTTP client artifacts are fetched with (default: the global fetch). */
  fetch?: typeof fetch | undefined
  /** Where the receipts files are (`receipts-<n>.ndjson`); without it (or the file) spend leaves are taken as published. */
  receiptsDir?: string | undefined
  /** The verification key batch proofs must verify under (default: the bundled test-only key, as `fomo audit`). */
  verificationKeyPath?: string | undefined
  /** The first block to read proposals from (the registry's deployment block). */
  fromBlock: bigint
  /** Blocks per `eth_getLogs` request (default 1000): many nodes refuse wider ranges. */
  blockRange?: bigint | undefined
  /**
   * How many of the latest blocks are read again at each poll (default 64): a reorganisation deeper than this could
   * hide a proposal mined in the blocks that replaced them until the watcher restarts from an earlier block.
   */
  reorgDepth?: bigint | undefined
  /** Time between polls (default 15,000 ms). */
  intervalMs?: number | undefined
  /** Current time, nanoseconds since the Unix epoch (stamped on each record). */
  now: () => bigint
  /** Told each record. */
  log: (record: WatchRecord) => void
  /** Stops the loop (after the step in progress: a revocation sent is waited for). */
  signal?: AbortSignal | undefined
  /** Process the proposals up to the latest block once and return (no retry, no waiting). */
  once?: boolean | undefined
  /**
   * How long after a proposal its artifacts may still be missing before a guardian watcher revokes it, in seconds of
   * chain time (default: half the registry's timelock). An aggregator's directory sync may lag its proposal; what is
   * still missing then cannot be checked by anyone before the proposal finalizes.
   */
  artifactsGraceSeconds?: bigint | undefined
  /** Waits between polls; by default a timer that the signal cuts short. */
  sleep?: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined
}

export type WatchResult = {
  /** The next block to read proposals from. */
  nextBlock: bigint
  /** Proposals found. */
  proposals: number
  /** Records by event. */
  counts: Record<WatchEvent, number>
}

/** An `EpochProposed` log: what was proposed, where. */
type Proposal = {
  key: string
  /** The epoch as logged (exact up to 2^53; `id` is the registry's value). */
  epoch: number
  id: bigint
  block: bigint
  transaction: Hex
  spendRoot: Hex
  rewardRoot: Hex
  manifestHash: Hex
  proofsHash: Hex
  readyAt: bigint
  /** Where the publisher serves the sealed directory ('' when it names no URL). */
  artifacts: string
  announced: boolean
  missingReported: boolean
  waitReported: boolean
  /** The challenge or revocation the watcher sent, checked again at the next poll. */
  sent: { action: 'challenge' | 'revoke'; transaction: Hex; because: string } | undefined
  /** Audited (passed, or failed and reported): while pending, only what may change on chain is looked at again. */
  audited: boolean
}

/** The largest epoch a sealed directory can hold (its manifest's epoch is a uint32). */
const MAX_EPOCH = 0xffff_ffffn

/** Where a proposal stands now: still pending, final, or gone (revoked, or replaced by another proposal). */
type State = 'pending' | 'final' | 'gone'

const DEFAULT_BLOCK_RANGE = 1000n
const DEFAULT_REORG_DEPTH = 64n
const DEFAULT_INTERVAL_MS = 15_000

function defaultSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

const messageOf = (error: unknown) => (error as { shortMessage?: string }).shortMessage ?? (error as Error)?.message ?? String(error)

/**
 * Follows the registry until the signal stops it (or, with `once`, up to the latest block). Each proposal is logged
 * ('proposed'), audited (a 'check' per check that passes, then 'ok' or 'discrepancy'), or reported as
 * 'missing-artifacts' when its directory is not there; a proposal that fails while pending is revoked ('revoked')
 * when the wallet holds GUARDIAN_ROLE. A proposal that passed is never revoked; a final one is only reported.
 * Errors (an unreachable node, an unreadable file) are logged and retried at the next poll, never acted on.
 */
export async function watchRegistry(options: WatchOptions): Promise<WatchResult> {
  const { client, wallet, registry, signal } = options
  const range = options.blockRange ?? DEFAULT_BLOCK_RANGE
  if (range < 1n) throw new RangeError('blockRange must be at least 1')
  const reorgDepth = options.reorgDepth ?? DEFAULT_REORG_DEPTH
  if (reorgDepth < 0n) throw new RangeError('reorgDepth must not be negative')
  const cacheDir = options.cacheDir ?? join(tmpdir(), 'fomo-watch')
  const sleep = options.sleep ?? defaultSleep
  const counts: Record<WatchEvent, number> = { 'config-scheduled': 0, proposed: 0, check: 0, ok: 0, discrepancy: 0, 'missing-artifacts': 0, challenged: 0, revoked: 0, reorged: 0, error: 0 }
  const log = (epoch: number | null, event: WatchEvent, details: Record<string, unknown>) => {
    counts[event]++
    options.log({ time: new Date(Number(options.now() / 1_000_000n)).toISOString(), epoch, event, details })
  }
  const contract = getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client } })
  const read = <T>(call: () => Promise<T>, what: string) => readOnChain(call, `${what} from registry ${registry}`, 'Check --rpc and --registry (the distributor).')

  async function stateOf(p: Proposal): Promise<State> {
    const same = (c: { spendRoot: Hex; rewardRoot: Hex; manifestHash: Hex; proofsHash: Hex }) =>
      c.spendRoot.toLowerCase() === p.spendRoot.toLowerCase() &&
      c.rewardRoot.toLowerCase() === p.rewardRoot.toLowerCase() &&
      c.manifestHash.toLowerCase() === p.manifestHash.toLowerCase() &&
      c.proofsHash.toLowerCase() === p.proofsHash.toLowerCase()
    const final = await read(() => contract.read.finalCommitment([p.id]), `epoch ${p.id}'s final commitment`)
    if (final.spendRoot !== zeroHash) return same(final) ? 'final' : 'gone'
    const [hasPending, pendingEpoch] = await read(() => Promise.all([contract.read.hasPending(), contract.read.pendingEpoch()]), 'the pending epoch')
    if (!hasPending || pendingEpoch !== p.id) return 'gone'
    return same(await read(() => contract.read.pendingCommitment(), 'the pending commitment')) ? 'pending' : 'gone'
  }

  /**
   * A fault the chain proves: a spend leaf's stake, a batch's stake row, a recorded attestation the proofs leave out,
   * a ledger fault, or a spend leaf below its user's proven rows.
   */
  type Challenge =
    | { kind: 'stake'; fault: StakeChallenge }
    | { kind: 'stake-row'; fault: StakeRowChallenge }
    | { kind: 'omission'; fault: OmissionFault }
    | { kind: 'ledger'; fault: LedgerChallenge }
    | { kind: 'spend-rows'; fault: SpendRowsChallenge }
  type Decision = { action: 'challenge' | 'revoke' | 'report'; because?: string; state: State; challenge?: Challenge }

  /**
   * What the watcher does about a failed proposal while it is pending: challenge it when the chain can prove the fault
   * (`known`: a recorded attestation its proofs leave out, found from the chain alone; a spend leaf's stake, read from
   * `dir`'s spend tree; a batch's stake row, from `dir`'s proofs.json) and the watcher has a key, else revoke it when
   * the wallet is a guardian, else report.
   */
  async function decide(p: Proposal, dir?: string, known?: Challenge): Promise<Decision> {
    const state = await stateOf(p)
    if (state !== 'pending') return { action: 'report', because: state === 'final' ? `epoch ${p.epoch} is final: it can no longer be revoked` : `the proposal of epoch ${p.epoch} is no longer pending (revoked or replaced)`, state }
    if (!wallet) return { action: 'report', because: 'no key: the watcher only reports', state }
    // An omission handle() found at the start of this poll (it reads recorded attestations before anything else).
    if (known) return { action: 'challenge', state, challenge: known }
    if (dir !== undefined) {
      const opened = await readOpenedLedger(dir).catch((error) => {
        if (isArtifactError(error)) return undefined
        throw error
      })
      const pending = await read(() => contract.read.pendingCommitment(), 'the pending commitment')
      const committed = opened !== undefined && ledgerHash(opened.ledger) === pending.ledgerHash ? opened : undefined
      const [challenge] = committed ? await read(() => findStakeChallenges(client, registry, committed), 'the stakes of the pending spend list') : []
      if (challenge) return { action: 'challenge', state, challenge: { kind: 'stake', fault: challenge } }
      // A batch proof's stake table: only proofs.json whose batches hash to the proposal's proofs hash is opened.
      const proofs = p.proofsHash !== zeroHash ? await readProofsFile(dir).catch((error) => (isArtifactError(error) ? undefined : Promise.reject(error))) : undefined
      const proven = proofs !== undefined && proofsHash(proofs.batches).toLowerCase() === p.proofsHash.toLowerCase()
      if (proven) {
        const [row] = await read(() => stakeRowFaults(client, registry, proofs, pending), 'the stakes of the pending batch proofs')
        if (row) return { action: 'challenge', state, challenge: { kind: 'stake-row', fault: row } }
      }
      // The ledger: a reward, a spend sum or a list the judge can show wrong, from the lists and the last final epoch's.
      const ledger = await ledgerChallengeOf(dir)
      if (ledger) return { action: 'challenge', state, challenge: { kind: 'ledger', fault: ledger } }
      // Spend moved between users: a leaf below its user's rows in the proofs, which the judge sums batch by batch.
      const rows = proven && committed ? await spendRowsChallengeOf(dir, committed, proofs) : undefined
      if (rows) return { action: 'challenge', state, challenge: { kind: 'spend-rows', fault: rows } }
    }
    const account = wallet.account.address
    if (!(await isGuardian()))
      return { action: 'report', because: `no challenge proves this fault on chain (a spend leaf's stake, a batch's stake row, a recorded attestation left out or skipped, a spend leaf below its user's proven rows, and a reward, spend sum or list the judge shows wrong can be), and the watcher's account ${account} does not hold GUARDIAN_ROLE on ${registry}`, state }
    return { action: 'revoke', state }
  }

  /**
   * The judge's challenge of the pending epoch's ledger in `dir`, if it has a fault the judge proves; none when the
   * directory or the last final epoch's is not at hand (the audit reports that).
   */
  async function ledgerChallengeOf(dir: string): Promise<LedgerChallenge | undefined> {
    try {
      const manifest = readManifest(parseJsonDocument(await readFile(join(dir, 'manifest.json'), 'utf8'), 'manifest.json'))
      const previousDir = manifest.previousManifestSha256 === null ? undefined : await previousDirectory(dir, manifest.previousManifestSha256)
      return await read(() => findLedgerChallenge(client, registry, dir, previousDir), 'the pending ledger')
    } catch (error) {
      if (isArtifactError(error) || error instanceof ChainError) return undefined
      throw error
    }
  }

  /** Whether the watcher's wallet holds GUARDIAN_ROLE on the registry. */
  async function isGuardian(): Promise<boolean> {
    const role = await read(() => contract.read.GUARDIAN_ROLE(), 'GUARDIAN_ROLE')
    const account = wallet!.account.address
    return read(() => contract.read.hasRole([role, account]), `the roles of ${account}`)
  }

  /**
   * The judge's spend-rows challenge of the pending epoch, if its proofs show a spend leaf too small: from the
   * committed ledger and the proposal's proofs.json decide() has read, and `dir`'s config.json.
   */
  async function spendRowsChallengeOf(dir: string, ledger: OpenedLedger, proofs: EpochProofs): Promise<SpendRowsChallenge | undefined> {
    const params = await readEpochConfig(dir).then(rewardParameters, (error) => (isArtifactError(error) ? undefined : Promise.reject(error)))
    const fault = params && spendRowsFault(ledger.spend, params, proofs)
    return fault ? spendRowsChallenge(fault, ledger, params, proofs) : undefined
  }

  /**
   * Sends `challengeStake`, `challengeStakeRow`, `challengeOmission`, `challengeSkip` or a judge's challenge for the
   * pending proposal (decide() has just found the fault on chain); a spend-rows challenge may take several
   * transactions, the last of which revokes.
   */
  async function challenge(p: Proposal, c: Challenge, because: string): Promise<void> {
    const sent = await send(c)
    const hash = sent[sent.length - 1]!
    const receipt = await client.waitForTransactionReceipt({ hash })
    p.sent = { action: 'challenge', transaction: hash, because }
    const details =
      c.kind === 'stake'
        ? { deploymentId: c.fault.leaf.deploymentId, user: c.fault.leaf.user, committed: c.fault.leaf.stake.toString(), actual: c.fault.actual.toString(), staking: c.fault.staking }
        : c.kind === 'stake-row'
          ? { batch: c.fault.batch, user: c.fault.user, committed: c.fault.committed.toString(), actual: c.fault.actual.toString(), staking: c.fault.staking }
          : c.kind === 'ledger'
            ? { call: c.fault.functionName, what: c.fault.fault.what }
            : c.kind === 'spend-rows'
              ? { deploymentId: c.fault.fault.deploymentId, user: c.fault.fault.user, committed: c.fault.fault.leaf.gross.toString(), provenGross: c.fault.fault.proven.gross.toString(), committedCharged: c.fault.fault.leaf.charged.toString(), provenCharged: c.fault.fault.proven.charged.toString(), batches: c.fault.fault.batches.length, transactions: sent.length }
              : { deploymentId: c.fault.deploymentId, providerKey: c.fault.providerKey.toString(), provider: c.fault.provider, recorded: c.fault.recorded.toString(), proven: c.fault.proven.toString(), ...(c.fault.recordedEpoch !== c.fault.epoch && { skipped: c.fault.recordedEpoch }) }
    const kind = c.kind === 'omission' && c.fault.recordedEpoch !== c.fault.epoch ? 'skip' : c.kind
    log(p.epoch, 'challenged', { transaction: hash, block: receipt.blockNumber.toString(), account: wallet!.account.address, fault: kind, ...details })
  }

  /**
   * Challenges; if the challenge cannot be sent (refused, or too large for the chain) and the wallet holds the
   * guardian role, revokes instead, so a proposal never outlives its timelock for want of a challenge that fits.
   */
  async function challengeOrRevoke(p: Proposal, c: Challenge, because: string): Promise<void> {
    try {
      await challenge(p, c, because)
    } catch (error) {
      if (!(await isGuardian())) throw error
      log(p.epoch, 'error', { step: 'challenge', fault: c.kind, message: messageOf(error), fallback: 'revoke with the guardian role' })
      await revoke(p, because)
    }
  }

  /** The challenge's transactions, in order: one, or for spend rows as many as its batches need. */
  async function send(c: Challenge): Promise<Hex[]> {
    const clients = { public: client, wallet: wallet! }
    switch (c.kind) {
      case 'stake':
        return [await submitStakeChallenge(clients, registry, c.fault)]
      case 'stake-row':
        return [await submitStakeRowChallenge(clients, registry, c.fault)]
      case 'ledger':
        return [await submitLedgerChallenge(clients, registry, c.fault)]
      case 'omission':
        return [await submitOmissionChallenge(clients, registry, c.fault)]
      case 'spend-rows':
        return submitSpendRowsChallenge(clients, registry, c.fault)
    }
  }

  /** Sends `revoke(epoch)` (decide() has just found the proposal pending and the wallet a guardian). */
  async function revoke(p: Proposal, reason: string): Promise<void> {
    const writer = getContract({ abi: RewardDistributor.abi, address: registry, client: { public: client, wallet: wallet! } })
    const hash = await writer.write.revoke([p.id])
    const receipt = await client.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`revoke transaction ${hash} reverted`)
    p.sent = { action: 'revoke', transaction: hash, because: reason }
    log(p.epoch, 'revoked', { transaction: hash, block: receipt.blockNumber.toString(), account: wallet!.account.address, reason })
  }

  /** The proposal's sealed directory: the local one when it is the proposal's, else fetched from its artifacts URL. */
  async function locate(p: Proposal): Promise<{ dir: string; missing?: undefined } | { dir?: undefined; missing: string }> {
    const reasons: string[] = []
    if (options.epochsDir !== undefined) {
      const dir = join(options.epochsDir, `epoch-${p.epoch}`)
      const missing = await sealedDirectoryMismatch(dir, p, 'present')
      if (missing === undefined) return { dir }
      reasons.push(missing)
    }
    if (p.artifacts !== '' || options.epochsDir === undefined) {
      const fetched = await fetchEpochArtifacts({ url: p.artifacts, epoch: p.epoch, manifestHash: p.manifestHash, proofsHash: p.proofsHash, cacheDir, fetch: options.fetch })
      if (fetched.dir !== undefined) return { dir: fetched.dir }
      reasons.push(fetched.missing)
    }
    return { missing: reasons.join('; ') }
  }

  /** Acts on a proposal that failed its audit; true when it needs nothing more. */
  async function fault(p: Proposal, error: AuditDiscrepancy, dir: string | undefined, known?: Challenge): Promise<boolean> {
    const because = `${error.kind}: ${error.shortMessage}`
    const outcome = await decide(p, dir, known)
    log(p.epoch, 'discrepancy', {
      kind: error.kind,
      subject: error.subject,
      ...(error.expected !== undefined ? { expected: error.expected, found: error.found } : {}),
      message: error.shortMessage,
      ...(dir !== undefined ? { dir } : {}),
      state: outcome.state,
      action: outcome.action,
      ...(outcome.because ? { because: outcome.because } : {}),
    })
    if (outcome.action === 'challenge') await challengeOrRevoke(p, outcome.challenge!, because)
    if (outcome.action === 'revoke') await revoke(p, because)
    // What was sent is checked again at the next poll (a reorganisation may drop it); a reported proposal still
    // pending is kept, since an omission recorded later can still be challenged.
    p.audited = true
    return outcome.action === 'report' && (outcome.state !== 'pending' || !wallet)
  }

  /** Handles one proposal; true when it needs nothing more (false: look again at the next poll). */
  async function handle(p: Proposal): Promise<boolean> {
    const state = await stateOf(p)
    if (!p.announced) {
      p.announced = true
      log(p.epoch, 'proposed', {
        state,
        block: p.block.toString(),
        transaction: p.transaction,
        spendRoot: p.spendRoot,
        rewardRoot: p.rewardRoot,
        manifestHash: p.manifestHash,
        proofsHash: p.proofsHash,
        readyAt: p.readyAt.toString(),
        artifacts: p.artifacts,
      })
    }
    if (state === 'gone') return true
    if (p.sent) {
      if (state !== 'pending') return true
      // The challenge or revocation sent is no longer on chain: the proposal is audited and decided again.
      log(p.epoch, 'reorged', { action: p.sent.action, transaction: p.sent.transaction, because: `the proposal is pending again after the watcher's ${p.sent.action} (${p.sent.transaction}) for ${p.sent.because}: a reorganisation dropped it; audited and decided again` })
      p.sent = undefined
      p.missingReported = false
      p.waitReported = false
      p.audited = false
    }
    // No sealed directory holds an epoch past a uint32: such a proposal cannot be checked by anyone.
    if (p.id > MAX_EPOCH) {
      if (p.audited) return state !== 'pending'
      return fault(p, new AuditDiscrepancy('chain', `epoch ${p.id} is beyond the largest epoch a sealed directory can hold (${MAX_EPOCH})`), undefined)
    }
    if (state === 'pending' && wallet) {
      // An omission needs no artifacts (the recorded attestations and the proofs are on chain): looked for at every
      // poll while the proposal is pending, since a provider may record during the timelock.
      const { configHash } = await read(() => contract.read.pendingCommitment(), 'the pending commitment')
      const omissions = await read(() => omissionFaults(client, registry, p.epoch, configHash), `the attestations recorded for epoch ${p.epoch}`)
      if (omissions.length > 0) return fault(p, omissionDiscrepancy(omissions), undefined, { kind: 'omission', fault: omissions[0]! })
    }
    if (p.audited) return state !== 'pending'
    let located
    try {
      located = await locate(p)
    } catch (caught) {
      if (!(caught instanceof ArtifactsError)) throw caught
      return fault(p, new AuditDiscrepancy('file', caught.shortMessage), undefined)
    }
    if (located.missing !== undefined) {
      const missing = located.missing
      // Reported once; a pending proposal left in place is looked at again at each poll until its artifacts arrive.
      if (p.missingReported) return state !== 'pending'
      if (state === 'pending') {
        // Within the grace period the artifacts may still be on their way: wait (reported once), look again next poll.
        const timelock = await read(() => contract.read.timelock(), 'the timelock')
        const grace = options.artifactsGraceSeconds ?? timelock / 2n
        const revokeAfter = p.readyAt - timelock + grace
        const { timestamp } = await read(() => client.getBlock({ blockTag: 'latest' }), 'the latest block')
        if (timestamp < revokeAfter) {
          if (!p.waitReported) log(p.epoch, 'missing-artifacts', { missing, artifacts: p.artifacts, state, action: 'wait', because: `artifacts may still arrive: revocable from chain time ${revokeAfter}`, revokeAfter: revokeAfter.toString() })
          p.waitReported = true
          return false
        }
      }
      // Decided before the record is written, so that the record says what the watcher does about it.
      const outcome = await decide(p)
      log(p.epoch, 'missing-artifacts', { missing, artifacts: p.artifacts, state: outcome.state, action: outcome.action, ...(outcome.because ? { because: outcome.because } : {}) })
      if (outcome.action === 'challenge') await challenge(p, outcome.challenge!, missing)
      if (outcome.action === 'revoke') await revoke(p, missing)
      // Only once handled: a revocation that failed is tried again at the next poll.
      p.missingReported = true
      return outcome.state !== 'pending'
    }
    const dir = located.dir
    let receiptsPath: string | undefined
    const warnings: string[] = []
    if (options.receiptsDir !== undefined) {
      // Streamed by the audit, not read whole: an epoch's receipts file can be larger than a string can hold.
      const path = join(options.receiptsDir, `receipts-${p.epoch}.ndjson`)
      receiptsPath = await access(path).then(
        () => path,
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e
          warnings.push(`no receipts file ${path}: spend leaves are taken as published`)
          return undefined
        },
      )
    }
    try {
      const manifest = readManifest(parseJsonDocument(await readFile(join(dir, 'manifest.json'), 'utf8'), 'manifest.json'))
      if (manifest.epoch !== p.epoch) throw new AuditDiscrepancy('file', `${dir}/manifest.json is for another epoch`, String(p.epoch), String(manifest.epoch))
      const result = await auditEpoch({
        dir,
        receiptsPath,
        verificationKeyPath: options.verificationKeyPath,
        chain: { client, registry },
        stakes: { client },
        onCheck: (line) => log(p.epoch, 'check', { check: line }),
      })
      log(p.epoch, 'ok', { state, dir, checks: result.checks.length, warnings: [...warnings, ...result.warnings] })
      p.audited = true
      return state !== 'pending' || !wallet
    } catch (caught) {
      // An artifact that does not even parse (the proposal's own bytes, checked against its manifest hash above) is
      // a fault of the proposal; the watcher's own failures (its node, its disk) are not, and are retried.
      const error = caught instanceof AuditDiscrepancy ? caught : isArtifactError(caught) ? new AuditDiscrepancy('file', `${dir}: ${(caught as BaseError).shortMessage}`) : undefined
      if (!error) throw caught
      return fault(p, error, dir)
    }
  }

  let next = options.fromBlock
  const found = new Map<string, Proposal>()
  // Logs already taken, by block hash and index, with their block: the blocks read again skip them.
  const seen = new Map<string, bigint>()
  let proposals = 0
  while (!signal?.aborted) {
    try {
      const latest = await read(() => client.getBlockNumber({ cacheTime: 0 }), 'the latest block number')
      // The last reorgDepth blocks already read are read again: a reorganisation may have replaced them.
      let from = next - reorgDepth > options.fromBlock ? next - reorgDepth : options.fromBlock
      while (from <= latest && !signal?.aborted) {
        const to = from + range - 1n < latest ? from + range - 1n : latest
        const logs = await read(
          () => client.getContractEvents({ address: registry, abi: RewardDistributor.abi, eventName: 'EpochProposed', fromBlock: from, toBlock: to, strict: true }),
          `EpochProposed logs of blocks ${from} to ${to}`,
        )
        // A configuration change is public a timelock before it applies: every one is logged, with what it pins.
        const scheduled = await read(
          () => client.getContractEvents({ address: registry, abi: RewardDistributor.abi, eventName: 'ConfigScheduled', fromBlock: from, toBlock: to, strict: true }),
          `ConfigScheduled logs of blocks ${from} to ${to}`,
        )
        const fresh = <L extends { blockHash: Hex; logIndex: number; blockNumber: bigint }>(l: L) => {
          const key = `${l.blockHash}:${l.logIndex}`
          if (seen.has(key)) return false
          seen.set(key, l.blockNumber)
          return true
        }
        for (const l of scheduled.filter(fresh))
          log(null, 'config-scheduled', {
            configHash: l.args.configHash,
            readyAt: l.args.readyAt.toString(),
            block: l.blockNumber.toString(),
            transaction: l.transactionHash,
            deployments: l.args.deploymentIds.map((id, i) => ({ id, staking: l.args.stakings[i] })),
            attestationKeys: l.args.keyDeploymentIds.map((deploymentId, i) => ({ deploymentId, keyId: l.args.providerKeys[i]!.toString(), provider: l.args.providerAccounts[i] })),
          })
        for (const l of logs.filter(fresh)) {
          const key = `${l.blockHash}:${l.logIndex}`
          proposals++
          found.set(key, {
            key,
            epoch: Number(l.args.epoch),
            id: l.args.epoch,
            block: l.blockNumber,
            transaction: l.transactionHash,
            spendRoot: l.args.spendRoot,
            rewardRoot: l.args.rewardRoot,
            manifestHash: l.args.manifestHash,
            proofsHash: l.args.proofsHash,
            readyAt: l.args.readyAt,
            artifacts: l.args.artifacts,
            announced: false,
            missingReported: false,
            waitReported: false,
            sent: undefined,
            audited: false,
          })
        }
        from = to + 1n
        if (from > next) next = from
      }
      for (const [key, block] of seen) if (block + reorgDepth < next) seen.delete(key)
    } catch (error) {
      log(null, 'error', { step: 'scan', fromBlock: next.toString(), message: messageOf(error) })
    }
    for (const p of [...found.values()]) {
      if (signal?.aborted) break
      try {
        if (await handle(p)) found.delete(p.key)
      } catch (error) {
        log(p.epoch, 'error', { step: 'audit', message: messageOf(error), retry: !options.once })
      }
    }
    if (options.once) break
    await sleep(options.intervalMs ?? DEFAULT_INTERVAL_MS, signal)
  }
  return { nextBlock: next, proposals, counts }
}

/** Errors of reading an artifact's own bytes: malformed JSON, a document of the wrong shape, a tree that does not load. */
function isArtifactError(error: unknown): boolean {
  return error instanceof JsonError || error instanceof SchemaError || error instanceof TreeError || error instanceof EpochDirectoryError || error instanceof ArtifactsError || error instanceof LedgerError || error instanceof PositionalTreeError
}
