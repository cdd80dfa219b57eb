/**
 * `fomo-kit/chain`: viem drivers of the protocol's contracts. Deploy and pin, publish and finalize epochs, claim,
 * stake and read stake snapshots, challenge a wrong proposal, record attestations, the MT launch by RMO, revenue
 * settlement and epoch funding, Uniswap v2. (The demo's in-process EVM needs Hardhat, a development dependency, and
 * is not part of the package.)
 */
export {
  ChainError,
  claimable,
  claimAll,
  confirmed,
  deployContracts,
  DEPLOYMENT_FORMAT,
  distributorAt,
  finalizeEpoch,
  pinConfig,
  proposeEpoch,
  type Clients,
  type Deployment,
} from './contracts.ts'
export { deploySystem, type SystemDeployment, type SystemOptions } from './system.ts'
export { rpcClients } from './rpc.ts'
export { claimsOf, commitmentOf, readPublishedEpoch, spendLeafProof, type PublishedEpoch } from './publication.ts'
export { readStakeSnapshot, stakeMt, unstakeMt, type StakeSnapshot } from './stakes.ts'
export { findStakeChallenges, stakeFaults, submitStakeChallenge, submitStakeRowChallenge, stakeRowFaults, type StakeChallenge, type StakeRowChallenge } from './challenges.ts'
export { omissionFaults, recordAttestation, submitOmissionChallenge, type OmissionFault } from './attestations.ts'
export {
  findSpendRowsChallenge,
  spendRowsChallenge,
  spendRowsFault,
  spendRowsPerTransaction,
  submitSpendRowsChallenge,
  type OpenedBatch,
  type SpendRowsChallenge,
  type SpendRowsFault,
} from './spendRows.ts'
export {
  buyExactMt,
  buyWithFlock,
  claimSaleMt,
  deployLaunchFactory,
  graduateSale,
  LaunchError,
  launchOf,
  launchRmo,
  quoteSale,
  readGraduation,
  readSale,
  refundSale,
  type LaunchFactoryOptions,
  type LaunchParameters,
  type Launched,
  type SaleInfo,
} from './launch.ts'
export { buyBackAndBurnMt, buyBackFlock, deploySettlement, payEpochRevenue, payRevenue, readSettlement, SettlementError, type SettlementOptions } from './settlement.ts'
export { addStream, deployEpochFunding, epochFundingAt, expectedFunding } from './funding.ts'
export { deployUniswapV2, loadUniswapV2, pairAddress, quoteExactIn, type UniswapV2Deployment } from './uniswap.ts'
export { findLedgerChallenge, judgeOf, ledgerChallenge, readOpenedLedger, submitLedgerChallenge, type LedgerChallenge, type OpenedLedger } from './judge.ts'
