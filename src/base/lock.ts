/**
 * Lock files that give one process a directory (the embedded store's data directory, the gateway's queue). The file
 * is created with O_EXCL (`wx`), so the OS lets one process create it, and names that process's pid. A lock naming a
 * process that is gone is broken by whoever first creates that lock's break token (also O_EXCL, named after the lock
 * file's inode and change time), so two processes finding the same stale lock cannot both remove it and both get in.
 */
import { existsSync, readFileSync } from 'node:fs'
import { open, readdir, readFile, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** The errors a lock's user raises: held by another running process, or the lock file could not be taken. */
export type LockErrors = { inUse: (pid: number) => Error; failed: (message: string, hint?: string, cause?: unknown) => Error }

/** Takes the lock file at `path` for this process (a lock of this process, or of one that is gone, is taken over). */
export async function acquireLock(path: string, errors: LockErrors): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      await removeBreakTokens(path)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      if (code !== 'EEXIST') throw errors.failed(`cannot create the lock file ${path} (${code || (error as Error).message}); check the data directory is writable`, undefined, error)
    }
    const holder = await stat(path, { bigint: true }).catch(() => undefined)
    if (!holder) continue
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    // A lock being written (empty for an instant) or a running holder's: never broken.
    if (pid && pid !== process.pid && isRunning(pid)) throw errors.inUse(pid)
    if (!pid && Date.now() - Number(holder.mtimeMs) < 2_000) {
      await new Promise((r) => setTimeout(r, 20))
      continue
    }
    const token = `${path}.break-${holder.ino}-${holder.ctimeNs}`
    const broke = await open(token, 'wx').then(
      (h) => h.close().then(() => true),
      () => false,
    )
    // Only the token's creator removes this lock file; the others retry and find the new holder.
    if (broke) await rm(path, { force: true })
    else await new Promise((r) => setTimeout(r, 20))
  }
  throw errors.failed(`cannot lock ${path}: it keeps changing`, 'Another process is opening the same data directory; try again.')
}

/** Old break tokens are debris once their lock is gone (a token is only ever needed while its lock exists). */
async function removeBreakTokens(path: string): Promise<void> {
  const dir = dirname(path)
  const prefix = `${basename(path)}.break-`
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (name.startsWith(prefix)) {
      const info = await stat(join(dir, name)).catch(() => undefined)
      if (info && Date.now() - info.mtimeMs > 60_000) await rm(join(dir, name), { force: true })
    }
}

/** Whether a process with this id runs (signal 0 only checks); one that has exited but is not yet reaped does not. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch (error) {
    // Gone since, where there is a /proc; without one (not Linux), taken as running.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self')
  }
}
