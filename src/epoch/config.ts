/**
 * The aggregator's configuration (docs/aggregator.md, format fomo-aggregator-config-v3): the receipt domain, epoch
 * length, tokens, platform parameters, deployments (with the staking contract each reads its stakes from) and the
 * providers allowed to sign for each (with the key each attests its epochs with). Sealed beside every epoch as
 * config.json, whose keccak256 the registry pins (`configHash`) with the staking contracts and attestation keys.
 * Amounts are base units once read. Versions 1 (no staking contracts) and 2 (no attestation keys) are still read.
 */
import { encodeAbiParameters, keccak256 } from 'viem'
import { DECIMALS, formatUnits } from '../base/units.ts'
import { readPlatform, type PlatformParameters } from '../economics/parameters.ts'
import { Reader, optional } from '../base/reader.ts'
import type { Hex } from '../base/bytes.ts'
import { BaseError } from '../base/errors.ts'
import { jsonFileBytes } from '../base/json.ts'
import { rewardParameters, rewardParamsHash } from './ledger.ts'
import { unpackAttestationKey } from '../receipts/attestationKey.ts'
import { readDomain } from '../receipts/document.ts'
import { readAddress, readBytes32 } from '../receipts/receipt.ts'
import type { ReceiptDomain } from '../receipts/types.ts'

export const AGGREGATOR_CONFIG_FORMAT = 'fomo-aggregator-config-v3'
/** Earlier versions still read: v1 named no staking contracts, v2 no attestation keys. */
export const AGGREGATOR_CONFIG_FORMAT_V1 = 'fomo-aggregator-config-v1'
export const AGGREGATOR_CONFIG_FORMAT_V2 = 'fomo-aggregator-config-v2'

/** A provider allowed to sign receipts for a deployment, and the key its epoch attestations are signed with (src/proofs/attestation.ts). */
export type ProviderConfig = { deploymentId: Hex; provider: Hex; attestationKey?: Hex | undefined }

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
  /** The deployment's MTStaking contract, pinned on chain with the configuration; stakes are read there. */
  staking?: Hex | undefined
}

export type AggregatorConfig = {
  domain: ReceiptDomain
  epochSeconds: number
  clockSkewSeconds: number
  maxReceiptAgeSeconds: number
  tokens: { flock: Hex; usdc: Hex }
  platform: PlatformParameters
  deployments: DeploymentConfig[]
  providers: ProviderConfig[]
}

export function readConfig(document: unknown): AggregatorConfig {
  const r = new Reader(AGGREGATOR_CONFIG_FORMAT, document)
  r.object(['format', 'domain', 'epochSeconds', 'clockSkewSeconds', 'maxReceiptAgeSeconds', 'tokens', 'platform', 'deployments', 'providers'])
  const version = r.field('format').literal([AGGREGATOR_CONFIG_FORMAT, AGGREGATOR_CONFIG_FORMAT_V2, AGGREGATOR_CONFIG_FORMAT_V1])
  const t = r.field('tokens')
  t.object(['flock', 'usdc'])
  const ids = new Set<string>()
  const deployments = r.field('deployments').array({ min: 1, max: 10_000 }).map((d): DeploymentConfig => {
    const keys = ['id', 'name', 'issuer', 'mtToken', 'graduationEpoch', 'raised', 'incentiveReserve']
    d.object(version === AGGREGATOR_CONFIG_FORMAT_V1 ? keys : [...keys, 'staking'])
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
      staking: optional(d.field('staking'), readAddress, undefined),
    }
  })
  const attestationKeys = new Set<string>()
  const listed = new Set<string>()
  const providers = r.field('providers').array({ max: 100_000 }).map((e): ProviderConfig => {
    e.object(version === AGGREGATOR_CONFIG_FORMAT ? ['deploymentId', 'provider', 'attestationKey'] : ['deploymentId', 'provider'])
    const deploymentId = readBytes32(e.field('deploymentId'))
    if (!ids.has(deploymentId)) e.field('deploymentId').fail('a deployment listed in $.deployments')
    const provider = readAddress(e.field('provider'))
    // One entry per (deployment, provider): a second would pin a second attestation key, under which its receipts could count twice.
    if (listed.has(`${deploymentId}/${provider}`)) e.field('provider').fail('a provider not listed before for this deployment')
    listed.add(`${deploymentId}/${provider}`)
    const attestationKey = optional(e.field('attestationKey'), (k) => k.string(/^0x[0-9a-f]{64}$/, 'a packed Baby Jubjub public key (0x and 64 lower-case hex digits, as fomo keys new prints it)') as Hex, undefined)
    if (attestationKey !== undefined) {
      try {
        unpackAttestationKey(attestationKey)
      } catch {
        e.field('attestationKey').fail('a packed Baby Jubjub public key (a point of the curve, as fomo keys new prints it)')
      }
      if (attestationKeys.has(`${deploymentId}/${attestationKey}`)) e.field('attestationKey').fail("a key no other provider of the deployment attests with")
      attestationKeys.add(`${deploymentId}/${attestationKey}`)
    }
    return { deploymentId, provider, ...(attestationKey === undefined ? {} : { attestationKey }) }
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
    deployments: c.deployments.map(({ staking, ...d }) => ({
      ...d,
      raised: units(d.raised, DECIMALS.FLOCK),
      incentiveReserve: units(d.incentiveReserve, DECIMALS.MT),
      ...(staking === undefined ? {} : { staking }),
    })),
    providers: c.providers.map(({ attestationKey, ...p }) => ({ ...p, ...(attestationKey === undefined ? {} : { attestationKey }) })),
  }
}

/** config.json as sealed beside every epoch: the bytes the configuration hash is taken of. */
export function configBytes(c: AggregatorConfig): Uint8Array {
  return jsonFileBytes(configJson(c))
}

/** keccak256 of config.json's bytes: the hash a registry pins and every commitment carries. */
export function configHash(bytes: Uint8Array): Hex {
  return keccak256(bytes)
}

/**
 * What a registry pins for a configuration (`scheduleConfig`): its hash, each deployment's staking contract, its
 * providers' attestation key ids (Poseidon(x, y) of each key; a batch proof is taken only under one of them) and the
 * provider account of each key (the one that records its attestations on chain), and the hash of its reward
 * parameters as ABI (the judge recomputes rewards with them: src/epoch/ledger.ts).
 * Refused when a deployment names no staking contract: a registry reads every challenged stake there.
 */
export function pinnedConfig(c: AggregatorConfig): { hash: Hex; rewardParams: Hex; deploymentIds: Hex[]; stakings: Hex[]; keyDeploymentIds: Hex[]; keyIds: bigint[]; keyAccounts: Hex[] } {
  const missing = c.deployments.filter((d) => d.staking === undefined).map((d) => d.name)
  if (missing.length > 0)
    throw new ConfigError(`deployment${missing.length > 1 ? 's' : ''} ${missing.join(', ')} name${missing.length > 1 ? '' : 's'} no staking contract`, 'Give each deployment its MTStaking address ("staking") in the configuration before pinning it on a registry.')
  const keyed = c.providers.filter((p) => p.attestationKey !== undefined)
  return {
    hash: configHash(configBytes(c)),
    rewardParams: rewardParamsHash(rewardParameters(c)),
    deploymentIds: c.deployments.map((d) => d.id),
    stakings: c.deployments.map((d) => d.staking as Hex),
    keyDeploymentIds: keyed.map((p) => p.deploymentId),
    keyIds: keyed.map((p) => unpackAttestationKey(p.attestationKey as Hex).id),
    keyAccounts: keyed.map((p) => p.provider),
  }
}

/**
 * What the registry records of a scheduled configuration (`pinnedContentOf(hash)`): keccak256 of the ABI encoding of
 * its deployments, staking contracts, key deployments, attestation key ids and provider accounts, in `pinnedConfig`'s
 * order. An auditor compares it with config.json's, so the admin cannot pin a staking contract, key or account that
 * config.json does not name.
 */
export function pinnedContent(p: ReturnType<typeof pinnedConfig>): Hex {
  return keccak256(
    encodeAbiParameters([{ type: 'bytes32[]' }, { type: 'address[]' }, { type: 'bytes32[]' }, { type: 'uint256[]' }, { type: 'address[]' }], [p.deploymentIds, p.stakings, p.keyDeploymentIds, p.keyIds, p.keyAccounts]),
  )
}

export class ConfigError extends BaseError {
  override name = 'ConfigError'
  constructor(message: string, hint?: string) {
    super('CONFIG', message, hint ? { metaMessages: [hint] } : {})
  }
}
