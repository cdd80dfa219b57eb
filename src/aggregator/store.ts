/**
 * The aggregator's store: the `Store` interface the service, CLI and demo use, and its SQL implementation over
 * PostgreSQL (embedded PGlite or a server, sql.ts), opened with `openStore`. The receipts table's columns
 * for the receipt's fields come from the receipt schema table (src/receipts/schema.ts).
 */
import type { Allocation } from '../economics/epoch.ts'
import type { Hex } from '../base/bytes.ts'
import { ProviderRegistry } from '../receipts/registry.ts'
import type { ReceiptColumns } from '../receipts/columns.ts'
import { configJson, readConfig, type AggregatorConfig } from '../epoch/config.ts'
import { type EpochInputs } from '../epoch/inputs.ts'
import { faultPoint } from '../base/faults.ts'
import { ARTIFACT_CHUNK_BYTES, migrate, PARTITION_LOCK } from './migrations.ts'
import { seal } from '../epoch/seal.ts'
import { readManifest } from '../epoch/manifest.ts'
import { parseJsonDocument } from '../base/json.ts'
import { SealError } from '../epoch/rewards.ts'
import { type SpendRow } from '../epoch/spend.ts'
import { type DeploymentInputs } from '../epoch/inputs.ts'
import { openSql, StoreError, type Sql } from './sql.ts'
import { FIELD_LAYOUT, RECEIPT_SCHEMA } from '../receipts/schema.ts'
import { retainEpoch, totalsDiffer, type EpochTotals, type RetentionOptions, type RetentionResult } from './retention.ts'

export type IngestStatus = 'accepted' | 'duplicate' | 'rejected'
export type IngestResult = { status: IngestStatus; digest?: Hex | undefined; reason?: string | undefined; message?: string | undefined }

/** A receipt row ready to store: a verified column row plus where its signature lives. */
export type StoredRow = { index: number; batchRoot?: string | undefined }

const hex = (bytes: Uint8Array, start: number, end: number) => Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('hex')
const bytea = (h: string) => h.replace(/^0x/, '')

export type StoreOptions = {
  dataDir?: string | undefined
  databaseUrl?: string | undefined
  /** Bytes of an artifact stored per row (default ARTIFACT_CHUNK_BYTES, 32 MiB). */
  artifactChunkBytes?: number | undefined
}
export type StoreEngine = Sql['kind']
export type EpochStatus = {
  epoch: number
  status: 'open' | 'sealed'
  receipts: number
  users: number
  gross: string
  charged: string
  spendRoot: string | null
  rewardRoot: string | null
  manifestSha256: string | null
}
export type ArtifactFile = { name: string; content: Uint8Array; sha256: string }
export type EpochArtifacts = { files: ArtifactFile[]; spendRoot: string | null; rewardRoot: string | null }
/** A stored artifact file read chunk by chunk: its size in bytes, and its chunks in order. */
export type ArtifactStream = { byteLength: number; chunks(): AsyncGenerator<Uint8Array> }
export type SealResult = EpochArtifacts & { alreadySealed: boolean }
export type SealOptions = {
  /** The clock, nanoseconds since the Unix epoch (default: the system clock): an epoch seals only once it has ended. */
  now?: bigint | undefined
  /** Seal an epoch that holds no receipts and no inputs (refused by default: it is most likely a mistyped epoch). */
  allowEmpty?: boolean | undefined
}
/**
 * A stored per-call receipt (its fields as text, bytes as hex without 0x, and its signature), or a batch document
 * with the indices of its receipts stored in the epoch (null: all of them).
 */
export type ExportItem = { kind: 'receipt'; row: Record<string, string> } | { kind: 'batch'; document: string; receipts: number[] | null }
/** A sealed epoch as retention sees it: when it was sealed (Unix seconds) and whether its receipts already left the store. */
export type RetentionStatus = { epoch: number; sealedAt: number | null; retained: boolean }
/** Removes an epoch's receipts after a verified export: what the export held and how to remove them. */
export type RemoveOptions = {
  /** The totals the verified export holds: the store's must be the same at removal, or nothing is removed. */
  expected: EpochTotals
  /** drop: the epoch's partitions are dropped; detach: they leave the receipts and batches tables but stay as tables. */
  mode: 'drop' | 'detach'
  /** Seconds after sealing during which the epoch's receipts stay (the dispute window). */
  windowSeconds: number
  exportFile: string
  exportSha256: string
  /** The clock, nanoseconds since the Unix epoch (default: the system clock). */
  now?: bigint | undefined
}
/** What retention removed: the epoch's record in retained_epochs. */
export type RetainedEpoch = EpochTotals & { epoch: number; exportFile: string; exportSha256: string; mode: 'drop' | 'detach'; retainedAt: number }

/** A batch being stored: its document and receipts root, and how many receipts it holds. */
export type BatchToStore = { document: string; root: string; size: number }

/** The configuration nodes hold is older than the store's: reload it and try again. */
export class ConfigChangedError extends StoreError {
  override name = 'ConfigChangedError'
  constructor() {
    super('the aggregator configuration changed during the request', 'Retry: the node reloads the configuration.')
  }
}

/**
 * One lock orders ingest against sealing and configuration changes: ingest takes it shared, sealing and
 * `setConfig` exclusively, so a receipt never lands in an epoch older than one being sealed.
 */
const ORDER_LOCK = 0x666f6d6f // "fomo"
const UINT256_MAX = (1n << 256n) - 1n
const UINT64_MAX = (1n << 64n) - 1n
const nowNs = () => BigInt(Date.now()) * 1_000_000n

/**
 * The aggregator's state: config, providers, receipts deduplicated by (epoch, provider, digest), per-epoch
 * inputs, sealed rewards and artifacts. Every write is one transaction.
 */
export interface Store {
  /** The database engine behind the store. */
  readonly engine: StoreEngine
  /**
   * Sets the configuration. A first one (or any, while the store holds no receipts) applies to every epoch;
   * after that a change applies from the first epoch no receipt can be in yet (the next one, past the clock
   * skew), so an epoch is sealed and audited under the configuration its receipts were accepted under.
   */
  setConfig(config: AggregatorConfig, options?: { now?: bigint | undefined }): Promise<{ fromEpoch: number }>
  /** The configuration in force for `epoch`; without one, the latest set. */
  config(epoch?: number): Promise<AggregatorConfig>
  /** A number that changes with every `setConfig`: nodes reload their configuration when it does. */
  configVersion(): Promise<number>
  /** Every configuration with the epoch it applies from, earliest first. */
  configHistory(): Promise<Array<{ fromEpoch: number; config: AggregatorConfig }>>
  /** The providers allowed in `epoch` (default: by the latest configuration). */
  registry(epoch?: number): Promise<ProviderRegistry>
  /**
   * Stores verified receipts in one transaction. Rows of a sealed epoch, or of an epoch before the last sealed
   * one, are rejected; a receipt already stored is a duplicate; a request id reused by a different receipt of the
   * same provider is rejected. With `configVersion`, refuses (ConfigChangedError) when the configuration changed.
   */
  insertReceipts(columns: ReceiptColumns, rows: readonly StoredRow[], batch?: BatchToStore, options?: { configVersion?: number | undefined }): Promise<Map<number, IngestResult>>
  setEpochInputs(inputs: EpochInputs): Promise<void>
  /** The inputs stored for an epoch (deployments without any are absent). */
  epochInputs(epoch: number): Promise<EpochInputs>
  /**
   * An epoch's status and totals: a sealed epoch's from its stored manifest (one small read, whatever its size, and
   * still there once retention has dropped its receipts), an open epoch's counted from its receipts.
   */
  epochStatus(epoch: number): Promise<EpochStatus>
  /** Whether an epoch is sealed: one row read (what a proof request checks before any tree is loaded). */
  epochSealed(epoch: number): Promise<boolean>
  receiptCount(): Promise<number>
  latestSealedEpoch(): Promise<number | null>
  /**
   * Seals an epoch: freezes it (no receipt accepted after), computes its trees,
   * rewards and report, and stores the artifacts, all in one transaction.
   * Sealing a sealed epoch returns the stored artifacts unchanged. Refused before
   * the epoch has ended, while an earlier epoch with receipts is open, after a
   * later epoch was sealed, and (unless `allowEmpty`) for an epoch without receipts or inputs.
   */
  seal(epoch: number, options?: SealOptions): Promise<SealResult>
  artifacts(epoch: number): Promise<EpochArtifacts>
  /** One file of a sealed epoch's directory; undefined when there is no such file. */
  artifactFile(epoch: number, name: string): Promise<Uint8Array | undefined>
  /**
   * One file of a sealed epoch's directory as its stored chunks, read one at a time (at most 32 MiB each), so a
   * file of any size is served without holding it whole; undefined when there is no such file.
   */
  artifactStream(epoch: number, name: string): Promise<ArtifactStream | undefined>
  /** Every stored receipt of an epoch, for an auditor: per-call rows with signatures, and batch documents with the receipts stored of each. */
  exportReceipts(epoch: number): AsyncGenerator<ExportItem>
  /** Checks the database answers; returns the engine. */
  health(): Promise<StoreEngine>
  /** The charged revenue of an epoch per deployment (deployment ids in lower-case hex). */
  chargedByDeployment(epoch: number): Promise<Map<Hex, bigint>>
  /**
   * Creates the receipts and batches partitions of these epochs unless they exist (an epoch whose receipts were
   * retained gets none); returns the epochs it created partitions for. Receipts of an epoch without its own
   * partition are stored in the default one and move into the epoch's partition when it is created.
   */
  ensurePartitions(epochs: readonly number[]): Promise<number[]>
  /** The epochs with their own partitions, ascending. */
  partitionEpochs(): Promise<number[]>
  /** An epoch's stored receipts in figures: counts, sums and an order-free hash of their digests. */
  epochTotals(epoch: number): Promise<EpochTotals>
  /** The sealed epochs before `before`, ascending, with when each was sealed and whether it was retained. */
  retentionStatus(before: number): Promise<RetentionStatus[]>
  /** The record of an epoch retention removed; undefined while its receipts are in the store. */
  retained(epoch: number): Promise<RetainedEpoch | undefined>
  /**
   * Removes a sealed epoch's receipts and batches (drops or detaches its partitions) once its dispute window has
   * passed and only when the store holds exactly what the verified export holds (`expected`); records it in
   * retained_epochs. Refused otherwise, and nothing is removed.
   */
  removeEpochReceipts(epoch: number, options: RemoveOptions): Promise<RetainedEpoch>
  /**
   * Retention of one epoch: exports its receipts to `dir` (the `fomo export-receipts` format), re-reads and
   * verifies the file against the store, and only then removes them (removeEpochReceipts).
   */
  retainEpoch(epoch: number, options: RetentionOptions): Promise<RetentionResult>
  close(): Promise<void>
}

/** Opens (and migrates) the store: embedded PGlite in `dataDir`, or the PostgreSQL server at `databaseUrl`. */
export function openStore(options: StoreOptions): Promise<Store> {
  return SqlStore.open(options)
}

/**
 * The receipts table's columns: one per receipt field (schema table, in its order), then the row's digest
 * and where its signature lives (its own, or its batch's root). Bytes travel as hex text.
 */
const RECEIPT_COLUMNS: ReadonlyArray<{ column: string; type: string }> = [
  ...RECEIPT_SCHEMA.map((f) => ({ column: f.sql.column, type: f.sql.type })),
  { column: 'digest', type: 'bytea' },
  // One of the two is NULL: a per-call receipt has its signature, a batched one its batch's root.
  { column: 'signature', type: 'bytea' },
  { column: 'batch_root', type: 'bytea' },
]

const fromText = (c: { type: string }, x: string) => (c.type !== 'bytea' ? `${x}::${c.type}` : `decode(${x}, 'hex')`)

/**
 * A text[] literal of values that need no quoting (hex, decimal digits, or NULL): built here in one join, where the
 * driver would quote and escape each element of a JavaScript array, a cost per cell on the ingest path.
 */
const arrayLiteral = (values: readonly string[]) => `{${values.join(',')}}`

/** The hex of each row's `width` bytes: the column is encoded once and cut, not encoded per cell. */
function hexCells(bytes: Uint8Array, width: number, rows: readonly StoredRow[]): string[] {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  const step = 2 * width
  return rows.map(({ index }) => all.slice(step * index, step * index + step))
}

const INSERT_RECEIPTS = `INSERT INTO receipts (${RECEIPT_COLUMNS.map((c) => c.column).join(', ')})
         SELECT ${RECEIPT_COLUMNS.map((c, k) => fromText(c, `c${k}`)).join(', ')}
         FROM unnest(${RECEIPT_COLUMNS.map((_, k) => `$${k + 1}::text[]`).join(', ')})
           AS x(${RECEIPT_COLUMNS.map((_, k) => `c${k}`).join(', ')})
         ON CONFLICT DO NOTHING`

/**
 * How many rows the insert stored, and which digests only when not all of them (a resend, a request id reused): the
 * usual request gets one row back, not one per receipt.
 */
const INSERT_RECEIPTS_COUNTED = `WITH stored AS (${INSERT_RECEIPTS} RETURNING digest)
  SELECT count(*)::text AS n, CASE WHEN count(*) < $${RECEIPT_COLUMNS.length + 1}::int THEN string_agg(encode(digest, 'hex'), ',') END AS d FROM stored`

/**
 * What insertReceipts writes into unquoted literals must be what it seems: typed columns of `columns.length` rows
 * (a library caller's plain array could carry a comma into a cell), row indices inside them, batch roots of 32 bytes.
 */
function checkInsertable(columns: ReceiptColumns, rows: readonly StoredRow[]): void {
  const n = columns.length
  const sized: Array<[string, unknown, number]> = [
    ...FIELD_LAYOUT.map((f): [string, unknown, number] => [f.name, columns[f.name], f.columnWidth * n]),
    ['digest', columns.digest, 32 * n],
    ['signature', columns.signature, 65 * n],
  ]
  for (const [name, column, bytes] of sized)
    if (!ArrayBuffer.isView(column) || column.byteLength !== bytes) throw new StoreError(`receipt column ${name} is not a typed array of ${n} rows; build the columns with ReceiptColumns`)
  let checkedRoot: string | undefined
  for (const { index, batchRoot } of rows) {
    if (!Number.isSafeInteger(index) || index < 0 || index >= n) throw new StoreError(`row index ${index} is outside the ${n} receipt columns`)
    if (batchRoot && batchRoot !== checkedRoot) {
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(batchRoot)) throw new StoreError(`batch root ${JSON.stringify(batchRoot).slice(0, 80)} is not 32 bytes of hex; pass the root verifyBatch returned`)
      checkedRoot = batchRoot
    }
  }
}

/** A receipt's fields as text, named as in its JSON message (bytes as hex without 0x), then its signature. */
const EXPORT_RECEIPTS = `SELECT ${RECEIPT_SCHEMA.map((f) => (f.sql.type === 'bytea' ? `encode(${f.sql.column}, 'hex')` : `${f.sql.column}::text`) + ` AS "${f.name}"`).join(', ')},
              encode(signature, 'hex') AS signature
       FROM receipts WHERE epoch = $1 AND signature IS NOT NULL ORDER BY provider, digest`

/** The Store on PostgreSQL: PGlite or a server, the same SQL for both. */
export class SqlStore implements Store {
  readonly engine: StoreEngine

  /**
   * `sql` is the store's own SQL surface, for this file, its migrations and its tests: everything else goes
   * through the Store operations.
   */
  readonly #chunkBytes: number

  private constructor(
    readonly sql: Sql,
    chunkBytes = ARTIFACT_CHUNK_BYTES,
  ) {
    this.engine = sql.kind
    this.#chunkBytes = chunkBytes
  }

  static async open(options: StoreOptions): Promise<SqlStore> {
    const chunk = options.artifactChunkBytes
    if (chunk !== undefined && (!Number.isSafeInteger(chunk) || chunk < 1)) throw new StoreError(`artifactChunkBytes must be a positive integer, not ${chunk}`, 'Leave it out for the default (32 MiB).')
    const sql = await openSql(options)
    try {
      await migrate(sql)
    } catch (error) {
      await sql.close()
      throw error
    }
    return new SqlStore(sql, options.artifactChunkBytes)
  }

  close(): Promise<void> {
    return this.sql.close()
  }

  async health(): Promise<StoreEngine> {
    await this.sql.query('SELECT 1')
    return this.sql.kind
  }

  async chargedByDeployment(epoch: number): Promise<Map<Hex, bigint>> {
    const rows = await this.sql.query<{ dep: string; charged: string }>(`SELECT encode(deployment_id, 'hex') AS dep, sum(charged)::text AS charged FROM receipts WHERE epoch = $1 GROUP BY deployment_id`, [epoch])
    return new Map(rows.map((r) => [`0x${r.dep}` as Hex, BigInt(r.charged)]))
  }

  async setConfig(config: AggregatorConfig, options: { now?: bigint | undefined } = {}): Promise<{ fromEpoch: number }> {
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ORDER_LOCK])
      const [current] = await tx.query<{ document: unknown }>('SELECT document FROM config WHERE id = 1 FOR UPDATE')
      const [held] = await tx.query<{ r: string | null; s: string | null }>(`SELECT (SELECT max(epoch)::text FROM receipts) AS r, (SELECT max(epoch)::text FROM epochs WHERE status = 'sealed') AS s`)
      const holds = held?.r != null || held?.s != null
      let fromEpoch = 0
      if (current && holds) {
        const before = storedConfig(current.document)
        const same = before.domain.chainId === config.domain.chainId && before.domain.verifyingContract === config.domain.verifyingContract && before.domain.name === config.domain.name && before.domain.version === config.domain.version
        // Cumulative rewards on one distributor, and the receipts already signed under this domain.
        if (!same)
          throw new StoreError(
            `the receipt domain cannot change once the store holds receipts (chain ${before.domain.chainId}, distributor ${before.domain.verifyingContract}; the new configuration names chain ${config.domain.chainId}, distributor ${config.domain.verifyingContract}): a new distributor would pay every earlier reward again; start a new store (--data-dir or database) for it`,
          )
        if (before.epochSeconds !== config.epochSeconds)
          throw new StoreError(`epochSeconds cannot change once the store holds receipts (${before.epochSeconds} s; the new configuration says ${config.epochSeconds} s): stored epoch numbers would name other periods; start a new store for it`)
        // The first epoch no receipt can be in yet: receipts are accepted up to the clock skew ahead.
        const skew = BigInt(Math.max(before.clockSkewSeconds, config.clockSkewSeconds))
        const next = Number(((options.now ?? nowNs()) / 1_000_000_000n + skew) / BigInt(before.epochSeconds)) + 1
        fromEpoch = Math.max(next, Number(held?.r ?? -1) + 1, Number(held?.s ?? -1) + 1)
      }
      const document = JSON.stringify(configJson(config))
      await tx.query('DELETE FROM configs WHERE from_epoch >= $1', [fromEpoch])
      await tx.query('INSERT INTO configs (from_epoch, document) VALUES ($1, $2::jsonb)', [fromEpoch, document])
      await tx.query(`INSERT INTO config (id, document) VALUES (1, $1::jsonb) ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document, version = config.version + 1`, [document])
      await tx.query('UPDATE providers SET revoked = true')
      for (const p of config.providers)
        await tx.query(
          `INSERT INTO providers (deployment_id, provider, revoked) VALUES (decode($1, 'hex'), decode($2, 'hex'), false)
           ON CONFLICT (deployment_id, provider) DO UPDATE SET revoked = false`,
          [bytea(p.deploymentId), bytea(p.provider)],
        )
      return { fromEpoch }
    })
  }

  async config(epoch?: number): Promise<AggregatorConfig> {
    const rows =
      epoch === undefined
        ? await this.sql.query<{ document: unknown }>('SELECT document FROM config WHERE id = 1')
        : await this.sql.query<{ document: unknown }>('SELECT document FROM configs WHERE from_epoch <= $1 ORDER BY from_epoch DESC LIMIT 1', [epoch])
    if (rows.length === 0) throw new StoreError('the store has no configuration yet', 'Run `fomo init --config aggregator.json` first.')
    return storedConfig(rows[0]!.document)
  }

  async configVersion(): Promise<number> {
    const [row] = await this.sql.query<{ v: string }>('SELECT version::text AS v FROM config WHERE id = 1')
    return Number(row?.v ?? 0)
  }

  async configHistory(): Promise<Array<{ fromEpoch: number; config: AggregatorConfig }>> {
    const rows = await this.sql.query<{ e: string; document: unknown }>('SELECT from_epoch::text AS e, document FROM configs ORDER BY from_epoch')
    return rows.map((r) => ({ fromEpoch: Number(r.e), config: storedConfig(r.document) }))
  }

  async registry(epoch?: number): Promise<ProviderRegistry> {
    return ProviderRegistry.from((await this.config(epoch)).providers)
  }

  async insertReceipts(columns: ReceiptColumns, rows: readonly StoredRow[], batch?: BatchToStore, options: { configVersion?: number | undefined } = {}): Promise<Map<number, IngestResult>> {
    const results = new Map<number, IngestResult>()
    if (rows.length === 0) return results
    checkInsertable(columns, rows)
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [ORDER_LOCK])
      const epochs = [...new Set(rows.map((r) => columns.epoch[r.index] as number))]
      // What the checks need in one round trip, read after the lock is held (a statement reads what was committed when it started).
      const [facts] = await tx.query<{ v: string | null; last: string | null; known: string }>(
        `SELECT (SELECT version::text FROM config WHERE id = 1) AS v,
                (SELECT max(epoch)::text FROM epochs WHERE status = 'sealed') AS last,
                (SELECT coalesce(json_agg(json_build_object('e', e.epoch::text, 's', e.status, 'r', r.epoch IS NOT NULL)), '[]')::text
                 FROM epochs e LEFT JOIN retained_epochs r ON r.epoch = e.epoch WHERE e.epoch = ANY($1::bigint[])) AS known`,
        [epochs],
      )
      if (options.configVersion !== undefined && Number(facts?.v ?? 0) !== options.configVersion) throw new ConfigChangedError()
      const known = new Map((JSON.parse(facts?.known ?? '[]') as Array<{ e: string; s: string; r: boolean }>).map((k) => [Number(k.e), k]))
      const lastSealed = facts?.last == null ? -1 : Number(facts.last)
      const open: StoredRow[] = []
      for (const r of rows) {
        const epoch = columns.epoch[r.index] as number
        const state = known.get(epoch)
        const digest = `0x${hex(columns.digest, 32 * r.index, 32 * r.index + 32)}` as Hex
        if (state?.r)
          results.set(r.index, { status: 'rejected', digest, reason: 'epoch-sealed', message: `epoch ${epoch} is sealed and its receipts were exported and removed from the store (retention); receipts for it are no longer accepted` })
        else if (state?.s === 'sealed') results.set(r.index, { status: 'rejected', digest, reason: 'epoch-sealed', message: `epoch ${epoch} is sealed; receipts for it are no longer accepted` })
        // Sealed epochs chain their rewards and manifests: an earlier one can never be sealed after them.
        else if (epoch < lastSealed) results.set(r.index, { status: 'rejected', digest, reason: 'epoch-sealed', message: `epoch ${epoch} is before the last sealed epoch ${lastSealed}; receipts for it are no longer accepted` })
        else open.push(r)
      }
      const newEpochs = [...new Set(open.map((r) => columns.epoch[r.index] as number))].filter((e) => !known.has(e))
      if (newEpochs.length > 0) await tx.query(`INSERT INTO epochs (epoch, status) SELECT e, 'open' FROM unnest($1::bigint[]) AS e ON CONFLICT (epoch) DO NOTHING`, [newEpochs])
      // One array literal per column of RECEIPT_COLUMNS: the fields from their columns, then digest, signature, batch root.
      const digests = hexCells(columns.digest, 32, open)
      const params: string[] = FIELD_LAYOUT.map((f) => {
        const column = columns[f.name]
        if (f.width > 0) return arrayLiteral(hexCells(column as Uint8Array, f.width, open))
        const values = new Array<string>(open.length)
        for (let r = 0; r < open.length; r++) values[r] = String(column[open[r]!.index])
        return arrayLiteral(values)
      })
      const signatures = open.every((r) => r.batchRoot) ? [] : hexCells(columns.signature, 65, open)
      params.push(
        arrayLiteral(digests),
        arrayLiteral(open.map(({ batchRoot }, r) => (batchRoot ? 'NULL' : signatures[r]!))),
        arrayLiteral(open.map(({ batchRoot }) => (batchRoot ? bytea(batchRoot) : 'NULL'))),
      )
      params.push(String(open.length))
      const [stored] = await tx.query<{ n: string; d: string | null }>(INSERT_RECEIPTS_COUNTED, params)
      const fresh = Number(stored?.n) === open.length ? new Set(digests) : new Set(stored?.d ? stored.d.split(',') : [])
      const missing = open.filter((_, r) => !fresh.has(digests[r]!))
      // A row not inserted is either the same receipt again, or another receipt reusing a request id.
      const existing = missing.length
        ? new Set(
            (
              await tx.query<{ d: string }>(
                `SELECT encode(digest, 'hex') AS d FROM receipts r JOIN unnest($1::bigint[], $2::text[], $3::text[]) AS x(e, p, d) ON r.epoch = x.e AND r.provider = decode(x.p, 'hex') AND r.digest = decode(x.d, 'hex')`,
                [arrayLiteral(missing.map((r) => String(columns.epoch[r.index]))), arrayLiteral(hexCells(columns.provider, 20, missing)), arrayLiteral(hexCells(columns.digest, 32, missing))],
              )
            ).map((r) => r.d),
          )
        : new Set<string>()
      const seen = new Set<string>()
      for (let k = 0; k < open.length; k++) {
        const r = open[k]!
        const d = digests[k]!
        const digest = `0x${d}` as Hex
        if (fresh.has(d) && !seen.has(d)) results.set(r.index, { status: 'accepted', digest })
        else if (fresh.has(d) || existing.has(d)) results.set(r.index, { status: 'duplicate', digest })
        else results.set(r.index, { status: 'rejected', digest, reason: 'request-id-reused', message: 'the provider already used this request id for another receipt in this epoch' })
        seen.add(d)
      }
      if (batch) await this.#storeBatch(tx, columns, open, results, batch)
      await faultPoint('ingest:before-commit')
      return results
    })
  }

  /**
   * A batch row per epoch its receipts were stored in, with the indices stored under it there (what the export
   * gives auditors): a resent batch adds the receipts accepted this time, and a row holding all is NULL.
   */
  async #storeBatch(tx: Sql, columns: ReceiptColumns, open: readonly StoredRow[], results: Map<number, IngestResult>, batch: BatchToStore): Promise<void> {
    const byEpoch = new Map<number, number[]>()
    for (const r of open)
      if (results.get(r.index)?.status === 'accepted') {
        const epoch = columns.epoch[r.index] as number
        const list = byEpoch.get(epoch)
        if (list) list.push(r.index)
        else byEpoch.set(epoch, [r.index])
      }
    for (const [epoch, indices] of byEpoch) {
      const first = indices[0]!
      await tx.query(
        `INSERT INTO batches (epoch, provider, receipts_root, document, receipts)
         VALUES ($1, decode($2, 'hex'), decode($3, 'hex'), $4, CASE WHEN cardinality($5::int[]) = $6 THEN NULL ELSE $5::int[] END)
         ON CONFLICT (epoch, provider, receipts_root) DO UPDATE SET receipts = CASE
           WHEN batches.receipts IS NULL THEN NULL
           ELSE (SELECT CASE WHEN count(*) = $6 THEN NULL ELSE array_agg(i ORDER BY i) END FROM (SELECT DISTINCT unnest(batches.receipts || EXCLUDED.receipts) AS i) u)
         END`,
        [epoch, hex(columns.provider, 20 * first, 20 * first + 20), bytea(batch.root), batch.document, indices, batch.size],
      )
    }
  }

  async setEpochInputs(inputs: EpochInputs): Promise<void> {
    checkInputBounds(inputs)
    await this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [ORDER_LOCK])
      await tx.query(`INSERT INTO epochs (epoch, status) VALUES ($1, 'open') ON CONFLICT (epoch) DO NOTHING`, [inputs.epoch])
      const [row] = await tx.query<{ status: string }>('SELECT status FROM epochs WHERE epoch = $1 FOR UPDATE', [inputs.epoch])
      if (row?.status === 'sealed') throw new StoreError(`epoch ${inputs.epoch} is sealed; its inputs can no longer change`)
      const [last] = await tx.query<{ e: string | null }>(`SELECT max(epoch)::text AS e FROM epochs WHERE status = 'sealed'`)
      if (last?.e != null && inputs.epoch < Number(last.e))
        throw new StoreError(`epoch ${inputs.epoch} is before the last sealed epoch ${last.e} and can no longer be sealed; check the inputs' epoch`)
      for (const [id, d] of inputs.deployments) {
        await tx.query(
          `INSERT INTO epoch_inputs (epoch, deployment_id, opex, circulating, snapshot_staking, snapshot_block)
           VALUES ($1, decode($2, 'hex'), $3::numeric, $4::numeric, decode($5, 'hex'), $6::numeric)
           ON CONFLICT (epoch, deployment_id) DO UPDATE SET opex = EXCLUDED.opex, circulating = EXCLUDED.circulating,
             snapshot_staking = EXCLUDED.snapshot_staking, snapshot_block = EXCLUDED.snapshot_block`,
          [inputs.epoch, bytea(id), d.opex.toString(), d.circulatingSupply?.toString() ?? null, d.snapshot ? bytea(d.snapshot.staking) : null, d.snapshot?.block.toString() ?? null],
        )
        await tx.query(`DELETE FROM stakes WHERE epoch = $1 AND deployment_id = decode($2, 'hex')`, [inputs.epoch, bytea(id)])
        const accounts = [...d.stakes.keys()]
        if (accounts.length > 0)
          await tx.query(
            `INSERT INTO stakes (epoch, deployment_id, account, stake) SELECT $1, decode($2, 'hex'), decode(a, 'hex'), s::numeric FROM unnest($3::text[], $4::text[]) AS x(a, s)`,
            [inputs.epoch, bytea(id), accounts.map(bytea), accounts.map((a) => d.stakes.get(a)!.toString())],
          )
      }
    })
  }

  async epochStatus(epoch: number): Promise<EpochStatus> {
    const [row] = await this.sql.query<{ status: string; spend_root: string | null; reward_root: string | null; manifest_sha256: string | null }>(
      'SELECT status, spend_root, reward_root, manifest_sha256 FROM epochs WHERE epoch = $1',
      [epoch],
    )
    const roots = { spendRoot: row?.spend_root ?? null, rewardRoot: row?.reward_root ?? null, manifestSha256: row?.manifest_sha256 ?? null }
    const manifest = row?.status === 'sealed' ? await this.artifactFile(epoch, 'manifest.json') : undefined
    if (manifest) {
      let totals
      try {
        ;({ totals } = readManifest(parseJsonDocument(new TextDecoder().decode(manifest), 'manifest.json')))
      } catch (error) {
        throw new StoreError(`the stored manifest of sealed epoch ${epoch} cannot be read`, 'The store is damaged: restore the epoch\'s artifacts from a backup or the published directory.', error)
      }
      return { epoch, status: 'sealed', receipts: Number(totals.receipts), users: totals.users, gross: totals.gross.toString(), charged: totals.charged.toString(), ...roots }
    }
    const [counts] = await this.sql.query<{ n: string; gross: string | null; charged: string | null; users: string }>(
      'SELECT count(*)::text AS n, sum(gross)::text AS gross, sum(charged)::text AS charged, count(DISTINCT user_address)::text AS users FROM receipts WHERE epoch = $1',
      [epoch],
    )
    return {
      epoch,
      status: (row?.status ?? 'open') as 'open' | 'sealed',
      receipts: Number(counts?.n ?? 0),
      users: Number(counts?.users ?? 0),
      gross: counts?.gross ?? '0',
      charged: counts?.charged ?? '0',
      ...roots,
    }
  }

  async epochSealed(epoch: number): Promise<boolean> {
    const [row] = await this.sql.query<{ status: string }>('SELECT status FROM epochs WHERE epoch = $1', [epoch])
    return row?.status === 'sealed'
  }

  async receiptCount(): Promise<number> {
    const [row] = await this.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM receipts')
    return Number(row?.n ?? 0)
  }

  async latestSealedEpoch(): Promise<number | null> {
    const [row] = await this.sql.query<{ e: string | null }>(`SELECT max(epoch)::text AS e FROM epochs WHERE status = 'sealed'`)
    return row?.e ? Number(row.e) : null
  }

  /** Seals from the database: spend, inputs and earlier rewards are read in the sealing transaction. */
  async seal(epoch: number, options: SealOptions = {}): Promise<SealResult> {
    const config = await this.config(epoch)
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ORDER_LOCK])
      const [row] = await tx.query<{ status: string }>('SELECT status FROM epochs WHERE epoch = $1 FOR UPDATE', [epoch])
      if (row?.status === 'sealed') return { ...(await this.#artifacts(tx, epoch)), alreadySealed: true }
      await this.#checkSealable(tx, epoch, config, options)
      await tx.query(`INSERT INTO epochs (epoch, status) VALUES ($1, 'open') ON CONFLICT (epoch) DO NOTHING`, [epoch])
      const spend = (
        await tx.query<{ dep: string; u: string; g: string; c: string; n: string; lo: number; hi: number }>(
          `SELECT encode(deployment_id, 'hex') AS dep, encode(user_address, 'hex') AS u, sum(gross)::text AS g, sum(charged)::text AS c,
                  count(*)::text AS n, min(discount_bps) AS lo, max(discount_bps) AS hi
           FROM receipts WHERE epoch = $1 GROUP BY deployment_id, user_address ORDER BY deployment_id, user_address`,
          [epoch],
        )
      ).map((r): SpendRow => ({ deploymentId: `0x${r.dep}`, user: `0x${r.u}`, gross: BigInt(r.g), charged: BigInt(r.c), count: BigInt(r.n), minDiscountBps: Number(r.lo), maxDiscountBps: Number(r.hi) }))
      const inputs = (await this.#epochInputs(tx, epoch)).deployments
      const previous = (
        await tx.query<{ a: string; t: string; s: string }>(
          `SELECT encode(account, 'hex') AS a, encode(token, 'hex') AS t, sum(amount)::text AS s FROM rewards WHERE epoch < $1 GROUP BY account, token`,
          [epoch],
        )
      ).map((r): Allocation => ({ account: `0x${r.a}`, token: `0x${r.t}`, amount: BigInt(r.s) }))
      const [prev] = await tx.query<{ m: string | null }>(`SELECT manifest_sha256 AS m FROM epochs WHERE status = 'sealed' AND epoch < $1 ORDER BY epoch DESC LIMIT 1`, [epoch])
      const out = seal({ epoch, config, spend, inputs, previous, previousManifestSha256: prev?.m ?? null })
      if (out.credits.length > 0)
        await tx.query(
          `INSERT INTO rewards (epoch, account, token, amount) SELECT $1, decode(a, 'hex'), decode(t, 'hex'), s::numeric FROM unnest($2::text[], $3::text[], $4::text[]) AS x(a, t, s)`,
          [epoch, out.credits.map((c) => bytea(c.account)), out.credits.map((c) => bytea(c.token)), out.credits.map((c) => c.amount.toString())],
        )
      // In chunks: a file of a million users' epoch is larger than a string or a field can be.
      const size = this.#chunkBytes
      const { param, value } = this.#bytes
      for (const f of out.files) {
        const chunk = (seq: number) => value(Buffer.from(f.content.buffer, f.content.byteOffset + seq * size, Math.min(size, f.content.byteLength - seq * size)))
        await tx.query(`INSERT INTO artifacts (epoch, name, content, sha256) VALUES ($1, $2, ${param('$3')}, $4)`, [epoch, f.name, chunk(0), f.sha256])
        for (let seq = 1; seq * size < f.content.byteLength; seq++)
          await tx.query(`INSERT INTO artifact_chunks (epoch, name, seq, content) VALUES ($1, $2, $3, ${param('$4')})`, [epoch, f.name, seq, chunk(seq)])
      }
      await tx.query(`UPDATE epochs SET status = 'sealed', spend_root = $2, reward_root = $3, manifest_sha256 = $4, sealed_at = $5 WHERE epoch = $1`, [
        epoch,
        out.spendRoot,
        out.rewardRoot,
        out.manifestSha256,
        ((options.now ?? nowNs()) / 1_000_000_000n).toString(),
      ])
      await faultPoint('seal:before-commit')
      return { files: out.files, spendRoot: out.spendRoot, rewardRoot: out.rewardRoot, alreadySealed: false }
    })
  }

  /** The order rules of sealing: all are checked before anything irreversible. */
  async #checkSealable(tx: Sql, epoch: number, config: AggregatorConfig, options: SealOptions): Promise<void> {
    const [facts] = await tx.query<{ last: string | null; earlier: string | null; n: string; waiting: string | null }>(
      `SELECT (SELECT max(epoch)::text FROM epochs WHERE status = 'sealed') AS last,
              (SELECT min(r.epoch)::text FROM receipts r LEFT JOIN epochs s ON s.epoch = r.epoch AND s.status = 'sealed' WHERE r.epoch < $1 AND s.epoch IS NULL) AS earlier,
              (SELECT (SELECT count(*) FROM receipts WHERE epoch = $1) + (SELECT count(*) FROM epoch_inputs WHERE epoch = $1))::text AS n,
              (SELECT string_agg(e::text, ', ' ORDER BY e) FROM (SELECT DISTINCT r.epoch AS e FROM receipts r LEFT JOIN epochs s ON s.epoch = r.epoch AND s.status = 'sealed' WHERE s.epoch IS NULL ORDER BY 1 LIMIT 5) w) AS waiting`,
      [epoch],
    )
    const waiting = facts?.waiting ? ` (epochs with receipts to seal: ${facts.waiting})` : ''
    if (facts?.last != null && epoch < Number(facts.last))
      throw new SealError(`epoch ${epoch} is before the last sealed epoch ${facts.last} and can no longer be sealed (rewards and manifests chain in order); check --epoch${waiting}`)
    const ends = BigInt(epoch + 1) * BigInt(config.epochSeconds)
    if ((options.now ?? nowNs()) < ends * 1_000_000_000n)
      throw new SealError(`epoch ${epoch} has not ended yet (it ends at ${new Date(Number(ends) * 1000).toISOString()}); seal it after that, or check --epoch${waiting}`)
    if (facts?.earlier) throw new SealError(`epoch ${facts.earlier} holds receipts and is not sealed`, `Seal epochs in order: seal ${facts.earlier} first (rewards are cumulative).`)
    if (Number(facts?.n ?? 0) === 0 && !options.allowEmpty)
      throw new SealError(`epoch ${epoch} holds no receipts and no inputs; check --epoch${waiting}, or give --allow-empty to seal an epoch without usage`)
  }

  async epochInputs(epoch: number): Promise<EpochInputs> {
    return this.#epochInputs(this.sql, epoch)
  }

  async #epochInputs(sql: Sql, epoch: number): Promise<EpochInputs> {
    const deployments = new Map<Hex, DeploymentInputs>()
    for (const r of await sql.query<{ dep: string; opex: string; circ: string | null; staking: string | null; block: string | null }>(
      `SELECT encode(deployment_id, 'hex') AS dep, opex::text AS opex, circulating::text AS circ, encode(snapshot_staking, 'hex') AS staking, snapshot_block::text AS block
       FROM epoch_inputs WHERE epoch = $1`,
      [epoch],
    ))
      deployments.set(`0x${r.dep}`, {
        opex: BigInt(r.opex),
        circulatingSupply: r.circ === null ? undefined : BigInt(r.circ),
        stakes: new Map(),
        ...(r.staking !== null && r.block !== null ? { snapshot: { staking: `0x${r.staking}` as Hex, block: BigInt(r.block) } } : {}),
      })
    for (const r of await sql.query<{ dep: string; a: string; s: string }>(`SELECT encode(deployment_id, 'hex') AS dep, encode(account, 'hex') AS a, stake::text AS s FROM stakes WHERE epoch = $1`, [epoch])) {
      const d = deployments.get(`0x${r.dep}`) ?? { opex: 0n, circulatingSupply: undefined, stakes: new Map() }
      d.stakes.set(`0x${r.a}`, BigInt(r.s))
      deployments.set(`0x${r.dep}`, d)
    }
    return { epoch, deployments }
  }

  async artifacts(epoch: number): Promise<EpochArtifacts> {
    return this.#artifacts(this.sql, epoch)
  }

  /** One file of a sealed epoch's directory (manifest.json, report.json, ...); undefined when there is no such file. */
  async artifactFile(epoch: number, name: string): Promise<Uint8Array | undefined> {
    return (await this.#artifactBytes(this.sql, epoch, name)).get(name)
  }

  async artifactStream(epoch: number, name: string): Promise<ArtifactStream | undefined> {
    const sizes = await this.sql.query<{ seq: number; n: number }>(
      `SELECT 0 AS seq, octet_length(content) AS n FROM artifacts WHERE epoch = $1 AND name = $2
       UNION ALL SELECT seq, octet_length(content) AS n FROM artifact_chunks WHERE epoch = $1 AND name = $2 ORDER BY seq`,
      [epoch, name],
    )
    if (sizes.length === 0) return undefined
    const sql = this.sql
    const { column, read } = this.#bytes
    return {
      byteLength: sizes.reduce((sum, c) => sum + Number(c.n), 0),
      async *chunks() {
        for (const { seq } of sizes) {
          const [row] = await sql.query<{ content: Uint8Array | string }>(
            Number(seq) === 0
              ? `SELECT ${column('content')} AS content FROM artifacts WHERE epoch = $1 AND name = $2`
              : `SELECT ${column('content')} AS content FROM artifact_chunks WHERE epoch = $1 AND name = $2 AND seq = $3`,
            Number(seq) === 0 ? [epoch, name] : [epoch, name, seq],
          )
          // Sealed artifacts are never rewritten; a missing chunk means the store changed under the reader.
          if (!row) throw new StoreError(`chunk ${seq} of ${name} (epoch ${epoch}) is gone`, 'Fetch the file again.')
          yield read(row.content)
        }
      },
    }
  }

  async #artifacts(sql: Sql, epoch: number): Promise<EpochArtifacts> {
    const [row] = await sql.query<{ spend_root: string | null; reward_root: string | null; status: string }>('SELECT spend_root, reward_root, status FROM epochs WHERE epoch = $1', [epoch])
    if (row?.status !== 'sealed') throw new StoreError(`epoch ${epoch} is not sealed`, `Run \`fomo seal --epoch ${epoch}\`.`)
    const bytes = await this.#artifactBytes(sql, epoch)
    const files = (await sql.query<{ name: string; sha256: string }>(`SELECT name, sha256 FROM artifacts WHERE epoch = $1 ORDER BY name`, [epoch])).map((f) => ({ name: f.name, content: bytes.get(f.name)!, sha256: f.sha256 }))
    return { files, spendRoot: row.spend_root, rewardRoot: row.reward_root }
  }

  /**
   * How artifact bytes cross to the database: binary parameters and results on the PostgreSQL server; hex text on
   * PGlite, whose binary parameters and results cost about ten times as long (a 32 MiB chunk: 7.7 s written and 2.8 s
   * read as bytea, 1.0 s and 0.2 s as hex).
   */
  get #bytes() {
    const hexText = this.sql.kind === 'pglite'
    return {
      param: (p: string) => (hexText ? `decode(${p}, 'hex')` : p),
      value: (b: Buffer): Buffer | string => (hexText ? b.toString('hex') : b),
      column: (c: string) => (hexText ? `encode(${c}, 'hex')` : c),
      read: (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? Buffer.from(v, 'hex') : v),
    }
  }

  /** The bytes of an epoch's artifacts (or of the one named), their chunks put back together. */
  async #artifactBytes(sql: Sql, epoch: number, name?: string): Promise<Map<string, Uint8Array>> {
    const { column, read } = this.#bytes
    const chunks = await sql.query<{ name: string; content: Uint8Array | string }>(
      `SELECT name, ${column('content')} AS content FROM (SELECT name, 0 AS seq, content FROM artifacts WHERE epoch = $1 UNION ALL SELECT name, seq, content FROM artifact_chunks WHERE epoch = $1) c
       WHERE $2::text IS NULL OR name = $2 ORDER BY name, seq`,
      [epoch, name ?? null],
    )
    const parts = new Map<string, Uint8Array[]>()
    for (const c of chunks) {
      const content = read(c.content)
      const list = parts.get(c.name)
      if (list) list.push(content)
      else parts.set(c.name, [content])
    }
    const whole = (p: Uint8Array[]) => {
      const b = p.length === 1 ? p[0]! : Buffer.concat(p)
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    }
    return new Map([...parts].map(([n, p]) => [n, whole(p)]))
  }

  async ensurePartitions(epochs: readonly number[]): Promise<number[]> {
    const wanted = [...new Set(epochs)].filter((e) => Number.isSafeInteger(e) && e >= 0)
    if (wanted.length === 0) return []
    // One transaction per epoch: a partition is created whole (with the rows it takes from the default one) or not at all.
    const made: number[] = []
    for (const e of wanted.sort((a, b) => a - b)) {
      const [row] = await this.sql.transaction((tx) => tx.query<{ made: boolean }>('SELECT fomo_epoch_partition($1) AS made', [e]))
      if (row?.made) made.push(e)
    }
    return made
  }

  async partitionEpochs(): Promise<number[]> {
    const rows = await this.sql.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'receipts'::regclass AND c.relname ~ '^receipts_epoch_[0-9]+$'`,
    )
    return rows.map((r) => Number(r.name.slice('receipts_epoch_'.length))).sort((a, b) => a - b)
  }

  async epochTotals(epoch: number): Promise<EpochTotals> {
    return this.#epochTotals(this.sql, epoch)
  }

  /**
   * The digests' hash is the sum modulo 2^256 of SHA-256(digest) over the epoch's receipts: it does not depend on
   * order, so the store sums it in SQL (eight 32-bit column sums) and an export reader line by line.
   */
  async #epochTotals(sql: Sql, epoch: number): Promise<EpochTotals> {
    const chunks = Array.from({ length: 8 }, (_, k) => `coalesce(sum(('x' || lpad(substr(h, ${1 + 8 * k}, 8), 16, '0'))::bit(64)::bigint), 0)::text AS s${k}`)
    const [r] = await sql.query<Record<string, string>>(
      `SELECT count(*)::text AS n, coalesce(sum(gross), 0)::text AS gross, coalesce(sum(charged), 0)::text AS charged, ${chunks.join(', ')}
       FROM (SELECT gross, charged, encode(sha256(digest), 'hex') AS h FROM receipts WHERE epoch = $1) x`,
      [epoch],
    )
    const [b] = await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM batches WHERE epoch = $1', [epoch])
    let sum = 0n
    for (let k = 0; k < 8; k++) sum += BigInt(r![`s${k}`]!) << BigInt(32 * (7 - k))
    return { receipts: Number(r!.n), batches: Number(b!.n), gross: BigInt(r!.gross!), charged: BigInt(r!.charged!), digestsHash: (sum & UINT256_MAX).toString(16).padStart(64, '0') }
  }

  async retentionStatus(before: number): Promise<RetentionStatus[]> {
    const rows = await this.sql.query<{ e: string; at: string | null; r: boolean }>(
      `SELECT e.epoch::text AS e, e.sealed_at::text AS at, r.epoch IS NOT NULL AS r FROM epochs e LEFT JOIN retained_epochs r ON r.epoch = e.epoch
       WHERE e.status = 'sealed' AND e.epoch < $1 ORDER BY e.epoch`,
      [before],
    )
    return rows.map((x) => ({ epoch: Number(x.e), sealedAt: x.at === null ? null : Number(x.at), retained: x.r === true || (x.r as unknown) === 't' }))
  }

  async retained(epoch: number): Promise<RetainedEpoch | undefined> {
    return this.#retained(this.sql, epoch)
  }

  async #retained(sql: Sql, epoch: number): Promise<RetainedEpoch | undefined> {
    const [r] = await sql.query<Record<string, string>>(
      `SELECT receipts::text AS receipts, batches::text AS batches, gross::text AS gross, charged::text AS charged, digests_hash, export_file, export_sha256, mode, retained_at::text AS at
       FROM retained_epochs WHERE epoch = $1`,
      [epoch],
    )
    if (!r) return undefined
    return {
      epoch,
      receipts: Number(r.receipts),
      batches: Number(r.batches),
      gross: BigInt(r.gross!),
      charged: BigInt(r.charged!),
      digestsHash: r.digests_hash!,
      exportFile: r.export_file!,
      exportSha256: r.export_sha256!,
      mode: r.mode as 'drop' | 'detach',
      retainedAt: Number(r.at),
    }
  }

  async removeEpochReceipts(epoch: number, options: RemoveOptions): Promise<RetainedEpoch> {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new StoreError(`epoch ${epoch} is not an epoch number; give a non-negative integer`)
    if (!Number.isSafeInteger(options.windowSeconds) || options.windowSeconds < 0) throw new StoreError(`dispute window ${options.windowSeconds} is not a number of seconds; give a non-negative integer`)
    const nowSeconds = Number((options.now ?? nowNs()) / 1_000_000_000n)
    // Rows of the epoch still in the default partition move into its own first, in a transaction of its own (done
    // inside the removal it could deadlock with ingest), so that --detach keeps them all. A sealed epoch gets no
    // new rows, so none reach the default partition after this.
    await this.ensurePartitions([epoch])
    return this.sql.transaction(async (tx) => {
      // Partition creation and other retentions wait (one could otherwise deadlock with this on the default partition,
      // or make the epoch's partition again just after it goes). The order lock is shared, as ingest takes it: ingest
      // refuses a sealed epoch's receipts under it, so the totals cannot change while they are compared, and ingest of
      // other epochs goes on during the scan (only the detach itself waits for it, briefly).
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK])
      await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [ORDER_LOCK])
      const gone = await this.#retained(tx, epoch)
      if (gone) throw retainedError(gone, 'there is nothing left to remove')
      const [row] = await tx.query<{ status: string; at: string | null }>('SELECT status, sealed_at::text AS at FROM epochs WHERE epoch = $1 FOR UPDATE', [epoch])
      if (row?.status !== 'sealed') throw new StoreError(`epoch ${epoch} is not sealed: its receipts stay in the store until it is sealed and its dispute window has passed`, `Run \`fomo seal --epoch ${epoch}\` first.`)
      const open = row.at === null ? undefined : Number(row.at) + options.windowSeconds
      if (open === undefined || nowSeconds < open)
        throw new StoreError(
          `epoch ${epoch} is within its dispute window (sealed ${row.at === null ? 'at an unknown time' : new Date(Number(row.at) * 1000).toISOString()}, window ${options.windowSeconds} s${open === undefined ? '' : `, until ${new Date(open * 1000).toISOString()}`}); its receipts stay in the store until then`,
        )
      const totals = await this.#epochTotals(tx, epoch)
      const differs = totalsDiffer(totals, options.expected)
      if (differs) throw new StoreError(`epoch ${epoch}: the export does not match the store (${differs}); nothing was removed`, 'Export and verify the epoch again (fomo retention does both).')
      for (const table of ['receipts', 'batches']) {
        const part = `${table}_epoch_${epoch}`
        const [exists] = await tx.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [part])
        if (exists?.r) {
          await tx.exec(`ALTER TABLE ${table} DETACH PARTITION ${part}`)
          // Detached, the table stays (for pg_dump or an archive) under a name no partition takes.
          await tx.exec(options.mode === 'drop' ? `DROP TABLE ${part}` : `ALTER TABLE ${part} RENAME TO ${table}_retained_${epoch}`)
        }
        // Rows of an epoch that never had its own partition are in the default one.
        await tx.query(`DELETE FROM ${table}_default WHERE epoch = $1`, [epoch])
      }
      await tx.query(
        `INSERT INTO retained_epochs (epoch, receipts, batches, gross, charged, digests_hash, export_file, export_sha256, mode, retained_at)
         VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6, $7, $8, $9, $10)`,
        [epoch, totals.receipts, totals.batches, totals.gross.toString(), totals.charged.toString(), totals.digestsHash, options.exportFile, options.exportSha256, options.mode, nowSeconds],
      )
      return { ...totals, epoch, exportFile: options.exportFile, exportSha256: options.exportSha256, mode: options.mode, retainedAt: nowSeconds }
    })
  }

  retainEpoch(epoch: number, options: RetentionOptions): Promise<RetentionResult> {
    return retainEpoch(this, epoch, options)
  }

  async *exportReceipts(epoch: number): AsyncGenerator<ExportItem> {
    const gone = await this.retained(epoch)
    if (gone) throw retainedError(gone, 'its receipts cannot be exported again from the store')
    const rows = await this.sql.query<Record<string, string>>(EXPORT_RECEIPTS, [epoch])
    for (const row of rows) yield { kind: 'receipt', row }
    for (const b of await this.sql.query<{ document: string; receipts: number[] | string | null }>('SELECT document, receipts FROM batches WHERE epoch = $1 ORDER BY provider, receipts_root', [epoch]))
      yield { kind: 'batch', document: b.document, receipts: intArray(b.receipts) }
  }
}

function retainedError(r: RetainedEpoch, what: string): StoreError {
  return new StoreError(
    `epoch ${r.epoch}'s ${r.receipts} receipts were exported to ${r.exportFile} (sha256 ${r.exportSha256}) and removed from the store (retention, ${r.mode}); ${what}`,
    'Read the export file instead.',
  )
}

/** An int[] column: parsed by both drivers, or its text form `{1,2}`. */
function intArray(value: number[] | string | null): number[] | null {
  if (value === null) return null
  if (typeof value === 'string') return value.replace(/[{}]/g, '').split(',').filter(Boolean).map(Number)
  return value.map(Number)
}

/** Amounts the store's columns hold: uint256 amounts and a uint64 block; a larger one is named, not overflowed. */
function checkInputBounds(inputs: EpochInputs): void {
  const check = (value: bigint, max: bigint, what: string) => {
    if (value > max) throw new StoreError(`epoch ${inputs.epoch} inputs: ${what} has ${value.toString().length} digits, over the largest the protocol takes (${max === UINT64_MAX ? '2^64 - 1' : '2^256 - 1 base units'}); check the value`)
  }
  for (const [id, d] of inputs.deployments) {
    check(d.opex, UINT256_MAX, `deployment ${id}: opex`)
    if (d.circulatingSupply !== undefined) check(d.circulatingSupply, UINT256_MAX, `deployment ${id}: circulatingSupply`)
    for (const [account, stake] of d.stakes) check(stake, UINT256_MAX, `deployment ${id}: the stake of ${account}`)
    if (d.snapshot) check(d.snapshot.block, UINT64_MAX, `deployment ${id}: snapshot block`)
  }
}

/** The configuration as stored: a jsonb column, which one driver returns parsed and the other as text. */
function storedConfig(document: unknown): AggregatorConfig {
  return readConfig(typeof document === 'string' ? JSON.parse(document) : document)
}
