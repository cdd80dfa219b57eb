/**
 * `fomo-kit/aggregator`: the aggregator's store (PGlite or a PostgreSQL server), its HTTP service, the ingest client
 * providers send receipts with, and the receipts export auditors read.
 */
export { openStore, type EpochStatus, type IngestResult, type IngestStatus, type SealResult, type Store, type StoreOptions } from './store.ts'
export { StoreError } from './sql.ts'
export { AggregatorService, DEFAULT_LIMITS, type Limits, type ServiceOptions } from './service.ts'
export { IngestError, sendBatch, sendReceipts, type IngestClientOptions, type IngestSummary } from './client.ts'
export { receiptExportLines } from './export.ts'
