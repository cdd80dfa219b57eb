/** fsync by path, for what must outlive a power cut: a file's data, or a directory's entries. */
import { open } from 'node:fs/promises'

/** Syncs the file or directory at `path` (a directory's sync is refused on some platforms; that is let pass). */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync().catch(() => undefined)
  } finally {
    await handle.close()
  }
}
