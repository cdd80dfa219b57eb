/**
 * Provider attestations (format fomo-provider-attestation-v1): after an epoch closes, each provider signs, with an
 * EdDSA-Poseidon key over Baby Jubjub, the Poseidon root of its receipts of one deployment cut into the batches the
 * circuit proves. A batch proof checks that signature and the batch's path to the signed root, so an aggregator
 * cannot prove a receipt its provider did not sign, and the registry takes each attested batch exactly once under a
 * key pinned for the deployment. The EIP-712 receipts stay what users and auditors verify; the attestation is what
 * the circuit can check cheaply (one signature per provider, deployment and epoch, amortised over its batches).
 *
 * The attestation key is derived from the provider's secp256k1 receipt key, so a provider keeps one secret.
 */
import { poseidon2, poseidon7 } from 'poseidon-lite'
import type { Hex } from 'viem'
import { InvalidParameterError } from '../base/errors.ts'
import { Reader } from '../base/reader.ts'
import type { EpochReceipt } from '../epoch/spend.ts'
import type { BatchAttestation } from './statement.ts'
import { readAddress, readBytes32 } from '../receipts/receipt.ts'
import { FIELD_PRIME } from './circom.ts'
import { attestationKeyOf, signAttestationMessage, unpackAttestationKey, verifyMessageSignature, type AttestationSignature } from '../receipts/attestationKey.ts'

export { attestationKeyOf, attestationSecret, signAttestationMessage, unpackAttestationKey, verifyMessageSignature, type AttestationKey, type AttestationSignature } from '../receipts/attestationKey.ts'
import { digestLimbs, poseidonRoot, receiptLeaf } from './poseidon.ts'

export const PROVIDER_ATTESTATION_FORMAT = 'fomo-provider-attestation-v1'

/** Depth of a provider's attested tree of batch roots (every circuit's PDEPTH): up to 65,536 batches per provider, deployment and epoch. */
export const ATTESTATION_DEPTH = 16

export type ProviderAttestation = {
  format: typeof PROVIDER_ATTESTATION_FORMAT
  epoch: number
  deploymentId: Hex
  /** The registry the attestation is for: keccak256(abi.encode(chainId, registry)), as its `domain()` returns. */
  domain: Hex
  /** The provider's receipt-signing address (lower case). */
  provider: Hex
  /** The attestation public key, packed (32 bytes). */
  key: Hex
  /** The batching the root was cut with: the circuit's receipts and stake rows per batch. */
  circuit: { receipts: number; rows: number }
  batches: number
  receipts: number
  /** The Poseidon root of the batch roots (depth ATTESTATION_DEPTH, zero leaves after the last batch). */
  root: bigint
  signature: AttestationSignature
}

const compareHex = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The batching rule for one provider's receipts of one deployment: ordered by (user, digest), a new batch whenever
 * the current one holds `n` receipts or a new user would make it `k + 1` users. Returns the batches in order.
 */
export function cutBatches<R extends Pick<EpochReceipt, 'user' | 'digest'>>(receipts: readonly R[], n: number, k: number): R[][] {
  const sorted = [...receipts].sort((a, b) => compareHex(a.user, b.user) || compareHex(a.digest, b.digest))
  const batches: R[][] = []
  let users = 0
  for (const r of sorted) {
    const current = batches.at(-1)
    const newUser = current?.at(-1)?.user !== r.user
    if (!current || current.length === n || (newUser && users === k)) {
      batches.push([r])
      users = 1
    } else {
      current.push(r)
      if (newUser) users++
    }
  }
  return batches
}

/** A batch's root: the Poseidon Merkle root of its receipts' leaves, padded with zeros to `n`. */
export function batchRoot(receipts: readonly Pick<EpochReceipt, 'digest' | 'user' | 'gross' | 'charged'>[], n: number): bigint {
  return poseidonRoot([...receipts.map((r) => receiptLeaf(BigInt(r.digest), BigInt(r.user), r.gross, r.charged)), ...Array.from({ length: n - receipts.length }, () => 0n)])
}

const ZERO_SUBTREES: bigint[] = [0n]
for (let i = 1; i <= ATTESTATION_DEPTH; i++) ZERO_SUBTREES.push(poseidon2([ZERO_SUBTREES[i - 1]!, ZERO_SUBTREES[i - 1]!]))

/** The levels of the attested tree over the batch roots, leaves first; absent nodes are the zero subtrees. */
function attestedLevels(batchRoots: readonly bigint[]): bigint[][] {
  if (batchRoots.length < 1 || batchRoots.length > 2 ** ATTESTATION_DEPTH) throw new InvalidParameterError('batches', `1 to ${2 ** ATTESTATION_DEPTH}`, batchRoots.length)
  const levels = [[...batchRoots]]
  for (let d = 0; d < ATTESTATION_DEPTH; d++) {
    const level = levels[d]!
    const next: bigint[] = []
    for (let i = 0; i < level.length; i += 2) next.push(poseidon2([level[i]!, level[i + 1] ?? ZERO_SUBTREES[d]!]))
    levels.push(next)
  }
  return levels
}

/** The attested tree over a provider's batch roots: its root and each batch's path (the circuit's batchPath). */
export function attestedTree(batchRoots: readonly bigint[]): { root: bigint; path(index: number): bigint[] } {
  const levels = attestedLevels(batchRoots)
  return {
    root: levels[ATTESTATION_DEPTH]![0]!,
    path: (index) => levels.slice(0, ATTESTATION_DEPTH).map((level, d) => level[(index >> d) ^ 1] ?? ZERO_SUBTREES[d]!),
  }
}

/**
 * The signed message: Poseidon(root, batches, epoch, deploymentIdHi, deploymentIdLo, domainHi, domainLo) (the circuit's
 * `attestation`), the domain being the registry's (keccak256(abi.encode(chainId, registry))): an attestation made for
 * one registry proves nothing on another.
 */
export function attestationMessage(root: bigint, batches: number, epoch: number, deploymentId: Hex, domain: Hex): bigint {
  return poseidon7([root, BigInt(batches), BigInt(epoch), ...digestLimbs(BigInt(deploymentId)), ...digestLimbs(BigInt(domain))])
}

/**
 * Signs a provider's receipts of one deployment and epoch, cut as the circuit of `circuit` batches them. Every
 * receipt must be of that deployment; the caller gives the provider's own record of its calls.
 */
export function attestEpoch(p: { epoch: number; deploymentId: Hex; domain: Hex; provider: Hex; receipts: readonly EpochReceipt[]; circuit: { receipts: number; rows: number }; secret: Uint8Array }): ProviderAttestation {
  const deploymentId = p.deploymentId.toLowerCase() as Hex
  const other = p.receipts.find((r) => r.deploymentId.toLowerCase() !== deploymentId)
  if (other) throw new InvalidParameterError('receipts', `receipts of deployment ${deploymentId} only`, other.digest)
  const batches = cutBatches(p.receipts, p.circuit.receipts, p.circuit.rows)
  const { tree, key, signature } = signBatchRoots(p.secret, batches.map((b) => batchRoot(b, p.circuit.receipts)), p.epoch, deploymentId, p.domain)
  return {
    format: PROVIDER_ATTESTATION_FORMAT,
    epoch: p.epoch,
    deploymentId,
    domain: p.domain.toLowerCase() as Hex,
    provider: p.provider.toLowerCase() as Hex,
    key: key.packed,
    circuit: { ...p.circuit },
    batches: batches.length,
    receipts: p.receipts.length,
    root: tree.root,
    signature,
  }
}

/**
 * A provider's attestations of its receipts of a closed epoch: one per deployment it served (ascending id), as
 * `fomo attest` writes them. Receipts of other providers are left out; all must be of `epoch`.
 */
export function attestProvider(p: { epoch: number; domain: Hex; provider: Hex; receipts: readonly EpochReceipt[]; circuit: { receipts: number; rows: number }; secret: Uint8Array }): ProviderAttestation[] {
  const provider = p.provider.toLowerCase() as Hex
  const mine = p.receipts.filter((r) => r.provider === provider)
  const deployments = [...new Set(mine.map((r) => r.deploymentId))].sort()
  return deployments.map((deploymentId) => attestEpoch({ ...p, deploymentId, provider, receipts: mine.filter((r) => r.deploymentId === deploymentId) }))
}

/** The attested tree over batch roots, the signing key and its signature over the tree's message. */
function signBatchRoots(secret: Uint8Array, batchRoots: readonly bigint[], epoch: number, deploymentId: Hex, domain: Hex) {
  const tree = attestedTree(batchRoots)
  return { tree, key: attestationKeyOf(secret), signature: signAttestationMessage(secret, attestationMessage(tree.root, batchRoots.length, epoch, deploymentId, domain)) }
}

/**
 * Attests batch roots as given, in order (for batches built by hand, as in tests and benchmarks; `attestEpoch` cuts a
 * provider's receipts by the batching rule): each batch's place in the attestation, as the circuit takes it.
 */
export function attestBatchRoots(secret: Uint8Array, batchRoots: readonly bigint[], epoch: number, deploymentId: Hex, domain: Hex): BatchAttestation[] {
  const { tree, key, signature } = signBatchRoots(secret, batchRoots, epoch, deploymentId, domain)
  return batchRoots.map((_, index) => ({ key, signature, path: tree.path(index), index, batches: batchRoots.length }))
}

/** The signed message of an attestation: what its signature covers, the registry records and its batch proofs carry. */
export function attestationMessageOf(a: Pick<ProviderAttestation, 'root' | 'batches' | 'epoch' | 'deploymentId' | 'domain'>): bigint {
  return attestationMessage(a.root, a.batches, a.epoch, a.deploymentId, a.domain)
}

/** Whether the attestation's signature is its key's over its message. */
export function verifyAttestation(a: ProviderAttestation): boolean {
  return verifyMessageSignature(attestationMessageOf(a), a.signature, unpackAttestationKey(a.key))
}

export function attestationJson(a: ProviderAttestation): Record<string, unknown> {
  return { ...a, root: a.root.toString(), signature: { r8x: a.signature.r8x.toString(), r8y: a.signature.r8y.toString(), s: a.signature.s.toString() } }
}

const fieldElement = (r: Reader) => {
  const v = BigInt(r.string(/^(0|[1-9][0-9]{0,77})$/, 'a field element in decimal'))
  if (v >= FIELD_PRIME) r.fail('a field element below the BN254 scalar field modulus')
  return v
}

/** Reads an attestation document (shape only; `verifyAttestation` checks the signature); `path` places it in an enclosing document. */
export function readAttestation(document: unknown, path = '$'): ProviderAttestation {
  const r = new Reader(PROVIDER_ATTESTATION_FORMAT, document, path)
  r.object(['format', 'epoch', 'deploymentId', 'domain', 'provider', 'key', 'circuit', 'batches', 'receipts', 'root', 'signature'])
  r.field('format').literal([PROVIDER_ATTESTATION_FORMAT])
  const c = r.field('circuit')
  c.object(['receipts', 'rows'])
  const s = r.field('signature')
  s.object(['r8x', 'r8y', 's'])
  const key = r.field('key').string(/^0x[0-9a-f]{64}$/, 'a packed Baby Jubjub public key (0x and 64 lower-case hex digits)') as Hex
  try {
    unpackAttestationKey(key)
  } catch {
    r.field('key').fail('a packed Baby Jubjub public key (a point of the curve)')
  }
  return {
    format: PROVIDER_ATTESTATION_FORMAT,
    epoch: Number(r.field('epoch').integer(0, 0xffff_ffff)),
    deploymentId: readBytes32(r.field('deploymentId')).toLowerCase() as Hex,
    domain: readBytes32(r.field('domain')).toLowerCase() as Hex,
    provider: readAddress(r.field('provider')).toLowerCase() as Hex,
    key,
    circuit: { receipts: Number(c.field('receipts').integer(1, 1 << 20)), rows: Number(c.field('rows').integer(1, 1 << 20)) },
    batches: Number(r.field('batches').integer(1, 2 ** ATTESTATION_DEPTH)),
    receipts: Number(r.field('receipts').integer(1, 2 ** 40)),
    root: fieldElement(r.field('root')),
    signature: { r8x: fieldElement(s.field('r8x')), r8y: fieldElement(s.field('r8y')), s: fieldElement(s.field('s')) },
  }
}
