/**
 * `fomo-kit/audit`: the auditor and the watcher. Re-derive a sealed epoch and name its first discrepancy, follow a
 * registry and audit each proposal as it appears, fetch a proposal's sealed directory from the URL it names.
 */
export { auditEpoch, type AuditOptions, type AuditResult } from './audit.ts'
export { AuditDiscrepancy, type DiscrepancyKind } from './discrepancy.ts'
export type { ChainSource } from './chain.ts'
export type { StakeSource } from './stakes.ts'
export { watchRegistry, type WatchEvent, type WatchOptions, type WatchRecord, type WatchResult } from './watch.ts'
export { fetchEpochArtifacts, type FetchArtifactsOptions, type FetchedArtifacts } from './fetch.ts'
