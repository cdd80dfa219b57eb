/**
 * The one SQL surface the aggregator uses, over PGlite (PostgreSQL in
 * WebAssembly, embedded, one connection) or a PostgreSQL server through `pg`.
 * Same SQL for both. Numbers and bytes are selected as text (`::text`,
 * `encode(x, 'hex')`) so both drivers return the same JavaScript values; the
 * one exception is artifact chunks, read as bytea (a Uint8Array from either
 * driver) because their hex text could pass the longest string JavaScript makes.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseError } from '../base/errors.ts'
import { acquireLock as acquireFileLock } from '../base/lock.ts'

export type Sql = {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  exec(text: string): Promise<void>
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>
  close(): Promise<void>
  readonly kind: 'pglite' | 'postgres'
}

export class StoreError extends BaseError {
  override name = 'StoreError'
  constructor(message: string, hint?: string, cause?: unknown) {
    super('STORE', message, { metaMessages: hint ? [hint] : undefined, cause })
  }
}

/** WAL written since the last checkpoint after which an embedded store checkpoints (a quarter of max_wal_size's default). */
export const CHECKPOINT_WAL_BYTES = 256 * 1024 * 1024

/** A FIFO mutex: PGlite has one connection, so transactions must not interleave. */
class Mutex {
  #tail: Promise<void> = Promise.resolve()
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn)
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }
}

/**
 * Opens an embedded store in `dataDir`. A lock file keeps a second process
 * from opening the same directory (PGlite is single-process); a lock left by a
 * dead process is taken over.
 */
export async function openPglite(dataDir: string, options: { checkpointWalBytes?: number | undefined } = {}): Promise<Sql> {
  await mkdir(dataDir, { recursive: true })
  const lockPath = join(dataDir, 'fomo.lock')
  await acquireLock(lockPath)
  const { PGlite } = await import('@electric-sql/pglite')
  let db: InstanceType<typeof PGlite>
  try {
    db = await PGlite.create(join(dataDir, 'pgdata'))
  } catch (error) {
    await rm(lockPath, { force: true })
    throw new StoreError(`cannot open the embedded database in ${dataDir}`, 'Check the directory is a fomo data directory and not damaged.', error)
  }
  const mutex = new Mutex()
  const checkpointWalBytes = options.checkpointWalBytes ?? CHECKPOINT_WAL_BYTES
  // PGlite is PostgreSQL as one standalone backend, with no checkpointer: nothing asks for a checkpoint when WAL
  // passes max_wal_size, so pg_wal would grow with every write until the store is closed (measured: 67 segments,
  // over 1 GB, past a 1 GB max_wal_size, with no checkpoint). So the store checkpoints after a transaction that
  // leaves more than checkpointWalBytes of WAL since the last checkpoint, and the segments before it are recycled.
  const checkpointIfDue = async () => {
    try {
      const [r] = (await db.query<{ b: string }>('SELECT (pg_current_wal_insert_lsn() - redo_lsn)::text AS b FROM pg_control_checkpoint()')).rows
      if (Number(r?.b ?? 0) >= checkpointWalBytes) await db.exec('CHECKPOINT')
    } catch {
      // The transaction has committed; a checkpoint that fails now is tried again after the next one.
    }
  }
  const wrap = (q: Pick<InstanceType<typeof PGlite>, 'query' | 'exec'>, inTx: boolean): Sql => ({
    kind: 'pglite',
    query: async <T>(text: string, params?: unknown[]) => (await q.query<T>(text, params)).rows,
    exec: async (text: string) => {
      await q.exec(text)
    },
    transaction: (fn) =>
      inTx
        ? fn(wrap(q, true))
        : mutex.run(async () => {
            const result = await db.transaction((tx) => fn(wrap(tx, true)))
            await checkpointIfDue()
            return result
          }),
    close: async () => {
      await db.close()
      await rm(lockPath, { force: true })
    },
  })
  const top = wrap(db, false)
  // Plain queries also queue behind transactions.
  return { ...top, query: (text, params) => mutex.run(() => top.query(text, params)), exec: (text) => mutex.run(() => top.exec(text)) }
}

/** Takes the embedded store's lock file (src/base/lock.ts), with the store's errors. */
export function acquireLock(path: string): Promise<void> {
  return acquireFileLock(path, {
    inUse: (pid) =>
      new StoreError(`the data directory is in use by another fomo process (pid ${pid})`, 'The embedded database serves one process: stop it, use its HTTP API, or run PostgreSQL (--database-url).'),
    failed: (message, hint, cause) => new StoreError(message, hint, cause),
  })
}

/** How long a store call may wait for a connection (opened or freed by another call) before it fails (ms). */
const POOL_WAIT_MS = 60_000

/**
 * Connects to a PostgreSQL server through a `pg` pool. The first connection must log in and answer `select 1` within
 * `connectTimeoutMs` (default PGCONNECT_TIMEOUT's seconds, else 10 s): a host or pooler that takes the connection and
 * never answers is refused, not waited on forever. Afterwards a store call waits at most 60 s for a connection (a
 * server that stops answering new connections fails calls instead of queueing them for ever), and connections use
 * TCP keep-alive, so the kernel ends one whose server vanished (after its probes: minutes, not never).
 */
export async function openPostgres(url: string, options: { max?: number; connectTimeoutMs?: number } = {}): Promise<Sql> {
  const { default: pg } = await import('pg')
  const fromEnvironment = Number(process.env.PGCONNECT_TIMEOUT)
  const connectTimeoutMs = options.connectTimeoutMs ?? (fromEnvironment > 0 ? fromEnvironment * 1000 : 10_000)
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: connectTimeoutMs })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    await probe.query('select 1')
  } catch (error) {
    throw new StoreError(`cannot connect to PostgreSQL at ${redact(url)}: ${(error as Error).message}`, 'Check the URL, that the server runs and accepts the user.', error)
  } finally {
    await probe.end().catch(() => undefined)
  }
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 8, connectionTimeoutMillis: POOL_WAIT_MS, keepAlive: true, keepAliveInitialDelayMillis: 10_000 })
  // A server restart breaks idle connections: the pool drops them and connects again on the next query, so the
  // error is not fatal (unhandled, it would end the process).
  pool.on('error', () => undefined)
  const fromClient = (client: { query: (text: string, params?: unknown[]) => Promise<{ rows: unknown[] }> }): Sql => ({
    kind: 'postgres',
    query: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
    exec: async (text: string) => {
      await client.query(text)
    },
    transaction: (fn) => fn(fromClient(client)),
    close: async () => undefined,
  })
  return {
    kind: 'postgres',
    query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
    exec: async (text: string) => {
      await pool.query(text)
    },
    async transaction(fn) {
      const client = await pool.connect()
      // The connection may break between two statements: that error is the next query's, not the process's.
      let broken: Error | undefined
      const onError = (error: Error) => void (broken = error)
      client.on('error', onError)
      try {
        await client.query('BEGIN')
        const result = await fn(fromClient(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch((e: Error) => void (broken ??= e))
        throw error
      } finally {
        client.off('error', onError)
        // A broken connection is closed rather than handed to the next transaction.
        client.release(broken)
      }
    },
    close: () => pool.end(),
  }
}

/** A database URL without its password (in the authority or as a `password` parameter), for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    if (u.searchParams.has('password')) u.searchParams.set('password', '***')
    return u.toString()
  } catch {
    return url.replace(/\/\/([^:/@]+):[^/]*@/, '//$1:***@').replace(/([?&]password=)[^&]*/, '$1***')
  }
}

export async function openSql(options: { dataDir?: string | undefined; databaseUrl?: string | undefined }): Promise<Sql> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl)
  if (!options.dataDir) throw new StoreError('no database: give --data-dir DIR (embedded) or --database-url postgres://...')
  return openPglite(options.dataDir)
}
