/** A small aggregator world for tests: config, provider keys and a receipt factory. Public test keys only. */
import { attestationKeyOf, attestationSecret } from '../../src/proofs/attestation.ts'
import { getAddress, keccak256, toBytes } from 'viem'
import { readConfig, type AggregatorConfig } from '../../src/epoch/config.ts'
import { readEpochInputs, type EpochInputs } from '../../src/epoch/inputs.ts'
import { chargedAmount } from '../../src/economics/revenue.ts'
import type { Hex } from '../../src/base/bytes.ts'
import type { UsageReceipt } from '../../src/receipts/receipt.ts'
import { addressOf, signReceipt } from '../../src/receipts/sign.ts'
import { signBatch } from '../../src/receipts/batchSign.ts'
import { domainSeparator, RECEIPT_DOMAIN_NAME } from '../../src/receipts/types.ts'
import { ReceiptColumns } from '../../src/receipts/columns.ts'
import { ReceiptVerifier } from '../../src/receipts/verify.ts'

export const EPOCH = 20_000
export const EPOCH_START = BigInt(EPOCH) * 86_400n
/** A clock in the middle of EPOCH, in nanoseconds. */
export const NOW = (EPOCH_START + 43_200n) * 1_000_000_000n

export const key = (label: string) => keccak256(toBytes(`fomo-kit test world: ${label}`))
export const address = (label: string) => addressOf(key(label))

export const DEPLOYMENT_A = keccak256(toBytes('deployment A'))
export const DEPLOYMENT_B = keccak256(toBytes('deployment B'))
export const PROVIDER_KEYS = [key('provider 0'), key('provider 1')]

let plain: AggregatorConfig | undefined

/** The world's configuration (attestation keys are costly to derive: the plain one is made once). */
export function worldConfig(overrides: Record<string, unknown> = {}): AggregatorConfig {
  if (Object.keys(overrides).length === 0) return (plain ??= makeConfig({}))
  return makeConfig(overrides)
}

function makeConfig(overrides: Record<string, unknown>): AggregatorConfig {
  return readConfig({
    format: 'fomo-aggregator-config-v3',
    domain: { name: RECEIPT_DOMAIN_NAME, version: '1', chainId: 31337, verifyingContract: getAddress(address('registry')) },
    epochSeconds: 86400,
    clockSkewSeconds: 300,
    maxReceiptAgeSeconds: 172800,
    tokens: { flock: getAddress(address('flock')), usdc: getAddress(address('usdc')) },
    platform: { maxDiscountBps: 3000, discountMultiplier: 2, dailyEmission: '20000', scoreBasis: 'net', rewardDenominator: 'eligible-stakers', issuerBonusBps: 1000 },
    deployments: [
      { id: DEPLOYMENT_A, name: 'a', issuer: getAddress(address('issuer a')), mtToken: getAddress(address('mt a')), graduationEpoch: EPOCH - 30, raised: '100000', incentiveReserve: '200000' },
      { id: DEPLOYMENT_B, name: 'b', issuer: getAddress(address('issuer b')), mtToken: getAddress(address('mt b')), graduationEpoch: EPOCH - 200, raised: '50000', incentiveReserve: '200000' },
    ],
    providers: [
      { deploymentId: DEPLOYMENT_A, provider: getAddress(addressOf(PROVIDER_KEYS[0]!)), attestationKey: attestationKeyOf(attestationSecret(PROVIDER_KEYS[0]!)).packed },
      { deploymentId: DEPLOYMENT_B, provider: getAddress(addressOf(PROVIDER_KEYS[1]!)), attestationKey: attestationKeyOf(attestationSecret(PROVIDER_KEYS[1]!)).packed },
    ],
    ...overrides,
  })
}

export function receipt(i: number, options: { deployment?: 0 | 1; user?: number; epoch?: number; timestamp?: bigint; gross?: bigint; discountBps?: number; requestId?: Hex } = {}): UsageReceipt {
  const d = options.deployment ?? (i % 2 === 0 ? 0 : 1)
  const epoch = options.epoch ?? EPOCH
  const gross = options.gross ?? 1_000n + BigInt(i) * 7n
  const discountBps = options.discountBps ?? 0
  return {
    deploymentId: d === 0 ? DEPLOYMENT_A : DEPLOYMENT_B,
    provider: addressOf(PROVIDER_KEYS[d]!),
    user: address(`user ${options.user ?? i % 5}`),
    epoch,
    requestId: options.requestId ?? keccak256(toBytes(`request ${epoch}/${i}`)),
    timestamp: options.timestamp ?? BigInt(epoch) * 86_400n + 1_000n + BigInt(i),
    inputTokens: 100,
    outputTokens: 40,
    grossAmount: gross,
    discountBps,
    chargedAmount: chargedAmount(gross, BigInt(discountBps)),
  }
}

export function signed(r: UsageReceipt, config = worldConfig()) {
  const k = r.deploymentId === DEPLOYMENT_A ? PROVIDER_KEYS[0]! : PROVIDER_KEYS[1]!
  return signReceipt(r, k, config.domain, domainSeparator(config.domain))
}

export function batch(receipts: UsageReceipt[], config = worldConfig()) {
  const k = receipts[0]!.deploymentId === DEPLOYMENT_A ? PROVIDER_KEYS[0]! : PROVIDER_KEYS[1]!
  return signBatch(receipts, k, config.domain, domainSeparator(config.domain))
}

/** Documents verified into columns, as the service's worker pool hands them to the store. */
export function verifiedColumns(docs: readonly unknown[], config = worldConfig()): ReceiptColumns {
  const verifier = new ReceiptVerifier({ domain: config.domain })
  const columns = new ReceiptColumns(docs.length)
  docs.forEach((d, i) => verifier.verifyInto(d, columns, i))
  return columns
}

/** The world's epoch inputs: OpEx, circulating supply and stakes of both deployments (users 0 and 1 staking). */
export function worldInputs(epoch: number, config: AggregatorConfig): EpochInputs {
  return readEpochInputs(
    {
      format: 'fomo-epoch-inputs-v1',
      epoch,
      deployments: {
        [DEPLOYMENT_A]: { opex: '0.002', circulatingSupply: '600000', stakes: { [address('user 0')]: '50000', [address('user 1')]: '1000' } },
        [DEPLOYMENT_B]: { opex: '0', circulatingSupply: '700000', stakes: { [address('user 1')]: '10' } },
      },
    },
    config,
  )
}
