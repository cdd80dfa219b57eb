/**
 * The aggregator's configuration (docs/aggregator.md, format fomo-aggregator-config-v1): the receipt domain, epoch
 * length, tokens, platform parameters, deployments and the providers allowed to sign for each. Sealed beside every
 * epoch as config.json. Amounts are base units once read.
 */
import { DECIMALS, formatUnits } from '../base/units.ts'
import { readPlatform, type PlatformParameters } from '../economics/parameters.ts'
import { Reader, optional } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { readDomain } from '../receipts/document.ts'
import { readAddress, readBytes32 } from '../receipts/receipt.ts'
import type { ReceiptDomain } from '../receipts/types.ts'

export const AGGREGATOR_CONFIG_FORMAT = 'fomo-aggregator-config-v1'

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
