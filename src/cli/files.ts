/**
 * Files as the CLI reads and writes them: strict JSON reads that name the file, atomic writes that never replace
 * a user's file unless told to (--force), and file-system errors as one-line errors that say what to do.
 */
import { link, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { BaseError } from '../base/errors.ts'
import { parseJsonDocument } from '../base/json.ts'
import { UsageError } from './command.ts'

/** A file could not be written for a reason the command line cannot fix (a full disk, an I/O error). */
export class FileError extends BaseError {
  override name = 'FileError'
  constructor(message: string, cause?: unknown) {
    super('FILE', message, { cause })
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'is not writable (permission denied)',
  EPERM: 'is not writable (operation not permitted)',
  EROFS: 'is on a read-only file system',
  EEXIST: 'already exists',
  ENOSPC: 'cannot be written: the disk is full',
  EDQUOT: 'cannot be written: the disk quota is exhausted',
}
/** Errors the command line fixes (another path): usage errors, exit 2. Others (a full disk) exit 1. */
const USAGE_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST'])

/**
 * A file-system error as a one-line error naming the path and what to do; errors that are not the file system's
 * pass through unchanged.
 */
export function fileError(error: unknown, path: string, what: string, command: string, todo = 'give another path'): Error {
  const code = (error as NodeJS.ErrnoException)?.code
  if (error instanceof BaseError || typeof code !== 'string') return error as Error
  const message = `${what} ${path} ${REASONS[code] ?? `cannot be used (${code})`}; ${todo}`
  return USAGE_CODES.has(code) ? new UsageError(message, command) : new FileError(message, error)
}

/** Reads a file a command was given; a missing or unreadable one is a usage error naming it (exit 2). */
export async function readInputFile(path: string, cwd: string, what: string, command: string): Promise<string> {
  return (await readInputBytes(path, cwd, what, command)).toString('utf8')
}

/** The bytes of an input file, for files that may be past the longest string (a tree dump of millions of leaves). */
export async function readInputBytes(path: string, cwd: string, what: string, command: string): Promise<Buffer> {
  const full = resolve(cwd, path)
  return readFile(full).catch((error: unknown) => {
    throw fileError(error, full, `cannot read ${what}:`, command, 'check the path')
  })
}

/** Reads and strictly parses a JSON file; a missing file is a usage error naming it. */
export async function readJsonFile(path: string, cwd: string, what: string, command: string): Promise<unknown> {
  return parseJsonDocument(await readInputFile(path, cwd, what, command), resolve(cwd, path))
}

/** Writes a file atomically: a temporary file in the same directory, then rename (replacing the file there). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`)
  await writeFile(tmp, data, mode === undefined ? {} : { mode })
  await rename(tmp, path)
}

export type OutputOptions = { command: string; what: string; force?: boolean }

/**
 * A new output file, written atomically: `write` fills a temporary file beside it, which then takes the name.
 * An existing file is replaced only with `force` (the link that publishes it fails if the name is taken, so a
 * file appearing meanwhile is not replaced either). Errors are one line naming the path.
 */
export async function writeOutput(path: string, options: OutputOptions, write: (tmp: string) => Promise<void>): Promise<void> {
  const { command, what } = options
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`)
  try {
    try {
      await write(tmp)
    } catch (error) {
      throw fileError(error, dirname(path), 'the directory', command, `give an --out in a writable directory`)
    }
    if (options.force) await rename(tmp, path)
    else
      await link(tmp, path).catch(async (error: NodeJS.ErrnoException) => {
        // File systems without hard links: check, then rename (a file appearing in between would be replaced).
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(error.code ?? '')) throw error
        await checkNewOutput(path, options)
        await rename(tmp, path)
      })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${what} ${path} already exists; give --force to replace it, or another --out`, command)
    throw fileError(error, path, what, command, 'give another --out')
  } finally {
    await rm(tmp, { force: true })
  }
}

/** Refuses an existing output before any work (the final write checks again), unless `force`. */
export async function checkNewOutput(path: string, options: OutputOptions): Promise<void> {
  if (options.force) return
  const exists = await open(path, 'r').then(
    (h) => h.close().then(() => true),
    () => false,
  )
  if (exists) throw new UsageError(`${options.what} ${path} already exists; give --force to replace it, or another --out`, options.command)
}

/**
 * Checks a directory can be written (creating it with `create`), before work that is long or cannot be undone: a
 * test file is created and removed, which also holds for root and read-only mounts, where permission bits say nothing.
 */
export async function checkWritableDirectory(dir: string, what: string, command: string, options: { create?: boolean } = {}): Promise<void> {
  const probe = join(dir, `.fomo-write-check-${randomBytes(4).toString('hex')}`)
  try {
    if (options.create) await mkdir(dir, { recursive: true })
    await writeFile(probe, '', { flag: 'wx' })
  } catch (error) {
    throw fileError(error, dir, what, command, 'give a writable directory')
  } finally {
    await rm(probe, { force: true }).catch(() => undefined)
  }
}
