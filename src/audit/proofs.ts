/**
 * The audit's proofs check: proofs.json was made for the pinned verification key and this epoch, its proofs hash
 * chains its batches' public signals, every attestation is signed by the provider's configured key, every batch
 * proof verifies and binds the epoch, deployment, registry, X, M, circulating supply and stakes of config.json and
 * inputs.json and its provider's attestation, the batches take every attested batch exactly once in the registry's
 * order (strictly increasing (deployment, provider key), each provider's batches 0 to count - 1), the proven totals
 * equal the spend tree's, each user's gross and charged on a deployment is the sum of its proven stake rows (no
 * receipts needed: the rows open each proof's stakes commitment), and, given the receipts, each batch root is the root of the receipts the batching rule
 * puts in it and each attestation is over exactly the epoch's receipts of its provider.
 */
import { readFile } from 'node:fs/promises'
import type { AggregatorConfig } from '../epoch/config.ts'
import type { EpochInputs } from '../epoch/inputs.ts'
import { sha256Hex } from '../epoch/manifest.ts'
import type { EpochReceipt, SpendRow } from '../epoch/spend.ts'
import { readCircuitKeys, TEST_CIRCUIT_KEYS, type EpochProofs } from '../proofs/files.ts'
import { ProofError, verifyBatchProof } from '../proofs/groth16.ts'
import { planBatches } from '../proofs/plan.ts'
import { distributorDomain } from '../epoch/rewards.ts'
import { proofsHash } from '../proofs/prove.ts'
import { batchStatement, digestLimbs, paddedTable, stakesCommitment } from '../proofs/statement.ts'
import { attestationMessage, unpackAttestationKey, verifyAttestation, type ProviderAttestation } from '../proofs/attestation.ts'
import { AuditDiscrepancy, type Checks } from './discrepancy.ts'

/** Checks an epoch's proofs.json (read and shape-checked) against the epoch; with its receipts, against the batching rule. */
export async function checkProofs(
  proofs: EpochProofs,
  c: { epoch: number; config: AggregatorConfig; inputs: EpochInputs['deployments']; spend: readonly SpendRow[]; receipts: EpochReceipt[] | undefined; verificationKeyPath: string | undefined; checks: Checks; warnings: string[] },
): Promise<void> {
  const vkeyPath = c.verificationKeyPath ?? (await readCircuitKeys(TEST_CIRCUIT_KEYS)).verificationKey
  const vkeyBytes = await readFile(vkeyPath)
  if (sha256Hex(vkeyBytes) !== proofs.circuit.verificationKeySha256)
    throw new AuditDiscrepancy('proof', `proofs.json was made for another verification key than ${vkeyPath}`, sha256Hex(vkeyBytes), proofs.circuit.verificationKeySha256)
  if (proofs.circuit.testOnly) c.warnings.push(`proofs use the TEST-ONLY keys of ${proofs.circuit.name}: their ceremony used public entropy, so they prove nothing against a dishonest prover`)
  if (proofs.epoch !== c.epoch) throw new AuditDiscrepancy('proof', 'proofs.json proves another epoch', String(c.epoch), String(proofs.epoch))
  const hash = proofsHash(proofs.batches)
  if (hash !== proofs.proofsHash) throw new AuditDiscrepancy('proof', 'proofs.json proofsHash is not the hash of its batches\' public signals', hash, proofs.proofsHash)
  const vkey = JSON.parse(vkeyBytes.toString('utf8')) as unknown
  const k = proofs.circuit.rows
  const proven = new Map<string, { gross: bigint; charged: bigint; count: bigint }>()
  // Each (deployment, user)'s spend summed over its proven stake rows.
  const provenSpend = new Map<string, { gross: bigint; charged: bigint }>()
  const domain = distributorDomain(c.config.domain.chainId, c.config.domain.verifyingContract)
  const [domainHi, domainLo] = digestLimbs(BigInt(domain))
  const attestations = new Map<string, ProviderAttestation>()
  for (const a of proofs.attestations) {
    const who = `attestation of provider ${a.provider} for deployment ${a.deploymentId}`
    const configured = c.config.providers.find((p) => p.deploymentId === a.deploymentId && p.provider === a.provider)?.attestationKey
    if (a.epoch !== c.epoch) throw new AuditDiscrepancy('proof', `${who}: epoch`, String(c.epoch), String(a.epoch))
    if (a.domain !== domain) throw new AuditDiscrepancy('proof', `${who}: registry domain (config.json's)`, domain, a.domain)
    if (a.key !== configured) throw new AuditDiscrepancy('proof', `${who}: key (config.json's attestationKey of the provider)`, String(configured), a.key)
    if (!verifyAttestation(a)) throw new AuditDiscrepancy('proof', `${who} does not carry a valid signature of its key`)
    if (attestations.has(`${a.deploymentId}/${a.provider}`)) throw new AuditDiscrepancy('proof', `${who} appears twice in proofs.json`)
    attestations.set(`${a.deploymentId}/${a.provider}`, a)
  }
  // The registry's order: (deployment, provider key) strictly increasing; each provider's attested batches 0..count-1.
  let last: { deployment: bigint; key: bigint; index: bigint; count: bigint } | undefined
  const complete = (subject: string) => {
    if (last && last.index + 1n !== last.count) throw new AuditDiscrepancy('proof', `${subject}: the previous provider's attested batches are not all proven (an attested receipt left out)`, `${last.count} batches`, `${last.index + 1n}`)
  }
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
    expect('domainHi', domainHi, 'the registry of config.json')
    expect('domainLo', domainLo, 'the registry of config.json')
    const a = attestations.get(`${b.deploymentId}/${b.provider}`)
    if (!a) throw new AuditDiscrepancy('proof', `${subject}: no attestation of its provider ${b.provider} in proofs.json`)
    expect('providerKey', unpackAttestationKey(a.key).id, "its provider's attestation key")
    expect('attestation', attestationMessage(a.root, a.batches, c.epoch, b.deploymentId, a.domain), "its provider's signed attestation")
    expect('batchCount', a.batches, 'the batches its provider attested')
    const at = { deployment: BigInt(b.deploymentId), key: BigInt(s.providerKey), index: BigInt(s.batchIndex), count: BigInt(s.batchCount) }
    if (last && at.deployment === last.deployment && at.key === last.key) {
      if (at.index !== last.index + 1n) throw new AuditDiscrepancy('proof', `${subject}: batch index within its provider's attestation (a batch proven twice or out of order)`, String(last.index + 1n), String(at.index))
    } else {
      complete(subject)
      if (last && !(at.deployment > last.deployment || (at.deployment === last.deployment && at.key > last.key)))
        throw new AuditDiscrepancy('proof', `${subject} does not come after the previous provider in (deployment, provider key) order: a provider's batches may be proven twice`)
      if (at.index !== 0n) throw new AuditDiscrepancy('proof', `${subject}: the first batch of a provider's attestation`, '0', String(at.index))
    }
    last = at
    expect('maxDiscountBps', c.config.platform.maxDiscountBps, 'X of config.json')
    expect('multiplier', c.config.platform.discountMultiplier, 'M of config.json')
    expect('circulating', snapshot?.circulatingSupply, 'the circulating supply of inputs.json')
    if (b.rows.length > k) throw new AuditDiscrepancy('proof', `${subject} lists more stake rows than the circuit has`, String(k), String(b.rows.length))
    for (const row of b.rows) {
      const stake = snapshot?.stakes.get(row.user) ?? 0n
      if (row.stake !== stake) throw new AuditDiscrepancy('proof', `${subject}: stake of ${row.user}`, `${stake} (inputs.json)`, String(row.stake))
    }
    expect('stakesCommitment', stakesCommitment(paddedTable(b.rows.map((r) => ({ ...r, user: BigInt(r.user) })), k)), 'the commitment of its stake rows and their spend')
    for (const row of b.rows) {
      const key = `${b.deploymentId}/${row.user}`
      const sum = provenSpend.get(key) ?? { gross: 0n, charged: 0n }
      provenSpend.set(key, { gross: sum.gross + row.gross, charged: sum.charged + row.charged })
    }
    const t = proven.get(b.deploymentId) ?? { gross: 0n, charged: 0n, count: 0n }
    proven.set(b.deploymentId, { gross: t.gross + BigInt(s.totalGross), charged: t.charged + BigInt(s.totalCharged), count: t.count + BigInt(s.count) })
  }
  complete('the last batch')
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
  // Spend moved between users with each deployment's totals kept shows here: a leaf is not what its rows prove. One
  // pass over the leaves, each taking its rows' sums out of the map (a repeated leaf then meets zero); what is left
  // is proven spend no leaf holds.
  const compare = (deploymentId: string, user: string, leaf: { gross: bigint; charged: bigint }, rows: { gross: bigint; charged: bigint }) => {
    for (const f of ['gross', 'charged'] as const)
      if (leaf[f] !== rows[f]) throw new AuditDiscrepancy('spend-leaf', `${f} of user ${user} on deployment ${deploymentId}: the spend tree against the sum of the user's proven stake rows`, rows[f].toString(), leaf[f].toString())
  }
  const none = { gross: 0n, charged: 0n }
  for (const leaf of c.spend) {
    const key = `${leaf.deploymentId}/${leaf.user}`
    compare(leaf.deploymentId, leaf.user, leaf, provenSpend.get(key) ?? none)
    provenSpend.delete(key)
  }
  for (const [key, rows] of provenSpend) compare(key.slice(0, 66), key.slice(67), none, rows)
  c.checks.push(`proofs: ${proofs.attestations.length} provider attestations signed by their configured keys; ${proofs.batches.length} batch proofs of ${proofs.circuit.name} verify; epoch, deployment, registry, X, M, circulating supply, stakes and attestations match; every attested batch proven once, in the registry's order; proven totals equal the spend tree's per deployment; every spend leaf's gross and charged is the sum of its user's proven stake rows`)
  if (c.receipts) {
    let plan
    try {
      plan = planBatches(c.epoch, c.config, c.inputs, c.receipts, proofs.circuit.receipts, k, proofs.attestations)
    } catch (error) {
      if (error instanceof ProofError) throw new AuditDiscrepancy('receipt', error.shortMessage)
      throw error
    }
    if (plan.length !== proofs.batches.length) throw new AuditDiscrepancy('proof', 'number of batches the receipts make', String(plan.length), String(proofs.batches.length))
    for (const [i, b] of plan.entries()) {
      const st = batchStatement(b.receipts, b.rows, b.params, proofs.circuit.receipts, k, b.attestation)
      const s = proofs.batches[i]!.proof.publicSignals
      for (const name of ['root', 'count', 'providerKey', 'batchIndex'] as const)
        if (s[name] !== st[name].toString()) throw new AuditDiscrepancy('proof', `proof of batch #${i} (deployment ${b.deploymentId}, first receipt ${b.digests[0]}): ${name} of the receipts the batching rule puts in it`, st[name].toString(), s[name])
    }
    c.checks.push("proofs: each batch root is the Poseidon root of the receipts the batching rule puts in it; each provider's attestation is over exactly its receipts of the epoch")
  }
}
