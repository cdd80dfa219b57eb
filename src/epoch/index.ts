/**
 * `fomo-kit/epoch`: the epoch's formats and pure functions shared by aggregators and auditors. Configuration, inputs,
 * spend and reward leaves, `seal()`, the report and manifest, the sealed directory; the ledger (the key-ordered
 * spend and reward lists, the pinned reward parameters) and the faults a judge proves in it.
 */
export { AGGREGATOR_CONFIG_FORMAT, configBytes, configHash, ConfigError, configJson, readConfig, type AggregatorConfig, type DeploymentConfig, type ProviderConfig } from './config.ts'
export { EPOCH_INPUTS_FORMAT, epochInputsJson, readEpochInputs, type DeploymentInputs, type EpochInputs } from './inputs.ts'
export { seal, type SealInput, type SealOutput } from './seal.ts'
export { EpochDirectoryError, readEpochFile, readSealedEpoch, writeEpochDirectory, type SealedEpoch } from './directory.ts'
export { MANIFEST_FORMAT, readManifest, type Manifest } from './manifest.ts'
export { REPORT_FORMAT } from './report.ts'
export { buildRewardTree, distributorDomain, REWARD_LEAF_ENCODING, rewardLeafOf, SealError, type RewardLeaf } from './rewards.ts'
export { epochReceiptOf, SPEND_LEAF_ENCODING, spendFromReceipts, spendLeafOf, type EpochReceipt, type SpendLeaf, type SpendRow } from './spend.ts'
export { ArtifactsError, checkArtifactsUrl } from './artifacts.ts'
export {
  epochLists,
  LEDGER_FORMAT,
  LedgerError,
  ledgerHash,
  readLedger,
  rewardKey,
  rewardParameters,
  rewardParamsHash,
  spendKey,
  type DeploymentTotals,
  type Ledger,
  type OpenedLedger,
  type RewardListEntry,
  type RewardParams,
  type SpendListEntry,
} from './ledger.ts'
export { expectedRewards, ledgerFault, type LedgerFault, type LedgerInput } from './ledgerFaults.ts'
