import { DECIMALS, formatUnits } from '../base/units.ts'
import { readPlatform, type PlatformParameters } from '../economics/parameters.ts'
import { Reader, optional } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { readDomain } from '../receipts/document.ts'
import { readAddress, readBytes32 } from '../receipts/receipt.ts'
import type { ReceiptDomain } from '../receipts/types.ts'

/** The aggregator's configuration (docs/aggregator.md). Amounts in base units once read. */
export const AGGREGATOR_CONFIG_FORMAT = 'fomo-aggregator-config-v1'
export const EPOCH_INPUTS_FORMAT = 'fomo-epoch-inputs-v1'

export type DeploymentConfig = {
  id: Hex
  name: string
  issuer: Hex
  mtToken: Hex
  /** The epoch the deployment graduated in; age = epoch - graduationEpoch. */
  graduationEpoch: number
  /** FLOCK raised (base units): 25 % of it is the staking fund. */
  raised: bigint
  /** MT incentive reserve (base units). */
  incentiveReserve: bigint
}

export type AggregatorConfig = {
  domain: ReceiptDomain
  epochSeconds: number
  clockSkewSeconds: number
  maxReceiptAgeSeconds: number
  tokens: { flock: Hex; usdc: Hex }
  platform: PlatformParameters
  deployments: DeploymentConfig[]
  providers: Array<{ deploymentId: Hex; provider: Hex }>
}

export function readConfig(document: unknown): AggregatorConfig {
  const r = new Reader(AGGREGATOR_CONFIG_FORMAT, document)
  r.object(['format', 'domain', 'epochSeconds', 'clockSkewSeconds', 'maxReceiptAgeSeconds', 'tokens', 'platform', 'deployments', 'providers'])
  r.field('format').literal([AGGREGATOR_CONFIG_FORMAT])
  const t = r.field('tokens')
  t.object(['flock', 'usdc'])
  const ids = new Set<string>()
  const deployments = r.field('deployments').array({ min: 1, max: 10_000 }).map((d): DeploymentConfig => {
    d.object(['id', 'name', 'issuer', 'mtToken', 'graduationEpoch', 'raised', 'incentiveReserve'])
    const id = readBytes32(d.field('id'))
    if (ids.has(id)) d.field('id').fail('a deployment id not used before')
    ids.add(id)
    return {
      id,
      name: d.field('name').string(/^[A-Za-z0-9 ._-]{1,64}$/, 'a short name'),
      issuer: readAddress(d.field('issuer')),
      mtToken: readAddress(d.field('mtToken')),
      graduationEpoch: Number(d.field('graduationEpoch').integer(0, 0xffff_ffff)),
      raised: d.field('raised').units(DECIMALS.FLOCK, 'FLOCK'),
      incentiveReserve: d.field('incentiveReserve').units(DECIMALS.MT, 'MT'),
    }
  })
  const providers = r.field('providers').array({ max: 100_000 }).map((e) => {
    e.object(['deploymentId', 'provider'])
    const deploymentId = readBytes32(e.field('deploymentId'))
    if (!ids.has(deploymentId)) e.field('deploymentId').fail('a deployment listed in $.deployments')
    return { deploymentId, provider: readAddress(e.field('provider')) }
  })
  return {
    domain: readDomain(r.field('domain')),
    epochSeconds: Number(optional(r.field('epochSeconds'), (x) => x.integer(60, 31 * 86400), 86400n)),
    clockSkewSeconds: Number(optional(r.field('clockSkewSeconds'), (x) => x.integer(0, 3600), 300n)),
    maxReceiptAgeSeconds: Number(optional(r.field('maxReceiptAgeSeconds'), (x) => x.integer(60, 90 * 86400), 2n * 86400n)),
    tokens: { flock: readAddress(t.field('flock')), usdc: readAddress(t.field('usdc')) },
    platform: readPlatform(r.field('platform')),
    deployments,
    providers,
  }
}

/** The config as JSON again (decimal token amounts), for storage and the manifest. */
export function configJson(c: AggregatorConfig): Record<string, unknown> {
  const units = formatUnits
  return {
    format: AGGREGATOR_CONFIG_FORMAT,
    domain: c.domain,
    epochSeconds: c.epochSeconds,
    clockSkewSeconds: c.clockSkewSeconds,
    maxReceiptAgeSeconds: c.maxReceiptAgeSeconds,
    tokens: c.tokens,
    platform: {
      maxDiscountBps: Number(c.platform.maxDiscountBps),
      discountMultiplier: Number(c.platform.discountMultiplier),
      dailyEmission: units(c.platform.dailyEmission, DECIMALS.FLOCK),
      scoreBasis: c.platform.scoreBasis,
      rewardDenominator: c.platform.rewardDenominator,
      issuerBonusBps: Number(c.platform.issuerBonusBps),
    },
    deployments: c.deployments.map((d) => ({ ...d, raised: units(d.raised, DECIMALS.FLOCK), incentiveReserve: units(d.incentiveReserve, DECIMALS.MT) })),
    providers: c.providers,
  }
}

export type EpochInputs = {
  epoch: number
  deployments: Map<Hex, { opex: bigint; circulatingSupply: bigint | undefined; stakes: Map<Hex, bigint> }>
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
