/**
 * Files as the CLI reads and writes them: strict JSON reads that name the file, and atomic writes.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { parseJsonDocument } from '../base/json.ts'
import { UsageError } from './command.ts'

/** Reads and strictly parses a JSON file; a missing file is a usage error naming it. */
export async function readJsonFile(path: string, cwd: string, what: string, command: string): Promise<unknown> {
  const full = resolve(cwd, path)
  const text = await readFile(full, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${what} ${full}: ${error.code ?? error.message}`, command)
  })
  return parseJsonDocument(text, full)
}

/** Writes a file atomically: a temporary file in the same directory, then rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`)
  await writeFile(tmp, data, mode === undefined ? {} : { mode })
  await rename(tmp, path)
}
