/**
 * The epoch manifest (format fomo-epoch-manifest-v2): what an epoch commits to. It names the configuration's hash,
 * the previous epoch's manifest (a hash chain), the parameters, both roots, the totals and every file's sha256; its
 * own sha256 is what the chain records. Written by sealing, read by publication and by the auditor.
 */
import { createHash } from 'node:crypto'
import type { Hex } from '../base/bytes.ts'
import { Reader } from '../base/reader.ts'
import { isArtifactName } from './artifacts.ts'
import { readDomain } from '../receipts/document.ts'
import type { ReceiptDomain } from '../receipts/types.ts'
import { configJson, type AggregatorConfig } from './config.ts'
import type { EpochTotals } from './report.ts'
import { REWARD_LEAF_ENCODING } from './rewards.ts'
import { SPEND_LEAF_ENCODING } from './spend.ts'

export const MANIFEST_FORMAT = 'fomo-epoch-manifest-v2'

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

export type ManifestInput = {
  epoch: number
  config: AggregatorConfig
  configBytes: Uint8Array
  previousManifestSha256: string | null
  roots: { spend: Hex | null; reward: Hex | null }
  totals: EpochTotals & { rewardLeaves: number; spendLeaves: number }
  /** Every other file of the epoch directory. */
  files: ReadonlyMap<string, Uint8Array>
}

export function epochManifest(m: ManifestInput) {
  return {
    format: MANIFEST_FORMAT,
    epoch: m.epoch,
    domain: m.config.domain,
    configSha256: sha256Hex(m.configBytes),
    previousManifestSha256: m.previousManifestSha256,
    parameters: configJson(m.config).platform,
    tokens: m.config.tokens,
    roots: m.roots,
    leafEncodings: { spend: SPEND_LEAF_ENCODING, reward: REWARD_LEAF_ENCODING },
    totals: m.totals,
    files: Object.fromEntries([...m.files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, content]) => [name, { sha256: sha256Hex(content), bytes: content.length }])),
  }
}

/** A manifest as read: what publication and auditing rely on. */
export type Manifest = {
  epoch: number
  domain: ReceiptDomain
  previousManifestSha256: string | null
  roots: { spend: Hex | null; reward: Hex | null }
  totals: { receipts: bigint; users: number; gross: bigint; charged: bigint }
  /** sha256 (hex) of each file the manifest covers, by name. */
  files: Map<string, string>
}

const ROOT = /^0x[0-9a-f]{64}$/
const SHA256 = /^[0-9a-f]{64}$/

export function readManifest(document: unknown): Manifest {
  const r = new Reader(MANIFEST_FORMAT, document)
  r.field('format').literal([MANIFEST_FORMAT])
  const root = (x: Reader) => (x.value === null ? null : (x.string(ROOT, 'a root (0x and 64 lower-case hex digits) or null') as Hex))
  const previous = r.field('previousManifestSha256')
  const totals = r.field('totals')
  return {
    epoch: Number(r.field('epoch').integer(0, 0xffff_ffff)),
    domain: readDomain(r.field('domain')),
    previousManifestSha256: previous.value === null || previous.value === undefined ? null : previous.string(SHA256, 'a sha256 (64 lower-case hex digits) or null'),
    roots: { spend: root(r.field('roots').field('spend')), reward: root(r.field('roots').field('reward')) },
    totals: { receipts: BigInt(totals.field('receipts').baseUnits()), users: Number(totals.field('users').integer(0, Number.MAX_SAFE_INTEGER)), gross: BigInt(totals.field('gross').baseUnits()), charged: BigInt(totals.field('charged').baseUnits()) },
    // Names are joined to the directory's path by every reader: a plain file name only, so none points outside it.
    files: new Map(
      r
        .field('files')
        .entries()
        .map(([name, entry]) => {
          if (!isArtifactName(name)) entry.fail('an entry named by a plain file name (no "/", no leading ".")')
          return [name, entry.field('sha256').string(SHA256, 'a sha256')]
        }),
    ),
  }
}
