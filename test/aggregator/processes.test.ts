/**
 * Real processes: two `fomo serve` on one PostgreSQL server, and kill -9 at
 * chosen points of ingest and sealing (FOMO_FAULT), then recovery.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openStore } from '../../src/aggregator/store.ts'
import { fomo } from '../helpers.ts'
import { liveReceipts, post, serve, start, writeConfig } from './processes.ts'
import { databaseUrl, freshLocation } from './stores.ts'
import { receipt, signed, verifiedColumns, worldConfig } from './world.ts'

const config = worldConfig()

describe('many ingest nodes on one PostgreSQL', () => {
  it.skipIf(!databaseUrl())('two fomo serve processes fed the same receipts concurrently store each exactly once', async () => {
    const { databaseUrl: url } = await freshLocation('postgres')
    const dir = await writeConfig()
    expect((await fomo(['init', '--config', join(dir, 'config.json'), '--database-url', url!])).code).toBe(0)
    const [a, b] = await Promise.all([serve(['--database-url', url!]), serve(['--database-url', url!])])
    const docs = liveReceipts(1200)
    const chunks = [0, 1, 2, 3].map((k) => docs.slice(k * 300, (k + 1) * 300))
    const answers = await Promise.all([...chunks.map((c) => post(a.url, c)), ...[...chunks].reverse().map((c) => post(b.url, c))])
    const accepted = answers.reduce((n, r) => n + r.accepted, 0)
    const duplicates = answers.reduce((n, r) => n + r.duplicates, 0)
    expect(accepted).toBe(1200)
    expect(duplicates).toBe(1200)
    const store = await openStore({ databaseUrl: url })
    expect(await store.receiptCount()).toBe(1200)
    await store.close()
  })
})

describe('crash safety (kill -9)', () => {
  it('a kill during ingest stores nothing of that request; the retry stores it once', async () => {
    const { dataDir } = await freshLocation('pglite')
    const dir = await writeConfig()
    expect((await fomo(['init', '--config', join(dir, 'config.json'), '--data-dir', dataDir!])).code).toBe(0)
    const faulty = await serve(['--data-dir', dataDir!], { FOMO_FAULT: 'ingest:before-commit' })
    const docs = liveReceipts(200)
    const pending = post(faulty.url, docs).catch((error: Error) => error)
    await faulty.line(/FAULT-POINT ingest:before-commit/)
    faulty.child.kill('SIGKILL')
    expect(await pending).toBeInstanceOf(Error)
    const healthy = await serve(['--data-dir', dataDir!])
    const answer = await post(healthy.url, docs)
    expect(answer).toMatchObject({ accepted: 200, duplicates: 0 })
    expect(await post(healthy.url, docs)).toMatchObject({ accepted: 0, duplicates: 200 })
    healthy.child.kill('SIGTERM')
    await new Promise((r) => healthy.child.once('exit', r))
  })

  it('a kill during sealing leaves the previous state or the complete new one, and re-sealing gives the same files', async () => {
    const docs = Array.from({ length: 60 }, (_, i) => signed(receipt(i)))
    // Two identical stores: one is sealed cleanly as the reference.
    const locations = [await freshLocation('pglite'), await freshLocation('pglite')]
    for (const location of locations) {
      const store = await openStore(location)
      await store.setConfig(config)
      await store.insertReceipts(verifiedColumns(docs), docs.map((_, index) => ({ index })))
      await store.close()
    }
    const epoch = String(receipt(0).epoch)
    const reference = await mkdtemp(join(tmpdir(), 'fomo-ref-'))
    expect((await fomo(['seal', '--epoch', epoch, '--out', reference, '--data-dir', locations[0]!.dataDir!])).code).toBe(0)

    const out = await mkdtemp(join(tmpdir(), 'fomo-out-'))
    const dataDir = locations[1]!.dataDir!
    // 1. Killed before the seal transaction commits: the epoch stays open, nothing is written.
    const before = start(['seal', '--epoch', epoch, '--out', out, '--data-dir', dataDir], { FOMO_FAULT: 'seal:before-commit' })
    await before.line(/FAULT-POINT seal:before-commit/)
    before.child.kill('SIGKILL')
    await new Promise((r) => before.child.once('exit', r))
    let store = await openStore({ dataDir })
    expect((await store.epochStatus(Number(epoch))).status).toBe('open')
    await store.close()
    expect(await readdir(out)).toEqual([])
    // 2. Killed after the commit, while writing files: the store is sealed, no epoch directory appears.
    const writing = start(['seal', '--epoch', epoch, '--out', out, '--data-dir', dataDir], { FOMO_FAULT: 'seal:before-rename' })
    await writing.line(/FAULT-POINT seal:before-rename/)
    writing.child.kill('SIGKILL')
    await new Promise((r) => writing.child.once('exit', r))
    expect((await readdir(out)).filter((f) => f.startsWith('epoch-'))).toEqual([])
    store = await openStore({ dataDir })
    expect((await store.epochStatus(Number(epoch))).status).toBe('sealed')
    await store.close()
    // 3. Sealing again writes the complete directory, byte-identical to the clean seal.
    const again = await fomo(['seal', '--epoch', epoch, '--out', out, '--data-dir', dataDir])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).alreadySealed).toBe(true)
    expect((await readdir(out)).filter((f) => f.endsWith('.tmp'))).toEqual([])
    const files = (await readdir(join(reference, `epoch-${epoch}`))).sort()
    expect((await readdir(join(out, `epoch-${epoch}`))).sort()).toEqual(files)
    for (const f of files) expect(await readFile(join(out, `epoch-${epoch}`, f))).toEqual(await readFile(join(reference, `epoch-${epoch}`, f)))
  })
})
