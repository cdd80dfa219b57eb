/**
 * `fomo-kit/economics`: every formula of the protocol as pure bigint functions (amounts in base units): the staking
 * discount and revenue waterfall, emissions and rewards, the RMO curve, supply and vesting, the settlement of an
 * epoch and the scenario simulator.
 */
export { BPS, mulDivDown, mulDivUp, splitBps, splitProRata, sum, WAD } from './math.ts'
export { chargedAmount, netRevenue, revenueWaterfall, stakingDiscountBps, WATERFALL_BPS, type DiscountParameters, type Waterfall } from './revenue.ts'
export { discountParameters, type PlatformParameters } from './parameters.ts'
export {
  AGE_FACTOR_FLOOR,
  ageFactor,
  deploymentScore,
  epochEmission,
  grossWeightedRewards,
  ISSUER_BONUS_BPS,
  routeEmission,
  splitDeploymentEmission,
  type Participant,
  type RewardDenominator,
} from './emissions.ts'
export {
  compareAllocations,
  RewardLedger,
  settleEpoch,
  type Allocation,
  type DeploymentEpochInput,
  type DeploymentSettlement,
  type EpochParameters,
  type EpochSettlement,
  type ScoreBasis,
  type UserEpochInput,
} from './epoch.ts'
export {
  antiSnipingFeeBps,
  averagePrice,
  createCurve,
  DEFAULT_FEES,
  dexPrice,
  isFeasible,
  marginalPrice,
  quoteBuy,
  raiseForSold,
  simulateRaise,
  soldAt,
  type Buy,
  type BuyQuote,
  type Curve,
  type CurveParameters,
  type FeeSchedule,
  type RaiseResult,
} from './rmo.ts'
export {
  allocateSupply,
  DAY_SECONDS,
  epochRelease,
  MT_TOTAL_SUPPLY,
  PROCEEDS_SPLIT_BPS,
  releasedBetween,
  splitProceeds,
  SUPPLY_ALLOCATION_BPS,
  VESTING_DAYS,
  vestedAmount,
  type ProceedsSplit,
  type SupplyAllocation,
} from './supply.ts'
export { readScenario, SCENARIO_FORMAT, type Scenario } from './scenario.ts'
export { ScenarioError, simulate, type Simulation } from './simulate.ts'
export { SIMULATION_REPORT_FORMAT, simulationReport, type SimulationReport } from './report.ts'
