import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeAbiParameters, keccak256, zeroHash, type Address, type Hex } from 'viem'
import type { BatchProof } from '../proofs/groth16.ts'
import { readEpochProofs, signalsOf, type EpochProofs } from '../proofs/epoch.ts'
import { BaseError } from '../base/errors.ts'
import { Reader } from '../base/reader.ts'
import { parseJsonDocument } from '../base/json.ts'
import { StandardTree } from '../merkle/tree.ts'
import { MANIFEST_FORMAT } from '../epoch/seal.ts'

/** A sealed epoch directory, read and checked: the manifest's file hashes must match the files. */
export type SealedEpoch = {
  epoch: number
  manifestSha256: Hex
  spendRoot: Hex
  rewardRoot: Hex
  totals: { receipts: bigint; gross: bigint; charged: bigint }
  rewardTree: StandardTree
  /** proofs.json, when the epoch was proven (fomo prove). */
  proofs: EpochProofs | undefined
}

export class EpochDirectoryError extends BaseError {
  override name = 'EpochDirectoryError'
  constructor(message: string, hint?: string) {
    super('EPOCH_DIRECTORY', message, hint ? { metaMessages: [hint] } : {})
  }
}

export async function readSealedEpoch(dir: string): Promise<SealedEpoch> {
  const read = (name: string) =>
    readFile(join(dir, name)).catch((e: NodeJS.ErrnoException) => {
      throw new EpochDirectoryError(`cannot read ${join(dir, name)}: ${e.code ?? e.message}`, 'Give the directory `fomo seal` wrote (epoch-<n>).')
    })
  const manifestBytes = await read('manifest.json')
  const manifest = new Reader(MANIFEST_FORMAT, parseJsonDocument(manifestBytes.toString('utf8'), 'manifest.json'))
  manifest.field('format').literal([MANIFEST_FORMAT])
  const files = manifest.field('files').entries()
  for (const [name, entry] of files) {
    const bytes = await read(name)
    const expected = entry.field('sha256').string(/^[0-9a-f]{64}$/, 'a sha256')
    if (createHash('sha256').update(bytes).digest('hex') !== expected)
      throw new EpochDirectoryError(`${name} does not match the manifest's hash`, 'The directory was altered after sealing; seal or copy it again.')
  }
  const roots = manifest.field('roots')
  const spendRoot = roots.field('spend').string(/^0x[0-9a-f]{64}$/, 'a spend root (an epoch without receipts has none to publish)') as Hex
  const rewardRoot = roots.field('reward').string(/^0x[0-9a-f]{64}$/, 'a reward root (an epoch without rewards has none to publish)') as Hex
  const rewardTree = StandardTree.load(parseJsonDocument((await read('reward-tree.json')).toString('utf8'), 'reward-tree.json'))
  if (rewardTree.root !== rewardRoot) throw new EpochDirectoryError('reward-tree.json does not have the manifest\'s reward root')
  const totals = manifest.field('totals')
  const epoch = Number(manifest.field('epoch').integer(0, 0xffff_ffff))
  const proofs = await readProofsFile(dir)
  if (proofs && proofs.epoch !== epoch) throw new EpochDirectoryError(`proofs.json proves epoch ${proofs.epoch}, the directory holds epoch ${epoch}`)
  return {
    epoch,
    manifestSha256: `0x${createHash('sha256').update(manifestBytes).digest('hex')}`,
    spendRoot,
    rewardRoot,
    totals: { receipts: BigInt(totals.field('receipts').baseUnits()), gross: BigInt(totals.field('gross').baseUnits()), charged: BigInt(totals.field('charged').baseUnits()) },
    rewardTree,
    proofs,
  }
}

/** The epoch's proofs.json if there is one (read and shape-checked; verification is the auditor's). */
export async function readProofsFile(dir: string): Promise<EpochProofs | undefined> {
  const text = await readFile(join(dir, 'proofs.json'), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined
    throw new EpochDirectoryError(`cannot read ${join(dir, 'proofs.json')}: ${e.code ?? e.message}`)
  })
  return text === undefined ? undefined : readEpochProofs(parseJsonDocument(text, 'proofs.json'))
}

/** A batch proof as the registry takes it; snarkjs orders each G2 coordinate pair the other way round from the EVM. */
export function proofCalldata(p: BatchProof) {
  const { pi_a: a, pi_b: b, pi_c: c } = p.proof
  return {
    a: [BigInt(a[0]!), BigInt(a[1]!)] as const,
    b: [
      [BigInt(b[0]![1]!), BigInt(b[0]![0]!)],
      [BigInt(b[1]![1]!), BigInt(b[1]![0]!)],
    ] as const,
    c: [BigInt(c[0]!), BigInt(c[1]!)] as const,
    signals: signalsOf(p) as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint],
  }
}

/** keccak256(abi.encode(chainId, registry)): binds a commitment to one chain and one contract. */
export function commitmentDomain(chainId: number, registry: Address): Hex {
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'address' }], [BigInt(chainId), registry]))
}

export function commitmentOf(epoch: SealedEpoch, chainId: number, registry: Address) {
  return {
    spendRoot: epoch.spendRoot,
    rewardRoot: epoch.rewardRoot,
    totalGross: epoch.totals.gross,
    totalCharged: epoch.totals.charged,
    receiptCount: epoch.totals.receipts,
    manifestHash: epoch.manifestSha256,
    domain: commitmentDomain(chainId, registry),
    proofsHash: epoch.proofs?.proofsHash ?? zeroHash,
  }
}

/** The account's reward leaves with proofs, ready for claimMany. */
export function claimsOf(tree: StandardTree, account: Address) {
  const a = account.toLowerCase()
  const claims: Array<{ account: Address; token: Address; cumulative: bigint; proof: Hex[] }> = []
  for (const [i, v] of tree.entries()) if (v[0] === a) claims.push({ account: v[0] as Address, token: v[1] as Address, cumulative: BigInt(v[2] as string), proof: tree.getProof(i) as Hex[] })
  return claims
}
