/**
 * An epoch's inputs (format fomo-epoch-inputs-v1): per deployment the OpEx and the stake snapshot (circulating supply
 * and each account's stake). Stored by `fomo inputs` and sealed beside the epoch as inputs.json.
 */
import type { Hex } from '../base/bytes.ts'
import { Reader, optional } from '../base/reader.ts'
import { DECIMALS, formatUnits } from '../base/units.ts'
import { readAddress, readBytes32 } from '../receipts/receipt.ts'
import type { AggregatorConfig } from './config.ts'

export const EPOCH_INPUTS_FORMAT = 'fomo-epoch-inputs-v1'

/** One deployment's inputs: OpEx (USDC base units) and its stake snapshot (MT base units). */
export type DeploymentInputs = { opex: bigint; circulatingSupply: bigint | undefined; stakes: Map<Hex, bigint> }

export type EpochInputs = {
  epoch: number
  deployments: Map<Hex, DeploymentInputs>
}

/** Per-epoch inputs: OpEx and the stake snapshot (circulating supply and each account's stake) per deployment. */
export function readEpochInputs(document: unknown, config: AggregatorConfig): EpochInputs {
  const r = new Reader(EPOCH_INPUTS_FORMAT, document)
  r.object(['format', 'epoch', 'deployments'])
  r.field('format').literal([EPOCH_INPUTS_FORMAT])
  const known = new Set(config.deployments.map((d) => d.id))
  const deployments: EpochInputs['deployments'] = new Map()
  for (const [key, d] of r.field('deployments').entries()) {
    const id = readBytes32(new Reader(EPOCH_INPUTS_FORMAT, key, `${d.path} (key)`))
    if (!known.has(id)) d.fail('a deployment of the aggregator config')
    d.object(['opex', 'circulatingSupply', 'stakes'])
    const stakes = new Map<Hex, bigint>()
    const s = d.field('stakes')
    if (s.isPresent())
      for (const [account, v] of s.entries()) stakes.set(readAddress(new Reader(EPOCH_INPUTS_FORMAT, account, `${v.path} (key)`)), v.units(DECIMALS.MT, 'MT'))
    deployments.set(id, {
      opex: optional(d.field('opex'), (x) => x.units(DECIMALS.USDC, 'USDC'), 0n),
      circulatingSupply: optional(d.field('circulatingSupply'), (x) => x.units(DECIMALS.MT, 'MT'), undefined),
      stakes,
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
        },
      ]),
    ),
  }
}
