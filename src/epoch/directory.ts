/**
 * A sealed epoch's directory (epoch-<n>): written atomically by the aggregator, read back and checked against its
 * manifest by publication, proving and auditing.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Hex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import { faultPoint } from '../base/faults.ts'
import { parseJsonDocument } from '../base/json.ts'
import { parseJsonBytes } from '../base/jsonBytes.ts'
import { StandardTree } from '../merkle/tree.ts'
import { configHash, readConfig, type AggregatorConfig } from './config.ts'
import { readEpochInputs, type EpochInputs } from './inputs.ts'
import { readLedger, type Ledger } from './ledger.ts'
import { readManifest, sha256Hex, type Manifest } from './manifest.ts'

export class EpochDirectoryError extends BaseError {
  override name = 'EpochDirectoryError'
  constructor(message: string, hint?: string) {
    super('EPOCH_DIRECTORY', message, hint ? { metaMessages: [hint] } : {})
  }
}

/**
 * Writes a sealed epoch's files into `dir/epoch-<n>` atomically: every file is
 * written and fsynced in a temporary directory beside it, which is then renamed
 * into place. A crash leaves no epoch directory or the complete one. Writing an
 * epoch that is already there checks it is byte-identical instead.
 */
export async function writeEpochDirectory(dir: string, epoch: number, files: ReadonlyArray<{ name: string; content: Uint8Array }>): Promise<string> {
  await mkdir(dir, { recursive: true })
  const target = join(dir, `epoch-${epoch}`)
  const existing = await readdir(target).catch(() => undefined)
  if (existing) {
    for (const f of files) {
      const on = await readFile(join(target, f.name)).catch(() => undefined)
      if (!on || Buffer.compare(on, f.content) !== 0)
        throw new BaseError('ARTIFACTS_DIFFER', `${join(target, f.name)} differs from the sealed epoch in the store`, { metaMessages: ['Move the directory away and write it again; the store is the reference.'] })
    }
    return target
  }
  // Temporary directories of writes that crashed are debris: remove them.
  for (const name of await readdir(dir)) if (name.startsWith(`.epoch-${epoch}.`) && name.endsWith('.tmp')) await rm(join(dir, name), { recursive: true, force: true })
  const tmp = join(dir, `.epoch-${epoch}.${randomBytes(4).toString('hex')}.tmp`)
  await mkdir(tmp)
  try {
    for (const f of files) {
      const handle = await open(join(tmp, f.name), 'w')
      await handle.writeFile(f.content)
      await handle.sync()
      await handle.close()
    }
    await faultPoint('seal:before-rename')
    await rename(tmp, target)
    const d = await open(dir, 'r')
    await d.sync().catch(() => undefined)
    await d.close()
  } catch (error) {
    await rm(tmp, { recursive: true, force: true })
    throw error
  }
  return target
}

/** A sealed epoch directory, read and checked: the manifest's file hashes match the files. */
export type SealedEpoch = {
  dir: string
  epoch: number
  manifest: Manifest
  manifestSha256: Hex
  spendRoot: Hex
  rewardRoot: Hex
  totals: Manifest['totals']
  rewardTree: StandardTree
  config: AggregatorConfig
  /** keccak256 of config.json: the configuration the registry must have pinned. */
  configHash: Hex
  inputs: EpochInputs
  /** The one block every recorded stake snapshot was read at; null when inputs.json records none. */
  snapshotBlock: bigint | null
  /** ledger.json: the sums and sentinel proofs reward challenges open (src/epoch/ledger.ts). */
  ledger: Ledger
}

/** Reads one file of an epoch directory; a missing or unreadable file names the directory to give. */
export function readEpochFile(dir: string, name: string): Promise<Buffer> {
  return readFile(join(dir, name)).catch((e: NodeJS.ErrnoException) => {
    throw new EpochDirectoryError(`cannot read ${join(dir, name)}: ${e.code ?? e.message}`, 'Give the directory `fomo seal` wrote (epoch-<n>).')
  })
}

/** Reads a sealed epoch with roots to publish: an epoch without receipts or rewards has none and is refused. */
export async function readSealedEpoch(dir: string): Promise<SealedEpoch> {
  const manifestBytes = await readEpochFile(dir, 'manifest.json')
  const manifest = readManifest(parseJsonDocument(manifestBytes.toString('utf8'), 'manifest.json'))
  for (const [name, expected] of manifest.files) {
    if (sha256Hex(await readEpochFile(dir, name)) !== expected)
      throw new EpochDirectoryError(`${name} does not match the manifest's hash`, 'The directory was altered after sealing; seal or copy it again.')
  }
  if (manifest.roots.spend === null) throw new EpochDirectoryError('the manifest has no spend root: an epoch without receipts has none to publish')
  if (manifest.roots.reward === null) throw new EpochDirectoryError('the manifest has no reward root: an epoch without rewards has none to publish')
  const rewardTree = StandardTree.loadBytes(await readEpochFile(dir, 'reward-tree.json'), 'reward-tree.json')
  if (rewardTree.root !== manifest.roots.reward) throw new EpochDirectoryError("reward-tree.json does not have the manifest's reward root")
  const configBytes = await readEpochFile(dir, 'config.json')
  const config = readConfig(parseJsonDocument(configBytes.toString('utf8'), 'config.json'))
  const inputs = readEpochInputs(parseJsonDocument((await readEpochFile(dir, 'inputs.json')).toString('utf8'), 'inputs.json'), config)
  if (!manifest.files.has('ledger.json')) throw new EpochDirectoryError('the epoch has no ledger.json, which a registry needs for its commitment', 'The epoch was sealed by an older fomo-kit: seal it again.')
  const ledger = readLedger(parseJsonBytes(await readEpochFile(dir, 'ledger.json'), 'ledger.json'))
  if (ledger.epoch !== manifest.epoch) throw new EpochDirectoryError(`ledger.json is of epoch ${ledger.epoch}, the manifest of epoch ${manifest.epoch}`)
  return {
    dir,
    epoch: manifest.epoch,
    manifest,
    manifestSha256: `0x${sha256Hex(manifestBytes)}`,
    spendRoot: manifest.roots.spend,
    rewardRoot: manifest.roots.reward,
    totals: manifest.totals,
    rewardTree,
    config,
    configHash: configHash(configBytes),
    inputs,
    snapshotBlock: snapshotBlockOf(inputs),
    ledger: ledger.ledger,
  }
}

/** The one block of an epoch's recorded stake snapshots: a commitment names one, so snapshots at several are refused. */
export function snapshotBlockOf(inputs: EpochInputs): bigint | null {
  const blocks = new Set<bigint>()
  for (const d of inputs.deployments.values()) if (d.snapshot) blocks.add(d.snapshot.block)
  if (blocks.size > 1)
    throw new EpochDirectoryError(
      `inputs.json records stake snapshots at ${blocks.size} blocks (${[...blocks].join(', ')}); an epoch's commitment names one snapshot block`,
      'Read every deployment\'s stakes at one block: `fomo inputs --rpc <url> --block <n>`.',
    )
  return blocks.size === 0 ? null : [...blocks][0]!
}
