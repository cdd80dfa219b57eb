/** fsync by path, for what must outlive a power cut: a file's data, or a directory's entries. */
import { open } from 'node:fs/promises'

/** Syncs the file or directory at `path`; only a directory's sync refused as unsupported (some platforms) is let pass. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync().catch(async (error: NodeJS.ErrnoException) => {
      const unsupported = error.code === 'EINVAL' || error.code === 'EISDIR' || error.code === 'EPERM' || error.code === 'EBADF'
      if (!(unsupported && (await handle.stat()).isDirectory())) throw error
    })
  } finally {
    await handle.close()
  }
}
