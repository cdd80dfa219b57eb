/**
 * Sealing's own refusals: spend on a deployment the configuration no longer has (its leaves could not be checked
 * against a pinned staking contract, so anyone could revoke the epoch); the configuration's hash is that of the
 * config.json it writes, and version 1 configurations are still read.
 */
import { unpackAttestationKey } from '../receipts/attestationKey.ts'
import { describe, expect, it } from 'vitest'
import { DEPLOYMENT_A, DEPLOYMENT_B, worldConfig } from '../../test/aggregator/world.ts'
import { AGGREGATOR_CONFIG_FORMAT, configBytes, configHash, configJson, pinnedConfig, readConfig } from './config.ts'
import { rewardParameters, rewardParamsHash } from './ledger.ts'
import { seal } from './seal.ts'
import type { SpendRow } from './spend.ts'

const user = '0x00000000000000000000000000000000000000bb'
const row = (deploymentId: `0x${string}`): SpendRow => ({ deploymentId, user, gross: 1000n, charged: 1000n, count: 1n, minDiscountBps: 0, maxDiscountBps: 0 })

describe('seal', () => {
  it('refuses spend on a deployment the configuration does not have, naming it', () => {
    const base = worldConfig()
    const config = { ...base, deployments: base.deployments.filter((d) => d.id === DEPLOYMENT_A) }
    const input = { epoch: 20_000, config, inputs: new Map(), previous: [], previousManifestSha256: null }
    expect(() => seal({ ...input, spend: [row(DEPLOYMENT_A), row(DEPLOYMENT_B)] })).toThrow(`the epoch has spend on deployment ${DEPLOYMENT_B}, which the configuration does not have`)
    expect(seal({ ...input, spend: [row(DEPLOYMENT_A)] }).spendRoot).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('config.json is what the configuration hash is taken of; a version 1 document reads as one without staking contracts', () => {
    const config = worldConfig()
    const out = seal({ epoch: 20_000, config, spend: [row(DEPLOYMENT_A)], inputs: new Map(), previous: [], previousManifestSha256: null })
    const file = out.files.find((f) => f.name === 'config.json')!.content
    expect(Buffer.from(file).equals(Buffer.from(configBytes(config)))).toBe(true)
    expect(configHash(file)).toMatch(/^0x[0-9a-f]{64}$/)
    expect(configJson(config).format).toBe(AGGREGATOR_CONFIG_FORMAT)
    expect(config.deployments.every((d) => d.staking === undefined)).toBe(true)
    expect(() => pinnedConfig(config)).toThrow('name no staking contract')
    const staking = '0x00000000000000000000000000000000000000aa'
    const doc = configJson(config) as { deployments: Array<Record<string, unknown>> }
    const pinned = readConfig({ ...doc, deployments: doc.deployments.map((d) => ({ ...d, staking })) })
    // Each provider's attestation key is pinned by its id (Poseidon of the point) for its deployment, with the
    // provider's account (the one that records its attestations).
    const keyIds = pinned.providers.map((p) => unpackAttestationKey(p.attestationKey!).id)
    const keyAccounts = pinned.providers.map((p) => p.provider)
    expect(pinnedConfig(pinned)).toEqual({ hash: configHash(configBytes(pinned)), rewardParams: rewardParamsHash(rewardParameters(pinned)), deploymentIds: [DEPLOYMENT_A, DEPLOYMENT_B], stakings: [staking, staking], keyDeploymentIds: [DEPLOYMENT_A, DEPLOYMENT_B], keyIds, keyAccounts })
    // Version 2 has no attestation keys; a key that is not a point of the curve is refused.
    expect(readConfig({ ...doc, format: 'fomo-aggregator-config-v2', providers: pinned.providers.map(({ deploymentId, provider }) => ({ deploymentId, provider })) }).providers.every((p) => p.attestationKey === undefined)).toBe(true)
    expect(() => readConfig({ ...doc, providers: [{ ...pinned.providers[0], attestationKey: `0x${'ff'.repeat(32)}` }] })).toThrow(/\$\.providers\[0\]\.attestationKey: expected a packed Baby Jubjub public key/)
  })
})
