/**
 * Vitest global setup: starts a real PostgreSQL server (Debian's package) on
 * loopback for the server-mode store tests and stops it afterwards.
 * FOMO_TEST_DATABASE_URL, when set, is used instead. Without PostgreSQL
 * binaries the server-mode tests report themselves skipped.
 */
import type { TestProject } from 'vitest/node'
import { postgresAvailable, startPostgres } from './pgserver.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

export default async function setup(project: TestProject) {
  if (process.env.FOMO_TEST_DATABASE_URL) {
    project.provide('databaseUrl', process.env.FOMO_TEST_DATABASE_URL)
    return
  }
  if (!postgresAvailable()) {
    if (process.env.CI) throw new Error('CI runs the server-mode tests: install PostgreSQL (apt-get install postgresql)')
    project.provide('databaseUrl', '')
    return
  }
  const server = await startPostgres()
  project.provide('databaseUrl', server.url)
  return () => server.stop()
}
