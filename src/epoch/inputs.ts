/**
 * An epoch's inputs (format fomo-epoch-inputs-v2): per deployment the OpEx and the stake snapshot (circulating supply
 * and each account's eligible stake), and, when the snapshot was read from the chain, where it was read (the MTStaking
 * contract and the snapshot block), so an auditor checks it against the chain without being told. Stored by
 * `fomo inputs` and sealed beside the epoch as inputs.json. Version 1 (no snapshot source) is still read.
 */
import type { Hex } from '../base/bytes.ts'
import { Reader, optional } from '../base/reader.ts'
import { DECIMALS, formatUnits } from '../base/units.ts'
import { readAddress, readBytes32, readUint } from '../receipts/receipt.ts'
import type { AggregatorConfig } from './config.ts'

export const EPOCH_INPUTS_FORMAT = 'fomo-epoch-inputs-v2'
/** Earlier versions still read: v1 had no snapshot source. */
export const EPOCH_INPUTS_FORMAT_V1 = 'fomo-epoch-inputs-v1'

/** Where a stake snapshot was read: a deployment's MTStaking contract at the snapshot block. */
export type SnapshotSource = { staking: Hex; block: bigint }

/** One deployment's inputs: OpEx (USDC base units), its stake snapshot (MT base units) and where it was read. */
export type DeploymentInputs = { opex: bigint; circulatingSupply: bigint | undefined; stakes: Map<Hex, bigint>; snapshot?: SnapshotSource | undefined }

export type EpochInputs = {
  epoch: number
  deployments: Map<Hex, DeploymentInputs>
}

/** Per-epoch inputs: OpEx and the stake snapshot (circulating supply and each account's stake) per deployment. */
export function readEpochInputs(document: unknown, config: AggregatorConfig): EpochInputs {
  const r = new Reader(EPOCH_INPUTS_FORMAT, document)
  r.object(['format', 'epoch', 'deployments'])
  const version = r.field('format').literal([EPOCH_INPUTS_FORMAT, EPOCH_INPUTS_FORMAT_V1])
  const known = new Set(config.deployments.map((d) => d.id))
  const deployments: EpochInputs['deployments'] = new Map()
  for (const [key, d] of r.field('deployments').entries()) {
    const id = readBytes32(new Reader(EPOCH_INPUTS_FORMAT, key, `${d.path} (key)`))
    if (!known.has(id)) d.fail('a deployment of the aggregator config')
    d.object(version === EPOCH_INPUTS_FORMAT ? ['opex', 'circulatingSupply', 'stakes', 'snapshot'] : ['opex', 'circulatingSupply', 'stakes'])
    const stakes = new Map<Hex, bigint>()
    const s = d.field('stakes')
    if (s.isPresent())
      for (const [account, v] of s.entries()) stakes.set(readAddress(new Reader(EPOCH_INPUTS_FORMAT, account, `${v.path} (key)`)), v.units(DECIMALS.MT, 'MT'))
    deployments.set(id, {
      opex: optional(d.field('opex'), (x) => x.units(DECIMALS.USDC, 'USDC'), 0n),
      circulatingSupply: optional(d.field('circulatingSupply'), (x) => x.units(DECIMALS.MT, 'MT'), undefined),
      stakes,
      snapshot: optional(d.field('snapshot'), readSnapshotSource, undefined),
    })
  }
  return { epoch: Number(r.field('epoch').integer(0, 0xffff_ffff)), deployments }
}

/** Epoch inputs as JSON again (decimal token amounts, keys sorted): written beside a sealed epoch for auditors. */
export function epochInputsJson(epoch: number, deployments: EpochInputs['deployments']): Record<string, unknown> {
  const sorted = <T>(m: Map<Hex, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return {
    format: EPOCH_INPUTS_FORMAT,
    epoch,
    deployments: Object.fromEntries(
      sorted(deployments).map(([id, d]) => [
        id,
        {
          opex: formatUnits(d.opex, DECIMALS.USDC),
          ...(d.circulatingSupply === undefined ? {} : { circulatingSupply: formatUnits(d.circulatingSupply, DECIMALS.MT) }),
          stakes: Object.fromEntries(sorted(d.stakes).map(([account, stake]) => [account, formatUnits(stake, DECIMALS.MT)])),
          ...(d.snapshot === undefined ? {} : { snapshot: { staking: d.snapshot.staking, block: d.snapshot.block.toString() } }),
        },
      ]),
    ),
  }
}

function readSnapshotSource(r: Reader): SnapshotSource {
  r.object(['staking', 'block'])
  return { staking: readAddress(r.field('staking')), block: readUint(r.field('block'), 0n, (1n << 64n) - 1n, 'a block number') }
}
