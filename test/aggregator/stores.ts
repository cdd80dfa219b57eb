/** Fresh stores for tests, on PGlite or the test PostgreSQL server. */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { openStore, type Store } from '../../src/aggregator/store.ts'

export type Backend = 'pglite' | 'postgres'
export const databaseUrl = () => inject('databaseUrl')
export const BACKENDS: Backend[] = ['pglite', 'postgres']

/** A fresh database: a new PGlite directory, or a new database on the test PostgreSQL server. */
export async function freshLocation(backend: Backend): Promise<{ dataDir?: string; databaseUrl?: string }> {
  if (backend === 'pglite') return { dataDir: await mkdtemp(join(tmpdir(), 'fomo-store-')) }
  const url = databaseUrl()
  const { default: pg } = await import('pg')
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const name = `fomo_${randomBytes(6).toString('hex')}`
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  return { databaseUrl: url.replace(/\/[^/]*$/, `/${name}`) }
}

export async function freshStore(backend: Backend): Promise<Store> {
  return openStore(await freshLocation(backend))
}
