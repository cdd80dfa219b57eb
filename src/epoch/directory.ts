import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseError } from '../base/errors.ts'
import { faultPoint } from '../base/faults.ts'

/**
 * Writes a sealed epoch's files into `dir/epoch-<n>` atomically: every file is
 * written and fsynced in a temporary directory beside it, which is then renamed
 * into place. A crash leaves no epoch directory or the complete one. Writing an
 * epoch that is already there checks it is byte-identical instead.
 */
export async function writeEpochDirectory(dir: string, epoch: number, files: ReadonlyArray<{ name: string; content: Uint8Array }>): Promise<string> {
  await mkdir(dir, { recursive: true })
  const target = join(dir, `epoch-${epoch}`)
  const existing = await readdir(target).catch(() => undefined)
  if (existing) {
    for (const f of files) {
      const on = await readFile(join(target, f.name)).catch(() => undefined)
      if (!on || Buffer.compare(on, f.content) !== 0)
        throw new BaseError('ARTIFACTS_DIFFER', `${join(target, f.name)} differs from the sealed epoch in the store`, { metaMessages: ['Move the directory away and write it again; the store is the reference.'] })
    }
    return target
  }
  // Temporary directories of writes that crashed are debris: remove them.
  for (const name of await readdir(dir)) if (name.startsWith(`.epoch-${epoch}.`) && name.endsWith('.tmp')) await rm(join(dir, name), { recursive: true, force: true })
  const tmp = join(dir, `.epoch-${epoch}.${randomBytes(4).toString('hex')}.tmp`)
  await mkdir(tmp)
  try {
    for (const f of files) {
      const handle = await open(join(tmp, f.name), 'w')
      await handle.writeFile(f.content)
      await handle.sync()
      await handle.close()
    }
    await faultPoint('seal:before-rename')
    await rename(tmp, target)
    const d = await open(dir, 'r')
    await d.sync().catch(() => undefined)
    await d.close()
  } catch (error) {
    await rm(tmp, { recursive: true, force: true })
    throw error
  }
  return target
}
